"""Load the policy truth tables in ``tests/policy/cases/*.yaml``.

Each YAML file describes one small world and what the policy core must answer in it::

    now: 1750000000            # default POSIX time of every case (optional)
    facts:
      users:       [{username, email, login_provider, email_verified?}]
      workspaces:  [{slug, owner, settings?: {viewers_can_execute, enforced_sso_provider,
                                              domain_invites}}]
      projects:    [{workspace, name, access, creator?}]
      memberships: [{workspace, user, role}]
      grants:      [{project: "ws/name", user, role, expires_at?}]
      tokens:      [{user, login_provider, expires_at?, revoked?}]   # personal access tokens
    groups:
      - why: the rule of docs/design.md that explains every outcome of the group
        cases:
          - id: sentence-like-test-id
            check: {user, provider?, permission, project: "ws/name" | workspace: "ws", now?}
            expect: {allowed, code, role, visible?}
          - id: ...
            list_projects: {user, provider?, workspace, now?}
            expect: {project-name: role | name_only, ...}   # exact, in listing order
          - id: ...
            list_workspaces: {user, provider?}
            expect: {slug: role | guest | sso_blocked, ...}  # exact, in listing order
          - id: ...
            list_users: {project, permission, now?}
            expect: {username: role, ...}                    # exact
          - id: ...
            list_people: {workspace, as?, provider?, now?}   # as: whose view (default: all)
            expect: {username: "role|guest [owner] [sso_blocked] [project=role ...]", ...}
          - id: ...
            readable: {user, provider?, now?}
            expect: ["ws/name", ...]                         # exact set
          - id: ...
            guard: {call: can_set_member, actor, provider?, workspace, target, role}
            guard: {call: can_set_collaborator, actor, provider?, project, role, now?}
            guard: {call: can_set_project_access, actor, provider?, project, access, now?}
            guard: {call: can_set_sso_provider, actor, provider?, workspace, enforce}
            expect: {allowed, code, role, visible?}
            xfail: "why the core is wrong here"              # optional: a known core bug

Facts are written with human names. Integer ids are assigned in file order from
disjoint ranges (users from 101, workspaces from 201, projects from 301), so an id
used as the wrong kind of object points at nothing instead of at something else.
A target that is not in the facts resolves to :data:`UNKNOWN_ID`, and only when
the case expects ``not_found`` (so a typo cannot silently become a passing case).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from jupyter_workspace_perms.policy import (
    GrantFacts,
    MembershipFacts,
    PolicySnapshot,
    ProjectAccess,
    ProjectFacts,
    Role,
    Subject,
    TokenFacts,
    UserFacts,
    WorkspaceFacts,
)
from jupyter_workspace_perms.policy.names import validate_project_name, validate_workspace_slug

CASES_DIR = Path(__file__).parents[1] / "policy" / "cases"
DEFAULT_NOW = 1_750_000_000.0
USER_BASE, WORKSPACE_BASE, PROJECT_BASE = 100, 200, 300
MAX_PER_KIND = 99
UNKNOWN_ID = 999_999

KINDS = (
    "check",
    "list_projects",
    "list_workspaces",
    "list_users",
    "list_people",
    "readable",
    "guard",
    "request",
    "comment",
)
CASE_KEYS = {"id", "expect", "xfail", *KINDS}
DECISION_EXPECT_KEYS = {"allowed", "code", "role", "visible"}
QUERY_KEYS: Mapping[str, tuple[set[str], set[str]]] = {
    # kind -> (required keys, optional keys)
    "check": ({"user", "permission"}, {"provider", "project", "workspace", "now"}),
    "list_projects": ({"user", "workspace"}, {"provider", "now"}),
    "list_workspaces": ({"user"}, {"provider"}),
    "list_users": ({"project", "permission"}, {"now"}),
    "list_people": ({"workspace"}, {"as", "provider", "now"}),
    "readable": ({"user"}, {"provider", "now"}),
    "guard": (
        {"call", "actor"},
        {"provider", "workspace", "target", "project", "role", "access", "enforce", "now"},
    ),
    # access requests (policy/requests.py): may_request, may_decide, may_approve
    "request": ({"call", "actor", "workspace"}, {"provider", "project", "role", "target", "now"}),
    # comments (policy/comments.py): can_edit_comment, can_resolve_comment, can_delete_comment
    "comment": ({"call", "actor", "project", "author"}, {"provider", "now"}),
}
COMMENT_CALLS = ("can_edit_comment", "can_resolve_comment", "can_delete_comment")
REQUEST_CALLS: Mapping[str, set[str]] = {
    "may_request": {"role"},
    "may_decide": set(),
    "may_approve": {"target", "role"},
}
GUARD_CALLS: Mapping[str, set[str]] = {
    "can_set_member": {"workspace", "target", "role"},
    "can_set_collaborator": {"project", "role"},
    "can_set_project_access": {"project", "access"},
    "can_set_sso_provider": {"workspace", "enforce"},
}
WORKSPACE_SETTINGS = {"viewers_can_execute", "enforced_sso_provider", "domain_invites"}


class CaseFileError(ValueError):
    """A truth-table file is malformed; the message names the file and the entry."""


def _keys(where: str, entry: object, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise CaseFileError(f"{where}: expected a mapping, got {entry!r}")
    missing = required - entry.keys()
    unknown = entry.keys() - required - optional
    if missing or unknown:
        raise CaseFileError(f"{where}: missing keys {sorted(missing)}, unknown {sorted(unknown)}")
    return entry


@dataclass(frozen=True)
class World:
    """One file's facts as a snapshot, plus the name <-> id maps used to read its cases."""

    path: Path
    snapshot: PolicySnapshot
    now: float

    def user(self, username: str) -> UserFacts:
        """The user named ``username`` (``KeyError`` naming the file if unknown)."""
        found = self.snapshot.user_named(username)
        if found is None:
            raise KeyError(f"{self.path.name}: unknown user {username!r}")
        return found

    def subject(self, username: str, provider: str | None = None) -> Subject:
        """The user signed in with ``provider`` (default: the provider they last used)."""
        user = self.user(username)
        return Subject(user.id, provider if provider is not None else user.login_provider)

    def workspace_id(self, slug: str, *, may_be_unknown: bool = False) -> int:
        """The id of workspace ``slug``; :data:`UNKNOWN_ID` only if ``may_be_unknown``."""
        ws_id = self.snapshot.workspaces_by_slug.get(slug)
        if ws_id is not None:
            return ws_id
        if may_be_unknown:
            return UNKNOWN_ID
        raise KeyError(f"{self.path.name}: unknown workspace {slug!r}")

    def project_id(self, ref: str, *, may_be_unknown: bool = False) -> int:
        """The id of project ``"ws/name"``; :data:`UNKNOWN_ID` only if ``may_be_unknown``."""
        slug, sep, name = ref.partition("/")
        if not sep:
            raise KeyError(f"{self.path.name}: project {ref!r} is not written 'workspace/name'")
        project = self.snapshot.project_named(slug, name)
        if project is not None:
            return project.id
        if may_be_unknown:
            return UNKNOWN_ID
        raise KeyError(f"{self.path.name}: unknown project {ref!r}")

    def project_ref(self, project_id: int) -> str:
        """``"ws/name"`` of a project id."""
        project = self.snapshot.projects[project_id]
        return f"{self.snapshot.workspaces[project.workspace_id].slug}/{project.name}"

    def username(self, user_id: int) -> str:
        """The username of a user id."""
        return self.snapshot.users[user_id].username


def _ids(where: str, names: Sequence[str], base: int) -> dict[str, int]:
    if len(names) > MAX_PER_KIND:
        raise CaseFileError(f"{where}: more than {MAX_PER_KIND} entries")
    if len(set(names)) != len(names):
        raise CaseFileError(f"{where}: duplicate names in {list(names)}")
    return {name: base + i for i, name in enumerate(names, start=1)}


def build_world(path: Path, data: Mapping[str, Any]) -> World:
    """Turn a parsed file's ``facts`` into a :class:`World` with deterministic ids."""
    where = path.name
    facts = _keys(
        f"{where}: facts",
        data.get("facts"),
        {"users", "workspaces"},
        {"projects", "memberships", "grants", "tokens"},
    )
    users_in = [
        _keys(
            f"{where}: user {u!r}",
            u,
            {"username", "email", "login_provider"},
            {"email_verified", "display_name"},
        )
        for u in facts["users"]
    ]
    workspaces_in = [
        _keys(f"{where}: workspace {w!r}", w, {"slug", "owner"}, {"name", "settings"})
        for w in facts["workspaces"]
    ]
    projects_in = [
        _keys(f"{where}: project {p!r}", p, {"workspace", "name", "access"}, {"creator"})
        for p in facts.get("projects") or ()
    ]
    user_ids = _ids(f"{where}: users", [u["username"] for u in users_in], USER_BASE)
    ws_ids = _ids(f"{where}: workspaces", [w["slug"] for w in workspaces_in], WORKSPACE_BASE)
    project_ids = _ids(
        f"{where}: projects",
        [f"{p['workspace']}/{p['name']}" for p in projects_in],
        PROJECT_BASE,
    )

    def uid(name: str) -> int:
        if name not in user_ids:
            raise CaseFileError(f"{where}: facts name unknown user {name!r}")
        return user_ids[name]

    def wid(slug: str) -> int:
        if slug not in ws_ids:
            raise CaseFileError(f"{where}: facts name unknown workspace {slug!r}")
        return ws_ids[slug]

    def pid(ref: str) -> int:
        if ref not in project_ids:
            raise CaseFileError(f"{where}: facts name unknown project {ref!r}")
        return project_ids[ref]

    users = [
        UserFacts(
            id=uid(u["username"]),
            username=u["username"],
            email=u["email"],
            email_verified=bool(u.get("email_verified", False)),
            login_provider=u["login_provider"],
            display_name=u.get("display_name", ""),
        )
        for u in users_in
    ]
    workspaces = []
    for w in workspaces_in:
        settings = w.get("settings") or {}
        _keys(f"{where}: settings of {w['slug']}", settings, set(), WORKSPACE_SETTINGS)
        workspaces.append(
            WorkspaceFacts(
                id=wid(validate_workspace_slug(w["slug"])),
                slug=w["slug"],
                owner_id=uid(w["owner"]),
                name=w.get("name", ""),
                domain_invites=bool(settings.get("domain_invites", False)),
                enforced_sso_provider=settings.get("enforced_sso_provider"),
                viewers_can_execute=bool(settings.get("viewers_can_execute", False)),
            )
        )
    projects = [
        ProjectFacts(
            id=pid(f"{p['workspace']}/{validate_project_name(p['name'])}"),
            workspace_id=wid(p["workspace"]),
            name=p["name"],
            access=ProjectAccess.parse(p["access"]),
            creator_id=uid(p["creator"]) if p.get("creator") is not None else None,
        )
        for p in projects_in
    ]
    memberships = [
        MembershipFacts(wid(m["workspace"]), uid(m["user"]), Role.parse(m["role"]))
        for m in (
            _keys(f"{where}: membership {m!r}", m, {"workspace", "user", "role"}, set())
            for m in facts.get("memberships") or ()
        )
    ]
    grants = [
        GrantFacts(
            pid(g["project"]),
            uid(g["user"]),
            Role.parse(g["role"]),
            float(g["expires_at"]) if g.get("expires_at") is not None else None,
        )
        for g in (
            _keys(f"{where}: grant {g!r}", g, {"project", "user", "role"}, {"expires_at"})
            for g in facts.get("grants") or ()
        )
    ]
    tokens = [
        (
            f"hash-{n}",
            TokenFacts(
                n,
                uid(t["user"]),
                t["login_provider"],
                float(t["expires_at"]) if t.get("expires_at") is not None else None,
                bool(t.get("revoked", False)),
            ),
        )
        for n, t in enumerate(
            (
                _keys(
                    f"{where}: token {t!r}",
                    t,
                    {"user", "login_provider"},
                    {"expires_at", "revoked"},
                )
                for t in facts.get("tokens") or ()
            ),
            start=1,
        )
    ]
    pairs = [(m.workspace_id, m.user_id) for m in memberships] + [
        (g.project_id, g.user_id) for g in grants
    ]
    if len(set(pairs)) != len(pairs):
        raise CaseFileError(f"{where}: a membership or grant is listed twice")
    snapshot = PolicySnapshot.build(
        version=1,
        users=users,
        workspaces=workspaces,
        projects=projects,
        memberships=memberships,
        grants=grants,
        tokens=tokens,
    )
    return World(path=path, snapshot=snapshot, now=float(data.get("now", DEFAULT_NOW)))


@dataclass(frozen=True)
class Case:
    """One assertion of a truth-table file."""

    path: Path
    id: str
    why: str
    kind: str
    query: Mapping[str, Any]
    expect: Any
    xfail: str | None = None

    @property
    def test_id(self) -> str:
        """``file-stem/case-id``: the pytest parameter id."""
        return f"{self.path.stem}/{self.id}"

    def describe(self) -> str:
        """A message for failed assertions: where the case is and why it should hold."""
        return f"{self.path.name} case {self.id!r} ({self.kind} {dict(self.query)}): {self.why}"


def _parse_case(path: Path, why: str, entry: object) -> Case:
    if not isinstance(entry, dict) or "id" not in entry:
        raise CaseFileError(f"{path.name}: every case needs an 'id', got {entry!r}")
    where = f"{path.name} case {entry['id']!r}"
    kinds = [k for k in KINDS if k in entry]
    if len(kinds) != 1:
        raise CaseFileError(f"{where}: needs exactly one of {KINDS}, got {kinds}")
    kind = kinds[0]
    _keys(where, entry, {"id", "expect", kind}, {"xfail"})
    required, optional = QUERY_KEYS[kind]
    query = _keys(f"{where}: {kind}", entry[kind], required, optional)
    expect = entry["expect"]
    if kind == "check" and ("project" in query) == ("workspace" in query):
        raise CaseFileError(f"{where}: a check names exactly one project or workspace")
    if kind == "guard":
        call = query["call"]
        if call not in GUARD_CALLS:
            raise CaseFileError(f"{where}: unknown guard {call!r}")
        _keys(f"{where}: {call}", query, {"call", "actor", *GUARD_CALLS[call]}, {"provider", "now"})
    if kind == "request":
        call = query["call"]
        if call not in REQUEST_CALLS:
            raise CaseFileError(f"{where}: unknown request rule {call!r}")
        _keys(
            f"{where}: {call}",
            query,
            {"call", "actor", "workspace", *REQUEST_CALLS[call]},
            {"provider", "project", "now"},
        )
    if kind == "comment" and query["call"] not in COMMENT_CALLS:
        raise CaseFileError(f"{where}: unknown comment rule {query['call']!r}")
    if kind in ("check", "guard", "request", "comment"):
        _keys(f"{where}: expect", expect, {"allowed", "code", "role"}, {"visible"})
        if expect["allowed"] != (expect["code"] == "allowed"):
            raise CaseFileError(f"{where}: allowed must be true exactly when code is 'allowed'")
    elif kind == "readable":
        if not isinstance(expect, list):
            raise CaseFileError(f"{where}: expect must be a list of 'ws/name'")
    elif not isinstance(expect, dict):
        raise CaseFileError(f"{where}: expect must be a mapping (use {{}} for nothing)")
    xfail = entry.get("xfail")
    return Case(path, str(entry["id"]), why, kind, query, expect, xfail)


@cache
def load_file(path: Path) -> tuple[World, tuple[Case, ...]]:
    """Parse one truth-table file into its world and its cases (cached per path)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    _keys(path.name, data, {"facts", "groups"}, {"now"})
    world = build_world(path, data)
    cases: list[Case] = []
    for group in data["groups"]:
        _keys(f"{path.name}: group", group, {"why", "cases"}, set())
        cases.extend(_parse_case(path, str(group["why"]).strip(), c) for c in group["cases"])
    ids = [c.id for c in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CaseFileError(f"{path.name}: duplicate case ids {duplicates}")
    return world, tuple(cases)


def case_files() -> list[Path]:
    """Every truth-table file, in name order."""
    return sorted(CASES_DIR.glob("*.yaml"))


def iter_cases(kind: str | None = None) -> Iterator[Case]:
    """Every case of every file (of one ``kind`` if given), in file order."""
    for path in case_files():
        for case in load_file(path)[1]:
            if kind is None or case.kind == kind:
                yield case


def world_of(case: Case) -> World:
    """The world a case is decided in."""
    return load_file(case.path)[0]


def case_now(world: World, query: Mapping[str, Any]) -> float:
    """The time of a query: its own ``now`` or the file's default."""
    return float(query["now"]) if "now" in query else world.now


def role_or_none(value: str | None) -> Role | None:
    """``Role`` named ``value``; ``None`` stays ``None``."""
    return None if value is None else Role.parse(value)
