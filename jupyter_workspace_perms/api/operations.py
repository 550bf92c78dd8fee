"""The operation table: every REST operation, what it needs, what it takes and returns.

Each row names the Jupyter (action, resource) label the Authorizer sees and the
policy permission checked on the path's target (the workspace ``{ws}`` or the
project ``{ws}/{project}``) before the handler runs. Rows without a permission
decide inside the handler (guards that depend on the body, or listings that
filter per item) and say so in ``decided_by``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..server.authz.authorizer import RESOURCE_PREFIX

BASE_PATH = "/api/workspace-perms"


@dataclass(frozen=True)
class Operation:
    """One REST operation."""

    id: str
    method: str
    path: str  # relative to BASE_PATH, with {ws}, {project}, {user} and other {ids}
    thing: str  # the resource is jupyter_workspace_perms:<thing>
    summary: str
    permission: str | None = None
    decided_by: str = ""
    request: str | None = None
    response: str | None = None
    status: int = 200

    @property
    def action(self) -> str:
        """Jupyter's action for the HTTP method (``read`` or ``write``)."""
        return "read" if self.method in ("GET", "HEAD") else "write"

    @property
    def resource(self) -> str:
        """Jupyter's resource label."""
        return RESOURCE_PREFIX + self.thing

    @property
    def target(self) -> str | None:
        """What the permission is checked on: ``project``, ``workspace`` or nothing."""
        if "{project}" in self.path:
            return "project"
        if "{ws}" in self.path:
            return "workspace"
        return None


WS = "/workspaces/{ws}"
PROJECT = WS + "/projects/{project}"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "me.get",
        "GET",
        "/me",
        "me",
        "Your identity, memberships, roles and the workspaces you may join.",
        decided_by="lists only what you belong to",
        response="Me",
    ),
    Operation(
        "workspaces.list",
        "GET",
        "/workspaces",
        "workspaces",
        "Workspaces you belong to or are a guest of.",
        decided_by="lists only what you belong to",
        response="WorkspaceList",
    ),
    Operation(
        "workspaces.create",
        "POST",
        "/workspaces",
        "workspaces",
        "Create a workspace (and its folder); you become its owner and Admin.",
        decided_by="WorkspacePermsExtension.allow_workspace_creation",
        request="WorkspaceCreate",
        response="Workspace",
        status=201,
    ),
    Operation(
        "workspace.get",
        "GET",
        WS,
        "workspaces",
        "A workspace's settings and what domain invites and SSO would allow.",
        permission="workspace:read",
        response="Workspace",
    ),
    Operation(
        "workspace.patch",
        "PATCH",
        WS,
        "workspaces",
        "Change domain invites, the enforced SSO provider or viewers_can_execute.",
        permission="workspace:manage_settings",
        request="WorkspacePatch",
        response="Workspace",
    ),
    Operation(
        "members.list",
        "GET",
        WS + "/members",
        "members",
        "Members and guests, with role, guest and SSO-blocked status.",
        permission="workspace:read",
        response="MemberList",
    ),
    Operation(
        "member.put",
        "PUT",
        WS + "/members/{user}",
        "members",
        "Add a member or change their role (never above your own; never the owner's); "
        'with `"only_new": true` only add: an existing member answers 409 `already_member`.',
        permission="workspace:manage_members",
        decided_by="can_set_member (can_add_member with only_new)",
        request="MemberPut",
        response="Member",
    ),
    Operation(
        "member.delete",
        "DELETE",
        WS + "/members/{user}",
        "members",
        "Remove a member (never the owner).",
        permission="workspace:manage_members",
        decided_by="can_set_member",
        status=204,
    ),
    Operation(
        "workspace.join",
        "POST",
        WS + "/join",
        "members",
        "Join as viewer through a domain invite (verified email in the owner's domain).",
        decided_by="domain invite rules",
        response="Member",
        status=201,
    ),
    Operation(
        "projects.list",
        "GET",
        WS + "/projects",
        "projects",
        "Projects you can see; private ones by name only for Admins.",
        permission="workspace:read",
        response="ProjectList",
    ),
    Operation(
        "projects.create",
        "POST",
        WS + "/projects",
        "projects",
        "Create a project (and its folder); you become its project admin.",
        permission="workspace:create_project",
        request="ProjectCreate",
        response="Project",
        status=201,
    ),
    Operation(
        "project.get",
        "GET",
        PROJECT,
        "projects",
        "A project, your role on it and its collaborators.",
        permission="project:read",
        response="Project",
    ),
    Operation(
        "project.patch",
        "PATCH",
        PROJECT,
        "projects",
        "Change what members get: full, view (locked) or none (private).",
        permission="project:share",
        decided_by="can_set_project_access",
        request="ProjectPatch",
        response="Project",
    ),
    Operation(
        "collaborator.put",
        "PUT",
        PROJECT + "/collaborators/{user}",
        "collaborators",
        "Share the project with a user, optionally until expires_at.",
        permission="project:share",
        decided_by="can_set_collaborator",
        request="CollaboratorPut",
        response="Collaborator",
    ),
    Operation(
        "collaborator.delete",
        "DELETE",
        PROJECT + "/collaborators/{user}",
        "collaborators",
        "Stop sharing the project with a user.",
        permission="project:share",
        status=204,
    ),
    Operation(
        "project.duplicate",
        "POST",
        PROJECT + "/duplicate",
        "projects",
        "Duplicate the project's files into a new project of `to_workspace`, which you "
        "create (you become its project admin); the answer lists what was left behind: "
        "collaborators, hidden files, checkpoints, links, environment files, integration "
        "connections.",
        permission="project:read",
        decided_by=(
            "`workspace:create_project` on `to_workspace` (403 with the reason, 404 if you "
            "may not see it); over `WorkspaceContentsManager.max_copy_entries` files or "
            "`max_copy_folder_size_mb` it answers 413 and writes nothing"
        ),
        request="ProjectDuplicate",
        response="ProjectDuplicated",
        status=201,
    ),
    Operation(
        "integrations.list",
        "GET",
        WS + "/integrations",
        "integrations",
        "The workspace's integrations: names, variable names, who set them, where connected "
        "(never values).",
        permission="workspace:read",
        response="IntegrationList",
    ),
    Operation(
        "integrations.create",
        "POST",
        WS + "/integrations",
        "integrations",
        "Create an integration with its variables (values are write-only).",
        permission="workspace:manage_integrations",
        request="IntegrationCreate",
        response="Integration",
        status=201,
    ),
    Operation(
        "integration.patch",
        "PATCH",
        WS + "/integrations/{integration}",
        "integrations",
        "Rename an integration, set variables (null removes one); others are kept.",
        permission="workspace:manage_integrations",
        request="IntegrationPatch",
        response="Integration",
    ),
    Operation(
        "integration.delete",
        "DELETE",
        WS + "/integrations/{integration}",
        "integrations",
        "Delete an integration; every project connection goes with it.",
        permission="workspace:manage_integrations",
        status=204,
    ),
    Operation(
        "project_integrations.list",
        "GET",
        PROJECT + "/integrations",
        "integrations",
        "The integrations connected to the project (names, never values).",
        permission="project:read",
        response="ConnectionList",
    ),
    Operation(
        "project_integration.put",
        "PUT",
        PROJECT + "/integrations/{integration}",
        "integrations",
        "Connect an integration: kernels started or restarted from now on receive it.",
        permission="project:integrations",
        decided_by="members only: workspace:read too (guests never reach integrations)",
        response="Connected",
    ),
    Operation(
        "project_integration.delete",
        "DELETE",
        PROJECT + "/integrations/{integration}",
        "integrations",
        "Disconnect an integration: kernels started or restarted from now on lack it.",
        permission="project:integrations",
        decided_by="members only: workspace:read too (guests never reach integrations)",
        response="Connected",
    ),
    Operation(
        "comments.list",
        "GET",
        "/comments",
        "comments",
        "The threads of a project file (`?path=WS/PROJECT/FILE`), optionally of one cell "
        "(`&cell_id=`) and by state (`&state=open|resolved|all`, default all), oldest first, "
        "each with its replies and its anchor (`current`, `outdated` or `orphaned`).",
        decided_by="`project:read` on the project of `path` (404 when you may not see it)",
        response="CommentThreadList",
    ),
    Operation(
        "comments.create",
        "POST",
        "/comments",
        "comments",
        "Start a thread on a file or a notebook cell (optionally a `{start, end}` range of "
        "its source), or reply with `parent_id`. `@username` mentions resolve only to people "
        "who may read the project.",
        decided_by="`project:comment` on the project of `path`",
        request="CommentCreate",
        response="Comment",
        status=201,
    ),
    Operation(
        "comment.patch",
        "PATCH",
        "/comments/{comment_id}",
        "comments",
        'Edit a comment\'s body (`{"body"}`, its author only) or resolve and reopen a thread '
        '(`{"resolved"}`, its author or anyone with `project:write`).',
        decided_by=(
            "the author holding `project:comment`; resolving also `project:write` (403 with the "
            "reason, 404 when you may not read the project)"
        ),
        request="CommentPatch",
        response="Comment",
    ),
    Operation(
        "comment.delete",
        "DELETE",
        "/comments/{comment_id}",
        "comments",
        "Delete a comment (a thread's first comment deletes the whole thread).",
        decided_by="the author holding `project:comment`, or `project:share` on the project",
        status=204,
    ),
    Operation(
        "mentions.list",
        "GET",
        WS + "/comments",
        "comments",
        "Comments of the workspace that mention you (`?mentions=me`), in projects you may "
        "read now, newest first.",
        decided_by="lists only comments in projects you may read",
        response="MentionList",
    ),
    Operation(
        "access_requests.list",
        "GET",
        WS + "/access-requests",
        "access_requests",
        "Your own requests (with their outcome) and the requests you may decide "
        "(`?status=pending|approved|denied|all`, default all).",
        decided_by=(
            "yours, and those you may decide: `project:share` on the project, or "
            "`workspace:manage_members` for a workspace role"
        ),
        response="AccessRequestList",
    ),
    Operation(
        "access_requests.create",
        "POST",
        WS + "/access-requests",
        "access_requests",
        "Ask for a higher role on a project (`project`) or in the workspace; a second "
        "request while one is pending is merged into it (`merged: true`).",
        decided_by=(
            "`project:comment` on the project; for a workspace role, members and guests of "
            "the workspace; the role must be higher than the one you hold"
        ),
        request="AccessRequestCreate",
        response="AccessRequest",
        status=201,
    ),
    Operation(
        "access_request.patch",
        "PATCH",
        WS + "/access-requests/{request_id}",
        "access_requests",
        "Approve or deny a pending request; approving grants exactly the role asked for "
        "(a collaborator grant on the project, or the workspace role).",
        decided_by=(
            "`project:share` on the project (`workspace:manage_members` for a workspace "
            "role), and only a role you may grant (can_set_collaborator, can_set_member)"
        ),
        request="AccessRequestDecide",
        response="AccessRequest",
    ),
    Operation(
        "audit.export",
        "GET",
        WS + "/audit",
        "audit",
        "The workspace's audit log, streamed oldest first: policy changes, denials, kernel "
        "executions, comments and access requests (`?format=jsonl|csv`, default jsonl; "
        "`since`, `until`: ISO 8601 times).",
        permission="workspace:audit",
    ),
    Operation(
        "tokens.list",
        "GET",
        "/tokens",
        "tokens",
        "Your personal access tokens, and the latest expiry a new one may get now.",
        decided_by="your own only",
        response="TokenList",
    ),
    Operation(
        "tokens.create",
        "POST",
        "/tokens",
        "tokens",
        "Create a personal access token (shown once).",
        decided_by=(
            "your own only; it expires no later than the token you signed in with and "
            "`WorkspaceIdentityProvider.token_max_lifetime_days` (default 90) from now, "
            "which is also its expiry when `expires_at` is left out"
        ),
        request="TokenCreate",
        response="TokenCreated",
        status=201,
    ),
    Operation(
        "token.delete",
        "DELETE",
        "/tokens/{token_id}",
        "tokens",
        "Revoke one of your tokens.",
        decided_by="your own only",
        status=204,
    ),
    Operation(
        "status.get",
        "GET",
        "/status",
        "status",
        "Version, store and kernel isolation status (details for workspace Admins).",
        decided_by="details need workspace:manage_settings somewhere",
        response="Status",
    ),
    Operation(
        "spec.get", "GET", "/spec.yaml", "spec", "This OpenAPI document.", decided_by="any identity"
    ),
)

BY_ID = {op.id: op for op in OPERATIONS}
