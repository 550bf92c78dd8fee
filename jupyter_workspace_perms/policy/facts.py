"""Frozen facts the policy core decides from, and the indexed snapshot that holds them.

The store loads rows into these classes; the policy core only reads them. A
snapshot is immutable: a policy change builds a new one and swaps the
reference, so a request never sees half of a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .permissions import SETTINGS, ProjectAccess, Role


@dataclass(frozen=True, slots=True)
class UserFacts:
    """A known user. ``login_provider`` is the provider they last signed in with."""

    id: int
    username: str
    email: str
    email_verified: bool = False
    login_provider: str = "token"
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class WorkspaceFacts:
    """A workspace (a top-level folder) and its settings."""

    id: int
    slug: str
    owner_id: int
    name: str = ""
    domain_invites: bool = False
    enforced_sso_provider: str | None = None
    viewers_can_execute: bool = False
    settings: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        enabled = frozenset(s for s in SETTINGS if getattr(self, s, False) is True)
        object.__setattr__(self, "settings", enabled)


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """A project (a folder directly inside a workspace folder)."""

    id: int
    workspace_id: int
    name: str
    access: ProjectAccess = ProjectAccess.full
    creator_id: int | None = None


@dataclass(frozen=True, slots=True)
class MembershipFacts:
    """A user's role in a workspace."""

    workspace_id: int
    user_id: int
    role: Role


@dataclass(frozen=True, slots=True)
class GrantFacts:
    """A collaborator grant: a role on one project, optionally until ``expires_at``."""

    project_id: int
    user_id: int
    role: Role
    expires_at: float | None = None  # POSIX seconds; None never expires

    def active(self, now: float) -> bool:
        """Whether the grant still counts at ``now`` (it stops at its expiry, no job needed)."""
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """A personal access token, known only by its hash."""

    id: int
    user_id: int
    login_provider: str
    expires_at: float | None = None
    revoked: bool = False

    def usable(self, now: float) -> bool:
        """Whether the token may still authenticate at ``now``."""
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class Subject:
    """Who is asking: a user, and the login provider of *this* sign-in."""

    user_id: int
    login_provider: str


def _group(pairs: Iterable[tuple[int, int]]) -> Mapping[int, tuple[int, ...]]:
    grouped: dict[int, list[int]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return MappingProxyType({k: tuple(v) for k, v in grouped.items()})


def _grant_horizon(
    grants: Iterable[GrantFacts], projects: Mapping[int, ProjectFacts]
) -> dict[tuple[int, int], float]:
    """When each user's last grant in each workspace ends, so "is a guest" is one lookup."""
    horizon: dict[tuple[int, int], float] = {}
    for grant in grants:
        key = (projects[grant.project_id].workspace_id, grant.user_id)
        ends = float("inf") if grant.expires_at is None else grant.expires_at
        horizon[key] = max(ends, horizon.get(key, float("-inf")))
    return horizon


@dataclass(frozen=True)
class PolicySnapshot:
    """Every fact the policy core needs, indexed for constant-time decisions."""

    version: int
    users: Mapping[int, UserFacts]
    workspaces: Mapping[int, WorkspaceFacts]
    projects: Mapping[int, ProjectFacts]
    memberships: Mapping[tuple[int, int], Role]  # (workspace_id, user_id) -> role
    grants: Mapping[tuple[int, int], GrantFacts]  # (project_id, user_id) -> grant
    tokens: Mapping[str, TokenFacts]  # token hash -> token
    tokens_by_id: Mapping[int, TokenFacts]
    users_by_name: Mapping[str, int]
    workspaces_by_slug: Mapping[str, int]
    projects_by_name: Mapping[tuple[int, str], int]  # (workspace_id, name) -> project_id
    members_of: Mapping[int, tuple[int, ...]]  # workspace_id -> user ids
    workspaces_of: Mapping[int, tuple[int, ...]]  # user_id -> workspace ids
    projects_of: Mapping[int, tuple[int, ...]]  # workspace_id -> project ids
    grants_of: Mapping[int, tuple[int, ...]]  # user_id -> project ids with a grant
    grantees_of: Mapping[int, tuple[int, ...]]  # project_id -> user ids with a grant
    # (workspace_id, user_id) -> when the user's last grant in the workspace ends (inf: never)
    grant_horizon: Mapping[tuple[int, int], float]

    @classmethod
    def build(
        cls,
        version: int,
        users: Iterable[UserFacts] = (),
        workspaces: Iterable[WorkspaceFacts] = (),
        projects: Iterable[ProjectFacts] = (),
        memberships: Iterable[MembershipFacts] = (),
        grants: Iterable[GrantFacts] = (),
        tokens: Iterable[tuple[str, TokenFacts]] = (),
    ) -> PolicySnapshot:
        """Index plain fact rows into a snapshot."""
        user_map = {u.id: u for u in users}
        ws_map = {w.id: w for w in workspaces}
        project_map = {p.id: p for p in projects}
        member_list = list(memberships)
        grant_map = {(g.project_id, g.user_id): g for g in grants}
        token_map = dict(tokens)
        return cls(
            version=version,
            users=MappingProxyType(user_map),
            workspaces=MappingProxyType(ws_map),
            projects=MappingProxyType(project_map),
            memberships=MappingProxyType(
                {(m.workspace_id, m.user_id): m.role for m in member_list}
            ),
            grants=MappingProxyType(grant_map),
            tokens=MappingProxyType(token_map),
            tokens_by_id=MappingProxyType({t.id: t for t in token_map.values()}),
            users_by_name=MappingProxyType({u.username: u.id for u in user_map.values()}),
            workspaces_by_slug=MappingProxyType({w.slug: w.id for w in ws_map.values()}),
            projects_by_name=MappingProxyType(
                {(p.workspace_id, p.name): p.id for p in project_map.values()}
            ),
            members_of=_group((m.workspace_id, m.user_id) for m in member_list),
            workspaces_of=_group((m.user_id, m.workspace_id) for m in member_list),
            projects_of=_group((p.workspace_id, p.id) for p in project_map.values()),
            grants_of=_group((user, project) for project, user in grant_map),
            grantees_of=_group(grant_map),
            grant_horizon=MappingProxyType(_grant_horizon(grant_map.values(), project_map)),
        )

    @classmethod
    def empty(cls) -> PolicySnapshot:
        """A snapshot with no facts: every decision is a denial."""
        return cls.build(version=0)

    def project_named(self, workspace_slug: str, project_name: str) -> ProjectFacts | None:
        """The project ``workspace_slug/project_name``, if it exists."""
        ws_id = self.workspaces_by_slug.get(workspace_slug)
        if ws_id is None:
            return None
        project_id = self.projects_by_name.get((ws_id, project_name))
        return None if project_id is None else self.projects[project_id]

    def user_named(self, username: str) -> UserFacts | None:
        """The user with ``username``, if known."""
        user_id = self.users_by_name.get(username)
        return None if user_id is None else self.users[user_id]
