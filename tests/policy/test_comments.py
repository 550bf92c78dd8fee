"""The comment rules (``tests/policy/cases/comments.yaml``) against the policy core.

Who may edit, resolve and delete a comment, as a table: every case is asserted exactly
(``allowed``, ``code``, ``role``, and ``visible`` when given). The fast answer listings
use (:meth:`CommentRights.can`) must agree with the decisions for everyone, everywhere.
"""

from __future__ import annotations

import pytest

from jupyter_workspace_perms.policy.comments import (
    COMMENT_CODES,
    can_delete_comment,
    can_edit_comment,
    can_resolve_comment,
    comment_rights,
)
from tests.helpers.policy_cases import Case, case_now, iter_cases, world_of
from tests.policy.test_truth_tables import assert_decision, params

CALLS = {
    "can_edit_comment": can_edit_comment,
    "can_resolve_comment": can_resolve_comment,
    "can_delete_comment": can_delete_comment,
}


@pytest.mark.parametrize("case", params("comment"))
def test_comment_rule(case: Case) -> None:
    world = world_of(case)
    q = case.query
    actor = world.subject(q["actor"], q.get("provider"))
    project_id = world.project_id(q["project"], may_be_unknown=case.expect["code"] == "not_found")
    decision = CALLS[q["call"]](world.snapshot, actor, project_id, q["author"], case_now(world, q))
    assert_decision(case, decision)
    if not decision.allowed:
        assert decision.reason, case.describe()


def test_the_table_covers_every_role_for_own_and_others_comments() -> None:
    """Delete and resolve rights as a table: each acme role and a guest, on their own
    comment and on someone else's, and every refusal code."""
    seen = set()
    for case in iter_cases("comment"):
        q = case.query
        if q["project"] == "acme/open":
            seen.add((q["call"], q["actor"], q["author"] == q["actor"]))
    for call in ("can_resolve_comment", "can_delete_comment"):
        for actor in ("vera", "carla", "eddie", "owen", "gus", "pia"):
            assert (call, actor, False) in seen, (call, actor, "others")
        for actor in ("vera", "gus"):
            assert (call, actor, True) in seen, (call, actor, "own")
    codes = {case.expect["code"] for case in iter_cases("comment")}
    assert set(COMMENT_CODES) <= codes
    assert {"private", "no_access", "sso_blocked", "not_found"} <= codes


def test_the_fast_answer_agrees_with_the_decisions() -> None:
    case = next(iter_cases("comment"))
    world = world_of(case)
    snap, now = world.snapshot, world.now
    authors = [u.username for u in snap.users.values()]
    for user in snap.users.values():
        for provider in sorted({user.login_provider, "okta"}):
            subject = world.subject(user.username, provider)
            for project_id in snap.projects:
                rights = comment_rights(snap, subject, project_id, now)
                for author in authors:
                    expected = (
                        rights.edit(author).allowed,
                        rights.resolve(author).allowed,
                        rights.delete(author).allowed,
                    )
                    assert rights.can(author) == expected, (user.username, project_id, author)
                    assert rights.post().allowed is rights.read.allowed
