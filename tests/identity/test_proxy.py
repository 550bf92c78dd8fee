"""Trusted reverse-proxy headers on a real server.

Headers count only from a configured proxy address *and* with the shared
secret; loopback is not trusted unless listed (kernels run on loopback).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures import BEHIND_BINDER
from tests.helpers.world import World

SECRET = "s3cret-proxy-key"


@pytest.fixture
def proxy_config() -> dict[str, Any]:
    return {"trusted_proxy_ips": ["127.0.0.1/32"], "proxy_secret": SECRET}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], proxy_config: dict[str, Any]) -> Any:
    return {**jp_server_config, "WorkspaceIdentityProvider": proxy_config}


def proxy_headers(email: str, secret: str = SECRET, provider: str | None = "google") -> dict:
    headers = {"X-Forwarded-Email": email, "X-Workspace-Perms-Proxy-Secret": secret}
    if provider:
        headers["X-Forwarded-Provider"] = provider
    return headers


async def me(wsp_fetch: Any, headers: dict[str, str]) -> Any:
    return await wsp_fetch(None, "api", "workspace-perms", "me", headers=headers)


async def test_trusted_proxy_identifies_a_known_member(wsp_fetch: Any) -> None:
    r = await me(wsp_fetch, proxy_headers("ed@acme.test"))
    assert r.code == 200
    body = json.loads(r.body)
    assert body["identity"]["login_provider"] == "google"
    assert body["workspaces"][0]["role"] == "editor"


async def test_first_sight_records_a_new_user_with_a_verified_email(
    wsp_fetch: Any, jp_serverapp: Any
) -> None:
    r = await me(wsp_fetch, proxy_headers("New.Person@Acme.test", provider="okta"))
    assert r.code == 200
    identity = json.loads(r.body)["identity"]
    assert identity["username"] == "new.person@acme.test"
    assert (identity["email_verified"], identity["login_provider"]) == (True, "okta")
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    assert store.snapshot.user_named("new.person@acme.test").login_provider == "okta"


async def test_the_provider_of_this_sign_in_decides_sso(
    wsp_fetch: Any, wsp_world: World, jp_serverapp: Any
) -> None:
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    with store.write("test") as w:
        w.set_settings("acme", enforced_sso_provider="google")
    ok = json.loads((await me(wsp_fetch, proxy_headers("ed@acme.test"))).body)
    assert ok["workspaces"][0]["role"] == "editor"
    other = await me(wsp_fetch, proxy_headers("ed@acme.test", provider="github"))
    blocked = json.loads(other.body)["workspaces"][0]
    assert (blocked["role"], blocked["sso_blocked"]) == (None, True)


@pytest.mark.parametrize(
    "headers",
    [
        proxy_headers("ed@acme.test", secret="wrong"),
        proxy_headers("ed@acme.test", secret=""),
        {"X-Forwarded-Email": "ed@acme.test"},
        proxy_headers(""),
    ],
    ids=["wrong-secret", "empty-secret", "no-secret", "no-email"],
)
async def test_bad_proxy_headers_give_no_identity(wsp_fetch: Any, headers: dict) -> None:
    assert (await me(wsp_fetch, headers)).code == 401


@pytest.mark.parametrize(
    "proxy_config",
    [
        {"proxy_secret": SECRET},  # loopback not listed: the default
        {"trusted_proxy_ips": ["10.1.2.3"], "proxy_secret": SECRET},
        {"trusted_proxy_ips": ["127.0.0.1"], "proxy_secret": ""},
    ],
    ids=["loopback-not-trusted-by-default", "other-proxy-address", "no-secret-configured"],
)
async def test_headers_are_ignored_unless_configured(wsp_fetch: Any) -> None:
    assert (await me(wsp_fetch, proxy_headers("ed@acme.test"))).code == 401


async def test_x_forwarded_for_cannot_fake_the_proxy_address(
    wsp_fetch: Any, jp_serverapp: Any, http_server: Any, jp_base_url: str
) -> None:
    # behind Binder's proxy the server believes X-Forwarded-For for its logs (xheaders);
    # the trusted proxy is still decided by the socket's peer address
    assert http_server.xheaders is (jp_base_url == BEHIND_BINDER)
    idp = jp_serverapp.identity_provider
    idp.trusted_proxy_ips = ["10.1.2.3"]
    headers = {
        **proxy_headers("ed@acme.test"),
        "X-Forwarded-For": "10.1.2.3",
        "X-Real-Ip": "10.1.2.3",
    }
    assert (await me(wsp_fetch, headers)).code == 401
