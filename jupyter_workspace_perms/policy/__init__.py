"""The pure policy core: the permission table, frozen facts and decisions.

Nothing in this package performs I/O or imports Jupyter; see
:mod:`.permissions` for the vocabulary.
"""

from .decisions import (
    Decision,
    RoleResolution,
    check_project,
    check_workspace,
    is_guest,
    project_role,
    workspace_role,
)
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
from .guards import (
    can_add_member,
    can_join,
    can_set_collaborator,
    can_set_member,
    can_set_project_access,
    can_set_sso_provider,
)
from .listing import (
    PersonListing,
    ProjectListing,
    WorkspaceListing,
    holds_anywhere,
    project_listing,
    readable_project_ids,
    users_with_permission,
    visible_projects,
    visible_workspaces,
    workspace_people,
    workspace_person,
)
from .permissions import PERMISSIONS, ProjectAccess, Role, permissions_of

__all__ = [
    "PERMISSIONS",
    "Decision",
    "GrantFacts",
    "MembershipFacts",
    "PersonListing",
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
    "can_add_member",
    "can_join",
    "can_set_collaborator",
    "can_set_member",
    "can_set_project_access",
    "can_set_sso_provider",
    "check_project",
    "check_workspace",
    "holds_anywhere",
    "is_guest",
    "permissions_of",
    "project_listing",
    "project_role",
    "readable_project_ids",
    "users_with_permission",
    "visible_projects",
    "visible_workspaces",
    "workspace_people",
    "workspace_person",
    "workspace_role",
]
