"""``GET me`` says how each project role was obtained, so people can see it in JupyterLab.

Real HTTP against a real Jupyter server (``wsp_world``: workspace ``acme`` with projects
``public`` (full), ``locked`` (view) and ``private`` (none); gus is a guest with a viewer
grant on ``public``). The lab extension's role item shows "Contributor · grant until …"
from ``source`` and ``grant_expires_at``; the joining prompt names the role from ``joinable``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.helpers.api import Api, in_seconds

PROJECTS = "workspaces/acme/projects"


async def _projects(api: Api, who: str) -> dict[str, dict[str, Any]]:
    """The caller's projects of ``acme`` as ``me`` lists them, by name."""
    me = await api.ok(who, "GET", "me")
    [acme] = [w for w in me["workspaces"] if w["slug"] == "acme"]
    return {p["name"]: p for p in acme["projects"]}


def _how(project: dict[str, Any]) -> tuple[Any, Any, Any]:
    return project["role"], project["source"], project["grant_expires_at"]


async def test_me_says_whether_a_role_comes_from_membership_or_a_grant(api: Api) -> None:
    contributor = await _projects(api, "contributor")
    assert _how(contributor["public"]) == ("contributor", "membership", None)
    assert _how(contributor["locked"]) == ("viewer", "membership", None)
    guest = await _projects(api, "guest")
    assert _how(guest["public"]) == ("viewer", "grant", None)

    until = in_seconds(86400)
    await api.ok(
        "admin",
        "PUT",
        f"{PROJECTS}/locked/collaborators/vic@acme.test",
        {"role": "editor", "expires_at": until},
    )
    viewer = await _projects(api, "viewer")
    role, source, expires = _how(viewer["locked"])
    assert (role, source) == ("editor", "grant")
    assert datetime.fromisoformat(expires) == datetime.fromisoformat(until)
    assert _how(viewer["public"]) == ("viewer", "membership", None)
    # the same answer from the project's own page and the workspace's project list
    detail = await api.ok("viewer", "GET", f"{PROJECTS}/locked")
    assert (detail["source"], detail["grant_expires_at"]) == ("grant", expires)
    listed = {p["name"]: p for p in (await api.ok("viewer", "GET", PROJECTS))["projects"]}
    assert (listed["locked"]["source"], listed["locked"]["grant_expires_at"]) == ("grant", expires)


async def test_a_grant_equal_to_the_membership_role_is_named_with_both(api: Api) -> None:
    until = in_seconds(3600)
    await api.ok(
        "editor",
        "PUT",
        f"{PROJECTS}/public/collaborators/cora@acme.test",
        {"role": "contributor", "expires_at": until},
    )
    role, source, expires = _how((await _projects(api, "contributor"))["public"])
    assert (role, source) == ("contributor", "membership+grant")
    assert datetime.fromisoformat(expires) == datetime.fromisoformat(until)

    # a lower grant adds nothing: the role comes from the membership alone
    await api.ok(
        "editor", "PUT", f"{PROJECTS}/public/collaborators/cora@acme.test", {"role": "viewer"}
    )
    assert _how((await _projects(api, "contributor"))["public"]) == (
        "contributor",
        "membership",
        None,
    )


async def test_private_projects_listed_by_name_only_have_no_source(api: Api) -> None:
    admin = await _projects(api, "admin")
    assert admin["private"]["name_only"] is True
    assert _how(admin["private"]) == (None, None, None)
    assert _how(admin["public"]) == ("admin", "membership", None)


async def test_joinable_workspaces_name_the_role_joining_gives(api: Api) -> None:
    boss = api.workspace("initech", "boss@initech.com")
    await api.ok(boss, "PATCH", "workspaces/initech", {"domain_invites": True})
    newcomer = api.person("new@initech.com")
    [joinable] = (await api.ok(newcomer, "GET", "me"))["joinable"]
    assert (joinable["slug"], joinable["role"]) == ("initech", "viewer")
    joined = await api.ok(newcomer, "POST", "workspaces/initech/join")
    assert joined["role"] == joinable["role"]
