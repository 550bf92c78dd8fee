"""JSON models of the REST API, built from the policy snapshot.

Each function returns exactly the keys its schema in :mod:`.schemas`
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
    WorkspaceFacts,
    project_listing,
    project_role,
    visible_projects,
    workspace_role,
)
from ..policy.listing import PersonListing, ProjectListing, WorkspaceListing
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
    """A project as one user may list it, with where their role comes from (so the lab
    extension can say "Contributor, through a grant until …")."""
    project = listing.project
    grant = listing.grant
    return {
        "name": project.name,
        "access": project.access.value,
        "role": _role(listing.role),
        "source": listing.source or None,
        "grant_expires_at": None if grant is None else iso(grant.expires_at),
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
    resolution = project_role(snap, user.subject, project, now)
    listing = (
        ProjectListing(project, None, False)
        if resolution.role is None
        else project_listing(project, resolution)
    )
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
        "sso_offer_would_block": sso_offer_would_block(snap, ws, user.login_provider),
    }


def sso_offer_would_block(snap: PolicySnapshot, ws: WorkspaceFacts, provider: str) -> list[str]:
    """Members who last signed in with another provider than ``provider``, by username.

    Enforcing ``provider`` would take their workspace access away (guests keep their
    grants), so the settings page names them before an Admin decides. Members and their
    providers are listed to every reader anyway.
    """
    return sorted(
        snap.users[user_id].username
        for user_id in snap.members_of.get(ws.id, ())
        if snap.users[user_id].login_provider != provider
    )


def member(person: PersonListing) -> Model:
    """A member or guest of a workspace (:func:`~..policy.workspace_people`)."""
    user = person.user
    return {
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "login_provider": user.login_provider,
        "role": _role(person.role),
        "owner": person.owner,
        "guest": person.guest,
        "sso_blocked": person.sso_blocked,
        "projects": [
            {"name": project.name, "role": grant.role.name, "expires_at": iso(grant.expires_at)}
            for project, grant in person.grants
        ],
    }
