"""Duplicating a project into a workspace where the caller may create projects.

``POST /workspaces/{ws}/projects/{project}/duplicate`` with ``{"to_workspace", "name"?}``:
reading the source (``project:read``, checked by ``@api``) is enough to take a copy of
its files, as JupyterLab shows them to its readers; the copy becomes a new project of
``to_workspace`` (``workspace:create_project`` there), created by the caller, who becomes
its project admin, exactly as ``POST …/projects`` would create it. Nothing of the
source's policy comes along (collaborators, access level, integration connections), nor
its custom environment; the answer lists what was left behind.

Files are copied by :func:`..server.project_copies.stage_project_copy` (no links
followed, hidden files and checkpoints left out, the folder copies' limits) into a hidden
folder, renamed into place inside the policy transaction that registers the project: a
refused or failed duplicate leaves neither a folder nor a project behind.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from ...errors import Conflict, InvalidInput, NotFound
from ...folders import folders_removed_on_error, make_folders
from ...paths import real_root
from ...policy import PolicySnapshot, ProjectAccess, ProjectFacts, WorkspaceFacts, check_workspace
from ...policy.names import validate_project_name
from ...server.contents import WorkspaceContentsManager
from ...server.copies import CopyRules
from ...server.project_copies import MAX_LISTED, LeftOut, StagedCopy, stage_project_copy
from .. import models
from .base import Call, WorkspacePermsHandler, api, refusal, route

PROJECT = "/workspaces/{ws}/projects/{project}"
MAX_NAME = 127  # the longest project name (policy/names.py)

#: Left behind by every duplicate, whatever the source holds.
ALWAYS_LEFT_BEHIND: tuple[dict[str, Any], ...] = (
    {
        "what": "integration connections",
        "note": "never carried; connect the target workspace's integrations to the copy",
    },
    {
        "what": "installed packages",
        "note": "what %pip installed, and the kernels' home (IPython history), stay with "
        "the source project",
    },
)


class DuplicateHandler(WorkspacePermsHandler):
    """``/workspaces/{ws}/projects/{project}/duplicate``."""

    @api("project.duplicate")
    async def post(self, call: Call) -> None:
        """Copy the project's files into a new project of ``to_workspace``."""
        source, source_ws = call.project, call.workspace
        assert source is not None and source_ws is not None
        target = _target_workspace(call)
        root = real_root(self.root_dir)
        name = _new_name(call.snap, root, target, call.body.get("name"), source.name)
        rules = self._copy_rules()
        username = call.user.username

        def duplicate(made: list[Path]) -> tuple[StagedCopy, LeftOut]:
            made += make_folders(root, [target.slug])[1]  # an operator may not have made it
            staged, left = stage_project_copy(
                root, (source_ws.slug, source.name), target.slug, rules
            )
            try:
                try:
                    with self.store.write(username) as writer:
                        writer.create_project(
                            target.slug,
                            name,
                            ProjectAccess.full.value,
                            username,
                            duplicate_of=f"{source_ws.slug}/{source.name}",
                        )
                        staged.place(name)
                except BaseException:
                    staged.remove_placed()
                    raise
            finally:
                staged.close()
            return staged, left

        loop = asyncio.get_running_loop()
        with folders_removed_on_error() as created:
            staged, left = await loop.run_in_executor(None, duplicate, created)
        snap = self.store.snapshot
        project = snap.project_named(target.slug, name)
        assert project is not None
        copied = staged.copied
        self.write_json(
            {
                "project": models.project_detail(snap, call.user, project, call.now),
                "copied": {"files": copied.files, "folders": copied.folders, "bytes": copied.bytes},
                "left_behind": left_behind(call.snap, source, target, left),
            },
            201,
        )

    def _copy_rules(self) -> CopyRules:
        manager = self.contents_manager
        if not isinstance(manager, WorkspaceContentsManager):  # the extension installs it
            raise Conflict("this server's contents manager cannot duplicate projects")
        return manager.copy_rules()


def _target_workspace(call: Call) -> WorkspaceFacts:
    """The workspace named ``to_workspace``, if the caller may create projects there
    (404 when they may not know it, 403 with the reason otherwise)."""
    slug = call.body["to_workspace"]
    ws_id = call.snap.workspaces_by_slug.get(slug)
    if ws_id is None:
        raise NotFound("not found (or not visible to you)", "not_found")
    decision = check_workspace(
        call.snap, call.user.subject, ws_id, "workspace:create_project", call.now
    )
    if not decision.allowed:
        raise refusal(decision)
    return call.snap.workspaces[ws_id]


def _new_name(
    snap: PolicySnapshot, root: str, target: WorkspaceFacts, asked: str | None, source: str
) -> str:
    """The name asked for (409 when taken), else the source's name, or ``<name>-copy``,
    ``<name>-copy-2``… when that is taken in the target workspace."""

    def taken(name: str) -> bool:
        on_disk = os.path.lexists(os.path.join(root, target.slug, name))
        return on_disk or snap.project_named(target.slug, name) is not None

    if asked is not None:
        try:
            name = validate_project_name(asked)
        except ValueError as e:
            raise InvalidInput(str(e), "invalid_name") from None
        if taken(name):
            raise Conflict(f"project {name!r} already exists in {target.slug!r}", "exists")
        return name
    n = 1
    name = source
    while taken(name):
        suffix = "-copy" if n == 1 else f"-copy-{n}"
        name = source[: MAX_NAME - len(suffix)].rstrip(" .") + suffix
        n += 1
    return name


def left_behind(
    snap: PolicySnapshot, source: ProjectFacts, target: WorkspaceFacts, left: LeftOut
) -> list[dict[str, Any]]:
    """What the duplicate did not carry, for the answer (only kinds it found, plus the
    ones never carried)."""
    found: list[dict[str, Any]] = []
    collaborators = len(snap.grantees_of.get(source.id, ()))
    if collaborators:
        found.append({"what": "collaborators", "count": collaborators})
    if source.access is not ProjectAccess.full:
        level = "view-only" if source.access is ProjectAccess.view else "private"
        found.append(
            {
                "what": "project access",
                "note": f"the source is {level}; the copy gives members of {target.slug} "
                "their workspace role (full access): change it in its settings",
            }
        )
    for what, count in (("hidden files", left.hidden), ("checkpoints", left.checkpoints)):
        if count:
            found.append({"what": what, "count": count})
    for what, paths in (
        ("environment files", left.environment),
        ("symlinks", left.links),
        ("special files", left.special),
    ):
        if paths:
            found.append({"what": what, "count": len(paths), "paths": paths[:MAX_LISTED]})
    return [*found, *ALWAYS_LEFT_BEHIND]


default_handlers = [(route(PROJECT + "/duplicate"), DuplicateHandler)]
