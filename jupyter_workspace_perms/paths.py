"""One path canonicalizer for every route that names a file.

Jupyter hands routes paths that are already URL-decoded (``a/..%2Fb`` arrives
as ``a/../b``) and follows symlinks when it serves them. Before any decision,
a path goes through :func:`locate`, which

1. refuses ``..``, ``.``, empty segments, backslashes, NUL and control characters;
2. maps the path to (workspace, project, rest) by its first two segments;
3. resolves symlinks and refuses the path unless its real location stays inside
   the real folder it claims to be in (the project's, the workspace's or the root).

The answer is a :class:`Location`; a refused path raises :class:`PathRefused`
with the reason. Nothing here decides permissions: that is the policy core's job.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from .errors import WorkspacePermsError
from .policy import PolicySnapshot


class PathRefused(WorkspacePermsError):
    """The path is malformed or escapes the folder it names."""

    status = 404
    reason = "path_refused"


class Level(str, Enum):
    """Where in the tree a path points."""

    root = "root"  # root_dir itself
    outside = "outside"  # a file or folder directly in root_dir that is no workspace
    workspace = "workspace"  # a workspace folder
    workspace_file = "workspace_file"  # a file (or folder) directly in a workspace folder
    project = "project"  # a project folder
    project_file = "project_file"  # anything inside a project folder
    unregistered = "unregistered"  # inside a workspace sub-folder that is no known project


@dataclass(frozen=True)
class Location:
    """A canonical path: its segments, the workspace and project it belongs to."""

    path: str  # canonical, no leading or trailing slash ("" for the root)
    level: Level
    workspace: str | None = None
    project: str | None = None

    @property
    def parent(self) -> str:
        """The canonical path of the containing folder."""
        return self.path.rpartition("/")[0]


def split_path(raw: str) -> list[str]:
    """The segments of ``raw``, refusing anything that is not a plain relative path."""
    if "\\" in raw or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise PathRefused(f"refused path {raw!r}: backslashes and control characters")
    trimmed = raw.strip("/")
    if trimmed == "":
        return []
    parts = trimmed.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise PathRefused(f"refused path {raw!r}: empty, '.' or '..' segments")
    return parts


def locate(
    root_dir: str,
    raw: str,
    is_workspace: Callable[[str], bool],
    is_project: Callable[[str, str], bool],
) -> Location:
    """The canonical :class:`Location` of ``raw`` under ``root_dir``.

    ``is_workspace(slug)`` and ``is_project(slug, name)`` say which folders the
    policy knows; a second-level name that is no project is a workspace file,
    and anything below one is ``unregistered`` (refused by callers).
    """
    parts = split_path(raw)
    path = "/".join(parts)
    if not parts:
        return Location("", Level.root)
    workspace = parts[0]
    if not is_workspace(workspace):
        _stay_inside(root_dir, parts, 0)
        return Location(path, Level.outside)
    if len(parts) == 1:
        _stay_inside(root_dir, parts, 1)
        return Location(path, Level.workspace, workspace)
    project = parts[1]
    if not is_project(workspace, project):
        _stay_inside(root_dir, parts, 1)
        level = Level.workspace_file if len(parts) == 2 else Level.unregistered
        return Location(path, level, workspace, project)
    _stay_inside(root_dir, parts, 2)
    level = Level.project if len(parts) == 2 else Level.project_file
    return Location(path, level, workspace, project)


_MEMO = "_workspace_perms_locations"


def locate_in(
    snap: PolicySnapshot, root_dir: str, raw: str, request: Any | None = None
) -> Location:
    """:func:`locate` against the workspaces and projects of ``snap``.

    With ``request`` (the handler), each path is located once per request and
    snapshot: the Authorizer and the contents manager then decide on the same
    :class:`Location` without resolving links twice (routes spell the same path
    with or without a leading slash). Refusals are not kept.
    """
    memo: dict[tuple[str, str], Location] | None = None
    if request is not None:
        kept: tuple[PolicySnapshot, dict[tuple[str, str], Location]] | None
        kept = getattr(request, _MEMO, None)
        if kept is None or kept[0] is not snap:
            kept = (snap, {})
            setattr(request, _MEMO, kept)
        memo = kept[1]
        found = memo.get((root_dir, raw.strip("/")))
        if found is not None:
            return found
    loc = locate(
        root_dir,
        raw,
        lambda ws: ws in snap.workspaces_by_slug,
        lambda ws, p: (snap.workspaces_by_slug[ws], p) in snap.projects_by_name,
    )
    if memo is not None:
        memo[(root_dir, raw.strip("/"))] = loc
    return loc


def served_root(settings: Mapping[str, Any]) -> str:
    """The server's ``root_dir`` from its tornado settings, as a usable path.

    Jupyter writes ``server_root_dir`` as ``~/…`` when the folder lies in its user's
    home (for display); used as given, ``~`` would name a folder in the working
    directory, so paths would be judged against a folder that does not exist.
    """
    return os.path.expanduser(str(settings.get("server_root_dir", "")))


@lru_cache(maxsize=16)
def real_root(root_dir: str) -> str:
    """The real path of ``root_dir``, resolved once: operators fix it at server start."""
    return os.path.realpath(root_dir)


def _stay_inside(root_dir: str, parts: list[str], anchor_depth: int) -> None:
    """Refuse ``parts`` unless its real path stays inside the real anchor folder.

    The anchor is the root (depth 0), the workspace (1) or the project (2). The
    nearest existing path (a path that does not exist yet is checked through its
    parent, so a new file cannot be created through a linked folder either) must
    resolve to the anchor or below it, spelled exactly as under the real root:
    one ``realpath``, which also refuses an anchor that is itself a link, since
    a link resolves to a different spelling.
    """
    root = real_root(root_dir)
    anchor = os.path.join(root, *parts[:anchor_depth])
    existing = os.path.join(root, *parts)
    while existing != root and not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    real = os.path.realpath(existing)
    if real == anchor or real.startswith(anchor.rstrip(os.sep) + os.sep):
        return
    if len(real) < len(anchor) and anchor.startswith(real):
        raise PathRefused(f"refused path {'/'.join(parts)!r}: its folder does not exist")
    raise PathRefused(f"refused path {'/'.join(parts)!r}: it leads outside its folder")
