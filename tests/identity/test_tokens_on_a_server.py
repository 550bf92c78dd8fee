"""Identity on a real server: personal access tokens work, the server's token does not."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.helpers.world import World


def body(response: Any) -> Any:
    return json.loads(response.body)


async def test_me_answers_memberships_and_roles_for_a_token(wsp_fetch: Any) -> None:
    r = await wsp_fetch("contributor", "api", "workspace-perms", "me")
    assert r.code == 200
    me = body(r)
    assert me["identity"]["username"] == "cora@acme.test"
    assert me["identity"]["email_verified"] is True
    assert me["identity"]["login_provider"] == "google"
    [acme] = me["workspaces"]
    assert (acme["slug"], acme["role"], acme["guest"]) == ("acme", "contributor", False)
    roles = {p["name"]: p["role"] for p in acme["projects"]}
    assert roles == {"public": "contributor", "locked": "viewer"}


async def test_me_shows_guest_only_shared_projects(wsp_fetch: Any) -> None:
    me = body(await wsp_fetch("guest", "api", "workspace-perms", "me"))
    [acme] = me["workspaces"]
    assert (acme["role"], acme["guest"], acme["permissions"]) == (None, True, [])
    assert [(p["name"], p["role"]) for p in acme["projects"]] == [("public", "viewer")]


async def test_admin_lists_private_project_name_only(wsp_fetch: Any) -> None:
    me = body(await wsp_fetch("admin", "api", "workspace-perms", "me"))
    projects = {p["name"]: p for p in me["workspaces"][0]["projects"]}
    assert projects["private"]["name_only"] is True
    assert projects["private"]["role"] is None
    assert projects["locked"]["role"] == "admin"


async def test_outsider_has_identity_but_no_workspaces(wsp_fetch: Any) -> None:
    me = body(await wsp_fetch("outsider", "api", "workspace-perms", "me"))
    assert me["workspaces"] == []


async def test_no_identity_is_refused_with_401(wsp_fetch: Any) -> None:
    r = await wsp_fetch(None, "api", "workspace-perms", "me")
    assert r.code == 401
    assert body(r)["reason"] == "no_identity"


async def test_server_token_is_not_an_identity(
    wsp_fetch: Any, jp_serverapp: Any, wsp_world: World
) -> None:
    server_token = jp_serverapp.identity_provider.server_token  # kept off every page
    assert server_token
    headers = {"Authorization": f"token {server_token}"}
    r = await wsp_fetch(None, "api", "workspace-perms", "me", headers=headers)
    assert r.code == 401
    r = await wsp_fetch(None, "api", "contents", headers=headers)
    assert r.code == 403
    r = await wsp_fetch(None, "api", "workspace-perms", "me", params={"token": server_token})
    assert r.code == 401


async def test_stock_routes_refuse_anonymous_requests(wsp_fetch: Any) -> None:
    for parts in (("api", "contents"), ("api", "kernels"), ("api", "sessions"), ("api", "me")):
        r = await wsp_fetch(None, *parts)
        assert r.code == 403, parts


async def test_unknown_and_malformed_tokens_are_refused(wsp_fetch: Any) -> None:
    for token in ("wsp_" + "x" * 43, "nonsense", "wsp_", "token wsp_abc"):
        r = await wsp_fetch(
            None, "api", "workspace-perms", "me", headers={"Authorization": f"token {token}"}
        )
        assert r.code == 401, token


async def test_revoked_token_stops_working_on_next_request(
    wsp_fetch: Any, wsp_world: World, jp_serverapp: Any
) -> None:
    assert (await wsp_fetch("viewer", "api", "workspace-perms", "me")).code == 200
    snap = wsp_world.store.snapshot
    [token_id] = [
        t.id for t in snap.tokens.values() if t.user_id == snap.users_by_name["vic@acme.test"]
    ]
    server_store = jp_serverapp.web_app.settings["workspace_perms_store"]
    with server_store.write("test") as w:
        w.revoke_token(token_id)
    assert (await wsp_fetch("viewer", "api", "workspace-perms", "me")).code == 401


async def test_change_by_another_process_is_picked_up(wsp_fetch: Any, wsp_world: World) -> None:
    with wsp_world.store.write("other-process") as w:  # a second store, like the CLI
        w.set_member("acme", "vic@acme.test", "editor")
    role = None
    for _ in range(100):  # the server polls every 0.1 s in tests; wait at most 10 s
        me = body(await wsp_fetch("viewer", "api", "workspace-perms", "me"))
        role = me["workspaces"][0]["role"]
        if role == "editor":
            break
        await asyncio.sleep(0.1)
    assert role == "editor"


async def test_token_in_the_url_of_an_api_call_signs_nobody_in(
    wsp_fetch: Any, wsp_world: World
) -> None:
    """Only a page load offers a sign-in (tests/identity/test_sign_in_links.py)."""
    r = await wsp_fetch(
        None, "api", "workspace-perms", "me", params={"token": wsp_world.tokens["editor"]}
    )
    assert (r.code, body(r)["reason"]) == (401, "token_not_in_header")
    assert "username-" not in r.headers.get("Set-Cookie", "")


async def test_listings_show_each_user_only_what_they_may_read(
    wsp_fetch: Any, wsp_world: World
) -> None:
    (wsp_world.root / "not-a-workspace").mkdir()
    roots = {"admin": ["acme"], "viewer": ["acme"], "guest": ["acme"], "outsider": []}
    for who, names in roots.items():
        listing = body(await wsp_fetch(who, "api", "contents"))
        assert sorted(e["name"] for e in listing["content"]) == names, who
    # a private project is invisible to a workspace Admin without a grant
    projects = {
        "admin": ["locked", "public"],
        "editor": ["locked", "private", "public"],
        "viewer": ["locked", "public"],
        "guest": ["public"],
    }
    for who, names in projects.items():
        listing = body(await wsp_fetch(who, "api", "contents", "acme"))
        assert sorted(e["name"] for e in listing["content"]) == names, who
    assert (await wsp_fetch("outsider", "api", "contents", "acme")).code == 404


async def test_jupyter_identity_endpoint_reports_the_workspace_user(wsp_fetch: Any) -> None:
    r = await wsp_fetch("editor", "api", "me")
    assert r.code == 200
    identity = body(r)["identity"]
    assert identity["username"] == "ed@acme.test"
    assert identity["login_provider"] == "google"
    assert "token_id" not in identity and "user_id" not in identity


async def test_login_form_accepts_a_personal_access_token(wsp_fetch: Any, wsp_world: World) -> None:
    """JupyterLab's login page ("password or token") takes a personal access token."""
    page = await wsp_fetch(None, "login")
    xsrf = next(
        c.split(";")[0] for c in page.headers.get_list("Set-Cookie") if c.startswith("_xsrf")
    )
    form = f"{xsrf.split('=', 1)[0]}={xsrf.split('=', 1)[1]}&password="
    for password, ok in ((wsp_world.tokens["viewer"], True), ("wsp_" + "n" * 43, False)):
        r = await wsp_fetch(
            None,
            "login",
            method="POST",
            body=form + password,
            headers={"Cookie": xsrf, "Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        login_cookie = [c for c in r.headers.get_list("Set-Cookie") if c.startswith("username-")]
        assert bool(login_cookie) is ok, (password, r.code)


async def test_permissions_asked_without_a_path_mean_somewhere(wsp_fetch: Any) -> None:
    """``/api/me?permissions=`` has no path: the answer is "on at least one project"."""
    asked = json.dumps({"contents": ["read", "write"], "kernels": ["execute"], "x": ["read"]})
    expected = {
        "editor": {"contents": ["read", "write"], "kernels": ["execute"], "x": []},
        "viewer": {"contents": ["read"], "kernels": [], "x": []},
        "outsider": {"contents": [], "kernels": [], "x": []},
    }
    for who, permissions in expected.items():
        r = await wsp_fetch(who, "api", "me", params={"permissions": asked})
        assert r.code == 200, who
        got = body(r)["permissions"]
        assert {k: got[k] for k in permissions} == permissions, who
