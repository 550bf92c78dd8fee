"""JSON models of the REST API, built from the policy snapshot.

Each function returns exactly the keys its schema in :mod:`..api.schemas`
declares (the tests validate live responses against them).
"""

from __future__ import annotations

from typing import Any

from ..domains import invite_domain_for
from ..identity.provider import WorkspaceUser
from ..policy import (
    PolicySnapshot,
    ProjectFacts,
    Role,
    Subject,
    WorkspaceFacts,
    is_guest,
    project_role,
    visible_projects,
    workspace_role,
)
from ..policy.listing import ProjectListing, WorkspaceListing
from ..policy.permissions import WORKSPACE_BUNDLES, permissions_of
from ..timestamps import iso

Model = dict[str, Any]


def _role(role: Role | None) -> str | None:
    return None if role is None else role.name


def _username(snap: PolicySnapshot, user_id: int | None) -> str | None:
    return None if user_id is None else snap.users[user_id].username


def identity(user: WorkspaceUser) -> Model:
    """The public part of the signed-in identity."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "email_verified": user.email_verified,
        "login_provider": user.login_provider,
    }


def project_summary(
    snap: PolicySnapshot, listing: ProjectListing, settings: frozenset[str]
) -> Model:
    """A project as one user may list it."""
    project = listing.project
    return {
        "name": project.name,
        "access": project.access.value,
        "role": _role(listing.role),
        "name_only": listing.name_only,
        "creator": _username(snap, project.creator_id),
        "permissions": []
        if listing.role is None
        else sorted(permissions_of(listing.role, "project", settings)),
    }


def project_detail(
    snap: PolicySnapshot, user: WorkspaceUser, project: ProjectFacts, now: float
) -> Model:
    """A project, the caller's role on it and its collaborators."""
    workspace = snap.workspaces[project.workspace_id]
    role = project_role(snap, user.subject, project, now).role
    listing = ProjectListing(project, role, False)
    collaborators = []
    for user_id in snap.grantees_of.get(project.id, ()):
        grant = snap.grants[(project.id, user_id)]
        collaborators.append(
            {
                "username": snap.users[user_id].username,
                "role": grant.role.name,
                "expires_at": iso(grant.expires_at),
                "guest": (workspace.id, user_id) not in snap.memberships,
            }
        )
    return {
        **project_summary(snap, listing, workspace.settings),
        "workspace": workspace.slug,
        "collaborators": sorted(collaborators, key=lambda c: c["username"]),
    }


def workspace_summary(user: WorkspaceUser, listing: WorkspaceListing) -> Model:
    """A workspace as one user may list it."""
    ws = listing.workspace
    return {
        "slug": ws.slug,
        "name": ws.name,
        "role": _role(listing.role),
        "owner": ws.owner_id == user.user_id,
        "guest": listing.guest,
        "sso_blocked": listing.sso_blocked,
        "enforced_sso_provider": ws.enforced_sso_provider,
        "permissions": [] if listing.role is None else sorted(WORKSPACE_BUNDLES[listing.role]),
    }


def me_workspace(
    snap: PolicySnapshot, user: WorkspaceUser, listing: WorkspaceListing, now: float
) -> Model:
    """A workspace in ``/me``: the summary plus the projects the user sees in it."""
    ws = listing.workspace
    projects = visible_projects(snap, user.subject, ws.id, now)
    return {
        **workspace_summary(user, listing),
        "projects": [project_summary(snap, p, ws.settings) for p in projects],
    }


def workspace_detail(snap: PolicySnapshot, user: WorkspaceUser, ws: WorkspaceFacts) -> Model:
    """A workspace's settings, with what domain invites and SSO would allow."""
    role, _blocked = workspace_role(snap, user.subject, ws)
    owner = snap.users[ws.owner_id]
    eligibility = invite_domain_for(owner.email)
    return {
        "slug": ws.slug,
        "name": ws.name,
        "owner": owner.username,
        "role": _role(role),
        "permissions": [] if role is None else sorted(WORKSPACE_BUNDLES[role]),
        "domain_invites": ws.domain_invites,
        "enforced_sso_provider": ws.enforced_sso_provider,
        "viewers_can_execute": ws.viewers_can_execute,
        "invite_domain": eligibility.domain,
        "domain_invites_available": eligibility.available,
        "domain_invites_reason": eligibility.reason,
        "domain_invites_message": eligibility.message,
        "sso_provider_offer": user.login_provider,
    }


def member(
    snap: PolicySnapshot,
    ws: WorkspaceFacts,
    user_id: int,
    now: float,
    visible_project_ids: frozenset[int],
) -> Model:
    """A member or guest of a workspace, judged with their last login provider."""
    facts = snap.users[user_id]
    _role_now, blocked = workspace_role(snap, Subject(user_id, facts.login_provider), ws)
    projects = []
    for project_id in snap.grants_of.get(user_id, ()):
        project = snap.projects[project_id]
        grant = snap.grants[(project_id, user_id)]
        shown = project.workspace_id == ws.id and project_id in visible_project_ids
        if shown and grant.active(now):
            projects.append(
                {
                    "name": project.name,
                    "role": grant.role.name,
                    "expires_at": iso(grant.expires_at),
                }
            )
    return {
        "username": facts.username,
        "email": facts.email,
        "display_name": facts.display_name,
        "login_provider": facts.login_provider,
        "role": _role(snap.memberships.get((ws.id, user_id))),
        "owner": ws.owner_id == user_id,
        "guest": is_guest(snap, user_id, ws.id, now),
        "sso_blocked": blocked,
        "projects": sorted(projects, key=lambda p: p["name"]),
    }
