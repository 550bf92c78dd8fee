"""REST API rules for the caller's own things: ``/me``, tokens, ``/status`` and ``/spec.yaml``.

Real HTTP against a real Jupyter server (``wsp_world``: workspace ``acme`` owned by
ada@acme.test, one token per person). Every refusal is checked for its status, its
``reason`` and for changing nothing (the policy version does not move).
"""

from __future__ import annotations

import pytest

from tests.helpers.api import (
    Api,
    BodyCase,
    RouteCase,
    check_bad_bodies,
    check_refusals,
    in_seconds,
)

ROUTES = [
    pytest.param(RouteCase("me.get", "GET", "me", ()), id="me-needs-only-an-identity"),
    pytest.param(
        RouteCase("tokens.list", "GET", "tokens", ()), id="listing-tokens-needs-only-an-identity"
    ),
    pytest.param(
        RouteCase("tokens.create", "POST", "tokens", (), body={}),
        id="creating-a-token-needs-an-identity-already",
    ),
    pytest.param(
        # token 1 is the first one the world made: ada's
        RouteCase("token.delete", "DELETE", "tokens/1", (("outsider", 404, "not_found"),)),
        id="someone-elses-token-does-not-exist-for-you",
    ),
    pytest.param(RouteCase("status.get", "GET", "status", ()), id="status-needs-only-an-identity"),
    pytest.param(
        RouteCase("spec.get", "GET", "spec.yaml", ()), id="the-api-spec-needs-only-an-identity"
    ),
]


@pytest.mark.parametrize("case", ROUTES)
async def test_route_refuses_who_may_not_use_it(api: Api, case: RouteCase) -> None:
    await check_refusals(api, case)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            BodyCase(
                "tokens.create",
                "POST",
                "tokens",
                "viewer",
                (
                    {"note": 5},
                    {"note": "x", "scope": "all"},
                    {"login_provider": "okta"},
                    {"expires_at": "2099-01-01T00:00:00"},
                ),
            ),
            id="a-new-token-takes-a-note-and-an-expiry-with-a-time-zone",
        )
    ],
)
async def test_route_refuses_malformed_bodies(api: Api, case: BodyCase) -> None:
    await check_bad_bodies(api, case)


async def test_tokens_are_listed_created_and_revoked_by_their_owner_only(api: Api) -> None:
    [mine] = (await api.ok("admin", "GET", "tokens"))["tokens"]
    assert (mine["login_provider"], mine["revoked"]) == ("google", False)
    assert "token" not in mine

    created = await api(
        "admin", "POST", "tokens", {"note": "laptop", "expires_at": in_seconds(3600)}
    )
    assert created.code == 201
    laptop = created.body
    assert (laptop["note"], laptop["login_provider"], laptop["revoked"]) == (
        "laptop",
        "google",
        False,
    )
    api.world.tokens["admin-laptop"] = laptop["token"]
    me = await api.ok("admin-laptop", "GET", "me")
    assert (me["identity"]["username"], me["identity"]["login_provider"]) == (
        "ada@acme.test",
        "google",
    )
    # made with the token ada signed in with (her first): revoking that one revokes it
    signed_in_with = (await api.ok("admin", "GET", "tokens"))["tokens"][0]["id"]
    assert api.audit("token.create")[-1] == (
        "ada@acme.test",
        "ada@acme.test",
        {"token_id": laptop["id"], "provider": "google", "parent_id": signed_in_with},
    )

    # a token records the provider of the sign-in that created it
    api.token("ada@acme.test", "github", "admin-github")
    from_github = await api.ok("admin-github", "POST", "tokens", {})
    assert from_github["login_provider"] == "github"
    api.world.tokens["admin-from-github"] = from_github["token"]
    assert (await api.ok("admin-from-github", "GET", "me"))["identity"][
        "login_provider"
    ] == "github"

    ids = [t["id"] for t in (await api.ok("admin", "GET", "tokens"))["tokens"]]
    assert len(ids) == 4 and {mine["id"], laptop["id"], from_github["id"]} <= set(ids)
    assert laptop["id"] not in [
        t["id"] for t in (await api.ok("editor", "GET", "tokens"))["tokens"]
    ]

    before = api.version()
    for token_id in (laptop["id"], "abc", "99999"):
        reply = await api("editor", "DELETE", f"tokens/{token_id}")
        assert (reply.code, reply.reason) == (404, "not_found"), token_id
    past = await api("admin", "POST", "tokens", {"expires_at": in_seconds(-60)})
    assert (past.code, past.reason) == (400, "invalid_expiry")
    assert api.version() == before
    assert (await api("admin-laptop", "GET", "me")).code == 200

    revoked = await api("admin", "DELETE", f"tokens/{laptop['id']}")
    assert (revoked.code, revoked.body) == (204, None)
    reply = await api("admin-laptop", "GET", "me")
    assert (reply.code, reply.reason) == (401, "unknown_token")
    listed = {t["id"]: t["revoked"] for t in (await api.ok("admin", "GET", "tokens"))["tokens"]}
    assert listed[laptop["id"]] is True
    assert ("ada@acme.test", str(laptop["id"])) in [a[:2] for a in api.audit("token.revoke")]
    assert (await api.ok("admin", "GET", "me"))["identity"]["username"] == "ada@acme.test"


async def test_status_shows_store_details_only_to_workspace_admins(api: Api) -> None:
    for who in ("editor", "viewer", "guest", "outsider"):
        status = await api.ok(who, "GET", "status")
        assert (status["details"], status["store"]) == (False, {"backend": "sqlite"}), who
        assert status["version"] and status["isolation"]["kernels"] == "bubblewrap", who
        assert "self_test" not in status["isolation"], who  # its details are the Admins'
        assert status["policy_version"] == api.version(), who
    admin = await api.ok("admin", "GET", "status")
    assert admin["details"] is True
    assert admin["store"]["db_url"] == api.store.status()["db_url"]
    assert admin["store"]["schema"] == api.store.status()["schema"]
    assert admin["isolation"]["mode"] == "required"
    assert admin["isolation"]["self_test"]["working"] is True
    assert "bubblewrap sandbox" in admin["isolation"]["message"]
