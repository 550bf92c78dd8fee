"""Server-wide routes (docs/design.md#server-wide-routes): terminals are
off, config sections are per user, posting events is for server admins, and
resources of other extensions are refused unless an operator lists them.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.httpclient import HTTPClientError

from tests.helpers.http import Http
from tests.helpers.world import World

NON_ADMINS = ("editor", "contributor", "viewer", "guest", "outsider")


async def test_terminals_are_off_by_default(
    http: Http, wsp_world: World, jp_serverapp: Any, jp_ws_fetch: Any
) -> None:
    assert jp_serverapp.terminals_enabled is False
    for who in ("admin", "editor", "outsider"):
        for method, url, body in (
            ("GET", "api/terminals", None),
            ("POST", "api/terminals", {"cwd": "/etc"}),
            ("GET", "api/terminals/1", None),
            ("DELETE", "api/terminals/1", None),
        ):
            reply = await http(who, method, url, body)
            assert reply.code in (403, 404), (who, method, url, reply)
        with pytest.raises(HTTPClientError) as caught:
            await jp_ws_fetch("terminals", "websocket", "1", headers=wsp_world.auth(who))
        assert caught.value.code in (403, 404), who


async def test_server_configuration_is_per_user(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    """More in tests/server/test_server_wide.py."""
    section = "api/config/wsptest"
    for who in NON_ADMINS:
        for method in ("PUT", "PATCH"):
            reply = await http(who, method, section, {"own": who})
            assert reply.code in (200, 204), (who, method, reply)
    # reading is open to anyone signed in: each reads their own values
    reply = await http.get("viewer", section)
    assert reply.code == 200 and reply.json == {"own": "viewer"}, reply
    assert (await http("admin", "PUT", section, {"ok": 1})).code in (200, 204)
    assert (await http.get("viewer", section)).json == {"own": "viewer"}
    # no identity, no access
    reply = await http(None, "PUT", section, {"evil": "anon"})
    assert reply.code in (401, 403), reply
    assert (await http.get("admin", section)).json == {"ok": 1}


async def test_posting_events_is_for_server_admins(
    http: Http, wsp_world: World, jp_ws_fetch: Any
) -> None:
    """Subscribing is open, per recipient (tests/server/test_event_stream.py)."""
    event = {"schema_id": "https://example.test/nothing", "version": "1", "data": {}}
    for who in NON_ADMINS:
        reply = await http(who, "POST", "api/events", event)
        assert (reply.code, reply.reason) == (403, "admins_only"), (who, reply)
    # the Admin passes the gate (and the server then judges the event itself)
    reply = await http("admin", "POST", "api/events", event)
    assert reply.code == 400, reply  # an unregistered schema
    ws = await jp_ws_fetch("api", "events", "subscribe", headers=wsp_world.auth("admin"))
    ws.close()


class SomeExtensionHandler(APIHandler):
    """A route of another server extension, with a resource we do not know."""

    auth_resource = "someext:thing"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish(json.dumps({"ok": True}))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        self.finish(json.dumps({"posted": True}))


async def test_unknown_resources_are_refused_until_listed(
    http: Http, wsp_world: World, jp_serverapp: Any, jp_base_url: str
) -> None:
    jp_serverapp.web_app.add_handlers(
        ".*$", [(jp_base_url.rstrip("/") + "/someext/thing", SomeExtensionHandler)]
    )
    for who in ("admin", "editor", "viewer", "guest", "outsider"):
        for method in ("GET", "POST"):
            reply = await http(who, method, "someext/thing", {} if method == "POST" else None)
            assert (reply.code, reply.reason) == (403, "unknown_resource"), (who, method, reply)
    jp_serverapp.authorizer.allowed_extension_resources = ["someext:thing"]
    try:
        for who in ("admin", "viewer", "outsider"):
            reply = await http.get(who, "someext/thing")
            assert reply.code == 200 and reply.json == {"ok": True}, (who, reply)
        reply = await http(None, "GET", "someext/thing")
        assert reply.code in (401, 403), reply
    finally:
        jp_serverapp.authorizer.allowed_extension_resources = []
    reply = await http.get("admin", "someext/thing")
    assert (reply.code, reply.reason) == (403, "unknown_resource"), reply


async def test_permission_questions_in_api_me_are_answered_not_failed(http: Http) -> None:
    """``/api/me?permissions=…`` asks the Authorizer about a resource without any path:
    the answer may be "no", but the request itself must work (JupyterLab asks it)."""
    question = json.dumps({"contents": ["read", "write"], "kernels": ["read"], "x:y": ["read"]})
    for who in ("admin", "viewer", "outsider"):
        reply = await http.raw(who, "GET", f"api/me?permissions={quote(question)}")
        assert reply.code == 200, (who, reply)
        permissions = reply.json["permissions"]
        assert set(permissions) >= {"contents", "kernels", "x:y"}, (who, permissions)
        assert permissions["x:y"] == [], (who, permissions)
