"""The Authorizer installed into Jupyter Server.

The extension's own routes (``jupyter_workspace_perms:*``) decide with the policy
core inside each handler, so here they only need an identity. Jupyter's own
routes (contents, kernels, sessions, …) are not yet mapped to projects: until
they are, they fail closed and are open only to users who may manage the
settings of some workspace (its Admins), who are trusted with the whole server.
"""

from __future__ import annotations

import time
from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import User
from tornado.web import RequestHandler

from ..api.operations import RESOURCE_PREFIX
from ..identity.provider import WorkspaceUser
from ..policy import PolicySnapshot, holds_anywhere

SERVER_WIDE_PERMISSION = "workspace:manage_settings"


class WorkspaceAuthorizer(Authorizer):
    """Decides Jupyter's (action, resource) checks from the workspace policy."""

    def is_authorized(
        self, handler: RequestHandler, user: User, action: str, resource: str
    ) -> bool:
        """Allow our own resources to any identity; Jupyter's only to workspace Admins."""
        if not isinstance(user, WorkspaceUser):
            return False
        if resource.startswith(RESOURCE_PREFIX):
            return True
        snapshot = _snapshot(handler)
        if snapshot is None:
            return False
        allowed = holds_anywhere(snapshot, user.subject, SERVER_WIDE_PERMISSION, time.time())
        if not allowed:
            self.log.info(
                "denied %s %s to %s: not a workspace admin", action, resource, user.username
            )
        return allowed


def _snapshot(handler: Any) -> PolicySnapshot | None:
    store = handler.settings.get("workspace_perms_store")
    return None if store is None else store.snapshot
