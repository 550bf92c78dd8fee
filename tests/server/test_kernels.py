"""Enforcement on kernels and sessions: start, listings, actions and sockets per role.

Real kernels (ipykernel, ``python3``) on a real Jupyter server (``wsp_world``: workspace
``acme`` with projects ``public`` (full), ``locked`` (view) and ``private`` (none, creator
ed, so ed is its project admin); gus is a viewer collaborator on ``public``). Kernels take
about a second each to start, so each test starts few and checks many things on them.
"""

from __future__ import annotations

from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.helpers.http import Http, plant, start_session
from tests.helpers.world import World


async def kernel_ids(http: Http, who: str) -> set[str]:
    reply = await http.get(who, "api/kernels")
    assert reply.code == 200, (who, reply)
    return {k["id"] for k in reply.json}


async def session_paths(http: Http, who: str) -> set[str]:
    reply = await http.get(who, "api/sessions")
    assert reply.code == 200, (who, reply)
    return {s["path"] for s in reply.json}


async def test_kernels_and_sessions_are_listed_and_used_per_project(
    http: Http, wsp_world: World, jp_ws_fetch: Any
) -> None:
    public = await start_session(http, "editor", "acme/public/a.ipynb")
    locked = await start_session(http, "admin", "acme/locked/b.ipynb")
    private = await start_session(http, "editor", "acme/private/c.ipynb")
    kernel = {
        "public": public["kernel"]["id"],
        "locked": locked["kernel"]["id"],
        "private": private["kernel"]["id"],
    }
    session = {"public": public["id"], "locked": locked["id"], "private": private["id"]}
    path = {"public": "acme/public/a.ipynb", "locked": "acme/locked/b.ipynb"}
    path["private"] = "acme/private/c.ipynb"
    # listed and shown where the user may run code (issue #10, item 11); elsewhere 403
    # where they may read, 404 where they may not
    usable = {
        "admin": ["public", "locked"],  # private: invisible to a workspace Admin
        "editor": ["public", "private"],  # locked: members are viewers
        "contributor": ["public"],
        "viewer": [],
        "guest": [],
        "outsider": [],
    }
    readable = {"admin": ["public", "locked"], "editor": ["public", "locked", "private"]}
    readable.update(contributor=["public", "locked"], viewer=["public", "locked"])
    readable.update(guest=["public"], outsider=[])
    for who, projects in usable.items():
        assert await kernel_ids(http, who) == {kernel[p] for p in projects}, who
        assert await session_paths(http, who) == {path[p] for p in projects}, who
        for project in ("public", "locked", "private"):
            k = await http.get(who, f"api/kernels/{kernel[project]}")
            s = await http.get(who, f"api/sessions/{session[project]}")
            if project in projects:
                assert (k.code, s.code) == (200, 200), (who, project, k, s)
                assert s.json["kernel"]["id"] == kernel[project]
            elif project in readable[who]:
                assert (k.code, k.reason) == (403, "role_too_low"), (who, project, k)
                assert (s.code, s.reason) == (403, "role_too_low"), (who, project, s)
            else:
                assert (k.code, k.reason) == (404, "not_found"), (who, project, k)
                assert (s.code, s.reason) == (404, "not_found"), (who, project, s)

    # interrupting needs project:execute (contributor and up), on the kernel's own project
    execute = {
        ("public", "admin"): 204,
        ("public", "editor"): 204,
        ("public", "contributor"): 204,
        ("public", "viewer"): (403, "role_too_low"),
        ("public", "guest"): (403, "role_too_low"),
        ("public", "outsider"): (404, "not_found"),
        ("locked", "admin"): 204,
        ("locked", "editor"): (403, "role_too_low"),  # locked: members are viewers
        ("locked", "guest"): (404, "not_found"),
        ("private", "admin"): (404, "not_found"),
        ("private", "editor"): 204,
        ("private", "contributor"): (404, "not_found"),
    }
    for (project, who), outcome in execute.items():
        reply = await http(who, "POST", f"api/kernels/{kernel[project]}/interrupt")
        if outcome == 204:
            assert reply.code == 204, (project, who, reply)
        else:
            assert (reply.code, reply.reason) == outcome, (project, who, reply)

    # kernel websockets: execute on the kernel's bound project
    for project, who, refused in (
        ("private", "admin", 404),
        ("private", "viewer", 404),
        ("public", "guest", 403),  # a viewer grant: may read, not run
        ("public", "outsider", 404),
        ("locked", "editor", 403),
    ):
        with pytest.raises(HTTPClientError) as caught:
            await jp_ws_fetch(
                "api", "kernels", kernel[project], "channels", headers=wsp_world.auth(who)
            )
        assert caught.value.code == refused, (project, who)
    for project, who in (("private", "editor"), ("public", "contributor"), ("locked", "admin")):
        ws = await jp_ws_fetch(
            "api", "kernels", kernel[project], "channels", headers=wsp_world.auth(who)
        )
        ws.close()

    # shutting a kernel down or deleting a session needs project:write, or project:execute
    # and being the kernel's starter (tests/server/test_kernel_lifecycle.py)
    for who, code, reason in (
        ("admin", 404, "not_found"),
        ("viewer", 404, "not_found"),
        ("guest", 404, "not_found"),
    ):
        reply = await http(who, "DELETE", f"api/kernels/{kernel['private']}")
        assert (reply.code, reply.reason) == (code, reason), (who, reply)
        reply = await http(who, "DELETE", f"api/sessions/{session['private']}")
        assert (reply.code, reply.reason) == (code, reason), (who, reply)
    for who in ("viewer", "guest"):
        reply = await http(who, "DELETE", f"api/sessions/{session['public']}")
        assert (reply.code, reply.reason) == (403, "role_too_low"), (who, reply)
    assert await kernel_ids(http, "editor") == {kernel["public"], kernel["private"]}
    reply = await http("contributor", "DELETE", f"api/sessions/{session['public']}")
    assert (reply.code, reply.reason) == (403, "not_kernel_starter"), reply
    assert (await http("editor", "DELETE", f"api/sessions/{session['public']}")).code == 204
    assert (await http("editor", "DELETE", f"api/kernels/{kernel['private']}")).code == 204
    assert await kernel_ids(http, "admin") == {kernel["locked"]}


async def test_kernels_start_only_inside_projects_for_who_may_run_code(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    plant(wsp_world.root, "acme/README.md", "welcome")
    (wsp_world.root / "acme" / "public" / "sub").mkdir()
    km = jp_serverapp.kernel_manager
    # outside any project: refused, whoever asks and whatever the route
    for who in ("admin", "editor"):
        for where in ("", "acme", "acme/README.md"):
            for route, body in (
                ("api/kernels", {"name": "python3", "path": where}),
                ("api/sessions", {"path": where, "type": "notebook", "name": "x"}),
            ):
                reply = await http(who, "POST", route, body)
                assert (reply.code, reply.reason) == (403, "outside_projects"), (
                    who,
                    route,
                    where,
                    reply,
                )
        reply = await http(who, "POST", "api/kernels", {"name": "python3"})
        assert (reply.code, reply.reason) == (403, "outside_projects"), (who, reply)
    # people who may not run code in the project
    for who, where, code, reason in (
        ("viewer", "acme/public", 403, "role_too_low"),
        ("guest", "acme/public", 403, "role_too_low"),
        ("editor", "acme/locked", 403, "role_too_low"),
        ("outsider", "acme/public", 404, "not_found"),
        ("guest", "acme/locked", 404, "not_found"),
        ("admin", "acme/private", 404, "not_found"),
        ("contributor", "acme/private/x.ipynb", 404, "not_found"),
        # outside projects, for people who may not even see the folder: unknown to them
        ("outsider", "acme", 404, "not_found"),
        ("outsider", "", 403, "outside_projects"),  # everyone sees the root
        ("guest", "acme", 403, "outside_projects"),  # guests browse to their projects
        ("guest", "acme/README.md", 403, "guest"),  # workspace files are for members
    ):
        in_project = where.startswith("acme/") and "." not in where
        notebook = f"{where}/n.ipynb" if in_project else where
        for route, body in (
            ("api/kernels", {"name": "python3", "path": where}),
            ("api/sessions", {"path": notebook, "type": "notebook", "name": "n"}),
        ):
            reply = await http(who, "POST", route, body)
            assert (reply.code, reply.reason) == (code, reason), (who, route, where, reply)
    assert list(km.list_kernels()) == []

    # a contributor may; the kernel is bound to the project of its folder
    reply = await http(
        "contributor", "POST", "api/kernels", {"name": "python3", "path": "acme/public/sub"}
    )
    assert reply.code == 201, reply
    snap = jp_serverapp.web_app.settings["workspace_perms_store"].snapshot
    public_id = snap.projects_by_name[(snap.workspaces_by_slug["acme"], "public")]
    assert km.project_of(reply.json["id"]) == public_id
    assert await kernel_ids(http, "contributor") == {reply.json["id"]}
    assert await kernel_ids(http, "guest") == set()  # may read public, not run code there
    assert await kernel_ids(http, "outsider") == set()
