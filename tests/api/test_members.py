"""REST API rules for members: listing members and guests, adding, changing, removing.

Real HTTP against a real Jupyter server (``wsp_world``: workspace ``acme`` owned by
ada@acme.test). Every refusal is checked for its status, its ``reason`` and for
changing nothing (the policy version does not move).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.api import NO_BODY, Api, BodyCase, RouteCase, check_bad_bodies, check_refusals

MEMBERS = "workspaces/acme/members"

ROUTES = [
    pytest.param(
        RouteCase(
            "members.list",
            "GET",
            MEMBERS,
            (("outsider", 404, "not_found"), ("guest", 403, "guest")),
        ),
        id="listing-members-is-for-members-and-hidden-from-outsiders",
    ),
    pytest.param(
        RouteCase(
            "member.put",
            "PUT",
            f"{MEMBERS}/vic@acme.test",
            (
                ("outsider", 404, "not_found"),
                ("guest", 403, "guest"),
                ("viewer", 403, "role_too_low"),
                ("contributor", 403, "role_too_low"),
                ("editor", 403, "role_too_low"),
            ),
            body={"role": "editor"},
        ),
        id="adding-or-changing-members-needs-admin",
    ),
    pytest.param(
        RouteCase(
            "member.delete",
            "DELETE",
            f"{MEMBERS}/vic@acme.test",
            (
                ("outsider", 404, "not_found"),
                ("guest", 403, "guest"),
                ("viewer", 403, "role_too_low"),
                ("editor", 403, "role_too_low"),
            ),
        ),
        id="removing-members-needs-admin",
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
                "member.put",
                "PUT",
                f"{MEMBERS}/vic@acme.test",
                "admin",
                (
                    {},
                    {"role": "boss"},
                    {"role": 4},
                    {"role": "viewer", "owner": True},
                    {"role": "viewer", "only_new": "yes"},
                ),
            ),
            id="a-member-role-is-one-of-the-four-roles-and-nothing-else",
        )
    ],
)
async def test_route_refuses_malformed_bodies(api: Api, case: BodyCase) -> None:
    await check_bad_bodies(api, case)


def standing(member: dict[str, Any]) -> tuple[Any, ...]:
    return (member["role"], member["owner"], member["guest"], member["sso_blocked"])


async def test_members_list_shows_members_and_guests_with_their_standing(api: Api) -> None:
    members = (await api.ok("viewer", "GET", MEMBERS))["members"]
    assert {m["username"]: standing(m) for m in members} == {
        "ada@acme.test": ("admin", True, False, False),
        "cora@acme.test": ("contributor", False, False, False),
        "ed@acme.test": ("editor", False, False, False),
        "gus@gmail.test": (None, False, True, False),
        "vic@acme.test": ("viewer", False, False, False),
    }
    [gus] = [m for m in members if m["guest"]]
    assert gus["projects"] == [{"name": "public", "role": "viewer", "expires_at": None}]
    assert (gus["email"], gus["login_provider"]) == ("gus@gmail.test", "github")

    # a guest of a private project shows only to those who can see that project
    await api.ok(
        "editor",
        "PUT",
        "workspaces/acme/projects/private/collaborators/pat@x.test",
        {"role": "viewer"},
    )
    by_viewer = (await api.ok("viewer", "GET", MEMBERS))["members"]
    assert "pat@x.test" not in {m["username"] for m in by_viewer}
    by_creator = {m["username"]: m for m in (await api.ok("editor", "GET", MEMBERS))["members"]}
    assert standing(by_creator["pat@x.test"]) == (None, False, True, False)
    assert [p["name"] for p in by_creator["pat@x.test"]["projects"]] == ["private"]

    reply = await api("admin", "GET", "workspaces/nope/members")
    assert (reply.code, reply.reason) == (404, "not_found")


async def test_admin_adds_members_and_changes_roles(api: Api) -> None:
    promoted = await api.ok("admin", "PUT", f"{MEMBERS}/vic@acme.test", {"role": "editor"})
    assert standing(promoted) == ("editor", False, False, False)
    assert (await api.ok("viewer", "GET", "workspaces/acme/projects/public"))["role"] == "editor"
    assert ("ada@acme.test", "vic@acme.test", {"from": "viewer", "to": "editor"}) in api.audit(
        "member.set"
    )

    added = await api.ok("admin", "PUT", f"{MEMBERS}/New@Acme.test", {"role": "contributor"})
    assert (added["username"], added["role"], added["guest"]) == (
        "new@acme.test",
        "contributor",
        False,
    )
    assert ("ada@acme.test", "new@acme.test", {"login_provider": "token"}) in api.audit(
        "user.create"
    )
    newcomer = api.token("new@acme.test", "google", "newcomer")
    me = await api.ok(newcomer, "GET", "me")
    assert me["identity"]["email_verified"] is False
    assert [(w["slug"], w["role"]) for w in me["workspaces"]] == [("acme", "contributor")]

    same_person = await api.ok("admin", "PUT", f"{MEMBERS}/ED@ACME.TEST", {"role": "admin"})
    assert (same_person["username"], same_person["role"]) == ("ed@acme.test", "admin")
    assert (await api.ok("editor", "GET", "workspaces/acme"))["role"] == "admin"

    before = api.version()
    not_an_email = await api("admin", "PUT", f"{MEMBERS}/nobody", {"role": "viewer"})
    assert (not_an_email.code, not_an_email.reason) == (400, "invalid_email")
    assert api.version() == before


async def test_adding_a_new_member_never_changes_an_existing_role(api: Api) -> None:
    """``only_new`` (the settings page's "Add member"): an add that would change somebody
    who is already a member, the owner included, is refused with their current role."""
    before = api.version()
    for who, role in (("cora@acme.test", "viewer"), ("CORA@acme.test", "admin")):
        reply = await api("admin", "PUT", f"{MEMBERS}/{who}", {"role": role, "only_new": True})
        assert (reply.code, reply.reason) == (409, "already_member"), (who, reply)
        assert reply.body["message"] == (
            "cora@acme.test is already a Contributor of acme: change their role in the "
            "members table instead"
        )
    owner = await api(
        "admin", "PUT", f"{MEMBERS}/ada@acme.test", {"role": "viewer", "only_new": True}
    )
    assert (owner.code, owner.reason) == (409, "already_member"), owner
    assert owner.body["message"] == (
        "ada@acme.test is already an Admin and the owner of acme: the owner's role moves "
        "only with jupyter workspace-perms set-owner"
    )
    # the permission comes first: who may not manage members learns nothing new here
    refused = await api(
        "editor", "PUT", f"{MEMBERS}/cora@acme.test", {"role": "viewer", "only_new": True}
    )
    assert (refused.code, refused.reason) == (403, "role_too_low"), refused
    assert api.version() == before
    members = {m["username"]: m["role"] for m in (await api.ok("admin", "GET", MEMBERS))["members"]}
    assert (members["cora@acme.test"], members["ada@acme.test"]) == ("contributor", "admin")

    # a guest and an unknown email are new members: they are added
    gus = await api.ok(
        "admin", "PUT", f"{MEMBERS}/gus@gmail.test", {"role": "viewer", "only_new": True}
    )
    assert standing(gus) == ("viewer", False, False, False)
    new = await api.ok(
        "admin", "PUT", f"{MEMBERS}/nia@acme.test", {"role": "editor", "only_new": True}
    )
    assert (new["username"], new["role"]) == ("nia@acme.test", "editor")
    # without it (or with false) PUT still adds or changes, as documented
    changed = await api.ok(
        "admin", "PUT", f"{MEMBERS}/cora@acme.test", {"role": "viewer", "only_new": False}
    )
    assert changed["role"] == "viewer"


async def test_owner_can_be_neither_removed_nor_demoted(api: Api) -> None:
    await api.ok("admin", "PUT", f"{MEMBERS}/ed@acme.test", {"role": "admin"})
    before = api.version()
    for who in ("admin", "editor"):  # the owner and a second admin
        for role in ("editor", "viewer"):
            reply = await api(who, "PUT", f"{MEMBERS}/ada@acme.test", {"role": role})
            assert (reply.code, reply.reason) == (409, "owner_protected"), (who, role)
        reply = await api(who, "DELETE", f"{MEMBERS}/ada@acme.test")
        assert (reply.code, reply.reason) == (409, "owner_protected"), who
    unchanged = await api.ok("editor", "PUT", f"{MEMBERS}/ada@acme.test", {"role": "admin"})
    assert standing(unchanged) == ("admin", True, False, False)
    assert api.version() == before


async def test_removed_member_loses_access_on_the_next_request(api: Api) -> None:
    assert (await api.ok("viewer", "GET", "workspaces/acme"))["role"] == "viewer"
    removed = await api("admin", "DELETE", f"{MEMBERS}/vic@acme.test")
    assert (removed.code, removed.body) == (204, None)
    for path in ("workspaces/acme", "workspaces/acme/projects/public", MEMBERS):
        reply = await api("viewer", "GET", path)
        assert (reply.code, reply.reason) == (404, "not_found"), path
    assert (await api.ok("viewer", "GET", "me"))["workspaces"] == []
    assert ("ada@acme.test", "vic@acme.test", {"from": "viewer", "grants_removed": {}}) in (
        api.audit("member.remove")
    )

    before = api.version()
    for user in ("vic@acme.test", "gus@gmail.test", "nobody@acme.test"):  # gus is a guest
        reply = await api("admin", "DELETE", f"{MEMBERS}/{user}", NO_BODY)
        assert (reply.code, reply.reason) == (404, "not_found"), user
    assert api.version() == before


async def test_a_removed_member_keeps_no_grant_in_the_workspace(api: Api) -> None:
    """Leaving a team ends its projects too: a creator's admin grant goes with the membership."""
    assert (await api.ok("editor", "GET", "workspaces/acme/projects/private"))["role"] == "admin"
    removed = await api("admin", "DELETE", f"{MEMBERS}/ed@acme.test")
    assert removed.code == 204
    for project in ("private", "public"):
        reply = await api("editor", "GET", f"workspaces/acme/projects/{project}")
        assert (reply.code, reply.reason) == (404, "not_found"), project
    [(_actor, _target, details)] = api.audit("member.remove")
    assert sorted(details["grants_removed"].values()) == ["admin", "admin"]
