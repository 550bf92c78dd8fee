"""``GET /api/workspace-perms/me``: who am I, what may I do where, what may I join."""

from __future__ import annotations

from typing import Any

from ...domains import email_in_domain, invite_domain_for
from ...identity.provider import WorkspaceUser
from ...policy import PolicySnapshot, visible_workspaces
from .. import models
from .base import Call, WorkspacePermsHandler, api, route


def joinable(snap: PolicySnapshot, user: WorkspaceUser) -> list[dict[str, Any]]:
    """Workspaces with open domain invites for the user's verified email's domain."""
    if not user.email_verified:
        return []
    found = []
    for ws in snap.workspaces.values():
        if not ws.domain_invites or (ws.id, user.user_id) in snap.memberships:
            continue
        eligibility = invite_domain_for(snap.users[ws.owner_id].email)
        if (
            eligibility.available
            and eligibility.domain
            and email_in_domain(user.email, eligibility.domain)
        ):
            found.append({"slug": ws.slug, "name": ws.name, "invite_domain": eligibility.domain})
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
