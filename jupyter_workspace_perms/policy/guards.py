"""Guards for policy changes: may this actor change that membership, grant or access?

The same pure shape as :mod:`.decisions`; the REST API asks these before it
writes, so the rules live in one place:

- nobody grants a role above their own;
- the owner of a workspace can be neither removed nor demoted (ownership moves
  only with ``jupyter workspace-perms set-owner``);
- only workspace editors and admins (``workspace:create_project``) may make a
  project private.
"""

from __future__ import annotations

from collections.abc import Mapping

from .decisions import Decision, check_project, check_workspace
from .facts import PolicySnapshot, Subject
from .permissions import ProjectAccess, Role

# Codes these guards refuse with (besides the decision codes of :mod:`.decisions`), each
# in a few words, for people and for the lab extension's generated constants.
GUARD_CODES: dict[str, str] = {
    "owner_protected": "the workspace owner can be neither removed nor demoted",
    "above_own_role": "nobody grants a role above their own",
    "private_needs_editor": "only workspace Editors and Admins may make a project private",
    "sso_provider_mismatch": "you can enforce only the provider you signed in with",
    "would_block_owner": "enforcing that provider would lock out the workspace owner",
    "already_member": "already a member of this workspace",
    "email_unverified": "joining needs an email address your login provider verified",
}


def can_set_member(
    snap: PolicySnapshot,
    actor: Subject,
    workspace_id: int,
    target_user_id: int,
    new_role: Role | None,
    now: float,
) -> Decision:
    """May ``actor`` give ``target_user_id`` the workspace role ``new_role`` (None removes)?"""
    decision = check_workspace(snap, actor, workspace_id, "workspace:manage_members", now)
    if not decision.allowed:
        return decision
    workspace = snap.workspaces[workspace_id]
    if target_user_id == workspace.owner_id and new_role is not Role.admin:
        return _refuse(
            decision,
            "owner_protected",
            f"the owner of {workspace.slug} cannot be removed or demoted; "
            "transfer ownership first (jupyter workspace-perms set-owner)",
        )
    return _not_above_own_role(decision, new_role)


def can_add_member(
    snap: PolicySnapshot,
    actor: Subject,
    workspace_id: int,
    target_user_id: int,
    new_role: Role,
    now: float,
) -> Decision:
    """May ``actor`` add ``target_user_id`` as a *new* member with ``new_role``?

    As :func:`can_set_member`, but somebody who is already a member (the owner
    included) is refused with ``already_member`` and their current role: an "add"
    that silently changed a role would demote people nobody meant to touch. The
    permission is checked first, so the answer tells nothing to who may not manage
    members.
    """
    decision = check_workspace(snap, actor, workspace_id, "workspace:manage_members", now)
    if not decision.allowed:
        return decision
    current = snap.memberships.get((workspace_id, target_user_id))
    if current is None:
        return can_set_member(snap, actor, workspace_id, target_user_id, new_role, now)
    workspace = snap.workspaces[workspace_id]
    person = snap.users[target_user_id].username
    role = current.name.capitalize()
    article = "an" if role[0] in "AEIOU" else "a"
    if target_user_id == workspace.owner_id:
        return _refuse(
            decision,
            "already_member",
            f"{person} is already {article} {role} and the owner of {workspace.slug}: "
            "the owner's role moves only with jupyter workspace-perms set-owner",
        )
    return _refuse(
        decision,
        "already_member",
        f"{person} is already {article} {role} of {workspace.slug}: change their role in "
        "the members table instead",
    )


def can_set_collaborator(
    snap: PolicySnapshot, actor: Subject, project_id: int, new_role: Role | None, now: float
) -> Decision:
    """May ``actor`` grant ``new_role`` on a project (None revokes)?"""
    decision = check_project(snap, actor, project_id, "project:share", now)
    if not decision.allowed:
        return decision
    return _not_above_own_role(decision, new_role)


def can_set_project_access(
    snap: PolicySnapshot, actor: Subject, project_id: int, access: ProjectAccess, now: float
) -> Decision:
    """May ``actor`` set a project's access level to ``access``?"""
    decision = check_project(snap, actor, project_id, "project:share", now)
    if not decision.allowed or access is not ProjectAccess.none:
        return decision
    workspace_id = snap.projects[project_id].workspace_id
    creator = check_workspace(snap, actor, workspace_id, "workspace:create_project", now)
    if not creator.allowed:
        return _refuse(
            decision,
            "private_needs_editor",
            "only workspace editors and admins may make a project private",
        )
    return decision


def can_set_sso_provider(
    snap: PolicySnapshot, actor: Subject, workspace_id: int, provider: str | None, now: float
) -> Decision:
    """May ``actor`` enforce ``provider`` (None lifts enforcement) on a workspace?

    Only the provider the actor is signed in with now may be enforced: to enforce
    another, sign in with it first. So an Admin can never lock themselves out. Nor
    can they lock out the owner: another Admin may enforce only the provider the
    owner last signed in with (the owner may still enforce their own).
    """
    decision = check_workspace(snap, actor, workspace_id, "workspace:manage_settings", now)
    if not decision.allowed or provider is None:
        return decision
    if provider != actor.login_provider:
        return _refuse(
            decision,
            "sso_provider_mismatch",
            f"you are signed in with {actor.login_provider}: you can enforce only that "
            f"provider; to enforce {provider}, sign in with {provider} first",
        )
    workspace = snap.workspaces[workspace_id]
    owner = snap.users[workspace.owner_id]
    others = sorted(sign_in_providers(snap, owner.id, now) - {provider})
    if actor.user_id != owner.id and others:
        return _refuse(
            decision,
            "would_block_owner",
            f"enforcing {provider} would lock out the owner of {workspace.slug}, "
            f"{owner.username}, who signs in with {', '.join(others)}; ask them to sign in "
            f"with {provider} first, or to enforce it themselves",
        )
    return decision


def sign_in_providers(snap: PolicySnapshot, user_id: int, now: float) -> frozenset[str]:
    """Every login provider a user may be signed in with now: the one they last signed
    in with, and those recorded by each of their usable personal access tokens."""
    providers = {snap.users[user_id].login_provider}
    providers.update(
        t.login_provider
        for t in snap.tokens_by_id.values()
        if t.user_id == user_id and t.usable(now)
    )
    return frozenset(providers)


def can_join(
    snap: PolicySnapshot,
    actor: Subject,
    workspace_id: int,
    *,
    invites_open: bool,
    email_in_domain: bool,
    email_verified: bool,
) -> Decision:
    """May ``actor`` join a workspace as viewer through a domain invite?

    ``invites_open``: domain invites are on and available for the owner's domain;
    ``email_in_domain``: the actor's email is in that domain. Members already know
    the workspace: they are told so first. For anyone else, without both the
    workspace stays invisible (404). The email must be verified, and a workspace
    that enforces an SSO provider takes only sign-ins with it.
    """
    workspace = snap.workspaces.get(workspace_id)
    if workspace is not None and (workspace_id, actor.user_id) in snap.memberships:
        return Decision(
            False,
            "workspace:read",
            "already_member",
            workspace=workspace,
            note=f"you are already a member of {workspace.slug}",
        )
    if workspace is None or not (invites_open and email_in_domain):
        return Decision(False, "workspace:read", "not_found", visible=False, workspace=workspace)
    if not email_verified:
        return Decision(
            False,
            "workspace:read",
            "email_unverified",
            workspace=workspace,
            note="verify your email with your login provider to join",
        )
    sso = workspace.enforced_sso_provider
    if sso is not None and actor.login_provider != sso:
        return Decision(
            False,
            "workspace:read",
            "sso_blocked",
            workspace=workspace,
            note=f"{workspace.slug} requires signing in with {sso}: sign in with {sso} to join",
        )
    return Decision(
        True, "workspace:read", "allowed", Role.viewer, workspace=workspace, source="domain invite"
    )


def _not_above_own_role(granted: Decision, new_role: Role | None) -> Decision:
    """``granted`` unless ``new_role`` is above the role it was granted with."""
    assert granted.role is not None
    if new_role is None or new_role <= granted.role:
        return granted
    return _refuse(granted, "above_own_role", f"cannot grant {new_role.name}: above your own role")


def _refuse(granted: Decision, code: str, reason: str) -> Decision:
    return refusal_of(granted, code, reason, GUARD_CODES)


def refusal_of(granted: Decision, code: str, reason: str, codes: Mapping[str, str]) -> Decision:
    """``granted`` turned into a refusal with ``code``, which must be one of ``codes``:
    every refusal code is listed, so the lab extension knows it."""
    if code not in codes:
        raise KeyError(f"refusal code {code!r} is not listed")
    return Decision(
        False,
        granted.permission,
        code,
        granted.role,
        True,
        granted.source,
        granted.workspace,
        granted.project,
        note=reason,
    )
