"""The access request rules (``tests/policy/cases/requests.yaml``) against the policy core.

Who may ask for which role, who may decide, and what an approval may give; every case
is asserted exactly (``allowed``, ``code``, ``role``, and ``visible`` when given).
"""

from __future__ import annotations

import pytest

from jupyter_workspace_perms.policy import Role
from jupyter_workspace_perms.policy.requests import (
    REQUEST_CODES,
    may_approve,
    may_decide,
    may_request,
    may_see,
    role_is_higher,
)
from tests.helpers.policy_cases import Case, case_now, iter_cases, world_of
from tests.policy.test_truth_tables import assert_decision, params


@pytest.mark.parametrize("case", params("request"))
def test_request_rule(case: Case) -> None:
    world = world_of(case)
    snap, q = world.snapshot, case.query
    actor = world.subject(q["actor"], q.get("provider"))
    unknown_ok = case.expect["code"] == "not_found"
    workspace_id = world.workspace_id(q["workspace"])
    project_id = (
        world.project_id(q["project"], may_be_unknown=unknown_ok) if "project" in q else None
    )
    now = case_now(world, q)
    if q["call"] == "may_request":
        decision = may_request(snap, actor, workspace_id, project_id, Role.parse(q["role"]), now)
    elif q["call"] == "may_decide":
        decision = may_decide(snap, actor, workspace_id, project_id, now)
    else:
        target = world.user(q["target"]).id
        role = Role.parse(q["role"])
        decision = may_approve(snap, actor, workspace_id, project_id, target, role, now)
    assert_decision(case, decision)
    if not decision.allowed:
        assert decision.reason, case.describe()


def test_every_rule_and_refusal_code_is_exercised() -> None:
    cases = list(iter_cases("request"))
    assert {c.query["call"] for c in cases} == {"may_request", "may_decide", "may_approve"}
    codes = {c.expect["code"] for c in cases}
    # decided by the store, on the row it locks: tests/api/test_access_requests.py
    assert set(REQUEST_CODES) - {"request_not_pending", "request_changed"} <= codes
    assert {"owner_protected", "role_too_low", "guest", "private", "sso_blocked"} <= codes


def test_a_request_is_seen_by_its_requester_and_its_deciders_only() -> None:
    case = next(iter_cases("request"))
    world = world_of(case)
    snap, now = world.snapshot, world.now
    acme = world.workspace_id("acme")
    shared = world.project_id("acme/shared")
    vera = world.user("vera").id
    seen = {
        name
        for name in ("owen", "adele", "eddie", "carla", "vera", "gus", "pat", "nadia")
        if may_see(snap, world.subject(name), vera, acme, shared, now)
    }
    # vera herself; the project's admins (owen and adele by membership, carla and pat by grant)
    assert seen == {"vera", "owen", "adele", "carla", "pat"}
    seen_ws = {
        name
        for name in ("owen", "adele", "eddie", "carla", "vera", "gus", "pat", "nadia")
        if may_see(snap, world.subject(name), vera, acme, None, now)
    }
    assert seen_ws == {"vera", "owen", "adele"}


def test_role_is_higher_orders_roles_and_nothing() -> None:
    assert role_is_higher(Role.viewer, None)
    assert role_is_higher(Role.editor, Role.contributor)
    assert not role_is_higher(Role.editor, Role.editor)
    assert not role_is_higher(Role.viewer, Role.admin)
