"""Policy changes: one :class:`PolicyWriter` per transaction, one audit event per change.

The writer checks the *data* rules (names, unknown roles, the owner stays an
admin, no duplicates) and records who did what; whether the actor may make
the change at all is the policy core's question (:mod:`..policy.guards`),
asked by the caller. Every change bumps the policy version in the same
transaction, so every server notices it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from ..errors import Conflict, InvalidInput, NotFound
from ..policy import ProjectAccess, Role
from ..policy.names import validate_project_name, validate_workspace_slug
from . import orm
from .orm import utcnow
from .tokens import new_token

NOTIFY_CHANNEL = "workspace_perms_policy"


def parse_role(value: str) -> Role:
    """A role from user input, or :class:`InvalidInput`."""
    try:
        return Role.parse(value)
    except ValueError as e:
        raise InvalidInput(str(e), "invalid_role") from None


def parse_access(value: str) -> ProjectAccess:
    """A project access level from user input, or :class:`InvalidInput`."""
    try:
        return ProjectAccess.parse(value)
    except ValueError as e:
        raise InvalidInput(str(e), "invalid_access") from None


def _checked(validate: Any, value: str) -> str:
    try:
        return str(validate(value))
    except ValueError as e:
        raise InvalidInput(str(e), "invalid_name") from None


class PolicyWriter:
    """Changes made by ``actor`` inside one open transaction of ``session``."""

    def __init__(self, session: Session, actor: str) -> None:
        self.session = session
        self.actor = actor
        self.changed = False

    # -- lookups -----------------------------------------------------------------------

    def workspace(self, slug: str) -> orm.Workspace:
        """The workspace with ``slug`` or :class:`NotFound`."""
        found = self.session.scalar(select(orm.Workspace).where(orm.Workspace.slug == slug))
        if found is None:
            raise NotFound(f"no workspace {slug!r}")
        return found

    def project(self, slug: str, name: str) -> orm.Project:
        """The project ``slug/name`` or :class:`NotFound`."""
        workspace = self.workspace(slug)
        found = self.session.scalar(
            select(orm.Project).where(
                orm.Project.workspace_id == workspace.id, orm.Project.name == name
            )
        )
        if found is None:
            raise NotFound(f"no project {name!r} in workspace {slug!r}")
        return found

    def user(self, username: str) -> orm.User:
        """The user with ``username`` or :class:`NotFound` (emails match case-insensitively)."""
        if "@" in username:
            username = username.strip().lower()
        found = self.session.scalar(select(orm.User).where(orm.User.username == username))
        if found is None:
            raise NotFound(f"no user {username!r}")
        return found

    def ensure_user(
        self,
        email: str,
        provider: str | None = None,
        *,
        email_verified: bool = True,
        display_name: str = "",
    ) -> orm.User:
        """The user whose username is ``email``, created if new.

        A user created from an email by an operator has a verified email (the
        operator vouches) and ``provider`` (default ``token``) as login provider.
        """
        email = email.strip().lower()
        if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
            raise InvalidInput(f"invalid email {email!r}", "invalid_email")
        user = self.session.scalar(select(orm.User).where(orm.User.username == email))
        if user is None:
            user = orm.User(
                username=email,
                email=email,
                email_verified=email_verified,
                login_provider=provider or "token",
                display_name=display_name or email.split("@")[0],
            )
            self.session.add(user)
            self.session.flush()
            self._audit("user.create", None, email, {"login_provider": user.login_provider})
        elif provider and provider != user.login_provider:
            self._audit("user.provider", None, email, {"from": user.login_provider, "to": provider})
            user.login_provider = provider
        return user

    # -- workspaces and members --------------------------------------------------------

    def create_workspace(
        self, slug: str, owner_email: str, provider: str | None = None, name: str = ""
    ) -> orm.Workspace:
        """A new workspace owned (and administered) by ``owner_email``."""
        slug = _checked(validate_workspace_slug, slug)
        if self.session.scalar(select(orm.Workspace.id).where(orm.Workspace.slug == slug)):
            raise Conflict(f"workspace {slug!r} already exists", "exists")
        owner = self.ensure_user(owner_email, provider)
        workspace = orm.Workspace(slug=slug, name=name or slug, owner_id=owner.id)
        self.session.add(workspace)
        self.session.flush()
        self.session.add(
            orm.WorkspaceSettings(
                workspace_id=workspace.id, domain_invites=False, viewers_can_execute=False
            )
        )
        self.session.add(
            orm.Membership(workspace_id=workspace.id, user_id=owner.id, role=Role.admin.name)
        )
        self._audit("workspace.create", workspace.id, slug, {"owner": owner.username})
        return workspace

    def set_member(self, slug: str, username: str, role: str) -> orm.Membership:
        """Give an existing user ``role`` in the workspace (adds or changes)."""
        new_role = parse_role(role)
        workspace = self.workspace(slug)
        user = self.user(username)
        if user.id == workspace.owner_id and new_role is not Role.admin:
            raise Conflict(
                f"{username} owns {slug} and cannot be demoted; transfer ownership first "
                "with `jupyter workspace-perms set-owner`",
                "owner_protected",
            )
        membership = self.session.get(orm.Membership, (workspace.id, user.id))
        before = membership.role if membership else None
        if membership is None:
            membership = orm.Membership(workspace_id=workspace.id, user_id=user.id)
            self.session.add(membership)
        membership.role = new_role.name
        if before != new_role.name:
            self._audit("member.set", workspace.id, username, {"from": before, "to": new_role.name})
        return membership

    def remove_member(self, slug: str, username: str) -> None:
        """Remove a member and their grants in the workspace; the owner cannot be removed.

        The grants go too (a project creator's admin grant included): someone who
        leaves a team must not keep its private projects as a guest. Share a
        project again with ``set_collaborator`` to make them a guest on purpose.
        """
        workspace = self.workspace(slug)
        user = self.user(username)
        if user.id == workspace.owner_id:
            raise Conflict(
                f"{username} owns {slug} and cannot be removed; transfer ownership first "
                "with `jupyter workspace-perms set-owner`",
                "owner_protected",
            )
        membership = self.session.get(orm.Membership, (workspace.id, user.id))
        if membership is None:
            raise NotFound(f"{username} is not a member of {slug}")
        self.session.delete(membership)
        grants = self.session.scalars(
            select(orm.Grant)
            .join(orm.Project, orm.Project.id == orm.Grant.project_id)
            .where(orm.Project.workspace_id == workspace.id, orm.Grant.user_id == user.id)
        ).all()
        removed = {}
        for grant in grants:
            removed[str(grant.project_id)] = grant.role
            self.session.delete(grant)
        self._audit(
            "member.remove",
            workspace.id,
            username,
            {"from": membership.role, "grants_removed": removed},
        )

    def set_owner(self, slug: str, email: str, provider: str | None = None) -> None:
        """Move ownership to ``email`` (who becomes an admin); the old owner stays admin."""
        workspace = self.workspace(slug)
        owner = self.ensure_user(email, provider)
        previous = workspace.owner_id
        workspace.owner_id = owner.id
        membership = self.session.get(orm.Membership, (workspace.id, owner.id))
        if membership is None:
            self.session.add(
                orm.Membership(workspace_id=workspace.id, user_id=owner.id, role=Role.admin.name)
            )
        else:
            membership.role = Role.admin.name
        self._audit("workspace.owner", workspace.id, slug, {"from": previous, "to": owner.id})

    def set_settings(self, slug: str, **settings: Any) -> orm.WorkspaceSettings:
        """Change workspace settings (rules about *who* may are the caller's)."""
        workspace = self.workspace(slug)
        row = self.session.get(orm.WorkspaceSettings, workspace.id)
        assert row is not None
        changes = {}
        for key, value in settings.items():
            if not hasattr(orm.WorkspaceSettings, key) or key == "workspace_id":
                raise InvalidInput(f"unknown workspace setting {key!r}", "invalid_setting")
            if getattr(row, key) != value:
                changes[key] = {"from": getattr(row, key), "to": value}
                setattr(row, key, value)
        if changes:
            self._audit("workspace.settings", workspace.id, slug, changes)
        return row

    # -- projects and collaborators ----------------------------------------------------

    def create_project(
        self,
        slug: str,
        name: str,
        access: str = "full",
        creator: str | None = None,
        duplicate_of: str | None = None,
    ) -> orm.Project:
        """A new project; its creator (if named) becomes its project admin; a duplicate
        names its source (``ws/project``) in the audit event."""
        name = _checked(validate_project_name, name)
        level = parse_access(access)
        workspace = self.workspace(slug)
        exists = self.session.scalar(
            select(orm.Project.id).where(
                orm.Project.workspace_id == workspace.id, orm.Project.name == name
            )
        )
        if exists:
            raise Conflict(f"project {name!r} already exists in {slug!r}", "exists")
        creator_user = self.user(creator) if creator else None
        project = orm.Project(
            id=self._new_project_id(),
            workspace_id=workspace.id,
            name=name,
            access=level.value,
            creator_id=creator_user.id if creator_user else None,
        )
        self.session.add(project)
        self.session.flush()
        if creator_user is not None:
            self.session.add(
                orm.Grant(project_id=project.id, user_id=creator_user.id, role=Role.admin.name)
            )
        self._audit(
            "project.create",
            workspace.id,
            f"{slug}/{name}",
            {
                "access": level.value,
                "creator": creator,
                **({"duplicate_of": duplicate_of} if duplicate_of else {}),
            },
        )
        return project

    def _new_project_id(self) -> int:
        """An id no project ever had (the version row is locked until the commit)."""
        row = self.session.scalars(
            select(orm.PolicyVersion).where(orm.PolicyVersion.id == 1).with_for_update()
        ).one()
        highest = self.session.scalar(select(func.max(orm.Project.id))) or 0
        row.last_project_id = max(row.last_project_id or 0, highest) + 1
        return int(row.last_project_id)

    def rename_project(self, slug: str, name: str, new_name: str) -> orm.Project:
        """Follow a project folder's rename: grants and settings stay with the project."""
        new_name = _checked(validate_project_name, new_name)
        project = self.project(slug, name)
        clash = self.session.scalar(
            select(orm.Project.id).where(
                orm.Project.workspace_id == project.workspace_id, orm.Project.name == new_name
            )
        )
        if clash:
            raise Conflict(f"project {new_name!r} already exists in {slug!r}", "exists")
        project.name = new_name
        self._audit("project.rename", project.workspace_id, f"{slug}/{name}", {"to": new_name})
        return project

    def delete_project(self, slug: str, name: str) -> None:
        """Forget a project whose folder was deleted (its grants and comments go with it,
        the comments by the foreign key; the audit row counts them)."""
        project = self.project(slug, name)
        comments = self.session.scalar(
            select(func.count()).where(orm.Comment.project_id == project.id)
        )
        self.session.delete(project)
        details = {"comments": int(comments)} if comments else {}
        self._audit("project.delete", project.workspace_id, f"{slug}/{name}", details)

    def set_project_access(self, slug: str, name: str, access: str) -> orm.Project:
        """Change what workspace members get on a project."""
        level = parse_access(access)
        project = self.project(slug, name)
        if project.access != level.value:
            self._audit(
                "project.access",
                project.workspace_id,
                f"{slug}/{name}",
                {"from": project.access, "to": level.value},
            )
            project.access = level.value
        return project

    def set_collaborator(
        self, slug: str, name: str, username: str, role: str, expires_at: datetime | None = None
    ) -> orm.Grant:
        """Grant ``role`` on a project to a user, optionally until ``expires_at``."""
        new_role = parse_role(role)
        if expires_at is not None and expires_at.tzinfo is None:
            raise InvalidInput("expiry must include a time zone (e.g. 2026-12-31T00:00:00Z)")
        project = self.project(slug, name)
        user = self.user(username)
        grant = self.session.get(orm.Grant, (project.id, user.id))
        before = None if grant is None else grant.role
        if grant is None:
            grant = orm.Grant(project_id=project.id, user_id=user.id)
            self.session.add(grant)
        grant.role = new_role.name
        grant.expires_at = expires_at
        self._audit(
            "collaborator.set",
            project.workspace_id,
            f"{slug}/{name}:{username}",
            {
                "from": before,
                "to": new_role.name,
                "expires_at": None if expires_at is None else expires_at.isoformat(),
            },
        )
        return grant

    def remove_collaborator(self, slug: str, name: str, username: str) -> None:
        """Revoke a user's collaborator grant on a project."""
        project = self.project(slug, name)
        user = self.user(username)
        grant = self.session.get(orm.Grant, (project.id, user.id))
        if grant is None:
            raise NotFound(f"{username} is not a collaborator on {slug}/{name}")
        self.session.delete(grant)
        self._audit(
            "collaborator.remove",
            project.workspace_id,
            f"{slug}/{name}:{username}",
            {"from": grant.role},
        )

    # -- tokens ------------------------------------------------------------------------

    def create_token(
        self,
        username: str,
        provider: str | None = None,
        expires_at: datetime | None = None,
        note: str = "",
        parent_id: int | None = None,
    ) -> tuple[orm.Token, str]:
        """A new token for ``username``; returns the row and the secret (shown once).

        ``parent_id`` is the token the request that creates this one signed in with:
        revoking it revokes this one too (:meth:`revoke_token`).
        """
        if expires_at is not None and expires_at.tzinfo is None:
            raise InvalidInput("expiry must include a time zone (e.g. 2026-12-31T00:00:00Z)")
        if expires_at is not None and expires_at <= utcnow():
            raise InvalidInput("expiry must be in the future")
        user = self.user(username)
        secret, hashed, prefix = new_token()
        token = orm.Token(
            user_id=user.id,
            hashed=hashed,
            prefix=prefix,
            login_provider=provider or user.login_provider,
            note=note,
            expires_at=expires_at,
            parent_id=parent_id,
        )
        self.session.add(token)
        self.session.flush()
        details: dict[str, Any] = {"token_id": token.id, "provider": token.login_provider}
        if parent_id is not None:
            details["parent_id"] = parent_id
        self._audit("token.create", None, username, details)
        return token, secret

    def revoke_token(self, token_id: int, owner: str | None = None) -> orm.Token:
        """Revoke a token (only the owner's own when ``owner`` is given)."""
        # ids are positive 64-bit integers; larger ones overflow the database driver
        token = self.session.get(orm.Token, token_id) if 0 < token_id < 2**63 else None
        if token is None or (owner is not None and self.user(owner).id != token.user_id):
            raise NotFound(f"no token {token_id}")
        self._revoke_with_children(token, utcnow())
        return token

    def _revoke_with_children(self, token: orm.Token, now: datetime) -> None:
        """Revoke ``token`` and every token created with it, however deep."""
        pending = [token]
        while pending:
            found = pending.pop()
            if found.revoked_at is None:
                found.revoked_at = now
                details: dict[str, Any] = {"user_id": found.user_id}
                if found is not token:
                    details["because_revoked"] = token.id
                self._audit("token.revoke", None, str(found.id), details)
            children = select(orm.Token).where(orm.Token.parent_id == found.id)
            pending.extend(self.session.scalars(children))

    # -- bookkeeping -------------------------------------------------------------------

    def _audit(
        self, action: str, workspace_id: int | None, target: str, details: dict[str, Any]
    ) -> None:
        self.session.add(
            orm.AuditEvent(
                actor=self.actor,
                action=action,
                workspace_id=workspace_id,
                target=target,
                details=details,
            )
        )
        self.changed = True

    def bump_version(self) -> int:
        """Advance the policy version (and tell PostgreSQL listeners) in this transaction."""
        version = self.session.execute(
            update(orm.PolicyVersion)
            .where(orm.PolicyVersion.id == 1)
            .values(version=orm.PolicyVersion.version + 1)
            .returning(orm.PolicyVersion.version)
        ).scalar_one()
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": NOTIFY_CHANNEL, "payload": str(version)},
            )
        return int(version)
