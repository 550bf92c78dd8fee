"""``GET /api/workspace-perms/me``: who am I, and what may I do where."""

from __future__ import annotations

import time
from typing import Any

from ...identity.provider import WorkspaceUser
from ...policy import PolicySnapshot, visible_projects, visible_workspaces
from ...policy.listing import WorkspaceListing
from ...policy.permissions import WORKSPACE_BUNDLES, permissions_of
from .base import WorkspacePermsHandler, requires

AUTH_RESOURCE = "jupyter_workspace_perms:me"


def identity_model(user: WorkspaceUser) -> dict[str, Any]:
    """The public part of the signed-in identity."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "email_verified": user.email_verified,
        "login_provider": user.login_provider,
    }


def workspace_model(
    snap: PolicySnapshot, user: WorkspaceUser, listing: WorkspaceListing, now: float
) -> dict[str, Any]:
    """One workspace as the user sees it, with their role on each visible project."""
    ws = listing.workspace
    projects = [
        {
            "name": p.project.name,
            "access": p.project.access.value,
            "role": None if p.role is None else p.role.name,
            "name_only": p.name_only,
            "permissions": []
            if p.role is None
            else sorted(permissions_of(p.role, "project", ws.settings)),
        }
        for p in visible_projects(snap, user.subject, ws.id, now)
    ]
    return {
        "slug": ws.slug,
        "name": ws.name,
        "role": None if listing.role is None else listing.role.name,
        "owner": ws.owner_id == user.user_id,
        "guest": listing.guest,
        "sso_blocked": listing.sso_blocked,
        "enforced_sso_provider": ws.enforced_sso_provider,
        "permissions": [] if listing.role is None else sorted(WORKSPACE_BUNDLES[listing.role]),
        "projects": projects,
    }


class MeHandler(WorkspacePermsHandler):
    """The caller's identity, memberships and roles."""

    @requires("read", AUTH_RESOURCE)
    async def get(self) -> None:
        """Identity plus every workspace the caller belongs to or is a guest of."""
        user, snap, now = self.workspace_user, self.snapshot, time.time()
        self.write_json(
            {
                "identity": identity_model(user),
                "workspaces": [
                    workspace_model(snap, user, listing, now)
                    for listing in visible_workspaces(snap, user.subject, now)
                ],
                "policy_version": snap.version,
            }
        )


default_handlers = [(r"/api/workspace-perms/me", MeHandler)]
