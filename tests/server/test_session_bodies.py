"""Sessions and kernels are decided from exactly what Jupyter's handlers will use
(issue #10, item 1).

jupyter_server's session handlers read the legacy ``notebook.path`` / ``notebook.name``
keys and use them instead of ``path``; a ``kernel.id`` (or ``kernel_id`` of ``POST
/api/kernels``) that names no running kernel starts a new kernel at that id; and ``POST
/api/sessions`` at a path that already has a session returns that session whatever the
body says. So: the ``notebook`` key is refused, bodies of the wrong JSON type are
refused (Jupyter would answer 500 or read them unchecked), a kernel id must name a
running kernel the user may run code in, and an existing session's kernel must be one
too.

Real kernels on a real server (``wsp_world``: ed editor and creator of the private
project ``acme/private``, cora contributor, vic viewer; plus workspace ``beta`` that
none of them belongs to).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.http import Http, start_session
from tests.helpers.world import World

NOTEBOOK = {"type": "notebook", "name": "x.ipynb"}


def other_workspace(world: World, server: Any) -> None:
    """Workspace ``beta`` (owner otto) with its project ``secret``, written through the
    server's own store (the next request sees it)."""
    with server.web_app.settings["workspace_perms_store"].write("test") as w:
        w.create_workspace("beta", "otto@else.test", "token", name="Beta")
        w.create_project("beta", "secret", "full", creator="otto@else.test")
    (world.root / "beta" / "secret").mkdir(parents=True)


async def everything(jp_serverapp: Any) -> tuple[list[Any], list[str]]:
    """Every session (path, kernel) and kernel id on the server, whoever may see them."""
    sessions = await jp_serverapp.session_manager.list_sessions()
    kernels = sorted(jp_serverapp.kernel_manager.list_kernel_ids())
    return sorted((s["path"], s["kernel"]["id"]) for s in sessions), kernels


async def test_the_legacy_notebook_key_is_refused(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    other_workspace(wsp_world, jp_serverapp)
    own = await start_session(http, "contributor", "acme/public/own.ipynb")
    before = await everything(jp_serverapp)
    decoy = "acme/public/decoy.ipynb"
    for target in ("acme/private/x.ipynb", "beta/secret/x.ipynb"):
        for body in (
            # the reported attack: the handler uses notebook.path, the check saw path
            {"path": decoy, "notebook": {"path": target}, "kernel": {"id": own["kernel"]["id"]}},
            {"path": decoy, "type": "notebook", "notebook": {"path": target}},
            {"path": decoy, "notebook": {"name": target}, "kernel": {"name": "python3"}},
            {"notebook": {"path": target}, "kernel": {"name": "python3"}},
            {"path": decoy, "notebook": {}, **NOTEBOOK},
        ):
            reply = await http("contributor", "POST", "api/sessions", body)
            assert (reply.code, reply.reason) == (400, "legacy_notebook_key"), (body, reply)
        for body in ({"notebook": {"path": target}}, {"path": decoy, "notebook": {"path": target}}):
            reply = await http("contributor", "PATCH", f"api/sessions/{own['id']}", body)
            assert (reply.code, reply.reason) == (400, "legacy_notebook_key"), (body, reply)
    assert await everything(jp_serverapp) == before
    assert not (wsp_world.root / "acme" / "private" / "x.ipynb").exists()


async def test_bodies_of_the_wrong_type_are_refused(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    own = await start_session(http, "contributor", "acme/public/own.ipynb")
    before = await everything(jp_serverapp)
    path = "acme/public/new.ipynb"
    for method, url, body, reason in (
        ("POST", "api/sessions", [path], "bad_body"),
        ("POST", "api/sessions", f'"{path}"', "bad_body"),
        ("POST", "api/sessions", "null", "bad_body"),
        ("POST", "api/sessions", {"type": "notebook"}, "missing_path"),
        ("POST", "api/sessions", {"path": ["acme/public/new.ipynb"], **NOTEBOOK}, "bad_path"),
        ("POST", "api/sessions", {"path": None, **NOTEBOOK}, "bad_path"),
        ("POST", "api/sessions", {"path": path, **NOTEBOOK, "kernel": None}, "bad_kernel"),
        ("POST", "api/sessions", {"path": path, **NOTEBOOK, "kernel": "python3"}, "bad_kernel"),
        ("POST", "api/sessions", {"path": path, **NOTEBOOK, "kernel": {"id": 7}}, "bad_kernel_id"),
        (
            "POST",
            "api/sessions",
            {"path": path, **NOTEBOOK, "kernel": {"name": ["python3"]}},
            "bad_kernel_name",
        ),
        ("POST", "api/sessions", {"path": path, "type": "notebook", "name": {}}, "bad_name"),
        ("POST", "api/sessions", {"path": path, "type": 1}, "bad_type"),
        ("PATCH", f"api/sessions/{own['id']}", [], "bad_body"),
        ("PATCH", f"api/sessions/{own['id']}", {"path": None}, "bad_path"),
        ("PATCH", f"api/sessions/{own['id']}", {"path": 3}, "bad_path"),
        ("PATCH", f"api/sessions/{own['id']}", {"kernel": None}, "bad_kernel"),
        ("PATCH", f"api/sessions/{own['id']}", {"kernel": {"id": ["x"]}}, "bad_kernel_id"),
        ("PATCH", f"api/sessions/{own['id']}", {"name": 5}, "bad_name"),
        ("POST", "api/kernels", ["python3"], "bad_body"),
        ("POST", "api/kernels", {"name": "python3", "path": ["acme/public"]}, "bad_path"),
        ("POST", "api/kernels", {"name": 3, "path": "acme/public"}, "bad_kernel_name"),
        ("POST", "api/kernels", {"path": "acme/public", "kernel_id": 1}, "bad_kernel_id"),
    ):
        reply = await http("contributor", method, url, body)
        assert (reply.code, reply.reason) == (400, reason), (method, body, reply)
    assert await everything(jp_serverapp) == before


async def test_kernels_start_only_at_ids_the_server_picks(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    own = await start_session(http, "contributor", "acme/public/own.ipynb")
    private = await start_session(http, "editor", "acme/private/p.ipynb")
    before = await everything(jp_serverapp)
    chosen = "cafe0000-0000-4000-8000-00000000beef"
    # an id that names no kernel, and one of a kernel cora may not see: the same answer
    for kernel_id in (chosen, "", "../x", private["kernel"]["id"]):
        for method, url, body in (
            (
                "POST",
                "api/kernels",
                {"name": "python3", "path": "acme/public", "kernel_id": kernel_id},
            ),
            (
                "POST",
                "api/sessions",
                {
                    "path": "acme/public/c.ipynb",
                    **NOTEBOOK,
                    "kernel": {"id": kernel_id, "name": "python3"},
                },
            ),
            ("PATCH", f"api/sessions/{own['id']}", {"kernel": {"id": kernel_id}}),
        ):
            reply = await http("contributor", method, url, body)
            assert (reply.code, reply.reason) == (404, "not_found"), (method, body, reply)
    assert await everything(jp_serverapp) == before
    # a running kernel she may use is fine: Jupyter returns it
    reply = await http(
        "contributor",
        "POST",
        "api/kernels",
        {"name": "python3", "path": "acme/public", "kernel_id": own["kernel"]["id"]},
    )
    assert reply.code == 201 and reply.json["id"] == own["kernel"]["id"], reply
    # vic may read public but not run code there: told why, never handed the kernel
    reply = await http(
        "viewer", "POST", "api/kernels", {"path": "acme/public", "kernel_id": own["kernel"]["id"]}
    )
    assert (reply.code, reply.reason) == (403, "role_too_low"), reply
    assert await everything(jp_serverapp) == before


@pytest.mark.parametrize("who", ["contributor", "viewer"])
async def test_an_existing_session_is_returned_only_to_who_may_use_its_kernel(
    http: Http, wsp_world: World, jp_serverapp: Any, who: str
) -> None:
    # ed's session in his private project, whose folder then moves: the project (and
    # its kernel's binding) follows the folder, the session keeps its path, and a new
    # open project takes the old name
    session = await start_session(http, "editor", "acme/private/nb.ipynb")
    await http.ok("editor", "PATCH", "api/contents/acme/private", {"path": "acme/vault"})
    await http.ok("editor", "PUT", "api/contents/acme/private", {"type": "directory"})
    before = await everything(jp_serverapp)
    assert ("acme/private/nb.ipynb", session["kernel"]["id"]) in before[0]

    body = {"path": "acme/private/nb.ipynb", **NOTEBOOK, "kernel": {"name": "python3"}}
    reply = await http(who, "POST", "api/sessions", body)
    expected = (404, "not_found") if who == "contributor" else (403, "role_too_low")
    assert (reply.code, reply.reason) == expected, reply
    assert session["kernel"]["id"] not in reply.raw.decode()
    assert await everything(jp_serverapp) == before
    # ed may use both projects, but a session never joins a kernel of another project
    reply = await http("editor", "POST", "api/sessions", body)
    assert (reply.code, reply.reason) == (403, "cross_project"), reply
    assert await everything(jp_serverapp) == before
