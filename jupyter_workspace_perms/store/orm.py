"""SQLAlchemy models of the policy store.

One table per concept. Every policy write also bumps the single
:class:`PolicyVersion` row in the same transaction, which is how every server
(and every process) notices that its in-memory snapshot is stale.

Migrations in ``migrations/versions`` never import this module: they spell the
schema out, so an old revision keeps meaning what it meant.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored naive in UTC and always read back timezone-aware.

    SQLite has no time zones; normalising here means expiry comparisons never
    mix naive and aware datetimes.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class User(Base):
    """A person. ``username`` is stable; users made from an email use the email."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str] = mapped_column(String(320), default="")
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    login_provider: Mapped[str] = mapped_column(String(64), default="token")
    display_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Workspace(Base):
    """A team: a top-level folder under the server's ``root_dir``."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkspaceSettings(Base):
    """Per-workspace settings that change policy (docs/design.md#workspace-rules)."""

    __tablename__ = "workspace_settings"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    domain_invites: Mapped[bool] = mapped_column(Boolean, default=False)
    enforced_sso_provider: Mapped[str | None] = mapped_column(String(64), nullable=True)
    viewers_can_execute: Mapped[bool] = mapped_column(Boolean, default=False)


class Membership(Base):
    """A user's role in a workspace."""

    __tablename__ = "memberships"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Project(Base):
    """A folder directly inside a workspace folder: the unit of access control."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(127))
    access: Mapped[str] = mapped_column(String(8), default="full")
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Grant(Base):
    """A collaborator grant: a role on one project, optionally until ``expires_at``."""

    __tablename__ = "grants"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    granted_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Token(Base):
    """A personal access token. Only a SHA-256 hash of the secret is stored."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    hashed: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    login_provider: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the token this one was created with (through the server); revoking it revokes this
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("tokens.id", ondelete="SET NULL", name="fk_tokens_parent_id_tokens"),
        nullable=True,
        index=True,
    )


class Integration(Base):
    """A workspace's named bundle of secrets (environment variables for kernels).

    ``*_by`` columns name who did it as the audit log does: a username, or
    ``cli:<OS user>`` for the operator's command line.
    """

    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(63))
    created_by: Mapped[str] = mapped_column(
        String(255), default=""
    )  # who: a username or cli:<user>
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IntegrationVariable(Base):
    """One variable of an integration; its value only ever encrypted (Fernet)."""

    __tablename__ = "integration_variables"

    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(255), default="")
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectIntegration(Base):
    """An integration connected to a project: its kernels receive the variables."""

    __tablename__ = "project_integrations"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    connected_by: Mapped[str] = mapped_column(
        String(255), default=""
    )  # who: a username or cli:<user>
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Comment(Base):
    """A comment on a project's file or notebook cell; a thread is a root and its replies.

    The anchor lives on the root: the path inside the project (so a renamed project
    keeps its threads without a write), the cell id, the quoted text and the SHA-256
    of the cell's source when the thread was posted. ``anchor_state`` is ``current``,
    ``outdated`` (the cell changed) or ``orphaned`` (the cell or file is gone); every
    save and every rename, move and delete through the contents API updates it.
    ``author`` and ``*_by`` name people as the audit log does (a username).
    """

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_project_path", "project_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1024))  # inside the project folder
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), nullable=True, index=True
    )
    cell_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    anchor_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    anchor_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quote: Mapped[str] = mapped_column(Text, default="")
    source_hash: Mapped[str] = mapped_column(String(64), default="")
    anchor_state: Mapped[str] = mapped_column(String(16), default="current")
    author: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_by: Mapped[str] = mapped_column(String(255), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CommentMention(Base):
    """Someone a comment mentions (``@username``), resolved when it was written: only
    people who could read the project then."""

    __tablename__ = "comment_mentions"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class AccessRequest(Base):
    """A member's or guest's request for a higher role on a project (``project_id``) or
    in a workspace (no project). ``status``: ``pending``, ``approved`` or ``denied``."""

    __tablename__ = "access_requests"
    __table_args__ = (
        Index("ix_access_requests_workspace_status", "workspace_id", "status"),
        # one pending request per person and place: two sent at once cannot both be stored
        Index(
            "uq_access_requests_pending_project",
            "workspace_id",
            "user_id",
            "project_id",
            unique=True,
            sqlite_where=text("status = 'pending' AND project_id IS NOT NULL"),
            postgresql_where=text("status = 'pending' AND project_id IS NOT NULL"),
        ),
        Index(
            "uq_access_requests_pending_workspace",
            "workspace_id",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'pending' AND project_id IS NULL"),
            postgresql_where=text("status = 'pending' AND project_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(255), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEvent(Base):
    """One policy change or one kernel execution request: who, what, when."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_workspace_at", "workspace_id", "at"),
        Index("ix_audit_events_at", "at"),  # retention prunes by age across workspaces
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    workspace_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target: Mapped[str] = mapped_column(String(512), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PolicyVersion(Base):
    """The single row whose ``version`` grows with every policy write."""

    __tablename__ = "policy_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    # the highest project id ever given: ids are never reused (SQLite would reuse the
    # highest after a delete), since kernels, their homes and connections follow the id
    last_project_id: Mapped[int] = mapped_column(BigInteger, default=0)
