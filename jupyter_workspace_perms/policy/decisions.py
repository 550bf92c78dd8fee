"""The pure policy core: facts in, a decision with its reason out.

No I/O and no Jupyter imports live here: the store fetches facts into a
:class:`~.facts.PolicySnapshot`, handlers ask these functions, and the current
time is an argument so expiry is decided, not observed.

Effective role on a project (SPEC §3)::

    ws_role   = membership role, or None if not a member or SSO-blocked
    derived   = None if ws_role is None
                admin if ws_role == admin and access != none
                ws_role if access == full
                viewer if access == view
                None if access == none
    grant     = collaborator role if present and not expired, else None
    effective = max(derived, grant)

A :class:`Decision` also says whether the subject may know the target exists
(``visible``), so callers answer 404 rather than 403 when it may not.
"""

from __future__ import annotations

from dataclasses import dataclass

from .facts import GrantFacts, PolicySnapshot, ProjectFacts, Subject, WorkspaceFacts
from .permissions import PERMISSIONS, PROJECT_BUNDLES, WORKSPACE_BUNDLES, ProjectAccess, Role


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to "may this subject do this?", with why.

    ``code`` is a stable machine-readable reason (used by tests, the audit log
    and the frontend); ``reason`` is the sentence shown to people.
    """

    allowed: bool
    permission: str
    code: str
    reason: str
    role: Role | None = None
    visible: bool = True

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True, slots=True)
class RoleResolution:
    """A subject's effective role on a project and where it comes from."""

    role: Role | None
    source: str  # "membership", "grant", "membership+grant", "sso_blocked", "private", "none"
    workspace_role: Role | None
    grant: GrantFacts | None
    sso_blocked: bool


# -- roles -------------------------------------------------------------------------------


def workspace_role(
    snap: PolicySnapshot, subject: Subject, workspace: WorkspaceFacts
) -> tuple[Role | None, bool]:
    """The subject's workspace role and whether enforced SSO blocks it."""
    role = snap.memberships.get((workspace.id, subject.user_id))
    if role is None:
        return None, False
    sso = workspace.enforced_sso_provider
    if sso is not None and subject.login_provider != sso:
        return None, True
    return role, False


def derived_role(ws_role: Role | None, access: ProjectAccess) -> Role | None:
    """What a workspace role gives on a project with ``access`` (SPEC §3)."""
    if ws_role is None or access is ProjectAccess.none:
        return None
    if ws_role is Role.admin or access is ProjectAccess.full:
        return ws_role
    return Role.viewer


def project_role(
    snap: PolicySnapshot, subject: Subject, project: ProjectFacts, now: float
) -> RoleResolution:
    """The subject's effective role on ``project`` at time ``now``."""
    workspace = snap.workspaces[project.workspace_id]
    ws_role, blocked = workspace_role(snap, subject, workspace)
    derived = derived_role(ws_role, project.access)
    grant = snap.grants.get((project.id, subject.user_id))
    if grant is not None and not grant.active(now):
        grant = None
    granted = grant.role if grant is not None else None
    if derived is None and granted is None:
        if project.access is ProjectAccess.none and (ws_role is not None or blocked):
            source = "private"  # checked before SSO: a private project stays unknown
        elif blocked:
            source = "sso_blocked"
        else:
            source = "none"
        return RoleResolution(None, source, ws_role, grant, blocked)
    if granted is None or (derived is not None and derived >= granted):
        assert derived is not None
        source = "membership+grant" if granted == derived else "membership"
        return RoleResolution(derived, source, ws_role, grant, blocked)
    return RoleResolution(granted, "grant", ws_role, grant, blocked)


# -- checks ------------------------------------------------------------------------------


def _needs(permission: str, scope: str) -> Role:
    definition = PERMISSIONS.get(permission)
    if definition is None or definition.scope != scope:
        raise KeyError(f"{permission!r} is not a {scope} permission")
    return definition.min_role


def check_project(
    snap: PolicySnapshot, subject: Subject, project_id: int, permission: str, now: float
) -> Decision:
    """May ``subject`` use ``permission`` (a ``project:*`` permission) on a project?"""
    min_role = _needs(permission, "project")
    project = snap.projects.get(project_id)
    if project is None:
        return Decision(False, permission, "not_found", "no such project", visible=False)
    res = project_role(snap, subject, project, now)
    workspace = snap.workspaces[project.workspace_id]
    where = f"{workspace.slug}/{project.name}"
    if res.role is None:
        return _no_project_role(permission, res, workspace, where)
    if permission in PROJECT_BUNDLES[(res.role, workspace.settings)]:
        return Decision(
            True, permission, "allowed", f"{res.role.name} on {where} ({res.source})", res.role
        )
    return Decision(
        False,
        permission,
        "role_too_low",
        f"{permission} on {where} needs the {min_role.name} role or above; "
        f"you are {res.role.name} ({res.source}). Ask a project admin for access.",
        res.role,
    )


def _no_project_role(
    permission: str, res: RoleResolution, workspace: WorkspaceFacts, where: str
) -> Decision:
    if res.source == "private":
        # Admins may know private projects exist (governance), others may not.
        ws_role = res.workspace_role
        visible = ws_role is not None and "workspace:audit" in WORKSPACE_BUNDLES[ws_role]
        return Decision(
            False,
            permission,
            "private",
            f"{where} is private; ask its project admin to add you as a collaborator",
            visible=visible,
        )
    if res.source == "sso_blocked":
        return Decision(
            False,
            permission,
            "sso_blocked",
            f"workspace {workspace.slug} requires signing in with "
            f"{workspace.enforced_sso_provider}; sign in with it to use {where}",
        )
    return Decision(False, permission, "no_access", f"no access to {where}", visible=False)


def check_workspace(
    snap: PolicySnapshot, subject: Subject, workspace_id: int, permission: str, now: float
) -> Decision:
    """May ``subject`` use ``permission`` (a ``workspace:*`` permission) on a workspace?

    Guests (collaborators without a membership) hold no workspace permission.
    """
    min_role = _needs(permission, "workspace")
    workspace = snap.workspaces.get(workspace_id)
    if workspace is None:
        return Decision(False, permission, "not_found", "no such workspace", visible=False)
    role, blocked = workspace_role(snap, subject, workspace)
    if role is None:
        return _no_workspace_role(snap, subject, workspace, permission, blocked, now)
    if permission in WORKSPACE_BUNDLES[role]:
        return Decision(True, permission, "allowed", f"{role.name} of {workspace.slug}", role)
    return Decision(
        False,
        permission,
        "role_too_low",
        f"{permission} on workspace {workspace.slug} needs the {min_role.name} role or above; "
        f"you are {role.name}. Ask a workspace admin.",
        role,
    )


def _no_workspace_role(
    snap: PolicySnapshot,
    subject: Subject,
    workspace: WorkspaceFacts,
    permission: str,
    blocked: bool,
    now: float,
) -> Decision:
    if blocked:
        return Decision(
            False,
            permission,
            "sso_blocked",
            f"workspace {workspace.slug} requires signing in with "
            f"{workspace.enforced_sso_provider}",
        )
    if is_guest(snap, subject.user_id, workspace.id, now):
        return Decision(
            False,
            permission,
            "guest",
            f"guests of {workspace.slug} only see the projects shared with them",
        )
    return Decision(
        False, permission, "not_member", f"not a member of {workspace.slug}", visible=False
    )


def is_guest(snap: PolicySnapshot, user_id: int, workspace_id: int, now: float) -> bool:
    """Whether the user has no membership but an active grant on a project of the workspace."""
    if (workspace_id, user_id) in snap.memberships:
        return False
    return any(
        snap.projects[p].workspace_id == workspace_id and snap.grants[(p, user_id)].active(now)
        for p in snap.grants_of.get(user_id, ())
    )
