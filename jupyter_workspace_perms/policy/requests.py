"""Access requests: who may ask for a role, who may decide, who may see a request.

The same pure shape as :mod:`.guards`: facts and the time in, a :class:`Decision`
with its reason out. A request names a project (a higher effective role there, given
as a collaborator grant) or none (a higher workspace role, given as a membership).

- asking for a project role needs ``project:comment`` on it (anyone who can open the
  project may ask to do more with it); a project the asker may not know stays 404;
- asking for a workspace role is for members and guests of the workspace;
- the role asked for must be higher than the one held, so a request always asks for
  something an approval can give;
- deciding needs what giving the role needs: ``project:share`` on the project,
  ``workspace:manage_members`` for a workspace role. Approving also goes through the
  grant guards (:func:`may_approve`), so nobody approves above their own role.
"""

from __future__ import annotations

from .decisions import Decision, check_project, check_workspace, project_role
from .facts import PolicySnapshot, Subject
from .guards import can_set_collaborator, can_set_member, refusal_of
from .permissions import Role

ASK_PROJECT = "project:comment"
DECIDE_PROJECT = "project:share"
DECIDE_WORKSPACE = "workspace:manage_members"

# Codes these rules refuse with, each in a few words (for people and the lab extension).
REQUEST_CODES: dict[str, str] = {
    "already_has_role": "you already hold that role or a higher one",
    "request_not_pending": "the request was already approved or denied",
    "request_changed": "the request changed while you decided: look at it again",
}


def role_is_higher(asked: Role, held: Role | None) -> bool:
    """Whether ``asked`` gives more than ``held`` (nothing is below every role)."""
    return held is None or asked > held


def held_role(
    snap: PolicySnapshot, subject: Subject, workspace_id: int, project_id: int | None, now: float
) -> Role | None:
    """The role a request would raise: the effective role on the project, or the
    membership's role (None for guests), whatever enforced SSO says: an approval must
    never replace a membership with a lower role."""
    if project_id is not None:
        project = snap.projects.get(project_id)
        return None if project is None else project_role(snap, subject, project, now).role
    return snap.memberships.get((workspace_id, subject.user_id))


def may_request(
    snap: PolicySnapshot,
    subject: Subject,
    workspace_id: int,
    project_id: int | None,
    role: Role,
    now: float,
) -> Decision:
    """May ``subject`` ask for ``role`` on the project (or in the workspace when None)?"""
    if project_id is not None:
        decision = check_project(snap, subject, project_id, ASK_PROJECT, now)
    else:
        decision = check_workspace(snap, subject, workspace_id, "workspace:read", now)
        if decision.code == "guest":  # guests may ask to become members
            decision = Decision(
                True, decision.permission, "allowed", None, True, "grant", decision.workspace
            )
    if not decision.allowed:
        return decision
    held = held_role(snap, subject, workspace_id, project_id, now)
    if role_is_higher(role, held):
        return decision
    assert held is not None
    where = decision.target
    return _refuse(
        decision,
        "already_has_role",
        f"you already have the {held.name} role on {where}, which includes what "
        f"{role.name} gives: ask for a higher role",
    )


def may_decide(
    snap: PolicySnapshot, subject: Subject, workspace_id: int, project_id: int | None, now: float
) -> Decision:
    """May ``subject`` approve or deny requests for the project (or the workspace)?"""
    if project_id is not None:
        return check_project(snap, subject, project_id, DECIDE_PROJECT, now)
    return check_workspace(snap, subject, workspace_id, DECIDE_WORKSPACE, now)


def may_see(
    snap: PolicySnapshot,
    subject: Subject,
    requester_id: int,
    workspace_id: int,
    project_id: int | None,
    now: float,
) -> bool:
    """Whether a request is the subject's to know: their own, or one they may decide."""
    if subject.user_id == requester_id:
        return True
    return may_decide(snap, subject, workspace_id, project_id, now).allowed


def may_approve(
    snap: PolicySnapshot,
    actor: Subject,
    workspace_id: int,
    project_id: int | None,
    requester_id: int,
    role: Role,
    now: float,
) -> Decision:
    """May ``actor`` give the requester ``role`` now?

    The grant guards decide (never above the approver's own role, the owner stays an
    admin); then the role must still be higher than what the requester holds now: a
    requester promoted since they asked would otherwise be demoted by the approval.
    """
    if project_id is not None:
        decision = can_set_collaborator(snap, actor, project_id, role, now)
    else:
        decision = can_set_member(snap, actor, workspace_id, requester_id, role, now)
    if not decision.allowed:
        return decision
    requester = snap.users.get(requester_id)
    if requester is None:
        return Decision(False, decision.permission, "not_found", visible=False)
    # the requester's role as any sign-in would give it (their last provider)
    subject = Subject(requester.id, requester.login_provider)
    held = held_role(snap, subject, workspace_id, project_id, now)
    if role_is_higher(role, held):
        return decision
    assert held is not None
    return _refuse(
        decision,
        "already_has_role",
        f"{requester.username} already has the {held.name} role on {decision.target}: "
        "deny the request instead",
    )


def _refuse(granted: Decision, code: str, reason: str) -> Decision:
    return refusal_of(granted, code, reason, REQUEST_CODES)
