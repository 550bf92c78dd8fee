"""Access requests over real HTTP: ask, merge, see, decide; the role works on the next request.

``wsp_world``: acme owned by ada (Admin); ed (Editor) created ``public`` and ``private``
(so he is their project admin); cora Contributor, vic Viewer, gus a guest (viewer of
``public``), otto an outsider. Every refusal is checked for its status and reason, and
for changing nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from tornado.websocket import WebSocketClientConnection

from jupyter_workspace_perms.store import orm
from tests.helpers.api import Api, BodyCase, RouteCase, check_bad_bodies, check_refusals
from tests.helpers.http import Http, put_file

REQUESTS = "workspaces/acme/access-requests"
SCHEMA = "https://events.jupyter.org/jupyter_workspace_perms/access_request/v1"
MESSAGE = "please-let-me-edit-7c1f"  # the requester's words: never in the audit log
TIMEOUT = 60.0  # a guard against a hang, not a timing assertion


async def ask(api: Api, who: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = await api(who, "POST", REQUESTS, body)
    assert reply.code == 201, reply
    return dict(reply.body)


async def get(api: Api, who: str, params: dict[str, str]) -> tuple[int, Any]:
    """``GET …/access-requests`` with a query string (``Api`` sends paths only)."""
    parts = ["api", "workspace-perms", *REQUESTS.split("/")]
    r = await api.fetch(who, *parts, params=params)
    return r.code, json.loads(r.body)


async def listed(api: Api, who: str, status: str | None = None) -> list[dict[str, Any]]:
    code, body = await get(api, who, {} if status is None else {"status": status})
    assert code == 200, (who, code, body)
    return list(body["requests"])


def grant_of(api: Api, email: str, project: str) -> tuple[str, Any] | None:
    snap = api.store.snapshot
    found = snap.project_named("acme", project)
    assert found is not None
    grant = snap.grants.get((found.id, snap.users_by_name[email]))
    return None if grant is None else (grant.role.name, grant.expires_at)


async def test_an_approved_request_gives_the_role_on_the_next_request(api: Api, http: Http) -> None:
    refused = await http("viewer", "PUT", "api/contents/acme/public/plan.txt", put_file("v1"))
    assert refused.code == 403, refused

    first = await ask(api, "viewer", {"project": "public", "role": "contributor"})
    assert first["status"] == "pending" and first["merged"] is False
    assert (first["username"], first["current_role"], first["role"]) == (
        "vic@acme.test",
        "viewer",
        "contributor",
    )
    assert first["can_decide"] is False
    again = await ask(api, "viewer", {"project": "public", "role": "editor", "message": MESSAGE})
    assert again["merged"] is True and again["id"] == first["id"]
    assert (again["role"], again["message"]) == ("editor", MESSAGE)

    # who sees it: vic, the project's admins (ed by grant, ada by membership), nobody else
    for who in ("viewer", "editor", "admin"):
        assert [r["id"] for r in await listed(api, who)] == [first["id"]], who
    for who in ("contributor", "guest"):
        assert await listed(api, who) == [], who
    assert (await api("outsider", "GET", REQUESTS)).code == 404
    assert await get(api, "viewer", {"status": "everything"}) == (
        400,
        {
            "message": "status must be pending, approved, denied or all, not 'everything'",
            "reason": "bad_status",
        },
    )
    [as_ed] = await listed(api, "editor", "pending")
    assert as_ed["can_decide"] is True
    assert await listed(api, "editor", "denied") == []

    one = f"{REQUESTS}/{first['id']}"
    version = api.version()
    hidden = await api("contributor", "PATCH", one, {"status": "approved"})
    assert (hidden.code, hidden.reason) == (404, "not_found"), hidden
    own = await api("viewer", "PATCH", one, {"status": "approved"})
    assert (own.code, own.reason) == (403, "role_too_low"), own
    assert api.version() == version and grant_of(api, "vic@acme.test", "public") is None

    decided = await api.ok("editor", "PATCH", one, {"status": "approved"})
    assert (decided["status"], decided["decided_by"]) == ("approved", "ed@acme.test")
    assert decided["current_role"] == "editor" and decided["can_decide"] is False
    assert grant_of(api, "vic@acme.test", "public") == ("editor", None)

    written = await http("viewer", "PUT", "api/contents/acme/public/plan.txt", put_file("v1"))
    assert written.code == 201, written
    twice = await api("admin", "PATCH", one, {"status": "denied"})
    assert (twice.code, twice.reason) == (409, "request_not_pending"), twice
    [outcome] = await listed(api, "viewer", "approved")
    assert outcome["status"] == "approved" and outcome["decided_at"]

    actions = [a for a in ("created", "merged", "approved") if api.audit(f"access_request.{a}")]
    assert actions == ["created", "merged", "approved"]
    [(actor, target, details)] = api.audit("access_request.approved")
    assert (actor, target) == ("ed@acme.test", "acme/public:vic@acme.test")
    assert details["role"] == "editor"
    assert api.audit("collaborator.set")[-1][1] == "acme/public:vic@acme.test"
    with api.store.engine.connect() as connection:
        stored = connection.execute(select(orm.AuditEvent.details)).scalars().all()
    assert MESSAGE not in json.dumps(stored)


async def test_a_denied_request_grants_nothing(api: Api) -> None:
    asked = await ask(api, "guest", {"role": "viewer", "message": "let me in"})
    assert (asked["project"], asked["current_role"]) == (None, None)
    one = f"{REQUESTS}/{asked['id']}"
    # ed is a project admin, not a member manager: a workspace role is not his to decide
    assert (await api("editor", "PATCH", one, {"status": "approved"})).code == 404
    assert await listed(api, "editor") == []
    version = api.version()
    denied = await api.ok("admin", "PATCH", one, {"status": "denied"})
    assert (denied["status"], denied["decided_by"]) == ("denied", "ada@acme.test")
    snap = api.store.snapshot
    acme = snap.workspaces_by_slug["acme"]
    assert (acme, snap.users_by_name["gus@gmail.test"]) not in snap.memberships
    assert api.version() == version, "a denial changed the policy"
    assert [r["status"] for r in await listed(api, "guest")] == ["denied"]
    assert len(api.audit("access_request.denied")) == 1


async def test_a_workspace_role_is_approved_by_an_admin_and_never_demotes(api: Api) -> None:
    asked = await ask(api, "viewer", {"role": "contributor"})
    promoted = await ask(api, "contributor", {"role": "editor"})
    await api.ok("admin", "PUT", "workspaces/acme/members/vic@acme.test", {"role": "editor"})
    version = api.version()
    late = await api("admin", "PATCH", f"{REQUESTS}/{asked['id']}", {"status": "approved"})
    assert (late.code, late.reason) == (409, "already_has_role"), late
    assert api.version() == version
    snap = api.store.snapshot
    acme = snap.workspaces_by_slug["acme"]
    assert snap.memberships[(acme, snap.users_by_name["vic@acme.test"])].name == "editor"

    await api.ok("admin", "PATCH", f"{REQUESTS}/{promoted['id']}", {"status": "approved"})
    snap = api.store.snapshot
    assert snap.memberships[(acme, snap.users_by_name["cora@acme.test"])].name == "editor"
    members = await api.ok("contributor", "GET", "workspaces/acme/members")
    assert {m["username"]: m["role"] for m in members["members"]}["cora@acme.test"] == "editor"


ROUTES = [
    pytest.param(
        RouteCase(
            "access_requests.create",
            "POST",
            REQUESTS,
            (
                ("outsider", 404, "not_found"),
                ("viewer", 404, "not_found"),  # a private project stays unknown
                ("guest", 404, "not_found"),
            ),
            body={"project": "private", "role": "editor"},
        ),
        id="asking-on-a-project-you-cannot-see-is-404",
    ),
    pytest.param(
        RouteCase(
            "access_requests.create",
            "POST",
            REQUESTS,
            (
                ("viewer", 409, "already_has_role"),
                ("editor", 409, "already_has_role"),
                ("admin", 409, "already_has_role"),
            ),
            body={"project": "public", "role": "viewer"},
        ),
        id="asking-for-a-role-you-hold-is-409",
    ),
    pytest.param(
        RouteCase(
            "access_requests.create",
            "POST",
            REQUESTS,
            (("outsider", 404, "not_found"), ("admin", 409, "already_has_role")),
            body={"role": "admin"},
        ),
        id="workspace-roles-are-for-members-and-guests",
    ),
    pytest.param(
        RouteCase(
            "access_requests.create",
            "POST",
            REQUESTS,
            (("viewer", 404, "not_found"),),
            body={"project": "missing", "role": "editor"},
        ),
        id="an-unknown-project-is-404",
    ),
    pytest.param(
        RouteCase("access_requests.list", "GET", REQUESTS, (("outsider", 404, "not_found"),)),
        id="listing-is-for-members-and-guests",
    ),
    pytest.param(
        RouteCase(
            "access_request.patch",
            "PATCH",
            REQUESTS + "/999",
            (("admin", 404, "not_found"), ("outsider", 404, "not_found")),
            body={"status": "approved"},
        ),
        id="an-unknown-request-is-404",
    ),
]


@pytest.mark.parametrize("case", ROUTES)
async def test_route_refuses_who_may_not_use_it(api: Api, case: RouteCase) -> None:
    await check_refusals(api, case)
    assert api.audit("access_request.created") == []


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            BodyCase(
                "access_requests.create",
                "POST",
                REQUESTS,
                "viewer",
                (
                    {},
                    {"role": "boss"},
                    {"role": "editor", "why": "x"},
                    {"role": "editor", "message": "x" * 2001},
                ),
            ),
            id="create",
        ),
        pytest.param(
            BodyCase(
                "access_request.patch",
                "PATCH",
                REQUESTS + "/1",
                "admin",
                ({}, {"status": "pending"}, {"status": "approved", "role": "admin"}),
            ),
            id="decide",
        ),
    ],
)
async def test_bad_bodies_are_refused(api: Api, case: BodyCase) -> None:
    await check_bad_bodies(api, case)


# -- the event stream ---------------------------------------------------------------------


async def read_until(
    ws: WebSocketClientConnection, last: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """The access request events up to and including the first for which ``last`` holds."""
    seen: list[dict[str, Any]] = []
    while True:
        raw = await asyncio.wait_for(ws.read_message(), TIMEOUT)
        assert raw is not None, f"the stream closed after {seen}"
        event = json.loads(raw)
        if event["schema_id"] != SCHEMA:
            continue
        seen.append(event)
        if last(event):
            return seen


async def test_events_reach_the_requester_and_the_deciders_only(
    api: Api, jp_ws_fetch: Any, wsp_world: Any
) -> None:
    sockets = {
        who: await jp_ws_fetch("api", "events", "subscribe", headers=wsp_world.auth(who))
        for who in ("viewer", "contributor", "editor")
    }
    try:
        vic = await ask(api, "viewer", {"project": "public", "role": "editor", "message": MESSAGE})
        cora = await ask(api, "contributor", {"project": "public", "role": "editor"})
        await ask(api, "viewer", {"project": "public", "role": "contributor"})  # merged: last

        def steps(events: list[dict[str, Any]]) -> list[tuple[int, str]]:
            return [(e["request_id"], e["action"]) for e in events]

        def vics_merge(e: dict[str, Any]) -> bool:
            return e["action"] == "merged"

        got = steps(await read_until(sockets["viewer"], vics_merge))
        assert got == [(vic["id"], "created"), (vic["id"], "merged")]
        got = steps(
            await read_until(sockets["contributor"], lambda e: e["request_id"] == cora["id"])
        )
        assert got == [(cora["id"], "created")]
        got = steps(await read_until(sockets["editor"], vics_merge))
        assert got == [(vic["id"], "created"), (cora["id"], "created"), (vic["id"], "merged")]
    finally:
        for socket in sockets.values():
            socket.close()


async def test_requests_sent_at_once_are_merged_into_one(api: Api) -> None:
    """Twenty identical requests in flight together leave one pending request, not twenty:
    the database keeps one pending request per person and place."""
    body = {"project": "public", "role": "editor"}
    replies = await asyncio.gather(*(api("viewer", "POST", REQUESTS, body) for _ in range(20)))
    assert {r.code for r in replies} == {201}, replies
    assert len({r.body["id"] for r in replies}) == 1, replies
    assert sum(not r.body["merged"] for r in replies) == 1
    pending = await listed(api, "viewer", "pending")
    assert [(r["project"], r["role"]) for r in pending] == [("public", "editor")]


async def test_a_request_changed_since_the_decider_read_it_is_not_decided(api: Api) -> None:
    """The requester merges a new role in while an approval is under way: the approval
    (checked against the role it read) is refused, and the request stays pending."""
    from jupyter_workspace_perms.errors import Conflict
    from jupyter_workspace_perms.store.access_requests import decide

    asked = await ask(api, "viewer", {"project": "public", "role": "contributor"})
    await ask(api, "viewer", {"project": "public", "role": "editor"})  # merged in
    with pytest.raises(Conflict) as refused, api.store.write("ada@acme.test") as writer:
        decide(writer, asked["id"], "approved", "acme/public", "contributor")
    assert refused.value.reason == "request_changed"
    assert [(r["status"], r["role"]) for r in await listed(api, "viewer")] == [
        ("pending", "editor")
    ]
    assert grant_of(api, "vic@acme.test", "public") is None
