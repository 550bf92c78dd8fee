"""Workspaces: list, create, read and change settings (domain invites, SSO, execution)."""

from __future__ import annotations

from typing import Any

from ...domains import invite_domain_for
from ...errors import Conflict, Forbidden
from ...folders import folders_removed_on_error, make_folders
from ...policy import can_set_sso_provider, visible_workspaces
from ...store import PolicyWriter
from .. import models
from .base import Call, WorkspacePermsHandler, api, refusal, route

WS = "/workspaces/{ws}"


class WorkspacesHandler(WorkspacePermsHandler):
    """``/workspaces``: the caller's workspaces; create one."""

    @api("workspaces.list")
    async def get(self, call: Call) -> None:
        """Workspaces the caller belongs to or is a guest of."""
        listings = visible_workspaces(call.snap, call.user.subject, call.now)
        self.write_json({"workspaces": [models.workspace_summary(call.user, w) for w in listings]})

    @api("workspaces.create")
    async def post(self, call: Call) -> None:
        """Create a workspace and its folder; the caller becomes owner and Admin."""
        if not self.settings.get("workspace_perms_allow_workspace_creation", False):
            raise Forbidden(
                "workspace creation is turned off on this server: ask an operator "
                "(`jupyter workspace-perms workspace create`)",
                "creation_disabled",
            )
        slug, name = call.body["slug"], call.body.get("name", "")
        user = call.user

        def create(writer: PolicyWriter) -> None:
            with folders_removed_on_error() as created:
                writer.create_workspace(slug, user.email or user.username, None, name)
                created += make_folders(self.root_dir, [slug])[1]
                if not created:  # only operators adopt folders that exist already
                    raise Conflict(f"a folder named {slug!r} exists already", "exists")

        await self.change(create, user)
        ws = self.store.snapshot.workspaces[self.store.snapshot.workspaces_by_slug[slug]]
        self.write_json(models.workspace_detail(self.store.snapshot, user, ws), 201)


class WorkspaceHandler(WorkspacePermsHandler):
    """``/workspaces/{ws}``: settings."""

    @api("workspace.get")
    async def get(self, call: Call) -> None:
        """Settings, plus what domain invites and SSO enforcement would allow."""
        assert call.workspace is not None
        self.write_json(models.workspace_detail(call.snap, call.user, call.workspace))

    @api("workspace.patch")
    async def patch(self, call: Call) -> None:
        """Change settings; each rule that refuses says why (409)."""
        ws, body = call.workspace, call.body
        assert ws is not None
        if body.get("domain_invites"):
            eligibility = invite_domain_for(call.snap.users[ws.owner_id].email)
            if not eligibility.available:
                raise Conflict(
                    eligibility.message or "domain invites are not available",
                    "domain_invites_unavailable",
                )
        if "enforced_sso_provider" in body:
            provider = body["enforced_sso_provider"]
            decision = can_set_sso_provider(call.snap, call.user.subject, ws.id, provider, call.now)
            if not decision.allowed:
                raise refusal(decision)
        changes: dict[str, Any] = dict(body)
        await self.change(lambda w: w.set_settings(ws.slug, **changes), call.user)
        snap = self.store.snapshot
        self.write_json(models.workspace_detail(snap, call.user, snap.workspaces[ws.id]))


default_handlers = [
    (route("/workspaces"), WorkspacesHandler),
    (route(WS), WorkspaceHandler),
]
