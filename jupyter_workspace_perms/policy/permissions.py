"""The permission table: the single source of truth for who may do what.

Vocabulary (used everywhere in this package and in the docs):

role
    A named bundle of permissions. Roles are ordered:
    ``viewer < contributor < editor < admin``. A role is held on a workspace
    (a *membership*) or on one project (a *collaborator grant*).
permission
    What code checks, shaped ``<scope>:<verb>`` (``project:write``). Code asks
    for permissions, never for role names, so roles can be reshaped here without
    touching the enforcement code.
project access
    What workspace members get on a project: ``full`` (their workspace role),
    ``view`` (locked: viewer, Admins still edit) or ``none`` (private: only
    collaborators).
setting grant
    A workspace setting that adds a permission to a role
    (``viewers_can_execute`` gives viewers ``project:execute``).

The docs table (``docs/permissions.md``) is generated from this module by
``python -m jupyter_workspace_perms.generate``; a test fails when it is stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, IntEnum
from types import MappingProxyType


class Role(IntEnum):
    """Roles in increasing order of power; comparisons follow the order."""

    viewer = 1
    contributor = 2
    editor = 3
    admin = 4

    @classmethod
    def parse(cls, value: str) -> Role:
        """The role named ``value``, or ``ValueError`` naming the valid roles."""
        try:
            return cls[value]
        except KeyError:
            names = ", ".join(r.name for r in cls)
            raise ValueError(f"unknown role {value!r}: use one of {names}") from None


class ProjectAccess(str, Enum):
    """What workspace members get on a project (docs/design.md#concepts)."""

    full = "full"  # members act with their workspace role
    view = "view"  # locked: members get viewer, workspace Admins still edit
    none = "none"  # private: only collaborators

    @classmethod
    def parse(cls, value: str) -> ProjectAccess:
        """The access level named ``value``, or ``ValueError`` naming the valid ones."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(a.value for a in cls)
            raise ValueError(f"unknown project access {value!r}: use one of {names}") from None


# How people name each access level, and what it gives members (the docs and the lab
# extension's generated constants show these).
ACCESS_LABELS: Mapping[ProjectAccess, tuple[str, str]] = MappingProxyType(
    {
        ProjectAccess.full: ("full", "members act with their workspace role"),
        ProjectAccess.view: ("view-only", "members get Viewer; workspace Admins still edit"),
        ProjectAccess.none: ("private", "only the project's collaborators"),
    }
)


@dataclass(frozen=True)
class PermissionDef:
    """One row of the table."""

    name: str
    scope: str  # "project" or "workspace"
    min_role: Role
    description: str
    # settings that lower the minimum role: setting name -> role it extends to
    setting_grants: Mapping[str, Role]
    # held by roles already, but nothing of the product uses it yet: the lab extension
    # does not list it among what a person can do, the docs say it is not built
    reserved: bool = False


def _row(
    name: str, min_role: Role, description: str, *, reserved: bool = False, **setting_grants: Role
) -> tuple[str, PermissionDef]:
    scope = name.split(":", 1)[0]
    grants = MappingProxyType(setting_grants)
    return name, PermissionDef(name, scope, min_role, description, grants, reserved)


PERMISSIONS: Mapping[str, PermissionDef] = MappingProxyType(
    dict(
        [
            _row(
                "project:read",
                Role.viewer,
                "List, open, download and export (nbconvert) the project's files.",
            ),
            _row(
                "project:comment",
                Role.viewer,
                "Post comments and replies on the project's files; edit, resolve and delete "
                "one's own; ask for a higher role on the project.",
            ),
            _row(
                "project:execute",
                Role.contributor,
                "Start kernels; restart and interrupt the project's kernels; shut down "
                "kernels they started; run saved cells; change inputs; save outputs.",
                viewers_can_execute=Role.viewer,
            ),
            _row(
                "project:write",
                Role.editor,
                "Create, edit, rename and delete files; run any code; shut down any kernel "
                "of the project; terminals when enabled; resolve anyone's comments.",
            ),
            _row(
                "project:integrations",
                Role.editor,
                "Connect and disconnect workspace integrations to the project.",
            ),
            _row(
                "project:share",
                Role.admin,
                "Change project access, manage collaborators, decide access requests for "
                "the project, delete anyone's comments.",
            ),
            _row(
                "workspace:read",
                Role.viewer,
                "List the workspace's visible projects and its members.",
            ),
            _row(
                "workspace:create_project",
                Role.editor,
                "Create projects, including private ones, and make a project private.",
            ),
            _row(
                "workspace:edit_files",
                Role.admin,
                "Create, edit, rename and delete files directly in the workspace folder "
                "(outside any project).",
            ),
            _row(
                "workspace:manage_members",
                Role.admin,
                "Add, remove and change the role of members (never above one's own role); "
                "decide requests for a workspace role.",
            ),
            _row(
                "workspace:manage_settings",
                Role.admin,
                "Domain invites, enforced SSO provider, viewers_can_execute.",
            ),
            _row(
                "workspace:manage_integrations",
                Role.admin,
                "Create, edit and delete the workspace's integrations (values are "
                "write-only for everyone).",
            ),
            _row(
                "workspace:audit",
                Role.admin,
                "Export the audit log; see the names and creators of private projects "
                "(never their files).",
            ),
        ]
    )
)

PROJECT_PERMISSIONS: tuple[str, ...] = tuple(
    p for p, d in PERMISSIONS.items() if d.scope == "project"
)
WORKSPACE_PERMISSIONS: tuple[str, ...] = tuple(
    p for p, d in PERMISSIONS.items() if d.scope == "workspace"
)
SETTINGS: tuple[str, ...] = tuple(
    sorted({s for d in PERMISSIONS.values() for s in d.setting_grants})
)


def _bundle(role: Role, scope: str, settings: frozenset[str]) -> frozenset[str]:
    return frozenset(
        name
        for name, d in PERMISSIONS.items()
        if d.scope == scope
        and (
            role >= d.min_role
            or any(role >= d.setting_grants[s] for s in settings & d.setting_grants.keys())
        )
    )


def _all_setting_combinations() -> list[frozenset[str]]:
    combos: list[frozenset[str]] = [frozenset()]
    for setting in SETTINGS:
        combos += [c | {setting} for c in combos]
    return combos


# Precomputed (role, enabled settings) -> permission set, so a decision is a dict lookup.
PROJECT_BUNDLES: Mapping[tuple[Role, frozenset[str]], frozenset[str]] = MappingProxyType(
    {
        (role, settings): _bundle(role, "project", settings)
        for role in Role
        for settings in _all_setting_combinations()
    }
)
WORKSPACE_BUNDLES: Mapping[Role, frozenset[str]] = MappingProxyType(
    {role: _bundle(role, "workspace", frozenset()) for role in Role}
)


def permissions_of(
    role: Role, scope: str, settings: frozenset[str] = frozenset()
) -> frozenset[str]:
    """The permissions ``role`` holds on a project or workspace, given enabled settings."""
    if scope == "workspace":
        return WORKSPACE_BUNDLES[role]
    return PROJECT_BUNDLES[(role, settings & frozenset(SETTINGS))]


def require_known(permission: str) -> PermissionDef:
    """The table row for ``permission``; ``KeyError`` with a clear message if unknown."""
    try:
        return PERMISSIONS[permission]
    except KeyError:
        raise KeyError(f"unknown permission {permission!r}") from None
