"""``POST tokens``: a new token never outlives the credential that creates it, nor the maximum.

The server here allows tokens of at most two days
(``c.WorkspaceIdentityProvider.token_max_lifetime_days = 2``) and trusts a proxy on
loopback, so every kind of sign-in can create a token: a token in the
``Authorization`` header, a login cookie made from a token, and a proxy sign-in.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from traitlets import TraitError

from jupyter_workspace_perms.identity.provider import WorkspaceIdentityProvider
from tests.helpers.api import Api, in_seconds

PROXY_SECRET = "lifetime-proxy-secret"
XSRF = "a1b2c3d4" * 4  # a double-submitted XSRF token: the same value as cookie and header


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **jp_server_config,
        "WorkspaceIdentityProvider": {
            "token_max_lifetime_days": 2,
            "trusted_proxy_ips": ["127.0.0.1/32"],
            "proxy_secret": PROXY_SECRET,
        },
    }


def when(value: str | None) -> datetime:
    assert value is not None, "the token has no expiry"
    return datetime.fromisoformat(value)


async def test_a_short_lived_token_mints_only_tokens_that_end_with_it(api: Api) -> None:
    hour = await api.ok("admin", "POST", "tokens", {"note": "1h", "expires_at": in_seconds(3600)})
    api.world.tokens["admin-1h"] = hour["token"]
    before = api.version()
    for late in (in_seconds(7200), "9999-01-01T00:00:00Z"):
        refused = await api("admin-1h", "POST", "tokens", {"expires_at": late})
        assert (refused.code, refused.reason) == (400, "expiry_beyond_credential"), refused
        assert "cannot outlive" in refused.body["message"]
    assert api.version() == before

    child = await api.ok("admin-1h", "POST", "tokens", {})
    assert when(child["expires_at"]) == when(hour["expires_at"])
    api.world.tokens["admin-child"] = child["token"]
    grandchild = await api.ok("admin-child", "POST", "tokens", {"note": "shorter"})
    assert when(grandchild["expires_at"]) == when(hour["expires_at"])
    half = in_seconds(1800)
    shorter = await api.ok("admin-1h", "POST", "tokens", {"expires_at": half})
    assert when(shorter["expires_at"]) == when(half)
    listed = {t["id"]: t["expires_at"] for t in (await api.ok("admin", "GET", "tokens"))["tokens"]}
    assert listed[child["id"]] == child["expires_at"]


async def test_a_login_cookie_made_from_a_short_lived_token_is_bounded_by_it(
    api: Api, http_server_client: Any, jp_base_url: str
) -> None:
    hour = await api.ok("viewer", "POST", "tokens", {"expires_at": in_seconds(3600)})
    login = await http_server_client.fetch(
        jp_base_url + "login",
        method="POST",
        body=f"_xsrf={XSRF}&password={hour['token']}",
        headers={"Cookie": f"_xsrf={XSRF}", "Authorization": ""},
        follow_redirects=False,
        raise_error=False,
    )
    [cookie] = [
        c.split(";")[0] for c in login.headers.get_list("Set-Cookie") if c.startswith("username-")
    ]
    created = await http_server_client.fetch(
        jp_base_url + "api/workspace-perms/tokens",
        method="POST",
        body="{}",
        headers={"Cookie": f"{cookie}; _xsrf={XSRF}", "X-XSRFToken": XSRF, "Authorization": ""},
        raise_error=False,
    )
    assert created.code == 201, created.body
    assert when(json.loads(created.body)["expires_at"]) == when(hour["expires_at"])


async def test_tokens_live_at_most_the_configured_maximum(
    api: Api, http_server_client: Any, jp_base_url: str
) -> None:
    two_days = timedelta(days=2)
    start = datetime.now(timezone.utc)
    default = await api.ok("editor", "POST", "tokens", {})  # the editor's token never expires
    end = datetime.now(timezone.utc)
    assert start + two_days <= when(default["expires_at"]) <= end + two_days
    within = in_seconds(two_days.total_seconds() - 60)
    inside = await api.ok("editor", "POST", "tokens", {"expires_at": within})
    assert when(inside["expires_at"]) == when(within)

    before = api.version()
    refusals = [
        (in_seconds(3 * 86400), "expiry_beyond_max_lifetime"),
        ("9999-01-01T00:00:00Z", "expiry_beyond_max_lifetime"),
        (in_seconds(-60), "invalid_expiry"),
    ]
    for expiry, reason in refusals:
        refused = await api("editor", "POST", "tokens", {"expires_at": expiry})
        assert (refused.code, refused.reason) == (400, reason), (expiry, refused)
        assert refused.body["message"]
    for unreadable in ("tomorrow", "2030-13-45T00:00:00Z"):
        refused = await api("editor", "POST", "tokens", {"expires_at": unreadable})
        assert refused.code == 400 and refused.reason in ("invalid_body", "invalid_expiry"), refused
    assert api.version() == before

    # a proxy sign-in has no expiry of its own: the maximum bounds its tokens
    proxy = {
        "X-Forwarded-Email": "ed@acme.test",
        "X-Forwarded-Provider": "google",
        "X-Workspace-Perms-Proxy-Secret": PROXY_SECRET,
    }
    start = datetime.now(timezone.utc)
    created = await http_server_client.fetch(
        jp_base_url + "api/workspace-perms/tokens",
        method="POST",
        body="{}",
        headers={**proxy, "Cookie": f"_xsrf={XSRF}", "X-XSRFToken": XSRF, "Authorization": ""},
        raise_error=False,
    )
    end = datetime.now(timezone.utc)
    assert created.code == 201, created.body
    assert start + two_days <= when(json.loads(created.body)["expires_at"]) <= end + two_days


def test_the_maximum_lifetime_is_90_days_unless_configured_and_must_be_positive() -> None:
    assert WorkspaceIdentityProvider().token_max_lifetime_days == 90
    assert WorkspaceIdentityProvider(token_max_lifetime_days=0.5).token_max_lifetime_days == 0.5
    for bad in (0, -1, math.nan, math.inf):
        with pytest.raises(TraitError):
            WorkspaceIdentityProvider(token_max_lifetime_days=bad)


async def test_revoking_a_token_revokes_every_token_made_with_it(
    api: Api, http_server_client: Any, jp_base_url: str
) -> None:
    """A stolen short-lived token must not mint a child that survives the victim revoking
    it: children and grandchildren go with it, whether made with the token itself or with
    a login cookie made from it (the review's reproductions, both variants)."""
    parent = await api.ok("admin", "POST", "tokens", {"note": "parent"})
    api.world.tokens["admin-parent"] = parent["token"]
    child = await api.ok("admin-parent", "POST", "tokens", {"note": "child"})
    api.world.tokens["admin-child"] = child["token"]
    grandchild = await api.ok("admin-child", "POST", "tokens", {"note": "grandchild"})
    api.world.tokens["admin-grandchild"] = grandchild["token"]
    sibling = await api.ok("admin", "POST", "tokens", {"note": "made with another token"})
    api.world.tokens["admin-sibling"] = sibling["token"]

    # a login cookie made from the parent mints a child too
    login = await http_server_client.fetch(
        jp_base_url + "login",
        method="POST",
        body=f"_xsrf={XSRF}&password={parent['token']}",
        headers={"Cookie": f"_xsrf={XSRF}", "Authorization": ""},
        follow_redirects=False,
        raise_error=False,
    )
    [cookie] = [
        c.split(";")[0] for c in login.headers.get_list("Set-Cookie") if c.startswith("username-")
    ]
    via_cookie = await http_server_client.fetch(
        jp_base_url + "api/workspace-perms/tokens",
        method="POST",
        body="{}",
        headers={"Cookie": f"{cookie}; _xsrf={XSRF}", "X-XSRFToken": XSRF, "Authorization": ""},
        raise_error=False,
    )
    assert via_cookie.code == 201, via_cookie.body
    api.world.tokens["admin-via-cookie"] = json.loads(via_cookie.body)["token"]

    made = ("admin-parent", "admin-child", "admin-grandchild", "admin-via-cookie")
    for who in (*made, "admin-sibling"):
        assert (await api(who, "GET", "me")).code == 200, who
    await api.ok("admin", "DELETE", f"tokens/{parent['id']}")
    for who in made:
        reply = await api(who, "GET", "me")
        assert (reply.code, reply.reason) == (401, "unknown_token"), who
    assert (await api("admin-sibling", "GET", "me")).code == 200
    listed = {t["id"]: t["revoked"] for t in (await api.ok("admin", "GET", "tokens"))["tokens"]}
    assert listed[child["id"]] and listed[grandchild["id"]] and not listed[sibling["id"]]
    revoked = [target for _actor, target, _details in api.audit("token.revoke")]
    assert str(child["id"]) in revoked and str(grandchild["id"]) in revoked


# what people would not say: an ISO timestamp, or an API field name such as expires_at
ISO_OR_FIELD = re.compile(r"\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d|\b[a-z]+_[a-z_]+\b")
DAY = re.compile(
    r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October"
    r"|November|December) \d{4}, \d\d:\d\d UTC\b"
)


async def test_expiry_refusals_say_dates_and_fields_as_people_do(api: Api) -> None:
    """The settings page shows these messages as they are: no raw ISO timestamps, no
    field names, and the date to pick instead."""
    hour = await api.ok("admin", "POST", "tokens", {"note": "1h", "expires_at": in_seconds(3600)})
    api.world.tokens["admin-1h"] = hour["token"]
    refusals = [
        ("editor", in_seconds(3 * 86400), "tokens created through the server live at most 2 days"),
        ("admin-1h", in_seconds(7200), "a new token cannot outlive the token you signed in with"),
        ("editor", in_seconds(-60), "is in the past"),
    ]
    for who, expiry, says in refusals:
        refused = await api(who, "POST", "tokens", {"expires_at": expiry})
        message = refused.body["message"]
        assert refused.code == 400 and says in message, (who, refused)
        assert not ISO_OR_FIELD.search(message), message
        assert DAY.search(message), message

    past = await api(
        "editor",
        "PUT",
        "workspaces/acme/projects/public/collaborators/vic@acme.test",
        {"role": "editor", "expires_at": "2001-01-01T00:00:00+02:00"},
    )
    assert (past.code, past.reason) == (400, "invalid_expiry")
    assert past.body["message"] == (
        "the expiry 31 December 2000, 22:00 UTC is in the past: pick a later date"
    )


async def test_the_token_list_says_the_latest_expiry_a_new_token_may_get(api: Api) -> None:
    """What the settings page offers as the latest day to pick: the maximum lifetime, or
    the expiry of the credential this sign-in came from when that is sooner."""
    start = datetime.now(timezone.utc)
    listed = await api.ok("editor", "GET", "tokens")
    end = datetime.now(timezone.utc)
    assert start + timedelta(days=2) <= when(listed["latest_expiry"]) <= end + timedelta(days=2)

    hour = await api.ok("admin", "POST", "tokens", {"expires_at": in_seconds(3600)})
    api.world.tokens["admin-1h"] = hour["token"]
    bounded = await api.ok("admin-1h", "GET", "tokens")
    assert when(bounded["latest_expiry"]) == when(hour["expires_at"])
