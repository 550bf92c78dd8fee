"""Access requests: members and guests ask for a higher role, deciders approve or deny.

The rules are the policy core's (:mod:`...policy.requests`); storage is
:mod:`...store.access_requests`. An approval writes the grant and the request's
status in one policy transaction, after the grant guards said the approver may give
that role, so an approval never gives more than its approver could give directly; the
writer reloads the snapshot, so the new role works on the requester's next request.
Each step is an audit row and a ``jupyter_events`` event that the event stream sends
only to the requester and to whoever may decide the request.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...errors import Conflict, InvalidInput, NotFound
from ...policy import PolicySnapshot, Role, Subject, check_workspace
from ...policy.requests import held_role, may_approve, may_decide, may_request, may_see
from ...store import PolicyWriter
from ...store.access_requests import (
    ACCESS_REQUEST_SCHEMA_ID,
    APPROVED,
    PENDING,
    STATUSES,
    AccessRequests,
    RequestInfo,
    decide,
    info_of,
)
from ...timestamps import iso
from .base import Call, WorkspacePermsHandler, api, refusal, route

WS = "/workspaces/{ws}"


def request_model(
    snap: PolicySnapshot, subject: Subject, info: RequestInfo, now: float
) -> dict[str, Any] | None:
    """A request as the caller may see it (None when its project or requester is gone)."""
    workspace = snap.workspaces.get(info.workspace_id)
    requester = snap.users.get(info.user_id)
    project = None if info.project_id is None else snap.projects.get(info.project_id)
    if workspace is None or requester is None or (info.project_id is not None and not project):
        return None
    asker = Subject(requester.id, requester.login_provider)
    held = held_role(snap, asker, workspace.id, info.project_id, now)
    pending = info.status == PENDING
    return {
        "id": info.id,
        "workspace": workspace.slug,
        "project": None if project is None else project.name,
        "username": requester.username,
        "role": info.role,
        "current_role": None if held is None else held.name,
        "message": info.message,
        "status": info.status,
        "created_at": iso(info.created_at),
        "updated_at": iso(info.updated_at),
        "decided_by": info.decided_by,
        "decided_at": iso(info.decided_at),
        "can_decide": pending
        and may_decide(snap, subject, workspace.id, info.project_id, now).allowed,
    }


class AccessRequestsBase(WorkspacePermsHandler):
    """What the access request routes share: storage off the loop, events, visibility."""

    @property
    def requests(self) -> AccessRequests:
        return AccessRequests(self.store)

    def knows_workspace(self, call: Call) -> None:
        """Outsiders may not know the workspace exists (404, as on every route)."""
        ws = call.workspace
        assert ws is not None
        decision = check_workspace(call.snap, call.user.subject, ws.id, "workspace:read", call.now)
        if not decision.visible:
            raise refusal(decision)

    def emit(self, info: RequestInfo, action: str, actor: str) -> None:
        """The step as a ``jupyter_events`` event (the event stream filters it per recipient)."""
        logger = self.settings.get("event_logger")
        requester = self.store.snapshot.users.get(info.user_id)
        if logger is None or requester is None:
            return
        try:
            logger.emit(
                schema_id=ACCESS_REQUEST_SCHEMA_ID,
                data=info.event(action, actor, requester.username),
            )
        except Exception:
            self.log.exception("access request event not emitted")

    def target(self, info: RequestInfo, username: str) -> str:
        """How the audit row names the request's place: ``ws/project:user`` or ``ws:user``."""
        snap = self.store.snapshot
        slug = snap.workspaces[info.workspace_id].slug
        project = None if info.project_id is None else snap.projects.get(info.project_id)
        return f"{slug}:{username}" if project is None else f"{slug}/{project.name}:{username}"


class AccessRequestsHandler(AccessRequestsBase):
    """``/workspaces/{ws}/access-requests``."""

    @api("access_requests.list")
    async def get(self, call: Call) -> None:
        """The caller's own requests and those they may decide, oldest first."""
        ws = call.workspace
        assert ws is not None
        self.knows_workspace(call)
        status = self.get_query_argument("status", "all")
        if status not in (*STATUSES, "all"):
            raise InvalidInput(
                f"status must be pending, approved, denied or all, not {status!r}", "bad_status"
            )
        found = await self.off_loop(
            lambda: self.requests.of_workspace(ws.id, None if status == "all" else status)
        )
        subject = call.user.subject
        models = [
            request_model(call.snap, subject, info, call.now)
            for info in found
            if may_see(call.snap, subject, info.user_id, ws.id, info.project_id, call.now)
        ]
        self.write_json({"requests": [m for m in models if m is not None]})

    @api("access_requests.create")
    async def post(self, call: Call) -> None:
        """Ask for a role; a pending request for the same place is merged into."""
        ws = call.workspace
        assert ws is not None
        role = Role.parse(call.body["role"])
        project_id = None
        if "project" in call.body:
            project_id = call.snap.projects_by_name.get((ws.id, call.body["project"]))
            if project_id is None:
                self.knows_workspace(call)
                raise NotFound("not found (or not visible to you)", "not_found")
        decision = may_request(call.snap, call.user.subject, ws.id, project_id, role, call.now)
        if not decision.allowed:
            if decision.code == "already_has_role":
                raise Conflict(decision.reason, decision.code)
            raise refusal(decision)
        user = call.user
        where = ws.slug if project_id is None else f"{ws.slug}/{call.body['project']}"
        info, merged = await self.off_loop(
            lambda: self.requests.ask(
                ws.id,
                project_id,
                user.user_id,
                role.name,
                call.body.get("message", ""),
                user.username,
                f"{where}:{user.username}",
            )
        )
        self.emit(info, "merged" if merged else "created", user.username)
        model = request_model(self.store.snapshot, user.subject, info, call.now)
        assert model is not None
        self.write_json({**model, "merged": merged}, 201)


class AccessRequestHandler(AccessRequestsBase):
    """``/workspaces/{ws}/access-requests/{request_id}``."""

    @api("access_request.patch")
    async def patch(self, call: Call) -> None:
        """Approve (grant exactly the role asked for) or deny a pending request."""
        ws = call.workspace
        assert ws is not None
        self.knows_workspace(call)
        raw_id = call.args["request_id"]
        request_id = int(raw_id) if raw_id.isascii() and raw_id.isdigit() else 0
        if request_id <= 0:
            raise NotFound("not found (or not visible to you)", "not_found")
        info = await self.off_loop(lambda: self.requests.get(ws.id, request_id))
        snap, subject, now = call.snap, call.user.subject, call.now
        if not may_see(snap, subject, info.user_id, ws.id, info.project_id, now):
            raise NotFound("not found (or not visible to you)", "not_found")
        decision = may_decide(snap, subject, ws.id, info.project_id, now)
        if not decision.allowed:
            raise refusal(replace(decision, visible=True))  # their own request: they know it
        if info.status != PENDING:
            raise Conflict(
                f"this request was already {info.status} by {info.decided_by or 'someone'}",
                "request_not_pending",
            )
        status = call.body["status"]
        role = Role.parse(info.role)
        requester = snap.users[info.user_id].username
        if status == APPROVED:
            guard = may_approve(snap, subject, ws.id, info.project_id, info.user_id, role, now)
            if not guard.allowed:
                if guard.code == "already_has_role":
                    raise Conflict(guard.reason, guard.code)
                raise refusal(guard)
        target = self.target(info, requester)
        project = None if info.project_id is None else snap.projects[info.project_id]

        def apply(writer: PolicyWriter) -> RequestInfo:
            row = decide(writer, request_id, status, target, info.role)
            if status == APPROVED and project is not None:
                writer.set_collaborator(ws.slug, project.name, requester, role.name, None)
            elif status == APPROVED:
                writer.set_member(ws.slug, requester, role.name)
            return info_of(row)

        decided = await self.change(apply, call.user)
        self.emit(decided, status, call.user.username)
        model = request_model(self.store.snapshot, subject, decided, now)
        assert model is not None
        self.write_json(model)


default_handlers = [
    (route(WS + "/access-requests"), AccessRequestsHandler),
    (route(WS + "/access-requests/{request_id}"), AccessRequestHandler),
]
