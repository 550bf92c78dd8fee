"""``GET /api/workspace-perms/me``: who am I, what may I do where, what may I join."""

from __future__ import annotations

from typing import Any

from ...domains import email_in_domain, invite_domain_for
from ...identity.provider import WorkspaceUser
from ...policy import PolicySnapshot, can_join, visible_workspaces
from .. import models
from .base import Call, WorkspacePermsHandler, api, route


def joinable(snap: PolicySnapshot, user: WorkspaceUser) -> list[dict[str, Any]]:
    """Workspaces the user may join now through a domain invite (as ``POST …/join`` decides)."""
    if not user.email_verified:
        return []
    found = []
    for ws in snap.workspaces.values():
        if not ws.domain_invites:
            continue
        eligibility = invite_domain_for(snap.users[ws.owner_id].email)
        domain = eligibility.domain
        decision = can_join(
            snap,
            user.subject,
            ws.id,
            invites_open=eligibility.available,
            email_in_domain=domain is not None and email_in_domain(user.email, domain),
            email_verified=user.email_verified,
        )
        if decision.allowed and decision.role is not None:
            role = decision.role.name  # what joining gives, so a prompt can say it
            found.append({"slug": ws.slug, "name": ws.name, "invite_domain": domain, "role": role})
    return sorted(found, key=lambda w: w["slug"])


class MeHandler(WorkspacePermsHandler):
    """The caller's identity, memberships and roles."""

    @api("me.get")
    async def get(self, call: Call) -> None:
        """Identity plus every workspace the caller belongs to, is a guest of, or may join."""
        snap, user = call.snap, call.user
        self.write_json(
            {
                "identity": models.identity(user),
                "workspaces": [
                    models.me_workspace(snap, user, listing, call.now)
                    for listing in visible_workspaces(snap, user.subject, call.now)
                ],
                "joinable": joinable(snap, user),
                "policy_version": snap.version,
            }
        )


default_handlers = [(route("/me"), MeHandler)]
