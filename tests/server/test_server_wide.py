"""Server-wide routes after issue #10 (items 6 and 15).

- Server admins: ``WorkspaceAuthorizer.server_admins``, or by default the Admins of
  the server's only workspace; nobody by default once there are several.
- ``/api/config/{section}`` is per user: the operator's sections, each user's own
  writes on top; one user's values never reach another.
- ``/metrics`` is for server admins (or public, when the operator turned
  ``authenticate_prometheus`` off).
- JupyterLab's build status is readable by every signed-in user; building is not.
"""

from __future__ import annotations

import json
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.world import World, server_config

# a missing JupyterLab must fail the run, never skip it
import_module("jupyterlab")

BOB = "bob@beta.test"
BAD_EVENT = {"schema_id": "https://example.test/none", "version": "1", "data": {}}


@pytest.fixture
def jp_server_config(wsp_db_url: str) -> dict[str, Any]:
    """JupyterLab and our extension."""
    return server_config(wsp_db_url, extensions=["jupyterlab"])


async def fetch(wsp_fetch: Any, who: str | None, method: str, path: str, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"method": method}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    elif method in ("POST", "PUT", "PATCH"):
        kwargs["body"] = "{}"
    if who is None:
        kwargs["follow_redirects"] = False
    return await wsp_fetch(who, *path.split("/"), **kwargs)


def reason(reply: Any) -> str | None:
    try:
        found = json.loads(reply.body).get("reason")
    except ValueError:
        return None
    return found if isinstance(found, str) else None


async def test_several_workspaces_have_no_server_admins_unless_listed(
    wsp_world: World, wsp_fetch: Any, jp_serverapp: Any
) -> None:
    """Posting an event is server-wide: an event of an unknown schema gets 400 once the
    gate lets the request through, 403 ``admins_only`` before."""

    async def may_post(who: str) -> bool:
        reply = await fetch(wsp_fetch, who, "POST", "api/events", BAD_EVENT)
        assert reply.code in (400, 403), (who, reply.code, reply.body)
        assert reply.code == 400 or reason(reply) == "admins_only", (who, reply.body)
        return bool(reply.code == 400)

    assert await may_post("admin")  # the Admin of the only workspace
    assert not await may_post("editor")
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    with store.write("test") as w:
        w.create_workspace("beta", BOB, "google", name="Beta")
        wsp_world.tokens["bob"] = w.create_token(BOB)[1]
    assert not await may_post("admin")
    assert not await may_post("bob")
    jp_serverapp.authorizer.server_admins = [BOB]
    try:
        assert await may_post("bob")
        assert not await may_post("admin")
    finally:
        jp_serverapp.authorizer.server_admins = None


async def test_config_sections_are_per_user(
    wsp_world: World, wsp_fetch: Any, jp_serverapp: Any
) -> None:
    section = "api/config/wsptest"

    async def read(who: str) -> Any:
        reply = await fetch(wsp_fetch, who, "GET", section)
        assert reply.code == 200, (who, reply.code, reply.body)
        return json.loads(reply.body)

    # the operator's own section (where jupyter_server writes): everyone reads it
    operator = Path(jp_serverapp.config_manager.write_config_dir)
    operator.mkdir(parents=True, exist_ok=True)
    (operator / "wsptest.json").write_text(json.dumps({"motd": "hello", "theme": "light"}))
    reply = await fetch(wsp_fetch, "admin", "PATCH", section, {"theme": "dark", "x": 1})
    assert reply.code == 200, reply.body
    for who in ("editor", "viewer", "outsider"):
        assert await read(who) == {"motd": "hello", "theme": "light"}, who
    assert await read("admin") == {"motd": "hello", "theme": "dark", "x": 1}
    # anyone signed in writes their own values, e.g. JupyterLab's dismissed news
    news = "api/config/jupyterlabapputilsextensionannouncements"
    dismissed = {"news-1": {"seen": True, "dismissed": True}}
    reply = await fetch(wsp_fetch, "viewer", "PATCH", news, dismissed)
    assert reply.code == 200 and json.loads(reply.body) == dismissed, reply.body
    assert json.loads((await fetch(wsp_fetch, "viewer", "GET", news)).body) == dismissed
    assert json.loads((await fetch(wsp_fetch, "editor", "GET", news)).body) == {}
    reply = await fetch(wsp_fetch, "viewer", "PUT", section, {"theme": "blue"})
    assert reply.code == 204, reply.body
    assert await read("viewer") == {"motd": "hello", "theme": "blue"}
    reply = await fetch(wsp_fetch, "viewer", "PATCH", section, {"theme": None})
    assert reply.code == 200, reply.body
    assert await read("viewer") == {"motd": "hello", "theme": "light"}
    assert await read("admin") == {"motd": "hello", "theme": "dark", "x": 1}
    # the operator's file is never written through the API
    assert json.loads((operator / "wsptest.json").read_text()) == {
        "motd": "hello",
        "theme": "light",
    }
    reply = await fetch(wsp_fetch, None, "PUT", section, {"evil": 1})
    assert reply.code in (302, 401, 403), reply.code
    assert await read("admin") == {"motd": "hello", "theme": "dark", "x": 1}


async def test_metrics_are_for_server_admins(
    wsp_world: World, wsp_fetch: Any, jp_serverapp: Any
) -> None:
    for who in ("editor", "viewer", "outsider"):
        reply = await fetch(wsp_fetch, who, "GET", "metrics")
        assert reply.code == 403, (who, reply.code)
    reply = await fetch(wsp_fetch, None, "GET", "metrics")
    assert reply.code in (302, 401, 403), reply.code
    reply = await fetch(wsp_fetch, "admin", "GET", "metrics")
    assert reply.code == 200 and b"http_request_duration_seconds" in reply.body, reply.code
    # the operator made them public: anyone, as they asked
    settings = jp_serverapp.web_app.settings
    settings["authenticate_prometheus"] = False
    try:
        for who in ("viewer", None):
            reply = await fetch(wsp_fetch, who, "GET", "metrics")
            assert reply.code == 200, (who, reply.code)
    finally:
        settings["authenticate_prometheus"] = True


async def test_build_status_is_readable_building_is_not(wsp_world: World, wsp_fetch: Any) -> None:
    for who in ("editor", "viewer", "guest", "outsider"):
        reply = await fetch(wsp_fetch, who, "GET", "lab/api/build")
        assert reply.code == 200 and "status" in json.loads(reply.body), (who, reply.code)
        for method in ("POST", "DELETE"):
            reply = await fetch(wsp_fetch, who, method, "lab/api/build")
            assert (reply.code, reason(reply)) == (403, "admins_only"), (who, method)
    reply = await fetch(wsp_fetch, None, "GET", "lab/api/build")
    assert reply.code in (302, 401, 403), reply.code
