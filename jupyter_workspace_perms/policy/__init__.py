"""The pure policy core: the permission table, frozen facts and decisions.

Nothing in this package performs I/O or imports Jupyter; see
:mod:`.permissions` for the vocabulary.
"""

from .decisions import Decision, RoleResolution, check_project, check_workspace, project_role
from .facts import (
    GrantFacts,
    MembershipFacts,
    PolicySnapshot,
    ProjectFacts,
    Subject,
    TokenFacts,
    UserFacts,
    WorkspaceFacts,
)
from .guards import can_set_collaborator, can_set_member, can_set_project_access
from .listing import (
    ProjectListing,
    WorkspaceListing,
    holds_anywhere,
    readable_project_ids,
    users_with_permission,
    visible_projects,
    visible_workspaces,
)
from .permissions import PERMISSIONS, ProjectAccess, Role, permissions_of

__all__ = [
    "PERMISSIONS",
    "Decision",
    "GrantFacts",
    "MembershipFacts",
    "PolicySnapshot",
    "ProjectAccess",
    "ProjectFacts",
    "ProjectListing",
    "Role",
    "RoleResolution",
    "Subject",
    "TokenFacts",
    "UserFacts",
    "WorkspaceFacts",
    "WorkspaceListing",
    "can_set_collaborator",
    "can_set_member",
    "can_set_project_access",
    "check_project",
    "check_workspace",
    "holds_anywhere",
    "permissions_of",
    "project_role",
    "readable_project_ids",
    "users_with_permission",
    "visible_projects",
    "visible_workspaces",
]
