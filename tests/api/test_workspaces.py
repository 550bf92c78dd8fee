"""REST API rules for workspaces: creation, settings, domain invites and enforced SSO.

Real HTTP against a real Jupyter server (``wsp_world``: workspace ``acme`` owned by
ada@acme.test). Every refusal is checked for its status, its ``reason`` and for
changing nothing (the policy version does not move).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_workspace_perms.api.operations import OPERATIONS
from tests.helpers.api import (
    NO_BODY,
    Api,
    BodyCase,
    RouteCase,
    check_bad_bodies,
    check_refusals,
)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """The conftest's server, with workspace creation through the API turned on."""
    return {**jp_server_config, "WorkspacePermsExtension": {"allow_workspace_creation": True}}


ROUTES = [
    pytest.param(
        RouteCase("workspaces.list", "GET", "workspaces", ()),
        id="listing-workspaces-needs-only-an-identity",
    ),
    pytest.param(
        RouteCase("workspaces.create", "POST", "workspaces", (), body={"slug": "anon"}),
        id="creating-a-workspace-needs-only-an-identity",
    ),
    pytest.param(
        RouteCase(
            "workspace.get",
            "GET",
            "workspaces/acme",
            (("outsider", 404, "not_found"), ("guest", 403, "guest")),
        ),
        id="reading-workspace-settings-is-for-members-and-hidden-from-outsiders",
    ),
    pytest.param(
        RouteCase(
            "workspace.patch",
            "PATCH",
            "workspaces/acme",
            (
                ("outsider", 404, "not_found"),
                ("guest", 403, "guest"),
                ("viewer", 403, "role_too_low"),
                ("contributor", 403, "role_too_low"),
                ("editor", 403, "role_too_low"),
            ),
            body={"viewers_can_execute": True},
        ),
        id="changing-workspace-settings-needs-admin",
    ),
    pytest.param(
        RouteCase(
            "workspace.join",
            "POST",
            "workspaces/acme/join",
            (
                ("outsider", 404, "not_found"),
                ("guest", 404, "not_found"),
                ("viewer", 409, "already_member"),
            ),
        ),
        id="joining-without-domain-invites-finds-no-workspace-and-members-are-in-already",
    ),
]


@pytest.mark.parametrize("case", ROUTES)
async def test_route_refuses_who_may_not_use_it(api: Api, case: RouteCase) -> None:
    await check_refusals(api, case)


BODIES = [
    pytest.param(
        BodyCase(
            "workspaces.create",
            "POST",
            "workspaces",
            "outsider",
            ({}, {"slug": 5}, {"slug": "fine", "owner": "otto@else.test"}, {"slug": "a/b"}),
        ),
        id="workspace-creation-takes-only-a-slug-and-a-name",
    ),
    pytest.param(
        BodyCase(
            "workspace.patch",
            "PATCH",
            "workspaces/acme",
            "admin",
            (
                {},
                {"domain_invites": "yes"},
                {"enforce_sso": "google"},
                {"enforced_sso_provider": ""},
                {"viewers_can_execute": True, "owner": "vic@acme.test"},
            ),
        ),
        id="workspace-settings-take-only-known-settings-of-the-right-type",
    ),
]


@pytest.mark.parametrize("case", BODIES)
async def test_route_refuses_malformed_bodies(api: Api, case: BodyCase) -> None:
    await check_bad_bodies(api, case)


def test_every_operation_has_a_refusal_case() -> None:
    from tests.api import (
        test_access_requests,
        test_audit_export,
        test_comments,
        test_duplicate,
        test_integrations,
        test_members,
        test_projects,
        test_tokens,
    )

    tables = [ROUTES, test_members.ROUTES, test_projects.ROUTES, test_tokens.ROUTES]
    tables += [test_duplicate.ROUTES, test_integrations.ROUTES, test_access_requests.ROUTES]
    tables += [test_comments.ROUTES, test_audit_export.ROUTES]
    covered = {param.values[0].op for table in tables for param in table}
    assert covered == {op.id for op in OPERATIONS}


async def test_unknown_workspace_is_not_found_even_for_admins(api: Api) -> None:
    for method, path, body in [
        ("GET", "workspaces/nope", NO_BODY),
        ("PATCH", "workspaces/nope", {"viewers_can_execute": True}),
        ("POST", "workspaces/nope/join", NO_BODY),
    ]:
        reply = await api("admin", method, path, body)
        assert (reply.code, reply.reason) == (404, "not_found"), (method, path)


# -- creating workspaces ---------------------------------------------------------------------


async def test_creator_becomes_owner_and_admin_of_a_new_workspace_folder(
    api: Api, jp_root_dir: Path
) -> None:
    created = await api("outsider", "POST", "workspaces", {"slug": "newco", "name": "New Co"})
    assert created.code == 201
    assert created.body["owner"] == "otto@else.test"
    assert (created.body["slug"], created.body["name"], created.body["role"]) == (
        "newco",
        "New Co",
        "admin",
    )
    assert "workspace:manage_members" in created.body["permissions"]
    assert (jp_root_dir / "newco").is_dir()
    listed = await api.ok("outsider", "GET", "workspaces")
    assert [(w["slug"], w["role"], w["owner"]) for w in listed["workspaces"]] == [
        ("newco", "admin", True)
    ]
    members = await api.ok("outsider", "GET", "workspaces/newco/members")
    assert [(m["username"], m["role"], m["owner"]) for m in members["members"]] == [
        ("otto@else.test", "admin", True)
    ]
    assert ("otto@else.test", "newco", {"owner": "otto@else.test"}) in api.audit("workspace.create")

    before = api.version()
    for slug in ("newco", "acme"):
        duplicate = await api("viewer", "POST", "workspaces", {"slug": slug})
        assert (duplicate.code, duplicate.reason) == (409, "exists")
    assert api.version() == before
    assert (await api.ok("admin", "GET", "workspaces/acme"))["owner"] == "ada@acme.test"


async def test_slug_that_is_not_one_plain_folder_name_creates_nothing(
    api: Api, jp_root_dir: Path
) -> None:
    before, folders = api.version(), sorted(jp_root_dir.parent.rglob("*"))
    for slug in ("a/b", "..", "../escape", ".hidden", "a\\b", "-dash", "", "x" * 64):
        reply = await api("outsider", "POST", "workspaces", {"slug": slug})
        assert (reply.code, reply.reason) == (400, "invalid_body"), slug
    assert api.version() == before
    assert sorted(jp_root_dir.parent.rglob("*")) == folders


async def test_an_existing_folder_cannot_be_claimed_as_a_workspace(
    api: Api, jp_root_dir: Path
) -> None:
    (jp_root_dir / "unmanaged").mkdir()
    (jp_root_dir / "unmanaged" / "data.csv").write_text("someone's data")
    before = api.version()
    reply = await api("outsider", "POST", "workspaces", {"slug": "unmanaged"})
    assert (reply.code, reply.reason) == (409, "exists")
    assert api.version() == before
    assert (jp_root_dir / "unmanaged" / "data.csv").read_text() == "someone's data"


async def test_workspace_creation_is_refused_when_the_operator_keeps_it_off(
    api: Api, jp_serverapp: Any, jp_root_dir: Path
) -> None:
    # off is the default; this module's server config turns it on, so turn it back off
    jp_serverapp.web_app.settings["workspace_perms_allow_workspace_creation"] = False
    before = api.version()
    reply = await api("admin", "POST", "workspaces", {"slug": "blocked"})
    assert (reply.code, reply.reason) == (403, "creation_disabled")
    assert api.version() == before
    assert not (jp_root_dir / "blocked").exists()


# -- settings ----------------------------------------------------------------------------------


async def test_settings_show_domain_invites_and_offer_the_callers_provider(api: Api) -> None:
    ws = await api.ok("admin", "GET", "workspaces/acme")
    assert ws == {
        **ws,
        "slug": "acme",
        "owner": "ada@acme.test",
        "role": "admin",
        "domain_invites": False,
        "enforced_sso_provider": None,
        "viewers_can_execute": False,
        "invite_domain": "acme.test",
        "domain_invites_available": True,
        "domain_invites_reason": None,
        "sso_provider_offer": "google",
    }
    viewer = await api.ok("viewer", "GET", "workspaces/acme")
    assert (viewer["role"], viewer["permissions"]) == ("viewer", ["workspace:read"])
    api.token("ada@acme.test", "github", "admin-github")
    assert (await api.ok("admin-github", "GET", "workspaces/acme"))[
        "sso_provider_offer"
    ] == "github"


async def test_admin_changes_settings_and_the_change_is_audited(api: Api) -> None:
    changed = await api.ok("admin", "PATCH", "workspaces/acme", {"viewers_can_execute": True})
    assert changed["viewers_can_execute"] is True
    public = await api.ok("viewer", "GET", "workspaces/acme/projects/public")
    assert "project:execute" in public["permissions"]
    assert api.audit("workspace.settings")[-1] == (
        "ada@acme.test",
        "acme",
        {"viewers_can_execute": {"from": False, "to": True}},
    )


# -- domain invites ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner", "domain", "available", "why"),
    [
        pytest.param("owner@gmail.com", "gmail.com", False, "public_email_provider", id="gmail"),
        pytest.param("prof@stanford.edu", "stanford.edu", False, "educational", id="stanford"),
        pytest.param("boss@eng.initech.com", "initech.com", True, None, id="company-domain"),
    ],
)
async def test_domain_invites_only_for_the_owners_organisation_domain(
    api: Api, owner: str, domain: str, available: bool, why: str | None
) -> None:
    who = api.workspace("team", owner)
    ws = await api.ok(who, "GET", "workspaces/team")
    assert (ws["invite_domain"], ws["domain_invites_available"]) == (domain, available)
    assert ws["domain_invites_reason"] == why
    before = api.version()
    reply = await api(who, "PATCH", "workspaces/team", {"domain_invites": True})
    if available:
        assert (reply.code, reply.body["domain_invites"]) == (200, True)
        assert api.audit("workspace.settings")[-1][:2] == (owner, "team")
    else:
        assert (reply.code, reply.reason) == (409, "domain_invites_unavailable")
        assert reply.body["message"] == ws["domain_invites_message"]
        assert api.version() == before
        assert (await api.ok(who, "GET", "workspaces/team"))["domain_invites"] is False


async def test_verified_email_in_the_owners_domain_joins_as_viewer(api: Api) -> None:
    boss = api.workspace("initech", "boss@initech.com")
    await api.ok(boss, "PATCH", "workspaces/initech", {"domain_invites": True})
    joinable = [
        {"slug": "initech", "name": "initech", "invite_domain": "initech.com", "role": "viewer"}
    ]

    for email in ("new@initech.com", "deep@eng.initech.com"):
        who = api.person(email)
        assert (await api.ok(who, "GET", "me"))["joinable"] == joinable
        joined = await api(who, "POST", "workspaces/initech/join")
        assert joined.code == 201
        assert (joined.body["username"], joined.body["role"]) == (email, "viewer")
        me = await api.ok(who, "GET", "me")
        assert [(w["slug"], w["role"]) for w in me["workspaces"]] == [("initech", "viewer")]
        assert me["joinable"] == []
        assert (email, email, {"from": None, "to": "viewer"}) in api.audit("member.set")

    await api.ok(boss, "PATCH", "workspaces/initech", {"enforced_sso_provider": "google"})
    unverified = api.person("unv@initech.com", verified=False)
    other_provider = api.person("gh@initech.com", "github")
    lookalikes = [api.person(e) for e in ("m@initech.com.evil.org", "x@notinitech.com", "y@x.co")]
    before = api.version()
    for who, code, reason in [
        ("new@initech.com", 409, "already_member"),
        (unverified, 403, "email_unverified"),
        (other_provider, 403, "sso_blocked"),
        *[(lookalike, 404, "not_found") for lookalike in lookalikes],
    ]:
        reply = await api(who, "POST", "workspaces/initech/join")
        assert (reply.code, reply.reason) == (code, reason), who
        assert (await api.ok(who, "GET", "me"))["joinable"] == [], who
    assert api.version() == before

    await api.ok(boss, "PATCH", "workspaces/initech", {"domain_invites": False})
    late = api.person("late@initech.com")
    before = api.version()
    assert (await api.ok(late, "GET", "me"))["joinable"] == []
    reply = await api(late, "POST", "workspaces/initech/join")
    assert (reply.code, reply.reason) == (404, "not_found")
    assert api.version() == before


async def test_invites_stop_when_ownership_moves_to_a_public_email_owner(api: Api) -> None:
    boss = api.workspace("initech", "boss@initech.com")
    await api.ok(boss, "PATCH", "workspaces/initech", {"domain_invites": True})
    with api.store.write("test") as w:
        w.set_owner("initech", "founder@gmail.com")
    friend = api.person("friend@gmail.com")
    colleague = api.person("colleague@initech.com")
    before = api.version()
    for who in (friend, colleague):
        assert (await api.ok(who, "GET", "me"))["joinable"] == []
        reply = await api(who, "POST", "workspaces/initech/join")
        assert (reply.code, reply.reason) == (404, "not_found")
    assert api.version() == before


# -- enforced SSO ------------------------------------------------------------------------------


async def test_enforced_sso_takes_only_the_callers_provider_and_blocks_other_sign_ins(
    api: Api,
) -> None:
    before = api.version()
    mismatch = await api("admin", "PATCH", "workspaces/acme", {"enforced_sso_provider": "github"})
    assert (mismatch.code, mismatch.reason) == (409, "sso_provider_mismatch")
    assert "signed in with google" in mismatch.body["message"]
    assert api.version() == before

    contributor_gh = api.token("cora@acme.test", "github", "contributor-github")
    admin_gh = api.token("ada@acme.test", "github", "admin-github")
    api.person("sam@acme.test", "okta")
    await api.ok("admin", "PUT", "workspaces/acme/members/sam@acme.test", {"role": "editor"})

    enforced = await api.ok(
        "admin", "PATCH", "workspaces/acme", {"enforced_sso_provider": "google"}
    )
    assert enforced["enforced_sso_provider"] == "google"
    assert (await api.ok("admin", "GET", "workspaces/acme"))["role"] == "admin"
    assert (await api.ok("contributor", "GET", "workspaces/acme/projects/public"))["role"]

    for who in (contributor_gh, admin_gh, "sam@acme.test"):
        [acme] = (await api.ok(who, "GET", "me"))["workspaces"]
        assert (acme["sso_blocked"], acme["role"], acme["projects"]) == (True, None, []), who
        for path in ("workspaces/acme", "workspaces/acme/projects/public"):
            reply = await api(who, "GET", path)
            assert (reply.code, reply.reason) == (403, "sso_blocked"), (who, path)
    before = api.version()
    reply = await api(admin_gh, "PATCH", "workspaces/acme", {"enforced_sso_provider": None})
    assert (reply.code, reply.reason) == (403, "sso_blocked")
    assert api.version() == before

    guest = await api.ok("guest", "GET", "workspaces/acme/projects/public")
    assert guest["role"] == "viewer"
    members = {
        m["username"]: m
        for m in (await api.ok("admin", "GET", "workspaces/acme/members"))["members"]
    }
    assert members["sam@acme.test"]["sso_blocked"] is True
    assert members["gus@gmail.test"]["sso_blocked"] is False
    assert members["ada@acme.test"]["sso_blocked"] is False

    lifted = await api.ok("admin", "PATCH", "workspaces/acme", {"enforced_sso_provider": None})
    assert lifted["enforced_sso_provider"] is None
    assert (await api.ok(contributor_gh, "GET", "workspaces/acme"))["role"] == "contributor"
    changes = [d for a, _t, d in api.audit("workspace.settings") if a == "ada@acme.test"]
    assert changes == [
        {"enforced_sso_provider": {"from": None, "to": "google"}},
        {"enforced_sso_provider": {"from": "google", "to": None}},
    ]


async def test_settings_name_the_members_the_offered_provider_would_block(api: Api) -> None:
    """The settings page shows, before anyone enforces the offered provider, which members
    sign in with another one (guests keep their grants, so they are never listed)."""
    assert (await api.ok("admin", "GET", "workspaces/acme"))["sso_offer_would_block"] == []
    api.person("sam@acme.test", "okta")
    api.person("gil@acme.test", "github")
    for email in ("sam@acme.test", "gil@acme.test"):
        await api.ok("admin", "PUT", f"workspaces/acme/members/{email}", {"role": "editor"})
    await api.ok(
        "admin",
        "PUT",
        "workspaces/acme/projects/public/collaborators/otto@else.test",
        {"role": "viewer"},
    )
    blocked = ["gil@acme.test", "sam@acme.test"]
    assert (await api.ok("admin", "GET", "workspaces/acme"))["sso_offer_would_block"] == blocked
    # a reader sees the same list (members and their providers are listed to readers anyway)
    assert (await api.ok("viewer", "GET", "workspaces/acme"))["sso_offer_would_block"] == blocked
    enforced = await api.ok(
        "admin", "PATCH", "workspaces/acme", {"enforced_sso_provider": "google"}
    )
    assert enforced["sso_offer_would_block"] == blocked
    members = (await api.ok("admin", "GET", "workspaces/acme/members"))["members"]
    assert sorted(m["username"] for m in members if m["sso_blocked"]) == blocked


async def test_a_second_admin_cannot_lock_the_owner_out(api: Api) -> None:
    """An Admin signed in with another provider than the owner's may not enforce it (409);
    the owner may enforce a provider for themselves."""
    second = api.person("sam@acme.test", "token")
    await api.ok("admin", "PUT", "workspaces/acme/members/sam@acme.test", {"role": "admin"})
    before = api.version()
    refused = await api(second, "PATCH", "workspaces/acme", {"enforced_sso_provider": "token"})
    assert (refused.code, refused.reason) == (409, "would_block_owner")
    assert "ada@acme.test" in refused.body["message"]
    assert "google" in refused.body["message"]
    assert api.version() == before
    assert (await api.ok("admin", "GET", "workspaces/acme"))["enforced_sso_provider"] is None

    # the owner's own provider may be enforced by the second Admin once signed in with it
    sam_google = api.token("sam@acme.test", "google", "sam-google")
    enforced = await api.ok(
        sam_google, "PATCH", "workspaces/acme", {"enforced_sso_provider": "google"}
    )
    assert enforced["enforced_sso_provider"] == "google"
    assert (await api.ok("admin", "GET", "workspaces/acme"))["role"] == "admin"


async def test_the_owners_live_tokens_count_as_ways_they_sign_in(api: Api) -> None:
    """The owner (last signed in with google) also holds a github token: enforcing google
    would lock that sign-in out, so another Admin may not (the review's reproduction)."""
    await api.ok("admin", "PUT", "workspaces/acme/members/vic@acme.test", {"role": "admin"})
    owner_on_github = api.token("ada@acme.test", "github", "ada-github")
    assert (await api.ok(owner_on_github, "GET", "workspaces/acme"))["role"] == "admin"
    before = api.version()
    refused = await api("viewer", "PATCH", "workspaces/acme", {"enforced_sso_provider": "google"})
    assert (refused.code, refused.reason) == (409, "would_block_owner")
    assert "github" in refused.body["message"]
    assert api.version() == before
    assert (await api.ok(owner_on_github, "GET", "workspaces/acme"))["role"] == "admin"
