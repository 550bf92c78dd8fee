"""Read the whole policy into a frozen :class:`~..policy.PolicySnapshot`.

Plain column selects (no ORM objects) keep a reload of 100k grants well under
a second. The version is read in the same transaction as the rows, so a
snapshot never claims a version it does not contain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from ..policy import (
    GrantFacts,
    MembershipFacts,
    PolicySnapshot,
    ProjectAccess,
    ProjectFacts,
    Role,
    TokenFacts,
    UserFacts,
    WorkspaceFacts,
)
from . import orm


def _seconds(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def read_version(connection: Connection) -> int:
    """The current policy version (one indexed row)."""
    version = connection.execute(
        select(orm.PolicyVersion.version).where(orm.PolicyVersion.id == 1)
    ).scalar_one()
    return int(version)


def load_snapshot(connection: Connection) -> PolicySnapshot:
    """Every fact, indexed, at one consistent version."""
    version = read_version(connection)
    return PolicySnapshot.build(
        version=version,
        users=_users(connection),
        workspaces=_workspaces(connection),
        projects=_projects(connection),
        memberships=_memberships(connection),
        grants=_grants(connection),
        tokens=_tokens(connection),
    )


def _users(connection: Connection) -> list[UserFacts]:
    u = orm.User
    rows = connection.execute(
        select(u.id, u.username, u.email, u.email_verified, u.login_provider, u.display_name)
    )
    return [UserFacts(*row) for row in rows]


def _workspaces(connection: Connection) -> list[WorkspaceFacts]:
    w, s = orm.Workspace, orm.WorkspaceSettings
    rows = connection.execute(
        select(
            w.id,
            w.slug,
            w.owner_id,
            w.name,
            s.domain_invites,
            s.enforced_sso_provider,
            s.viewers_can_execute,
        ).outerjoin(s, s.workspace_id == w.id)
    )
    return [
        WorkspaceFacts(
            id=row[0],
            slug=row[1],
            owner_id=row[2],
            name=row[3],
            domain_invites=bool(row[4]),
            enforced_sso_provider=row[5],
            viewers_can_execute=bool(row[6]),
        )
        for row in rows
    ]


def _projects(connection: Connection) -> list[ProjectFacts]:
    p = orm.Project
    rows = connection.execute(select(p.id, p.workspace_id, p.name, p.access, p.creator_id))
    access = {a.value: a for a in ProjectAccess}
    return [
        ProjectFacts(pid, ws, name, access[acc], creator) for pid, ws, name, acc, creator in rows
    ]


def _memberships(connection: Connection) -> list[MembershipFacts]:
    m = orm.Membership
    rows = connection.execute(select(m.workspace_id, m.user_id, m.role))
    return [MembershipFacts(ws, user, Role[role]) for ws, user, role in rows]


def _grants(connection: Connection) -> list[GrantFacts]:
    g = orm.Grant
    rows = connection.execute(select(g.project_id, g.user_id, g.role, g.expires_at))
    roles = {r.name: r for r in Role}
    return [
        GrantFacts(project, user, roles[role], _seconds(expires))
        for project, user, role, expires in rows
    ]


def _tokens(connection: Connection) -> list[tuple[str, TokenFacts]]:
    t = orm.Token
    rows = connection.execute(
        select(t.hashed, t.id, t.user_id, t.login_provider, t.expires_at).where(
            t.revoked_at.is_(None)
        )
    )
    return [
        (hashed, TokenFacts(tid, user, provider, _seconds(expires)))
        for hashed, tid, user, provider, expires in rows
    ]
