"""REST API rules for projects and collaborators: create, access levels, sharing, expiry.

Real HTTP against a real Jupyter server (``wsp_world``: workspace ``acme`` with projects
``public`` (full, creator ed), ``locked`` (view) and ``private`` (none, creator ed); gus is a
guest with a viewer grant on ``public``). Every refusal is checked for its status, its
``reason`` and for changing nothing (the policy version does not move).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.api import (
    NO_BODY,
    Api,
    BodyCase,
    RouteCase,
    check_bad_bodies,
    check_refusals,
    in_seconds,
)

PROJECTS = "workspaces/acme/projects"
OUTSIDER = ("outsider", 404, "not_found")

ROUTES = [
    pytest.param(
        RouteCase("projects.list", "GET", PROJECTS, (OUTSIDER, ("guest", 403, "guest"))),
        id="listing-projects-is-for-members-guests-use-me",
    ),
    pytest.param(
        RouteCase(
            "projects.create",
            "POST",
            PROJECTS,
            (
                OUTSIDER,
                ("guest", 403, "guest"),
                ("viewer", 403, "role_too_low"),
                ("contributor", 403, "role_too_low"),
            ),
            body={"name": "new"},
        ),
        id="creating-projects-needs-workspace-editor",
    ),
    pytest.param(
        RouteCase(
            "project.get",
            "GET",
            f"{PROJECTS}/private",
            (
                OUTSIDER,
                ("guest", 404, "not_found"),
                ("viewer", 404, "not_found"),
                ("contributor", 404, "not_found"),
                ("admin", 403, "private"),
            ),
        ),
        id="private-project-is-unknown-to-members-and-forbidden-to-admins",
    ),
    pytest.param(
        RouteCase(
            "project.patch",
            "PATCH",
            f"{PROJECTS}/locked",
            (
                OUTSIDER,
                ("guest", 404, "not_found"),
                ("viewer", 403, "role_too_low"),
                ("contributor", 403, "role_too_low"),
                ("editor", 403, "role_too_low"),
            ),
            body={"access": "full"},
        ),
        id="changing-project-access-needs-project-admin",
    ),
    pytest.param(
        RouteCase(
            "collaborator.put",
            "PUT",
            f"{PROJECTS}/public/collaborators/otto@else.test",
            (
                OUTSIDER,
                ("guest", 403, "role_too_low"),
                ("viewer", 403, "role_too_low"),
                ("contributor", 403, "role_too_low"),
            ),
            body={"role": "viewer"},
        ),
        id="sharing-a-project-needs-project-admin",
    ),
    pytest.param(
        RouteCase(
            "collaborator.delete",
            "DELETE",
            f"{PROJECTS}/public/collaborators/gus@gmail.test",
            (OUTSIDER, ("guest", 403, "role_too_low"), ("contributor", 403, "role_too_low")),
        ),
        id="unsharing-a-project-needs-project-admin",
    ),
]


@pytest.mark.parametrize("case", ROUTES)
async def test_route_refuses_who_may_not_use_it(api: Api, case: RouteCase) -> None:
    await check_refusals(api, case)


BODIES = [
    pytest.param(
        BodyCase(
            "projects.create",
            "POST",
            PROJECTS,
            "editor",
            ({}, {"name": ""}, {"name": "x", "access": "secret"}, {"name": "x", "owner": "y"}),
        ),
        id="a-new-project-takes-a-name-and-a-known-access-level",
    ),
    pytest.param(
        BodyCase(
            "project.patch",
            "PATCH",
            f"{PROJECTS}/public",
            "admin",
            ({}, {"access": "secret"}, {"access": "view", "name": "renamed"}),
        ),
        id="project-access-is-full-view-or-none",
    ),
    pytest.param(
        BodyCase(
            "collaborator.put",
            "PUT",
            f"{PROJECTS}/public/collaborators/otto@else.test",
            "admin",
            (
                {},
                {"role": "boss"},
                {"role": "viewer", "until": "2099-01-01T00:00:00Z"},
                {"role": "viewer", "expires_at": "2099-01-01T00:00:00"},  # no zone
                {"role": "viewer", "expires_at": "2099-01-01"},
                {"role": "viewer", "expires_at": "next week"},
            ),
        ),
        id="a-grant-takes-a-role-and-an-expiry-with-a-time-zone",
    ),
]


@pytest.mark.parametrize("case", BODIES)
async def test_route_refuses_malformed_bodies(api: Api, case: BodyCase) -> None:
    await check_bad_bodies(api, case)


async def test_unknown_project_or_collaborator_is_not_found(api: Api) -> None:
    before = api.version()
    for method, path, body in [
        ("GET", f"{PROJECTS}/nope", NO_BODY),
        ("PATCH", f"{PROJECTS}/nope", {"access": "view"}),
        ("PUT", f"{PROJECTS}/nope/collaborators/vic@acme.test", {"role": "viewer"}),
        ("DELETE", f"{PROJECTS}/public/collaborators/vic@acme.test", NO_BODY),  # not shared
        ("DELETE", f"{PROJECTS}/public/collaborators/nobody@acme.test", NO_BODY),
        ("GET", "workspaces/nope/projects", NO_BODY),
    ]:
        reply = await api("admin", method, path, body)
        assert (reply.code, reply.reason) == (404, "not_found"), (method, path)
    assert api.version() == before


# -- creating projects -------------------------------------------------------------------------


async def test_editor_creates_a_project_folder_and_becomes_its_admin(
    api: Api, jp_root_dir: Path
) -> None:
    created = await api("editor", "POST", PROJECTS, {"name": "analysis"})
    assert created.code == 201
    assert created.body == {
        **created.body,
        "name": "analysis",
        "workspace": "acme",
        "access": "full",
        "role": "admin",
        "creator": "ed@acme.test",
        "collaborators": [
            {"username": "ed@acme.test", "role": "admin", "expires_at": None, "guest": False}
        ],
    }
    assert (jp_root_dir / "acme" / "analysis").is_dir()
    assert (await api.ok("viewer", "GET", f"{PROJECTS}/analysis"))["role"] == "viewer"
    assert api.audit("project.create")[-1] == (
        "ed@acme.test",
        "acme/analysis",
        {"access": "full", "creator": "ed@acme.test"},
    )

    private = await api.ok("admin", "POST", PROJECTS, {"name": "Q3 report", "access": "none"})
    assert (private["access"], private["role"]) == ("none", "admin")
    assert (jp_root_dir / "acme" / "Q3 report").is_dir()

    before, folders = api.version(), sorted(jp_root_dir.rglob("*"))
    duplicate = await api("editor", "POST", PROJECTS, {"name": "analysis"})
    assert (duplicate.code, duplicate.reason) == (409, "exists")
    for name in ("..", "../escape", "a/b", ".hidden", "a\\b", "trailing ", "x" * 128):
        reply = await api("editor", "POST", PROJECTS, {"name": name})
        expected = "invalid_body" if len(name) > 127 else "invalid_name"
        assert (reply.code, reply.reason) == (400, expected), name
    assert api.version() == before
    assert sorted(jp_root_dir.rglob("*")) == folders


# -- access levels -----------------------------------------------------------------------------


async def test_locked_project_gives_members_viewer_and_admins_admin(api: Api) -> None:
    expected = {"admin": "admin", "editor": "viewer", "contributor": "viewer", "viewer": "viewer"}
    for who, role in expected.items():
        locked = await api.ok(who, "GET", f"{PROJECTS}/locked")
        assert locked["role"] == role, who
        assert ("project:write" in locked["permissions"]) is (role == "admin"), who


async def test_private_project_is_listed_by_name_only_for_admins(api: Api) -> None:
    def listed(body: dict[str, Any]) -> dict[str, Any]:
        return {p["name"]: (p["role"], p["name_only"]) for p in body["projects"]}

    assert listed(await api.ok("admin", "GET", PROJECTS)) == {
        "locked": ("admin", False),
        "private": (None, True),
        "public": ("admin", False),
    }
    assert listed(await api.ok("viewer", "GET", PROJECTS)) == {
        "locked": ("viewer", False),
        "public": ("viewer", False),
    }
    assert listed(await api.ok("editor", "GET", PROJECTS))["private"] == ("admin", False)
    assert (await api.ok("editor", "GET", f"{PROJECTS}/private"))["role"] == "admin"


async def test_making_a_project_private_needs_a_workspace_editor(api: Api) -> None:
    # gus (guest) and cora (contributor) become project admins of their projects
    await api.ok(
        "editor", "PUT", f"{PROJECTS}/public/collaborators/gus@gmail.test", {"role": "admin"}
    )
    await api.ok(
        "admin", "PUT", f"{PROJECTS}/locked/collaborators/cora@acme.test", {"role": "admin"}
    )
    assert (await api.ok("guest", "GET", f"{PROJECTS}/public"))["role"] == "admin"
    locked = await api.ok("guest", "PATCH", f"{PROJECTS}/public", {"access": "view"})
    assert locked["access"] == "view"

    before = api.version()
    for who, project in (("guest", "public"), ("contributor", "locked")):
        reply = await api(who, "PATCH", f"{PROJECTS}/{project}", {"access": "none"})
        assert (reply.code, reply.reason) == (403, "private_needs_editor"), who
    assert api.version() == before
    assert (await api.ok("viewer", "GET", f"{PROJECTS}/public"))["access"] == "view"

    private = await api.ok("editor", "PATCH", f"{PROJECTS}/public", {"access": "none"})
    assert (private["access"], private["role"]) == ("none", "admin")
    reply = await api("viewer", "GET", f"{PROJECTS}/public")
    assert (reply.code, reply.reason) == (404, "not_found")
    reply = await api("admin", "GET", f"{PROJECTS}/public")
    assert (reply.code, reply.reason) == (403, "private")
    assert (await api.ok("guest", "GET", f"{PROJECTS}/public"))["role"] == "admin"
    assert [d for a, t, d in api.audit("project.access") if a == "ed@acme.test"] == [
        {"from": "view", "to": "none"}
    ]


# -- collaborators -----------------------------------------------------------------------------


async def test_project_admin_shares_with_guests_and_members(api: Api) -> None:
    expires = in_seconds(86400)
    shared = await api.ok(
        "editor",
        "PUT",
        f"{PROJECTS}/public/collaborators/otto@else.test",
        {"role": "contributor", "expires_at": expires},
    )
    assert (shared["username"], shared["role"], shared["guest"]) == (
        "otto@else.test",
        "contributor",
        True,
    )
    assert datetime.fromisoformat(shared["expires_at"]) == datetime.fromisoformat(expires)
    assert (await api.ok("outsider", "GET", f"{PROJECTS}/public"))["role"] == "contributor"
    [acme] = (await api.ok("outsider", "GET", "me"))["workspaces"]
    assert (acme["guest"], [p["name"] for p in acme["projects"]]) == (True, ["public"])
    members = {
        m["username"]: m
        for m in (await api.ok("viewer", "GET", "workspaces/acme/members"))["members"]
    }
    assert (members["otto@else.test"]["guest"], members["otto@else.test"]["role"]) == (True, None)
    assert [p["role"] for p in members["otto@else.test"]["projects"]] == ["contributor"]
    actor, target, details = api.audit("collaborator.set")[-1]
    assert (actor, target, details["to"]) == (
        "ed@acme.test",
        "acme/public:otto@else.test",
        "contributor",
    )

    newcomer = await api.ok(
        "editor", "PUT", f"{PROJECTS}/public/collaborators/pat@partner.test", {"role": "viewer"}
    )
    assert (newcomer["username"], newcomer["guest"], newcomer["expires_at"]) == (
        "pat@partner.test",
        True,
        None,
    )
    member = await api.ok(
        "admin", "PUT", f"{PROJECTS}/locked/collaborators/vic@acme.test", {"role": "editor"}
    )
    assert member["guest"] is False
    assert (await api.ok("viewer", "GET", f"{PROJECTS}/locked"))["role"] == "editor"

    before = api.version()
    for expiry in (in_seconds(-60), "2001-01-01T00:00:00+02:00"):
        reply = await api(
            "editor",
            "PUT",
            f"{PROJECTS}/public/collaborators/vic@acme.test",
            {"role": "editor", "expires_at": expiry},
        )
        assert (reply.code, reply.reason) == (400, "invalid_expiry"), expiry
        assert "in the past" in reply.body["message"]
    assert api.version() == before


async def test_expired_grant_stops_working_at_its_expiry(api: Api) -> None:
    await api.ok(
        "editor",
        "PUT",
        f"{PROJECTS}/public/collaborators/otto@else.test",
        {"role": "viewer", "expires_at": in_seconds(2)},
    )
    assert (await api.ok("outsider", "GET", f"{PROJECTS}/public"))["role"] == "viewer"
    deadline = time.monotonic() + 15
    reply = await api("outsider", "GET", f"{PROJECTS}/public")
    while reply.code == 200 and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        reply = await api("outsider", "GET", f"{PROJECTS}/public")
    assert (reply.code, reply.reason) == (404, "not_found")
    assert (await api.ok("outsider", "GET", "me"))["workspaces"] == []
    members = (await api.ok("admin", "GET", "workspaces/acme/members"))["members"]
    assert "otto@else.test" not in {m["username"] for m in members}


async def test_revoked_grant_is_refused_on_the_next_request(api: Api) -> None:
    assert (await api.ok("guest", "GET", f"{PROJECTS}/public"))["role"] == "viewer"
    revoked = await api("editor", "DELETE", f"{PROJECTS}/public/collaborators/gus@gmail.test")
    assert (revoked.code, revoked.body) == (204, None)
    reply = await api("guest", "GET", f"{PROJECTS}/public")
    assert (reply.code, reply.reason) == (404, "not_found")
    assert (await api.ok("guest", "GET", "me"))["workspaces"] == []
    assert api.audit("collaborator.remove") == [
        ("ed@acme.test", "acme/public:gus@gmail.test", {"from": "viewer"})
    ]
    before = api.version()
    again = await api("editor", "DELETE", f"{PROJECTS}/public/collaborators/gus@gmail.test")
    assert (again.code, again.reason) == (404, "not_found")
    assert api.version() == before
