"""The policy truth tables (``tests/policy/cases/*.yaml``) asserted against the policy core.

Every case is asserted exactly: a decision's ``allowed``, ``code`` and ``role`` (and
``visible`` when the case gives it); listings as exact lists. See
:mod:`tests.helpers.policy_cases` for the file format.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from jupyter_workspace_perms.policy import (
    Decision,
    ProjectAccess,
    Role,
    can_set_collaborator,
    can_set_member,
    can_set_project_access,
    can_set_sso_provider,
    check_project,
    check_workspace,
    project_role,
    readable_project_ids,
    users_with_permission,
    visible_projects,
    visible_workspaces,
    workspace_people,
)
from jupyter_workspace_perms.policy.permissions import PROJECT_PERMISSIONS
from tests.helpers.policy_cases import (
    Case,
    World,
    case_files,
    case_now,
    iter_cases,
    load_file,
    role_or_none,
    world_of,
)

MIN_CHECK_CASES = 80


def params(kind: str) -> list[Any]:
    """The cases of one kind as pytest parameters, with known core bugs as strict xfails."""
    return [
        pytest.param(
            case,
            id=case.test_id,
            marks=[pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else [],
        )
        for case in iter_cases(kind)
    ]


def assert_decision(case: Case, decision: Decision, permission: str | None = None) -> None:
    """Compare a decision with the case's ``expect`` (``visible`` only when given)."""
    expect = case.expect
    actual = {
        "allowed": decision.allowed,
        "code": decision.code,
        "role": decision.role.name if decision.role is not None else None,
    }
    wanted = {k: expect[k] for k in ("allowed", "code", "role")}
    if "visible" in expect:
        actual["visible"] = decision.visible
        wanted["visible"] = expect["visible"]
    assert actual == wanted, f"{case.describe()}\n  reason given: {decision.reason}"
    assert bool(decision) is decision.allowed
    if permission is not None:
        assert decision.permission == permission


# -- can U do A on O ---------------------------------------------------------------------


@pytest.mark.parametrize("case", params("check"))
def test_check(case: Case) -> None:
    world = world_of(case)
    snap, q = world.snapshot, case.query
    subject = world.subject(q["user"], q.get("provider"))
    unknown_ok = case.expect["code"] == "not_found"
    now = case_now(world, q)
    if "project" in q:
        project_id = world.project_id(q["project"], may_be_unknown=unknown_ok)
        decision = check_project(snap, subject, project_id, q["permission"], now)
        if project_id in snap.projects:
            # check_project and project_role must agree on the effective role.
            assert project_role(snap, subject, snap.projects[project_id], now).role is (
                decision.role
            ), case.describe()
    else:
        workspace_id = world.workspace_id(q["workspace"], may_be_unknown=unknown_ok)
        decision = check_workspace(snap, subject, workspace_id, q["permission"], now)
    assert_decision(case, decision, q["permission"])


# -- what can U list, who can see O ------------------------------------------------------


@pytest.mark.parametrize("case", params("list_projects"))
def test_list_projects(case: Case) -> None:
    world = world_of(case)
    q = case.query
    listing = visible_projects(
        world.snapshot,
        world.subject(q["user"], q.get("provider")),
        world.workspace_id(q["workspace"]),
        case_now(world, q),
    )
    actual = [
        (p.project.name, "name_only" if p.name_only else (p.role.name if p.role else None))
        for p in listing
    ]
    assert actual == list(case.expect.items()), case.describe()
    for p in listing:
        # A name-only listing never carries a role, a full one always does.
        assert (p.role is None) is p.name_only, case.describe()


@pytest.mark.parametrize("case", params("list_workspaces"))
def test_list_workspaces(case: Case) -> None:
    world = world_of(case)
    q = case.query
    listing = visible_workspaces(
        world.snapshot, world.subject(q["user"], q.get("provider")), case_now(world, q)
    )
    actual = [
        (w.workspace.slug, w.role.name if w.role else None, w.guest, w.sso_blocked) for w in listing
    ]
    wanted: list[tuple[str, str | None, bool, bool]] = []
    for slug, value in case.expect.items():
        if value == "guest":
            wanted.append((slug, None, True, False))
        elif value == "sso_blocked":
            wanted.append((slug, None, False, True))
        else:
            wanted.append((slug, Role.parse(value).name, False, False))
    assert actual == wanted, case.describe()


@pytest.mark.parametrize("case", params("list_users"))
def test_list_users(case: Case) -> None:
    world = world_of(case)
    q = case.query
    holders = users_with_permission(
        world.snapshot, world.project_id(q["project"]), q["permission"], case_now(world, q)
    )
    actual = {world.username(user_id): role.name for user_id, role in holders}
    assert len(actual) == len(holders), f"{case.describe()}: a user is listed twice"
    assert actual == case.expect, case.describe()


@pytest.mark.parametrize("case", params("list_people"))
def test_list_people(case: Case) -> None:
    """Members and guests of a workspace, as the operator (everyone) or one user sees them."""
    world = world_of(case)
    q = case.query
    now = case_now(world, q)
    snap = world.snapshot
    visible = None
    if "as" in q:
        visible = readable_project_ids(snap, world.subject(q["as"], q.get("provider")), now)
    people = workspace_people(snap, world.workspace_id(q["workspace"]), now, visible)
    actual = {}
    for person in people:
        words = [person.role.name if person.role is not None else "guest"]
        words += [flag for flag in ("owner", "sso_blocked") if getattr(person, flag)]
        words += [f"{project.name}={grant.role.name}" for project, grant in person.grants]
        actual[person.user.username] = " ".join(words)
        assert person.guest is (person.role is None), case.describe()
    assert list(actual) == sorted(actual), f"{case.describe()}: not sorted by username"
    assert actual == case.expect, case.describe()


@pytest.mark.parametrize("case", params("readable"))
def test_readable_projects(case: Case) -> None:
    world = world_of(case)
    q = case.query
    ids = readable_project_ids(
        world.snapshot, world.subject(q["user"], q.get("provider")), case_now(world, q)
    )
    assert sorted(world.project_ref(i) for i in ids) == sorted(case.expect), case.describe()


# -- may this actor change that ----------------------------------------------------------


@pytest.mark.parametrize("case", params("guard"))
def test_guard(case: Case) -> None:
    world = world_of(case)
    snap, q = world.snapshot, case.query
    actor = world.subject(q["actor"], q.get("provider"))
    unknown_ok = case.expect["code"] == "not_found"
    call = q["call"]
    if call == "can_set_member":
        decision = can_set_member(
            snap,
            actor,
            world.workspace_id(q["workspace"], may_be_unknown=unknown_ok),
            world.user(q["target"]).id,
            role_or_none(q["role"]),
            case_now(world, q),
        )
    elif call == "can_set_collaborator":
        decision = can_set_collaborator(
            snap,
            actor,
            world.project_id(q["project"], may_be_unknown=unknown_ok),
            role_or_none(q["role"]),
            case_now(world, q),
        )
    elif call == "can_set_sso_provider":
        decision = can_set_sso_provider(
            snap,
            actor,
            world.workspace_id(q["workspace"], may_be_unknown=unknown_ok),
            q["enforce"],
            case_now(world, q),
        )
    else:
        decision = can_set_project_access(
            snap,
            actor,
            world.project_id(q["project"], may_be_unknown=unknown_ok),
            ProjectAccess.parse(q["access"]),
            case_now(world, q),
        )
    assert_decision(case, decision)


# -- the listings agree with the checks, for everyone in every file ----------------------


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_listings_agree_with_checks(path: Path) -> None:
    world: World = load_file(path)[0]
    snap, now = world.snapshot, world.now
    for user in snap.users.values():
        for provider in sorted({user.login_provider, "okta", "google", "github"}):
            subject = world.subject(user.username, provider)
            readable = readable_project_ids(snap, subject, now)
            for project in snap.projects.values():
                read = check_project(snap, subject, project.id, "project:read", now)
                assert (project.id in readable) is read.allowed, (user.username, provider)
            for ws_id in snap.workspaces:
                listed = {p.project.id: p for p in visible_projects(snap, subject, ws_id, now)}
                for project_id in snap.projects_of.get(ws_id, ()):
                    read = check_project(snap, subject, project_id, "project:read", now)
                    entry = listed.get(project_id)
                    # Listed in full exactly when readable; name-only only when visible.
                    assert (entry is not None and not entry.name_only) is read.allowed
                    if entry is not None and entry.name_only:
                        assert read.code == "private" and read.visible
    for project in snap.projects.values():
        for permission in PROJECT_PERMISSIONS:
            holders = dict(users_with_permission(snap, project.id, permission, now))
            for user in snap.users.values():
                decision = check_project(
                    snap, world.subject(user.username), project.id, permission, now
                )
                assert (user.id in holders) is decision.allowed, (user.username, permission)
                if decision.allowed:
                    assert holders[user.id] is decision.role


# -- the tables cover what they must -------------------------------------------------------


def _label(world: World, case: Case) -> tuple[str, str, str] | None:
    """(workspace standing, project access, grant state) of a project check, from the facts.

    Computed from the YAML facts alone (not by the core), so it measures the tables.
    """
    q = case.query
    if case.kind != "check" or "project" not in q:
        return None
    snap = world.snapshot
    project_id = world.project_id(q["project"], may_be_unknown=True)
    if project_id not in snap.projects:
        return None
    project = snap.projects[project_id]
    workspace = snap.workspaces[project.workspace_id]
    subject = world.subject(q["user"], q.get("provider"))
    role = snap.memberships.get((workspace.id, subject.user_id))
    if role is None:
        standing = "none"
    elif workspace.enforced_sso_provider not in (None, subject.login_provider):
        standing = "sso_blocked"
    else:
        standing = role.name
    grant = snap.grants.get((project_id, subject.user_id))
    now = case_now(world, q)
    if grant is None:
        state = "no_grant"
    elif grant.expires_at is not None and now == grant.expires_at:
        state = "expires_now"
    elif grant.expires_at is not None and now > grant.expires_at:
        state = "expired"
    elif grant.expires_at is not None:
        state = f"{grant.role.name}_until_later"
    else:
        state = grant.role.name
    return standing, project.access.value, state


def _labels() -> set[tuple[str, str, str]]:
    return {
        label for case in iter_cases("check") if (label := _label(world_of(case), case)) is not None
    }


def _codes(kinds: Iterable[str]) -> set[str]:
    return {case.expect["code"] for kind in kinds for case in iter_cases(kind)}


def test_there_are_enough_check_cases() -> None:
    assert len(list(iter_cases("check"))) >= MIN_CHECK_CASES


def test_every_workspace_role_meets_every_project_access() -> None:
    labels = _labels()
    missing = [
        (standing, access.value)
        for standing in [*(r.name for r in Role), "none"]
        for access in ProjectAccess
        if (standing, access.value, "no_grant") not in labels
    ]
    assert not missing


def test_every_grant_state_is_exercised() -> None:
    states = {state for _, _, state in _labels()}
    wanted = {r.name for r in Role} | {"expired", "expires_now"}
    assert wanted <= states
    assert any(state.endswith("_until_later") for state in states)
    # a guest holding each grant role, and a grant used while SSO-blocked
    labels = _labels()
    assert {r.name for r in Role} <= {s for standing, _, s in labels if standing == "none"}
    assert any(st == "sso_blocked" and s in Role.__members__ for st, _, s in labels)


def test_every_decision_code_is_exercised() -> None:
    assert {
        "allowed",
        "role_too_low",
        "sso_blocked",
        "private",
        "no_access",
        "not_found",
        "guest",
        "not_member",
    } <= _codes(["check"])
    assert {"owner_protected", "private_needs_editor"} <= _codes(["guard"])


def test_every_workspace_permission_is_checked_for_every_role() -> None:
    seen: set[tuple[str, str]] = set()
    for case in iter_cases("check"):
        q = case.query
        if "workspace" not in q:
            continue
        world = world_of(case)
        ws_id = world.workspace_id(q["workspace"], may_be_unknown=True)
        role = world.snapshot.memberships.get((ws_id, world.user(q["user"]).id))
        seen.add((role.name if role else "none", q["permission"]))
    # each role is checked at its boundary: the highest workspace permission it holds and the
    # lowest it lacks
    for pair in [
        ("viewer", "workspace:read"),
        ("viewer", "workspace:create_project"),
        ("contributor", "workspace:read"),
        ("contributor", "workspace:create_project"),
        ("editor", "workspace:create_project"),
        ("editor", "workspace:manage_members"),
        ("admin", "workspace:manage_members"),
        ("admin", "workspace:manage_settings"),
        ("admin", "workspace:manage_integrations"),
        ("admin", "workspace:audit"),
        ("none", "workspace:read"),
    ]:
        assert pair in seen
