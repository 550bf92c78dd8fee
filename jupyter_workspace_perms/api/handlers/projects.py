"""Projects of a workspace, their access level, and their collaborators."""

from __future__ import annotations

import os

from ...errors import Conflict, NotFound
from ...folders import folders_removed_on_error, make_folders
from ...policy import (
    ProjectAccess,
    Role,
    can_set_collaborator,
    can_set_project_access,
    visible_projects,
)
from ...store import PolicyWriter
from ...timestamps import parse_expiry
from .. import models
from .base import Call, WorkspacePermsHandler, api, refusal, route
from .members import target_user

WS = "/workspaces/{ws}"
PROJECT = WS + "/projects/{project}"


class ProjectsHandler(WorkspacePermsHandler):
    """``/workspaces/{ws}/projects``."""

    @api("projects.list")
    async def get(self, call: Call) -> None:
        """Projects the caller can see (private ones name-only for Admins)."""
        ws = call.workspace
        assert ws is not None
        listings = visible_projects(call.snap, call.user.subject, ws.id, call.now)
        self.write_json(
            {"projects": [models.project_summary(call.snap, p, ws.settings) for p in listings]}
        )

    @api("projects.create")
    async def post(self, call: Call) -> None:
        """Create a project and its folder; the caller becomes its project admin."""
        ws = call.workspace
        assert ws is not None
        name = call.body["name"]
        access = call.body.get("access", ProjectAccess.full.value)
        creator = call.user.username

        def create(writer: PolicyWriter) -> None:
            with folders_removed_on_error() as created:
                project = writer.create_project(ws.slug, name, access, creator)
                _refuse_folder_with_files(self.root_dir, ws.slug, project.name)
                created += make_folders(self.root_dir, [ws.slug, project.name])[1]

        await self.change(create, call.user)
        snap = self.store.snapshot
        project = snap.project_named(ws.slug, name)
        assert project is not None
        self.write_json(models.project_detail(snap, call.user, project, call.now), 201)


class ProjectHandler(WorkspacePermsHandler):
    """``/workspaces/{ws}/projects/{project}``."""

    @api("project.get")
    async def get(self, call: Call) -> None:
        """The project, the caller's role and its collaborators."""
        assert call.project is not None
        self.write_json(models.project_detail(call.snap, call.user, call.project, call.now))

    @api("project.patch")
    async def patch(self, call: Call) -> None:
        """Set what members get: full, view (locked) or none (private)."""
        project, ws = call.project, call.workspace
        assert project is not None and ws is not None
        access = ProjectAccess.parse(call.body["access"])
        decision = can_set_project_access(
            call.snap, call.user.subject, project.id, access, call.now
        )
        if not decision.allowed:
            raise refusal(decision)
        await self.change(
            lambda w: w.set_project_access(ws.slug, project.name, access.value), call.user
        )
        snap = self.store.snapshot
        self.write_json(models.project_detail(snap, call.user, snap.projects[project.id], call.now))


class CollaboratorHandler(WorkspacePermsHandler):
    """``/workspaces/{ws}/projects/{project}/collaborators/{user}``."""

    @api("collaborator.put")
    async def put(self, call: Call) -> None:
        """Share the project with a user (an unknown email becomes a guest)."""
        project, ws = call.project, call.workspace
        assert project is not None and ws is not None
        role = Role.parse(call.body["role"])
        raw_expiry = call.body.get("expires_at")
        expires_at = None if raw_expiry is None else parse_expiry(raw_expiry)
        decision = can_set_collaborator(call.snap, call.user.subject, project.id, role, call.now)
        if not decision.allowed:
            raise refusal(decision)
        username = call.args["user"]
        known = target_user(call.snap, username)

        def share(writer: PolicyWriter) -> str:
            name = (
                call.snap.users[known].username
                if known is not None
                else writer.ensure_user(username, email_verified=False).username
            )
            writer.set_collaborator(ws.slug, project.name, name, role.name, expires_at)
            return name

        name = await self.change(share, call.user)
        detail = models.project_detail(
            self.store.snapshot, call.user, self.store.snapshot.projects[project.id], call.now
        )
        [collaborator] = [c for c in detail["collaborators"] if c["username"] == name]
        self.write_json(collaborator)

    @api("collaborator.delete")
    async def delete(self, call: Call) -> None:
        """Stop sharing the project with a user."""
        project, ws = call.project, call.workspace
        assert project is not None and ws is not None
        user_id = target_user(call.snap, call.args["user"])
        if user_id is None or (project.id, user_id) not in call.snap.grants:
            raise NotFound(f"{call.args['user']} is not a collaborator on {ws.slug}/{project.name}")
        decision = can_set_collaborator(call.snap, call.user.subject, project.id, None, call.now)
        if not decision.allowed:
            raise refusal(decision)
        username = call.snap.users[user_id].username
        await self.change(
            lambda w: w.remove_collaborator(ws.slug, project.name, username), call.user
        )
        self.set_status(204)
        self.finish()


def _refuse_folder_with_files(root: str, slug: str, name: str) -> None:
    """Refuse to adopt an existing folder that holds anything (hidden entries included).

    A folder directly in a workspace that is no project holds files nobody may read (it
    may come from an operator, an old bug or a kernel); registering it would hand them to
    the creator and to every member. Through the REST API a project starts in a new or an
    empty folder; operators adopt folders with ``jupyter workspace-perms project create``.
    """
    folder = os.path.join(root, slug, name)
    if os.path.islink(folder) or not os.path.isdir(folder):
        return  # make_folders creates it, or refuses a link or a file
    with os.scandir(folder) as entries:
        if next(entries, None) is None:
            return
    raise Conflict(
        f"a folder {slug}/{name} already exists with files in it: the REST API creates "
        "projects only in new or empty folders (an operator can adopt it with "
        f"`jupyter workspace-perms project create {slug} {name}`)",
        "folder_not_empty",
    )


default_handlers = [
    (route(WS + "/projects"), ProjectsHandler),
    (route(PROJECT), ProjectHandler),
    (route(PROJECT + "/collaborators/{user}"), CollaboratorHandler),
]
