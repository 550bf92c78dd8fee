"""The event stream (``/api/events/subscribe``), filtered per recipient.

jupyter_server sends every event of every registered schema to every subscriber:
``contents_service`` events name the files each user opens, saves, renames, copies
and deletes, ``kernel_actions`` events the kernels of every project. This
extension registers :class:`WorkspaceSubscribeWebsocket` on the same route (an
extension's route wins) and the Authorizer opens the stream to every signed-in
user for that handler only (any other handler there stays server-admin only).

Each event is decided for each recipient, from their permissions at that moment;
what is not allowed is not sent, without a trace:

``contents_service``
    every path it names (``path``, ``source_path``) must be readable by the
    recipient and not hidden (unless ``ContentsManager.allow_hidden``). A path
    directly in a workspace folder that is not a file there (a project folder that
    was just deleted or renamed, or one being created) goes only to holders of
    ``workspace:audit``, who may know every project's name: by the time the event
    is sent, the project is no longer in the policy and the path alone would
    tell workspace members the name of a private project.
``kernel_actions``
    only to users who may run code in the kernel's project (``project:execute``,
    the rule that lists kernels); a kernel whose project is unknown (an event
    without ``kernel_id``), only to server admins.
``.../jupyter_workspace_perms/kernel/execution/v1`` (the execution audit)
    only to holders of ``workspace:audit`` in the workspace of the kernel's
    project who may also read that project (and the notebook it names).
``.../jupyter_workspace_perms/access_request/v1`` (access requests)
    only to the requester and to those who may decide the request
    (``project:share`` on its project, ``workspace:manage_members`` for a workspace role).
``.../jupyter_workspace_perms/comment/v1`` (comments)
    to readers of the file it names (``path``, as for file events): whoever may
    read the project may read its comments.
anything else (``gateway_client``, other extensions' schemas, events posted with
``POST /api/events``)
    only to server admins, and only when every ``path`` and ``source_path`` in it
    is readable by them.

An event is decided when it is emitted, in the emitter's own flow: jupyter_events
calls each listener there and only schedules what it returns. So a kernel's
``shutdown`` is decided while the kernel is still bound to its project. A ``start``
is emitted before the kernel manager binds the new kernel; it is decided when it
is sent, from the project of the kernel's working folder (the rule the binding
uses). Any error while deciding drops the event for that recipient, and so does
a revoked or expired token: a subscription lasts, the permission to read does not.
"""

from __future__ import annotations

import os
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar

from jupyter_server.services.events.handlers import SubscribeWebsocket

from ..identity.provider import WorkspaceUser
from ..paths import Level, Location, PathRefused, locate_in
from ..policy import PolicySnapshot, check_project, check_workspace
from ..policy.requests import may_decide
from ..store.access_requests import ACCESS_REQUEST_SCHEMA_ID
from ..store.comments import COMMENT_SCHEMA_ID
from .authz.access import decide_location
from .kernels import project_at

CONTENTS_SCHEMA = "https://events.jupyter.org/jupyter_server/contents_service/v1"
KERNEL_ACTIONS_SCHEMA = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
EXECUTION_SCHEMA = "https://events.jupyter.org/jupyter_workspace_perms/kernel/execution/v1"
PATH_FIELDS = ("path", "source_path")  # fields that name a file, in any schema
AUDIT = "workspace:audit"
EXECUTE = "project:execute"
READ = "project:read"


@dataclass
class Recipient:
    """One subscriber, as the policy knows them at the moment of one event."""

    socket: WorkspaceSubscribeWebsocket
    user: WorkspaceUser
    snap: PolicySnapshot
    now: float

    def signed_in(self) -> bool:
        """Whether the token the recipient subscribed with is still usable (not revoked,
        not expired); a sign-in without a token (trusted proxy) always is."""
        if self.user.token_id is None:
            return True
        token = self.snap.tokens_by_id.get(self.user.token_id)
        return token is not None and token.usable(self.now)

    def server_admin(self) -> bool:
        """Whether the recipient is a server admin (``WorkspaceAuthorizer.server_admins``)."""
        ask = getattr(self.socket.authorizer, "is_server_admin", None)
        return ask is not None and bool(ask(self.socket, self.snap, self.user, self.now))

    def may_read(self, data: dict[str, Any], fields: tuple[str, ...]) -> bool:
        """Whether every path the event names in ``fields`` is readable and not hidden."""
        for name in fields:
            if name not in data or data[name] is None:
                continue
            found = _located(self.socket, data, name, self.snap)
            if found is None:
                return False
            loc, loose = found
            if not decide_location(self.snap, self.user.subject, loc, "read", self.now).allowed:
                return False
            if loose and not self.holds(loc, AUDIT):
                return False
        return True

    def holds(self, loc: Location, permission: str) -> bool:
        """A ``workspace:*`` permission in the workspace of ``loc``."""
        ws_id = self.snap.workspaces_by_slug.get(loc.workspace or "")
        if ws_id is None:
            return False
        return check_workspace(self.snap, self.user.subject, ws_id, permission, self.now).allowed

    def may_run_in(self, project_id: int | None) -> bool:
        """Whether the recipient may run code in the project (kernels are theirs to see)."""
        if project_id is None or project_id not in self.snap.projects:
            return False
        return check_project(self.snap, self.user.subject, project_id, EXECUTE, self.now).allowed


# one event's locations, shared by its recipients: jupyter_events calls every
# listener of one event in a row, with the same ``data`` (kept alive here, so it is
# never mistaken for a later event); replaced whole, never changed in place but for
# the memo of its own event
_last_event: tuple[Any, Any, dict[str, Any]] = (None, None, {})


def _located(
    socket: WorkspaceSubscribeWebsocket, data: dict[str, Any], name: str, snap: PolicySnapshot
) -> tuple[Location, bool] | None:
    """The location of ``data[name]`` and whether it is a *loose* workspace entry (directly
    in a workspace folder, not a file there); None when refused or hidden."""
    global _last_event
    event = _last_event
    if event[0] is not data or event[1] is not snap:
        event = _last_event = (data, snap, {})
    memo: dict[str, tuple[Location, bool] | None] = event[2]
    if name not in memo:
        memo[name] = _locate(socket, data[name], snap)
    return memo[name]


def _locate(
    socket: WorkspaceSubscribeWebsocket, raw: Any, snap: PolicySnapshot
) -> tuple[Location, bool] | None:
    if not isinstance(raw, str):
        return None
    manager = socket.contents_manager
    parts = [p for p in raw.split("/") if p]
    if not getattr(manager, "allow_hidden", False) and any(p.startswith(".") for p in parts):
        return None
    root_dir = manager.root_dir
    try:
        loc = locate_in(snap, root_dir, raw)
    except PathRefused:
        return None
    loose = loc.level is Level.workspace_file and not os.path.isfile(
        os.path.join(root_dir, loc.path)
    )
    return loc, loose


def contents_event(r: Recipient, data: dict[str, Any]) -> bool | None:
    """File events: every path readable by the recipient."""
    if not isinstance(data.get("path"), str):
        return False
    return r.may_read(data, PATH_FIELDS)


def kernel_event(r: Recipient, data: dict[str, Any]) -> bool | None:
    """Kernel events: users who may run code in the kernel's project; None: decide later."""
    kernel_id = data.get("kernel_id")
    if not isinstance(kernel_id, str):
        return r.server_admin()
    project_id = r.socket.kernel_project(kernel_id, r.snap, started=False)
    if project_id is None:
        return None  # a kernel being started: bound once started
    return r.may_run_in(project_id)


def kernel_event_later(r: Recipient, data: dict[str, Any]) -> bool:
    """A kernel event whose kernel was not bound yet when it was emitted."""
    kernel_id = data.get("kernel_id")
    if not isinstance(kernel_id, str):
        return False
    project_id = r.socket.kernel_project(kernel_id, r.snap, started=True)
    if project_id is None:
        return r.server_admin()
    return r.may_run_in(project_id)


def execution_event(r: Recipient, data: dict[str, Any]) -> bool | None:
    """Execution audit events: auditors of the workspace who may read the project."""
    project_id = data.get("project_id")
    project = r.snap.projects.get(project_id) if isinstance(project_id, int) else None
    if project is None:
        return False
    if not check_project(r.snap, r.user.subject, project.id, READ, r.now).allowed:
        return False
    may_audit = check_workspace(r.snap, r.user.subject, project.workspace_id, AUDIT, r.now)
    return may_audit.allowed and r.may_read(data, ("notebook", *PATH_FIELDS))


def access_request_event(r: Recipient, data: dict[str, Any]) -> bool | None:
    """Access request events: the requester, and whoever may decide the request now."""
    workspace_id, project_id = data.get("workspace_id"), data.get("project_id")
    if not isinstance(workspace_id, int) or workspace_id not in r.snap.workspaces:
        return False
    if project_id is not None and (
        not isinstance(project_id, int)
        or r.snap.projects.get(project_id) is None
        or r.snap.projects[project_id].workspace_id != workspace_id
    ):
        return False
    if data.get("username") == r.user.username:
        return True
    return may_decide(r.snap, r.user.subject, workspace_id, project_id, r.now).allowed


def comment_event(r: Recipient, data: dict[str, Any]) -> bool | None:
    """Comment events: readers of the file (and so of the project) they name."""
    if not isinstance(data.get("path"), str):
        return False
    return r.may_read(data, PATH_FIELDS)


def other_event(r: Recipient, data: dict[str, Any]) -> bool | None:
    """Any other schema: server admins, for paths they may read."""
    return r.server_admin() and r.may_read(data, PATH_FIELDS)


RULES = {
    CONTENTS_SCHEMA: contents_event,
    KERNEL_ACTIONS_SCHEMA: kernel_event,
    EXECUTION_SCHEMA: execution_event,
    ACCESS_REQUEST_SCHEMA_ID: access_request_event,
    COMMENT_SCHEMA_ID: comment_event,
}


class WorkspaceSubscribeWebsocket(SubscribeWebsocket):
    """``/api/events/subscribe`` for every signed-in user, each event to whoever may see it."""

    # the Authorizer opens the stream to every signed-in user for this class only
    workspace_perms_per_recipient: ClassVar[bool] = True

    def event_listener(
        self, logger: Any, schema_id: str, data: dict[str, Any]
    ) -> Coroutine[Any, Any, None]:
        """Decide now, in the emitter's flow; send (or not) in the task jupyter_events runs."""
        try:
            verdict = self._decide(schema_id, data, later=False)
        except Exception:
            self.log.exception("event stream: could not decide a %s event; not sent", schema_id)
            verdict = False
        return self._deliver(logger, schema_id, data, verdict)

    async def _deliver(
        self, logger: Any, schema_id: str, data: dict[str, Any], verdict: bool | None
    ) -> None:
        if verdict is None:
            try:
                verdict = self._decide(schema_id, data, later=True)
            except Exception:
                self.log.exception("event stream: could not decide a %s event", schema_id)
                verdict = False
        if verdict:
            await super().event_listener(logger, schema_id, data)

    def _decide(self, schema_id: str, data: dict[str, Any], later: bool) -> bool | None:
        user = self.current_user
        store = self.settings.get("workspace_perms_store")
        if not isinstance(user, WorkspaceUser) or store is None or not isinstance(data, dict):
            return False
        recipient = Recipient(self, user, store.snapshot, time.time())
        if not recipient.signed_in():
            return False
        if later:
            return schema_id == KERNEL_ACTIONS_SCHEMA and kernel_event_later(recipient, data)
        return RULES.get(schema_id, other_event)(recipient, data)

    def kernel_project(self, kernel_id: str, snap: PolicySnapshot, started: bool) -> int | None:
        """The project a kernel is bound to; once ``started``, also the project of its
        working folder (the kernel manager binds a new kernel after its start event)."""
        manager = self.kernel_manager
        project_of = getattr(manager, "project_of", None)
        project_id = None if project_of is None else project_of(kernel_id)
        if project_id is not None or not started or kernel_id not in manager:
            return None if project_id is None else int(project_id)
        cwd = getattr(manager.get_kernel(kernel_id).provisioner, "cwd", None)
        return None if cwd is None else project_at(snap, self.contents_manager.root_dir, str(cwd))


default_handlers: list[tuple[str, Any]] = [(r"/api/events/subscribe", WorkspaceSubscribeWebsocket)]
