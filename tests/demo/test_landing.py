"""The demo's landing page and persona sign-in, on a real server in demo mode.

The server's own token opens the page (and only it: compared in constant time, never
when the server has none); the page's forms and the lab extension's switcher sign in
as a persona only with the cookie that token left, and only through an XSRF-checked
POST. Outside demo mode none of these routes exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_workspace_perms.demo.landing import DEMO_COOKIE, DEMO_PATH, PERSONAS_PATH, SIGN_IN_PATH
from jupyter_workspace_perms.demo.world import FORECAST, PERSONAS, build_world
from jupyter_workspace_perms.store import PolicyStore
from tests.helpers.browsing import Browser, Page
from tests.helpers.world import server_config

SERVER_TOKEN = "demo-server-token-0123456789abcdef"
JSON = {"Accept": "application/json"}


@pytest.fixture
def demo(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Demo mode and the server's token (a test may change them: ``indirect``)."""
    return {"demo_mode": True, "token": SERVER_TOKEN, **getattr(request, "param", {})}


@pytest.fixture
def jp_server_config(wsp_db_url: str, demo: dict[str, Any]) -> dict[str, Any]:
    """The extension (in demo mode unless a test says otherwise) on the test database."""
    return server_config(
        wsp_db_url,
        WorkspacePermsExtension={"demo_mode": demo["demo_mode"]},
        IdentityProvider={"token": demo["token"]},
    )


@pytest.fixture
def demo_world(wsp_store: PolicyStore, jp_root_dir: Path) -> None:
    """The demo's world, as ``demo-world`` (and Binder's ``start``) builds it."""
    build_world(wsp_store, jp_root_dir, tokens=False)


@pytest.fixture
def browser(demo_world: None, http_server_client: Any, jp_base_url: str) -> Browser:
    return Browser(http_server_client, jp_base_url)


def demo_cookie(browser: Browser) -> tuple[str, str] | None:
    """The demo cookie in the browser's jar (name, value), if any."""
    found = [(n, v) for n, v in browser.cookies.items() if n.startswith(DEMO_COOKIE)]
    return found[0] if found else None


async def landed(browser: Browser) -> Page:
    """Open the landing page the way Binder's link does; the page after the redirect."""
    first = await browser.request("GET", f"{DEMO_PATH}?token={SERVER_TOKEN}")
    assert first.code == 302, first.body
    assert first.location == browser.base_url + DEMO_PATH  # the token leaves the URL
    return await browser.request("GET", DEMO_PATH)


async def sign_in(browser: Browser, persona: str, headers: dict[str, str] | None = None) -> Page:
    form = {"persona": persona, "_xsrf": browser.cookies.get("_xsrf", "")}
    return await browser.request("POST", SIGN_IN_PATH, form=form, headers=headers)


async def me(browser: Browser) -> dict[str, Any]:
    page = await browser.request("GET", "api/workspace-perms/me")
    assert page.code == 200, page.body
    return dict(json.loads(page.body))


async def test_the_servers_token_opens_the_page_and_a_card_signs_in(
    browser: Browser, jp_base_url: str
) -> None:
    first = await browser.request("GET", f"{DEMO_PATH}?token={SERVER_TOKEN}")
    [cookie] = [c for c in first.headers.get_list("Set-Cookie") if c.startswith(DEMO_COOKIE)]
    # named per host and port, as Jupyter's login cookie
    port = browser.client.get_url("/").split(":")[-1].split("/")[0]
    assert cookie.split("=", 1)[0] == f"{DEMO_COOKIE}-127-0-0-1-{port}"
    attributes = {a.strip().split("=")[0].lower(): a for a in cookie.split(";")[1:]}
    assert attributes["path"].strip() == f"Path={jp_base_url}"
    assert {"httponly", "samesite", "expires"} <= set(attributes)
    page = await browser.request("GET", DEMO_PATH)
    assert page.code == 200, page.body
    for persona in PERSONAS:
        assert f'data-persona="{persona.key}"' in page.body
        assert persona.email in page.body
    assert "two browser profiles" in page.body
    assert page.form_actions() == [jp_base_url + SIGN_IN_PATH] * len(PERSONAS)
    assert browser.login_cookie() is None  # the page itself signs nobody in

    done = await sign_in(browser, "contributor")
    assert done.code == 302, done.body
    assert done.location == f"{jp_base_url}lab/tree/{FORECAST}"
    assert done.login_cookie_set()
    answer = await me(browser)
    assert answer["identity"]["username"] == "cora@acme.example"
    [acme] = [w for w in answer["workspaces"] if w["slug"] == "acme"]
    assert acme["role"] == "contributor"


async def test_switching_persona_replaces_the_sign_in(browser: Browser) -> None:
    await landed(browser)
    await sign_in(browser, "admin")
    switched = await sign_in(browser, "viewer", headers=JSON)
    assert switched.code == 200, switched.body
    assert json.loads(switched.body)["username"] == "vic@acme.example"
    assert (await me(browser))["identity"]["username"] == "vic@acme.example"
    listed = json.loads((await browser.request("GET", PERSONAS_PATH)).body)
    assert [p["key"] for p in listed["personas"] if p["current"]] == ["viewer"]
    assert [p["key"] for p in listed["personas"]] == [p.key for p in PERSONAS]


async def test_the_blocked_persona_signs_in_with_its_own_provider(browser: Browser) -> None:
    await landed(browser)
    await sign_in(browser, "blocked")
    answer = await me(browser)
    assert answer["identity"]["login_provider"] == "github"
    [acme] = [w for w in answer["workspaces"] if w["slug"] == "acme"]
    assert acme["sso_blocked"] is True


@pytest.mark.parametrize(
    "token",
    ["", "wrong", SERVER_TOKEN[:-1], SERVER_TOKEN + "x", SERVER_TOKEN.upper()],
    ids=["none", "wrong", "short", "long", "case"],
)
async def test_without_the_servers_token_nothing_opens(browser: Browser, token: str) -> None:
    page = await browser.request("GET", f"{DEMO_PATH}?token={token}" if token else DEMO_PATH)
    assert page.code == 403, page.body
    assert "the link that started the demo" in page.body
    assert demo_cookie(browser) is None
    assert 'data-persona="' not in page.body
    refused = await sign_in(browser, "admin", headers=JSON)
    assert refused.code == 403
    assert json.loads(refused.body)["reason"] == "demo_token_needed"
    assert not refused.login_cookie_set()
    listed = json.loads((await browser.request("GET", PERSONAS_PATH)).body)
    assert listed["personas"] == [] and "link that started the demo" in listed["message"]


async def test_a_forged_demo_cookie_opens_nothing(browser: Browser) -> None:
    await landed(browser)
    name, value = demo_cookie(browser) or ("", "")
    for forged in ("1", value.replace("|", "x", 1), ""):  # unsigned, tampered, empty
        browser.cookies[name] = forged
        assert (await browser.request("GET", DEMO_PATH)).code == 403, forged
        refused = await sign_in(browser, "admin", headers=JSON)
        assert refused.code == 403 and not refused.login_cookie_set()


async def test_a_new_server_token_voids_the_demo_cookie(
    browser: Browser, jp_serverapp: Any
) -> None:
    """The cookie proves the token it was made with: another token (a restarted server,
    or another server of the same user, which shares the cookie secret) rejects it."""
    await landed(browser)
    assert (await browser.request("GET", DEMO_PATH)).code == 200
    jp_serverapp.identity_provider.server_token = "another-server-token-0123456789"
    assert (await browser.request("GET", DEMO_PATH)).code == 403
    refused = await sign_in(browser, "admin", headers=JSON)
    assert refused.code == 403 and not refused.login_cookie_set()


async def test_sign_in_needs_the_xsrf_token_and_a_known_persona(browser: Browser) -> None:
    await landed(browser)
    no_xsrf = await browser.request("POST", SIGN_IN_PATH, form={"persona": "admin"})
    assert no_xsrf.code == 403 and not no_xsrf.login_cookie_set()
    for key in ("nobody", "", "ADMIN", "admin "):
        unknown = await sign_in(browser, key, headers=JSON)
        assert unknown.code == 404, key
        answer = json.loads(unknown.body)
        assert answer["reason"] == "unknown_persona" and "contributor" in answer["message"]
        assert not unknown.login_cookie_set()
    page = await sign_in(browser, "nobody")  # a person gets a page saying so
    assert page.code == 404 and "no persona" in page.body
    assert browser.login_cookie() is None


@pytest.mark.parametrize("demo", [{"token": ""}], indirect=True)
@pytest.mark.parametrize("token", ["", "x", SERVER_TOKEN])
async def test_a_server_without_a_token_opens_the_page_to_nobody(
    browser: Browser, token: str
) -> None:
    page = await browser.request("GET", f"{DEMO_PATH}?token={token}")
    assert page.code == 403, page.body
    assert demo_cookie(browser) is None


@pytest.mark.parametrize("demo", [{"demo_mode": False}], indirect=True)
async def test_outside_demo_mode_there_is_no_demo(browser: Browser, jp_base_url: str) -> None:
    for path in (f"{DEMO_PATH}?token={SERVER_TOKEN}", DEMO_PATH, PERSONAS_PATH):
        page = await browser.request("GET", path)
        # as any page that does not exist: the sign-in page for the anonymous
        assert (page.code, page.location.split("?")[0]) == (302, f"{jp_base_url}login"), path
        assert demo_cookie(browser) is None
    refused = await sign_in(browser, "admin", headers=JSON)
    assert refused.code in (403, 404) and not refused.login_cookie_set()
    assert browser.login_cookie() is None


async def test_without_the_demo_world_the_page_says_how_to_build_it(
    http_server_client: Any, jp_base_url: str
) -> None:
    browser = Browser(http_server_client, jp_base_url)
    page = await landed(browser)
    assert page.code == 500 and "demo-world" in page.body
    refused = await sign_in(browser, "admin", headers=JSON)
    assert refused.code == 404 and not refused.login_cookie_set()
