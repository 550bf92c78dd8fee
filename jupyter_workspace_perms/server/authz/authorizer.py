"""The Authorizer installed into Jupyter Server.

Jupyter calls :meth:`WorkspaceAuthorizer.is_authorized` once per request with a
coarse (action, resource) label. This class turns the label, the handler and
its arguments into concrete targets (paths from the URL and the body, kernels
and their bound project) and asks the policy core about each. A refusal raises
404 when the user may not know the object exists and 403 with the reason
otherwise. Resources nobody listed are refused.

Server-wide routes (config of the server, shutdown, posting events, language
servers, JupyterLab plugins and builds) are for *server admins*: the usernames in
``server_admins``, or by default the Admins of the server's only workspace (see
:meth:`WorkspaceAuthorizer.is_server_admin`). Two routes labelled server-wide are
open to every signed-in user because what they serve is already per user: the
event stream, when its handler filters events per recipient (:mod:`..events`), and
config writes, when the config manager stores them per user (:mod:`..config`). With
a stock handler or manager they stay server-admin only. Terminals are decided per
project (:mod:`.terminals`): a terminal opened in a project runs confined to it,
and only a shell outside projects is reserved to server admins.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import User
from tornado import web
from traitlets import List, Unicode

from ...identity.provider import WorkspaceUser
from ...paths import Location, PathRefused
from ...policy import (
    Decision,
    PolicySnapshot,
    Subject,
    check_project,
    check_workspace,
    readable_project_ids,
)
from ...policy.lifecycle import check_kernel_shutdown
from .access import decide_location, refused
from .routes import targets_for
from .targets import EXECUTE, Refusal, Shutdown, Target

# resources of this extension's own REST API: its handlers decide each operation
RESOURCE_PREFIX = "jupyter_workspace_perms:"
# the attribute of a refusal that names the workspace it was decided in
DENIED_IN = "workspace_perms_workspace_id"
ADMIN_PERMISSION = "workspace:manage_settings"
# resources open to any signed-in user: nothing in them names a file or a kernel
OPEN_RESOURCES = {
    ("api", "read"),
    ("csp", "write"),
    ("kernelspecs", "read"),
    ("config", "read"),
    ("lsp", "read"),
}
# /api/me?permissions=: what holding an action "somewhere" means for path-less questions
ANYWHERE = {
    ("contents", "read"): "project:read",
    ("contents", "write"): "project:write",
    ("nbconvert", "read"): "project:read",
    ("kernels", "read"): "project:read",
    ("kernels", "write"): "project:execute",
    ("kernels", "execute"): "project:execute",
    ("sessions", "read"): "project:read",
    ("sessions", "write"): "project:execute",
    ("terminals", "read"): "project:write",
    ("terminals", "write"): "project:write",
    ("terminals", "execute"): "project:write",
}
# server-wide resources: only server admins
ADMIN_RESOURCES = {"config", "server", "events", "lsp"}
# (resource, action) -> the handler or manager attribute that makes it per user: then
# open to every signed-in user, else server admins only
PER_USER = {
    ("events", "execute"): "workspace_perms_per_recipient",  # the event stream
    ("config", "write"): "workspace_perms_per_user",  # PUT/PATCH /api/config/{section}
}


class WorkspaceAuthorizer(Authorizer):
    """Decides every Jupyter (action, resource) check from the workspace policy."""

    server_admins = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        config=True,
        help="""Usernames (emails) of the server admins, who may use server-wide routes:
        shutdown, posting events, language servers, JupyterLab plugins and builds,
        ``/metrics``, the events of other extensions, and terminals that are not
        confined to a project (outside projects, or while the kernel sandbox does not
        confine); they also see and may close every terminal. Default None: the
        Admins of the server's only workspace while there is exactly one workspace;
        nobody once there are several (an Admin of one workspace must not act on the
        others), nor when ``WorkspacePermsExtension.allow_workspace_creation`` is on
        (anyone could make themselves a workspace Admin). Set it on any server with
        several workspaces that needs server admins.""",
    )
    allowed_extension_resources = List(
        Unicode(),
        config=True,
        help="""Resources of other server extensions to allow for any signed-in user
        (default: none; unknown resources are refused). Only list extensions that
        touch no files or kernels.""",
    )

    def is_authorized(
        self, handler: web.RequestHandler, user: User, action: str, resource: str
    ) -> bool:
        """Allow, or raise 404/403 with the reason (a plain False gives a bare 403).

        Every refusal raised here is also handed to the denial recorder
        (``workspace_perms_denials``, :mod:`...store.denials`), which rate-limits it.
        """
        try:
            return self._authorize(handler, user, action, resource)
        except web.HTTPError as e:
            record_denial(handler, user, e, getattr(e, DENIED_IN, None))
            raise

    def _authorize(
        self, handler: web.RequestHandler, user: User, action: str, resource: str
    ) -> bool:
        if not isinstance(user, WorkspaceUser):
            return False
        if resource.startswith(RESOURCE_PREFIX):
            return True  # our handlers decide per operation
        snap = _snapshot(handler)
        if snap is None:
            return False
        now = time.time()
        if type(handler).__name__ == "IdentityHandler":
            return self._anywhere(handler, snap, user, action, resource, now)
        if (resource, action) in OPEN_RESOURCES or resource in self.allowed_extension_resources:
            return True
        if _per_user(handler, resource, action):
            return True
        if resource in ADMIN_RESOURCES:
            return self._admin_only(handler, snap, user, resource, now)
        try:
            targets = targets_for(
                handler,
                resource,
                action,
                snap,
                lambda: self.is_server_admin(handler, snap, user, now),
            )
        except PathRefused as e:
            raise web.HTTPError(404, e.message, reason=e.reason) from None
        if targets is None:
            self.log.warning(
                "refused unknown %s on %s (%s)", action, resource, type(handler).__name__
            )
            raise web.HTTPError(
                403, f"{resource} is not allowed on this server", reason="unknown_resource"
            )
        for target in targets:
            decision = self._decide(snap, user.subject, target, now)
            _enforce(replace(decision, visible=False) if target.hidden else decision)
        return True

    def _anywhere(
        self,
        handler: web.RequestHandler,
        snap: PolicySnapshot,
        user: WorkspaceUser,
        action: str,
        resource: str,
        now: float,
    ) -> bool:
        """``/api/me?permissions=``: asked without a path, answered "somewhere at least".

        Never raises: the answer is a hint for the frontend, each real request is
        still decided on its own target.
        """
        if (resource, action) in OPEN_RESOURCES or resource in self.allowed_extension_resources:
            return True
        if (resource, action) == ("events", "execute"):
            return True  # this extension serves the stream per recipient (..events)
        if (resource, action) == ("config", "write"):
            manager = handler.settings.get("config_manager")
            if _per_user_object(manager, resource, action):
                return True
        if resource in ADMIN_RESOURCES:
            return self.is_server_admin(handler, snap, user, now)
        if resource == "terminals" and self.is_server_admin(handler, snap, user, now):
            return True  # a shell outside projects
        permission = ANYWHERE.get((resource, action))
        if permission is None:
            return False
        return any(
            check_project(snap, user.subject, project_id, permission, now).allowed
            for project_id in readable_project_ids(snap, user.subject, now)
        )

    def _admin_only(
        self,
        handler: web.RequestHandler,
        snap: PolicySnapshot,
        user: WorkspaceUser,
        resource: str,
        now: float,
    ) -> bool:
        if self.is_server_admin(handler, snap, user, now):
            return True
        raise web.HTTPError(
            403,
            f"{resource} is server-wide: only server admins may use it",
            reason="admins_only",
        )

    def is_server_admin(
        self, handler: web.RequestHandler, snap: PolicySnapshot, user: WorkspaceUser, now: float
    ) -> bool:
        """Whether ``user`` may use server-wide routes (see ``server_admins``).

        Without a list, the Admins of the only workspace: with several workspaces, an
        Admin of one would otherwise shut the server down, open a shell or read the
        counters of all the others.
        """
        if self.server_admins is not None:
            return user.username in self.server_admins
        if handler.settings.get("workspace_perms_allow_workspace_creation", False):
            return False
        if len(snap.workspaces) != 1:
            return False
        (workspace_id,) = snap.workspaces
        return check_workspace(snap, user.subject, workspace_id, ADMIN_PERMISSION, now).allowed

    def _decide(
        self, snap: PolicySnapshot, subject: Subject, target: Target, now: float
    ) -> Decision:
        if isinstance(target.where, Refusal):
            refusal = target.where
            return Decision(False, EXECUTE, refusal.code, note=refusal.message)
        if isinstance(target.where, Location):
            return decide_location(snap, subject, target.where, target.intent, now)
        if isinstance(target.where, Shutdown):
            shutdown = target.where
            return check_kernel_shutdown(
                snap, subject, shutdown.project_id, shutdown.started_by, now
            )
        return check_project(snap, subject, target.where, target.intent, now)


def _per_user(handler: web.RequestHandler, resource: str, action: str) -> bool:
    """Whether the request's handler (or, for config, its manager) serves each user apart."""
    if (resource, action) == ("config", "write"):
        return _per_user_object(getattr(handler, "config_manager", None), resource, action)
    return _per_user_object(handler, resource, action)


def _per_user_object(obj: Any, resource: str, action: str) -> bool:
    marker = PER_USER.get((resource, action))
    return marker is not None and getattr(type(obj), marker, False) is True


def _enforce(decision: Decision) -> None:
    if not decision.allowed:
        error = refused(decision)
        if decision.workspace is not None:
            setattr(error, DENIED_IN, decision.workspace.id)
        raise error


def record_denial(
    handler: web.RequestHandler, user: Any, error: web.HTTPError, workspace_id: int | None
) -> None:
    """Hand a refusal (403 or 404) of a signed-in user to the denial recorder, if any."""
    recorder = handler.settings.get("workspace_perms_denials")
    if recorder is None or error.status_code not in (403, 404):
        return
    username = getattr(user, "username", None)
    if not username:
        return
    recorder.record(
        username,
        error.reason or str(error.status_code),
        workspace_id,
        handler.request.path,
        handler.request.method or "",
        error.status_code,
    )


def _snapshot(handler: Any) -> PolicySnapshot | None:
    store = handler.settings.get("workspace_perms_store")
    return None if store is None else store.snapshot
