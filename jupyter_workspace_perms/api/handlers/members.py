"""Members and guests of a workspace; adding, changing, removing; joining by domain invite."""

from __future__ import annotations

from typing import Any

from ...domains import email_in_domain, invite_domain_for
from ...errors import NotFound
from ...policy import (
    PolicySnapshot,
    Role,
    can_add_member,
    can_join,
    can_set_member,
    readable_project_ids,
    workspace_people,
    workspace_person,
)
from ...store import PolicyWriter
from .. import models
from .base import Call, WorkspacePermsHandler, api, refusal, route

WS = "/workspaces/{ws}"


def target_user(snap: PolicySnapshot, username: str) -> int | None:
    """The id of ``username`` (emails match case-insensitively), if known."""
    found = snap.users_by_name.get(username)
    if found is None and "@" in username:
        found = snap.users_by_name.get(username.strip().lower())
    return found


def person_model(snap: PolicySnapshot, call: Call, user_id: int) -> dict[str, Any]:
    """A member just added or joined, as the caller may see them (after the change)."""
    assert call.workspace is not None
    visible = readable_project_ids(snap, call.user.subject, call.now)
    person = workspace_person(snap, call.workspace.id, user_id, call.now, visible)
    assert person is not None  # a member now
    return models.member(person)


class MembersHandler(WorkspacePermsHandler):
    """``/workspaces/{ws}/members``."""

    @api("members.list")
    async def get(self, call: Call) -> None:
        """Members and guests; a guest's projects only where the caller may see them."""
        ws = call.workspace
        assert ws is not None
        visible = readable_project_ids(call.snap, call.user.subject, call.now)
        people = workspace_people(call.snap, ws.id, call.now, visible)
        self.write_json({"members": [models.member(p) for p in people]})


class MemberHandler(WorkspacePermsHandler):
    """``/workspaces/{ws}/members/{user}``."""

    @api("member.put")
    async def put(self, call: Call) -> None:
        """Add a member (an unknown email becomes a new user) or change their role.

        With ``only_new`` it only adds: an existing member (the owner included) is
        refused with 409 ``already_member`` rather than silently given another role.
        """
        ws = call.workspace
        assert ws is not None
        role = Role.parse(call.body["role"])
        username = call.args["user"]
        user_id = target_user(call.snap, username)
        new_user = -1  # nobody's id: a user created by this request is not the owner
        target = new_user if user_id is None else user_id
        guard = can_add_member if call.body.get("only_new", False) else can_set_member
        decision = guard(call.snap, call.user.subject, ws.id, target, role, call.now)
        if not decision.allowed:
            raise refusal(decision)

        def put(writer: PolicyWriter) -> int:
            name = username
            if user_id is None:
                name = writer.ensure_user(username, email_verified=False).username
            writer.set_member(ws.slug, name, role.name)
            return writer.user(name).id

        new_id = await self.change(put, call.user)
        self.write_json(person_model(self.store.snapshot, call, new_id))

    @api("member.delete")
    async def delete(self, call: Call) -> None:
        """Remove a member; the owner cannot be removed."""
        ws = call.workspace
        assert ws is not None
        user_id = target_user(call.snap, call.args["user"])
        if user_id is None or (ws.id, user_id) not in call.snap.memberships:
            raise NotFound(f"{call.args['user']} is not a member of {ws.slug}")
        decision = can_set_member(call.snap, call.user.subject, ws.id, user_id, None, call.now)
        if not decision.allowed:
            raise refusal(decision)
        username = call.snap.users[user_id].username
        await self.change(lambda w: w.remove_member(ws.slug, username), call.user)
        self.set_status(204)
        self.finish()


class JoinHandler(WorkspacePermsHandler):
    """``/workspaces/{ws}/join``: domain invites."""

    @api("workspace.join")
    async def post(self, call: Call) -> None:
        """Join as viewer with a verified email in the owner's domain."""
        ws = call.workspace
        assert ws is not None
        eligibility = invite_domain_for(call.snap.users[ws.owner_id].email)
        decision = can_join(
            call.snap,
            call.user.subject,
            ws.id,
            invites_open=ws.domain_invites and eligibility.available,
            email_in_domain=bool(eligibility.domain)
            and email_in_domain(call.user.email, eligibility.domain or ""),
            email_verified=call.user.email_verified,
        )
        if not decision.allowed:
            raise refusal(decision)
        username = call.user.username

        def join(writer: PolicyWriter) -> None:
            writer.set_member(ws.slug, username, Role.viewer.name)

        await self.change(join, call.user)
        self.write_json(person_model(self.store.snapshot, call, call.user.user_id), 201)


default_handlers = [
    (route(WS + "/members"), MembersHandler),
    (route(WS + "/members/{user}"), MemberHandler),
    (route(WS + "/join"), JoinHandler),
]
