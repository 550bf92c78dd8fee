"""The leaf commands of ``jupyter workspace-perms``: one class per command.

Each class names its positional arguments, declares its own options, changes the
policy through one :class:`~..store.PolicyWriter` transaction and returns a
JSON-able result that ``render`` turns into text. The operator is trusted like a
database administrator: the policy core's guards (who may grant what) are for
users of the server; the writer's data rules (valid names and roles, the owner
stays an admin) always apply.
"""

from __future__ import annotations

import time

from traitlets import Unicode
from traitlets.config.application import StrDict

from ..errors import InvalidInput, NotFound
from ..folders import folders_removed_on_error
from ..policy import PolicySnapshot, WorkspaceFacts, workspace_people
from ..timestamps import iso, parse_expiry
from .base import (
    PROG,
    Command,
    FolderCommand,
    Result,
    UsageError,
    find_user,
    table,
)


def _workspace(snap: PolicySnapshot, slug: str) -> WorkspaceFacts:
    ws_id = snap.workspaces_by_slug.get(slug)
    if ws_id is None:
        raise NotFound(f"no workspace {slug!r}")
    return snap.workspaces[ws_id]


def _provider_trait(who: str) -> Unicode[str, str | bytes]:
    return Unicode("", config=True, help=f"Login provider of {who} (default: token).")


# -- workspaces --------------------------------------------------------------------------


class WorkspaceCreate(FolderCommand):
    """``workspace create SLUG --owner EMAIL [--provider P] [--name NAME]``."""

    name = f"{PROG} workspace create"
    description = "Create a workspace and its folder ROOT/SLUG; the owner becomes its admin."
    arguments = ("SLUG",)

    owner = Unicode("", config=True, help="Email of the owner (required); a new user if unknown.")
    provider = _provider_trait("the owner, if new")
    display_name = Unicode("", config=True, help="Display name of the workspace (default: SLUG).")
    aliases: StrDict = {
        **FolderCommand.aliases,
        "owner": "WorkspaceCreate.owner",
        "provider": "WorkspaceCreate.provider",
        "name": "WorkspaceCreate.display_name",
    }

    def configure(self) -> None:
        """``--owner`` is required: a workspace always has one."""
        super().configure()
        if not self.owner:
            raise UsageError(f"missing --owner EMAIL: usage: {self.usage()}")

    def run(self) -> Result:
        (slug,) = self.args
        with folders_removed_on_error() as created, self.writing() as writer:
            workspace = writer.create_workspace(
                slug, self.owner, self.provider or None, self.display_name
            )
            folder, new_folders = self.create_folders(workspace.slug)
            created += new_folders
            name, owner_id = workspace.name, workspace.owner_id
        owner = self.username_of(owner_id)
        return {"workspace": slug, "name": name, "owner": owner, "folder": str(folder)}

    def render(self, result: Result) -> str:
        return (
            f"created workspace {result['workspace']} (owner {result['owner']})"
            f" at {result['folder']}"
        )


class WorkspaceList(Command):
    """``workspace list``."""

    name = f"{PROG} workspace list"
    description = "List every workspace with its owner and sizes."
    writes = False

    def run(self) -> Result:
        snap = self.store.snapshot
        rows = [
            {
                "slug": ws.slug,
                "name": ws.name,
                "owner": self.username_of(ws.owner_id),
                "members": len(snap.members_of.get(ws.id, ())),
                "projects": len(snap.projects_of.get(ws.id, ())),
            }
            for ws in sorted(snap.workspaces.values(), key=lambda w: w.slug)
        ]
        return {"workspaces": rows}

    def render(self, result: Result) -> str:
        headers = ("SLUG", "NAME", "OWNER", "MEMBERS", "PROJECTS")
        return table(headers, [list(w.values()) for w in result["workspaces"]])


class SetOwner(Command):
    """``set-owner SLUG EMAIL [--provider P]``."""

    name = f"{PROG} set-owner"
    description = (
        "Transfer ownership of a workspace; the new owner becomes admin, the old stays admin."
    )
    arguments = ("SLUG", "EMAIL")

    provider = _provider_trait("the new owner, if new")
    aliases: StrDict = {**Command.aliases, "provider": "SetOwner.provider"}

    def run(self) -> Result:
        slug, email = self.args
        previous = self.username_of(_workspace(self.store.snapshot, slug).owner_id)
        with self.writing() as writer:
            writer.set_owner(slug, email, self.provider or None)
        return {"workspace": slug, "owner": email.strip(), "previous_owner": previous}

    def render(self, result: Result) -> str:
        return (
            f"{result['workspace']}: owner is now {result['owner']}"
            f" (was {result['previous_owner']})"
        )


# -- members -----------------------------------------------------------------------------


class MemberSet(Command):
    """``member set SLUG EMAIL ROLE [--provider P]``."""

    name = f"{PROG} member set"
    description = (
        "Give a user a workspace role (viewer, contributor, editor, admin); new users are created."
    )
    arguments = ("SLUG", "EMAIL", "ROLE")

    provider = _provider_trait("the user, if new")
    aliases: StrDict = {**Command.aliases, "provider": "MemberSet.provider"}

    def run(self) -> Result:
        slug, email, role = self.args
        with self.writing() as writer:
            user = self.user_arg(writer, email, self.provider)
            writer.set_member(slug, user, role)
        return {"workspace": slug, "user": user, "role": role}

    def render(self, result: Result) -> str:
        return f"{result['workspace']}: {result['user']} is {result['role']}"


class MemberRemove(Command):
    """``member remove SLUG EMAIL``."""

    name = f"{PROG} member remove"
    description = "Remove a member from a workspace (the owner cannot be removed)."
    arguments = ("SLUG", "EMAIL")

    def run(self) -> Result:
        slug, user = self.args
        with self.writing() as writer:
            writer.remove_member(slug, user)
        return {"workspace": slug, "user": user, "removed": True}

    def render(self, result: Result) -> str:
        return f"{result['workspace']}: removed {result['user']}"


class MemberList(Command):
    """``member list SLUG``."""

    name = f"{PROG} member list"
    description = "List the members of a workspace, then its guests (collaborators only)."
    arguments = ("SLUG",)
    writes = False

    def run(self) -> Result:
        (slug,) = self.args
        snap = self.store.snapshot
        people = workspace_people(snap, _workspace(snap, slug).id, time.time())
        members = [
            {
                "user": p.user.username,
                "email": p.user.email,
                "role": p.role.name,
                "login_provider": p.user.login_provider,
                "owner": p.owner,
            }
            for p in people
            if p.role is not None
        ]
        guests = [
            {"user": p.user.username, "projects": [project.name for project, _ in p.grants]}
            for p in people
            if p.guest
        ]
        return {"workspace": slug, "members": members, "guests": guests}

    def render(self, result: Result) -> str:
        rows: list[list[object]] = [
            [m["user"], m["role"], m["login_provider"], "owner" if m["owner"] else ""]
            for m in result["members"]
        ]
        rows += [[g["user"], "guest", "", ", ".join(g["projects"])] for g in result["guests"]]
        return table(("USER", "ROLE", "PROVIDER", "NOTE"), rows)


# -- projects ----------------------------------------------------------------------------


class ProjectCreate(FolderCommand):
    """``project create SLUG PROJECT [--access full|view|none] [--creator EMAIL]``."""

    name = f"{PROG} project create"
    description = (
        "Create a project and its folder ROOT/SLUG/PROJECT (an existing folder is adopted)."
    )
    arguments = ("SLUG", "PROJECT")

    access = Unicode(
        "full",
        config=True,
        help="What workspace members get: full (their role), view (locked) or none (private). "
        "Default: full.",
    )
    creator = Unicode(
        "", config=True, help="User who becomes the project's admin (default: nobody)."
    )
    aliases: StrDict = {
        **FolderCommand.aliases,
        "access": "ProjectCreate.access",
        "creator": "ProjectCreate.creator",
    }

    def run(self) -> Result:
        slug, name = self.args
        with folders_removed_on_error() as created, self.writing() as writer:
            project = writer.create_project(slug, name, self.access, self.creator or None)
            folder, new_folders = self.create_folders(slug, project.name)
            created += new_folders
            access = project.access
        return {
            "workspace": slug,
            "project": name,
            "access": access,
            "creator": self.creator or None,
            "folder": str(folder),
        }

    def render(self, result: Result) -> str:
        return (
            f"created project {result['workspace']}/{result['project']}"
            f" (access {result['access']}) at {result['folder']}"
        )


class ProjectSetAccess(Command):
    """``project access SLUG PROJECT full|view|none``."""

    name = f"{PROG} project access"
    description = (
        "Set what workspace members get on a project: full, view (locked) or none (private)."
    )
    arguments = ("SLUG", "PROJECT", "ACCESS")

    def run(self) -> Result:
        slug, name, access = self.args
        with self.writing() as writer:
            level = writer.set_project_access(slug, name, access).access
        return {"workspace": slug, "project": name, "access": level}

    def render(self, result: Result) -> str:
        return f"{result['workspace']}/{result['project']}: access {result['access']}"


class ProjectList(Command):
    """``project list SLUG``."""

    name = f"{PROG} project list"
    description = (
        "List every project of a workspace (private ones included) with its collaborators."
    )
    arguments = ("SLUG",)
    writes = False

    def run(self) -> Result:
        (slug,) = self.args
        snap = self.store.snapshot
        ws = _workspace(snap, slug)
        projects = []
        for project_id in snap.projects_of.get(ws.id, ()):
            project = snap.projects[project_id]
            grants = [snap.grants[(project_id, u)] for u in snap.grantees_of.get(project_id, ())]
            collaborators = [
                {
                    "user": snap.users[g.user_id].username,
                    "role": g.role.name,
                    "expires_at": iso(g.expires_at),
                }
                for g in grants
            ]
            projects.append(
                {
                    "name": project.name,
                    "access": project.access.value,
                    "creator": self.username_of(project.creator_id),
                    "collaborators": sorted(collaborators, key=lambda c: str(c["user"])),
                }
            )
        return {"workspace": slug, "projects": sorted(projects, key=lambda p: str(p["name"]))}

    def render(self, result: Result) -> str:
        rows = [
            [
                p["name"],
                p["access"],
                p["creator"],
                ", ".join(f"{c['user']} ({c['role']})" for c in p["collaborators"]),
            ]
            for p in result["projects"]
        ]
        return table(("PROJECT", "ACCESS", "CREATOR", "COLLABORATORS"), rows)


# -- collaborators -----------------------------------------------------------------------


class CollaboratorSet(Command):
    """``collaborator set SLUG PROJECT EMAIL ROLE [--expires ISO8601] [--provider P]``."""

    name = f"{PROG} collaborator set"
    description = (
        "Grant a user a role on one project, optionally until a time; new users are created."
    )
    arguments = ("SLUG", "PROJECT", "EMAIL", "ROLE")

    expires = Unicode(
        "",
        config=True,
        help="When the grant ends, ISO 8601 with a time zone, e.g. 2026-12-31T18:00:00Z "
        "(default: never).",
    )
    provider = _provider_trait("the user, if new")
    aliases: StrDict = {
        **Command.aliases,
        "expires": "CollaboratorSet.expires",
        "provider": "CollaboratorSet.provider",
    }

    def run(self) -> Result:
        slug, name, email, role = self.args
        expires_at = parse_expiry(self.expires) if self.expires else None
        with self.writing() as writer:
            user = self.user_arg(writer, email, self.provider)
            writer.set_collaborator(slug, name, user, role, expires_at)
        return {
            "workspace": slug,
            "project": name,
            "user": user,
            "role": role,
            "expires_at": iso(expires_at),
        }

    def render(self, result: Result) -> str:
        until = f" until {result['expires_at']}" if result["expires_at"] else ""
        where = f"{result['workspace']}/{result['project']}"
        return f"{where}: {result['user']} is {result['role']}{until}"


class CollaboratorRemove(Command):
    """``collaborator remove SLUG PROJECT EMAIL``."""

    name = f"{PROG} collaborator remove"
    description = "Revoke a user's collaborator grant on a project."
    arguments = ("SLUG", "PROJECT", "EMAIL")

    def run(self) -> Result:
        slug, name, user = self.args
        with self.writing() as writer:
            writer.remove_collaborator(slug, name, user)
        return {"workspace": slug, "project": name, "user": user, "removed": True}

    def render(self, result: Result) -> str:
        return f"{result['workspace']}/{result['project']}: removed {result['user']}"


# -- tokens ------------------------------------------------------------------------------


class TokenCreate(Command):
    """``token create EMAIL [--provider P] [--expires ISO8601]``: prints the secret once."""

    name = f"{PROG} token create"
    description = (
        "Issue a personal access token for a user; the token is shown only this once. "
        "An unknown email becomes a new user first, as with `user create`."
    )
    arguments = ("EMAIL",)

    provider = Unicode(
        "",
        config=True,
        help="Login provider the token signs in as (default: the user's current provider; "
        "token for a new user, who also gets this provider).",
    )
    expires = Unicode(
        "",
        config=True,
        help="When the token stops working, ISO 8601 with a time zone (default: never).",
    )
    note = Unicode("", config=True, help="A note to recognise the token by (default: none).")
    aliases: StrDict = {
        **Command.aliases,
        "provider": "TokenCreate.provider",
        "expires": "TokenCreate.expires",
        "note": "TokenCreate.note",
    }

    def run(self) -> Result:
        (who,) = self.args
        expires_at = parse_expiry(self.expires) if self.expires else None
        with self.writing() as writer:
            user = self.known_or_new_user(writer, who, self.provider)
            token, secret = writer.create_token(user, self.provider or None, expires_at, self.note)
            token_id, provider = token.id, token.login_provider
        return {
            "token": secret,
            "id": token_id,
            "user": user,
            "login_provider": provider,
            "expires_at": iso(expires_at),
        }

    def render(self, result: Result) -> str:
        return str(result["token"])


class TokenRevoke(Command):
    """``token revoke TOKEN_ID``."""

    name = f"{PROG} token revoke"
    description = "Revoke a token by its id (see `token list`); it stops working at once."
    arguments = ("TOKEN_ID",)

    def run(self) -> Result:
        (raw_id,) = self.args
        try:
            token_id = int(raw_id)
        except ValueError:
            raise InvalidInput(
                f"invalid token id {raw_id!r}: use the number from `token list`"
            ) from None
        with self.writing() as writer:
            token = writer.revoke_token(token_id)
            user_id, revoked_at = token.user_id, token.revoked_at
        return {"id": token_id, "user": self.username_of(user_id), "revoked_at": iso(revoked_at)}

    def render(self, result: Result) -> str:
        return f"revoked token {result['id']} of {result['user']}"


class TokenList(Command):
    """``token list EMAIL``."""

    name = f"{PROG} token list"
    description = "List a user's tokens (never their secrets), revoked ones included."
    arguments = ("EMAIL",)
    writes = False

    def run(self) -> Result:
        (username,) = self.args
        user = find_user(self.store.snapshot, username)
        found = self.store.tokens_of(user.id)
        tokens = [
            {
                "id": token.id,
                "prefix": token.prefix,
                "login_provider": token.login_provider,
                "note": token.note,
                "created_at": iso(token.created_at),
                "expires_at": iso(token.expires_at),
                "revoked_at": iso(token.revoked_at),
            }
            for token in found
        ]
        return {"user": user.username, "tokens": tokens}

    def render(self, result: Result) -> str:
        headers = ("ID", "PREFIX", "PROVIDER", "NOTE", "CREATED", "EXPIRES", "REVOKED")
        return table(headers, [list(t.values()) for t in result["tokens"]])
