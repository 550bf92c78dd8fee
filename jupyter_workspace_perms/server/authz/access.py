"""What a user may do at a :class:`~.paths.Location`: one table, decided by the policy core.

An *intent* is what a route wants to do with a path:

``read``    list, open, download, export, read checkpoints;
``write``   change an existing file (save, restore a checkpoint, trust);
``save_outputs`` save an existing notebook, which the contents manager merges for
            users without ``write``: only outputs, execution counts and
            ``parameters`` values are taken from them (``targets.save_intent``);
``create``  make a new file at the path (save as, copy target, rename target);
``mkdir``   make a new folder at the path;
``remove``  delete the path, or move it away (rename source).

:data:`RULES` maps (level, intent) to the permission the policy checks on the
level's workspace or project. A missing entry is refused.
"""

from __future__ import annotations

from tornado import web

from ...paths import Level, Location
from ...policy import Decision, PolicySnapshot, Subject, check_project, check_workspace

Rule = tuple[str, str]  # (scope "project"|"workspace", permission)

RULES: dict[tuple[Level, str], Rule] = {
    # a workspace folder: listing it is reading the workspace
    (Level.workspace, "read"): ("workspace", "workspace:read"),
    # files directly in a workspace folder: members read, Admins write
    (Level.workspace_file, "read"): ("workspace", "workspace:read"),
    (Level.workspace_file, "write"): ("workspace", "workspace:edit_files"),
    (Level.workspace_file, "create"): ("workspace", "workspace:edit_files"),
    (Level.workspace_file, "remove"): ("workspace", "workspace:edit_files"),
    # a new folder directly in a workspace is a new project
    (Level.workspace_file, "mkdir"): ("workspace", "workspace:create_project"),
    # a project folder: renaming or deleting it is the project admin's call
    (Level.project, "read"): ("project", "project:read"),
    (Level.project, "write"): ("project", "project:write"),
    (Level.project, "remove"): ("project", "project:share"),
    # anything inside a project
    (Level.project_file, "read"): ("project", "project:read"),
    (Level.project_file, "write"): ("project", "project:write"),
    (Level.project_file, "save_outputs"): ("project", "project:execute"),
    (Level.project_file, "create"): ("project", "project:write"),
    (Level.project_file, "mkdir"): ("project", "project:write"),
    (Level.project_file, "remove"): ("project", "project:write"),
}

REFUSALS: dict[Level, tuple[str, str, bool]] = {
    # level -> (code, reason, visible)
    Level.root: (
        "root_read_only",
        "workspaces are created with the REST API or `jupyter workspace-perms workspace "
        "create`, not as folders",
        True,
    ),
    Level.outside: ("outside_workspaces", "not found", False),
    Level.unregistered: (
        "not_a_project",
        "this folder is not a registered project; ask a workspace admin",
        False,
    ),
    Level.workspace: (
        "workspace_folder",
        "workspace folders are renamed and deleted by operators only",
        True,
    ),
    Level.project: ("project_folder", "not allowed on a project folder", True),
}


def decide_location(
    snap: PolicySnapshot, subject: Subject, loc: Location, intent: str, now: float
) -> Decision:
    """May ``subject`` do ``intent`` at ``loc``? Listing the root is always allowed
    (the listing shows only what the user may read)."""
    if loc.level is Level.root and intent == "read":
        return Decision(True, "read", "allowed", note="the root listing is filtered per user")
    rule = RULES.get((loc.level, intent))
    if rule is None:
        code, reason, visible = REFUSALS.get(
            loc.level, ("not_allowed", f"{intent} is not allowed here", True)
        )
        return Decision(False, intent, code, visible=visible, note=reason)
    scope, permission = rule
    assert loc.workspace is not None
    ws_id = snap.workspaces_by_slug[loc.workspace]
    if scope == "workspace":
        decision = check_workspace(snap, subject, ws_id, permission, now)
        if loc.level is Level.workspace and decision.code == "guest":
            # guests browse to their shared projects; the listing shows only those
            return Decision(True, intent, "allowed", source="grant", note="guest listing")
        return decision
    assert loc.project is not None
    project_id = snap.projects_by_name[(ws_id, loc.project)]
    return check_project(snap, subject, project_id, permission, now)


def refused(decision: Decision) -> web.HTTPError:
    """The error for a refused decision, for the Authorizer and for checks the contents
    manager makes again after it: 404 when the user may not know the object (a private
    project's files included: Admins may know its name, never anything in it), else 403
    with the reason."""
    if not decision.visible or decision.code == "private":
        return web.HTTPError(404, "not found (or not visible to you)", reason="not_found")
    return web.HTTPError(403, decision.reason, reason=decision.code)
