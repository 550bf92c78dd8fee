"""The pure policy core: facts in, a decision with its reason out.

No I/O and no Jupyter imports live here: the store fetches facts into a
:class:`~.facts.PolicySnapshot`, handlers ask these functions, and the current
time is an argument so expiry is decided, not observed.

Effective role on a project (docs/design.md#effective-role)::

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

from collections.abc import Callable
from dataclasses import dataclass

from .facts import GrantFacts, PolicySnapshot, ProjectFacts, Subject, WorkspaceFacts
from .permissions import PERMISSIONS, PROJECT_BUNDLES, WORKSPACE_BUNDLES, ProjectAccess, Role


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to "may this subject do this?", with why.

    ``code`` is a stable machine-readable reason (used by tests, the audit log
    and the frontend); :attr:`reason` is the sentence shown to people. It is
    written only when asked for, so a decision on the hot path builds no text.
    """

    allowed: bool
    permission: str
    code: str
    role: Role | None = None
    visible: bool = True
    source: str = ""
    workspace: WorkspaceFacts | None = None
    project: ProjectFacts | None = None
    note: str = ""

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def target(self) -> str:
        """``workspace/project`` or ``workspace``, as people name it."""
        slug = self.workspace.slug if self.workspace is not None else "?"
        return slug if self.project is None else f"{slug}/{self.project.name}"

    @property
    def reason(self) -> str:
        """Why, in one sentence that says what to do next when refused."""
        if self.note:
            return self.note
        return _REASONS[self.code](self)


def _min_role(d: Decision) -> str:
    return PERMISSIONS[d.permission].min_role.name


def _role(d: Decision) -> str:
    return d.role.name if d.role is not None else "none"


def _sso(d: Decision) -> str:
    return d.workspace.enforced_sso_provider or "" if d.workspace is not None else ""


_REASONS: dict[str, Callable[[Decision], str]] = {
    "allowed": lambda d: f"{_role(d)} on {d.target} ({d.source})",
    "role_too_low": lambda d: (
        f"{d.permission} on {d.target} needs the {_min_role(d)} role or above; you are "
        f"{_role(d)} ({d.source}). Ask {'a project' if d.project else 'a workspace'} admin."
    ),
    "not_found": lambda d: (
        f"no such {'project' if d.permission.startswith('project') else 'workspace'}"
    ),
    "private": lambda d: (
        f"{d.target} is private; ask its project admin to add you as a collaborator"
    ),
    "sso_blocked": lambda d: (
        f"workspace {d.target.split('/')[0]} requires signing in with {_sso(d)}; "
        f"sign in with {_sso(d)} to use it"
    ),
    "no_access": lambda d: f"no access to {d.target}",
    "guest": lambda d: f"guests of {d.target} only see the projects shared with them",
    "not_member": lambda d: f"not a member of {d.target}",
}

# Each decision code in a few words, for people and for the lab extension's generated
# constants (``labextension/src/generated.ts``); the generator refuses a code without one.
CODE_MEANINGS: dict[str, str] = {
    "allowed": "allowed",
    "role_too_low": "your role on it does not include this permission",
    "not_found": "no such workspace or project, or you may not know it exists",
    "private": "a private project: only its collaborators may open it",
    "sso_blocked": "the workspace requires signing in with another provider",
    "no_access": "you have no role on this project",
    "guest": "guests see only the projects shared with them",
    "not_member": "you are not a member of this workspace",
}


def decision_codes() -> dict[str, str]:
    """Every decision code with its meaning; ``KeyError`` if a code has no meaning."""
    differ = set(_REASONS) ^ set(CODE_MEANINGS)
    if differ:
        raise KeyError(f"decision codes and CODE_MEANINGS differ on {sorted(differ)}")
    return dict(CODE_MEANINGS)


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
    """What a workspace role gives on a project with ``access`` (docs/design.md#effective-role)."""
    if ws_role is None or access is ProjectAccess.none:
        return None
    if ws_role is Role.admin or access is ProjectAccess.full:
        return ws_role
    return Role.viewer


def project_role(
    snap: PolicySnapshot, subject: Subject, project: ProjectFacts, now: float
) -> RoleResolution:
    """The subject's effective role on ``project`` at time ``now``."""
    return _resolve(snap, subject, project, snap.workspaces[project.workspace_id], now)


def _resolve(
    snap: PolicySnapshot,
    subject: Subject,
    project: ProjectFacts,
    workspace: WorkspaceFacts,
    now: float,
) -> RoleResolution:
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
    _needs(permission, "project")
    project = snap.projects.get(project_id)
    if project is None:
        return Decision(False, permission, "not_found", visible=False)
    workspace = snap.workspaces[project.workspace_id]
    res = _resolve(snap, subject, project, workspace, now)
    role = res.role
    if role is None:
        return _no_project_role(permission, res, workspace, project)
    allowed = permission in PROJECT_BUNDLES[(role, workspace.settings)]
    code = "allowed" if allowed else "role_too_low"
    return Decision(allowed, permission, code, role, True, res.source, workspace, project)


def _no_project_role(
    permission: str, res: RoleResolution, workspace: WorkspaceFacts, project: ProjectFacts
) -> Decision:
    if res.source == "private":
        # Admins may know private projects exist (governance), others may not.
        ws_role = res.workspace_role
        visible = ws_role is not None and "workspace:audit" in WORKSPACE_BUNDLES[ws_role]
    else:
        visible = res.source == "sso_blocked"
    code = res.source if res.source in ("private", "sso_blocked") else "no_access"
    return Decision(False, permission, code, None, visible, res.source, workspace, project)


def check_workspace(
    snap: PolicySnapshot, subject: Subject, workspace_id: int, permission: str, now: float
) -> Decision:
    """May ``subject`` use ``permission`` (a ``workspace:*`` permission) on a workspace?

    Guests (collaborators without a membership) hold no workspace permission.
    """
    _needs(permission, "workspace")
    workspace = snap.workspaces.get(workspace_id)
    if workspace is None:
        return Decision(False, permission, "not_found", visible=False)
    role, blocked = workspace_role(snap, subject, workspace)
    if role is not None:
        allowed = permission in WORKSPACE_BUNDLES[role]
        code = "allowed" if allowed else "role_too_low"
        return Decision(allowed, permission, code, role, True, "membership", workspace)
    if blocked:
        return Decision(False, permission, "sso_blocked", None, True, "sso_blocked", workspace)
    if is_guest(snap, subject.user_id, workspace.id, now):
        return Decision(False, permission, "guest", None, True, "grant", workspace)
    return Decision(False, permission, "not_member", None, False, "none", workspace)


def is_guest(snap: PolicySnapshot, user_id: int, workspace_id: int, now: float) -> bool:
    """Whether the user has no membership but an active grant on a project of the workspace."""
    if (workspace_id, user_id) in snap.memberships:
        return False
    return now < snap.grant_horizon.get((workspace_id, user_id), float("-inf"))
