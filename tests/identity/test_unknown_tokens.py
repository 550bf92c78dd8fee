"""A token that signs nobody in gets 401 with a reason on every route, before any XSRF check.

Before, a POST with an unknown token answered Jupyter's "'_xsrf' argument missing"
(403), which sent people looking for a cookie problem. The server's own token,
which JupyterLab sends in every request's ``Authorization`` header, is not a
project token and keeps Jupyter's answers (403, or the login page).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import update
from tornado.httpclient import HTTPClientError

from jupyter_workspace_perms.store import orm
from tests.helpers.world import World

UNKNOWN = "wsp_" + "k" * 43

# (method, path, JSON body): Jupyter's routes and ours, reads and changes
ROUTES = [
    ("GET", "api/contents", None),
    ("POST", "api/contents/acme/public", {"type": "file"}),
    ("PUT", "api/contents/acme/public/new.txt", {"type": "file", "format": "text", "content": ""}),
    ("DELETE", "api/contents/acme/public/new.txt", None),
    ("POST", "api/sessions", {"path": "acme/public/a.ipynb", "type": "notebook"}),
    ("POST", "api/kernels", {"name": "python3"}),
    ("GET", "api/me", None),
    ("GET", "api/workspace-perms/me", None),
    ("POST", "api/workspace-perms/tokens", {}),
    ("DELETE", "api/workspace-perms/tokens/1", None),
]


async def ask(http_server_client: Any, base: str, method: str, path: str, body: Any, secret: str):
    headers = {"Authorization": f"token {secret}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body)
    if data is None and method in ("POST", "PUT", "PATCH"):
        data = ""
    return await http_server_client.fetch(
        base + path,
        method=method,
        body=data,
        headers=headers,
        raise_error=False,
        follow_redirects=False,
    )


def expire(jp_serverapp: Any, world: World, email: str) -> None:
    """Move ``email``'s token's expiry into the past (the server's store reloads at once)."""
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    user_id = store.snapshot.users_by_name[email]
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    with store.write("test") as w:
        w.session.execute(
            update(orm.Token).where(orm.Token.user_id == user_id).values(expires_at=past)
        )


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_an_unknown_token_gets_401_unknown_token_on_every_route(
    wsp_world: World, http_server_client: Any, jp_base_url: str, method: str, path: str, body: Any
) -> None:
    r = await ask(http_server_client, jp_base_url, method, path, body, UNKNOWN)
    assert r.code == 401, (r.code, r.body)
    answer = json.loads(r.body)
    assert answer["reason"] == "unknown_token", answer
    assert "not known" in answer["message"] and "token create" in answer["message"]
    assert not [c for c in r.headers.get_list("Set-Cookie") if c.startswith("username-")]
    assert [p.name for p in (wsp_world.root / "acme" / "public").iterdir()] == []


async def test_an_expired_token_gets_401_expired_token(
    wsp_world: World, http_server_client: Any, jp_base_url: str, jp_serverapp: Any
) -> None:
    expire(jp_serverapp, wsp_world, "cora@acme.test")
    secret = wsp_world.tokens["contributor"]
    for method, path, body in ROUTES:
        r = await ask(http_server_client, jp_base_url, method, path, body, secret)
        assert r.code == 401, (path, r.code, r.body)
        answer = json.loads(r.body)
        assert answer["reason"] == "expired_token" and "expired at" in answer["message"], answer


async def test_a_revoked_token_gets_401_while_the_server_token_keeps_jupyters_answers(
    wsp_world: World, http_server_client: Any, jp_base_url: str, jp_serverapp: Any
) -> None:
    """A client that sends the server's token (JupyterLab did, before its pages stopped
    carrying it) gets no identity from it, and no 401 either."""
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    snap = store.snapshot
    [token_id] = [
        t.id for t in snap.tokens.values() if t.user_id == snap.users_by_name["ed@acme.test"]
    ]
    with store.write("test") as w:
        w.revoke_token(token_id)
    revoked = wsp_world.tokens["editor"]
    server_token = jp_serverapp.identity_provider.server_token
    assert server_token and not jp_serverapp.identity_provider.token  # kept off the pages
    for method, path, body in ROUTES:
        r = await ask(http_server_client, jp_base_url, method, path, body, revoked)
        assert (r.code, json.loads(r.body)["reason"]) == (401, "unknown_token"), (path, r.body)
        r = await ask(http_server_client, jp_base_url, method, path, body, server_token)
        expected = 401 if path.startswith("api/workspace-perms/") else 403
        assert r.code == expected, (path, r.code, r.body)
        if expected == 401:
            assert json.loads(r.body)["reason"] == "no_identity"
    # a known token needs no XSRF token (the 401s above are not the XSRF check's)
    r = await ask(
        http_server_client,
        jp_base_url,
        "POST",
        "api/contents/acme/public",
        {"type": "file"},
        wsp_world.tokens["admin"],
    )
    assert r.code == 201


async def test_pages_and_websockets_answer_an_unknown_token_with_401(
    wsp_world: World, http_server_client: Any, jp_base_url: str, jp_ws_fetch: Any
) -> None:
    page = await ask(
        http_server_client, jp_base_url, "GET", "files/acme/public/x.txt", None, UNKNOWN
    )
    assert page.code == 401
    html = page.body.decode()
    assert "This sign-in link does not work" in html and "not known to this server" in html
    with pytest.raises(HTTPClientError) as refused:
        await jp_ws_fetch(
            "api", "events", "subscribe", headers={"Authorization": f"token {UNKNOWN}"}
        )
    assert refused.value.code == 401
