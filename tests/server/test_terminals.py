"""Terminals, when enabled, open from a project's folder and run confined to it.

A real server with jupyter_server_terminals on, real shells in real bubblewrap
(``/usr/bin/bwrap``), driven over the real terminal websocket: an Editor's shell in
one project sees that project and nothing else of the root, none of the server's
secrets, and its terminal is shown to and usable by nobody without ``project:write``
there. Refusals: roles without ``project:write``, folders outside projects, paths
the canonicalizer refuses, bodies with more than ``cwd``, and a sandbox that does
not confine (docs/design.md#terminals).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from tests.helpers.http import SECRET, Http, plant
from tests.helpers.terminal_ws import TerminalSocket
from tests.helpers.world import PEOPLE, World, server_config

pytestmark = [
    # jupyter_server_terminals' websocket checks identity in its own get() (an anonymous
    # request is refused: tests/server/test_route_inventory.py); Jupyter warns at load
    pytest.mark.filterwarnings(
        "ignore:Extension endpoints without:jupyter_server.utils.JupyterServerAuthWarning"
    ),
]

BEA = "bea@beta.test"  # an Editor of acme/locked only (a collaborator grant)
SERVER_SECRETS = {
    "WORKSPACE_PERMS_DB_URL": "postgresql+psycopg://policy:hunter2@db.internal/policy",
    "WORKSPACE_PERMS_PROXY_SECRET": "proxy-secret-4f1c",
    "JUPYTER_TOKEN": "0123456789abcdef0123456789abcdef",
}
BWRAP = {"mode": "required", "bwrap_path": "/usr/bin/bwrap"}
NO_BWRAP = "/nonexistent/bwrap"


@pytest.fixture
def sandbox() -> dict[str, Any]:
    """The kernel sandbox's options: real bubblewrap, required (tests may override)."""
    return BWRAP


@pytest.fixture
def jp_server_config(wsp_db_url: str, sandbox: dict[str, Any]) -> dict[str, Any]:
    """Terminals on, the kernel sandbox as the test says."""
    return server_config(
        wsp_db_url,
        extensions=["jupyter_server_terminals"],
        WorkspacePermsExtension={"terminals_enabled": True},
        KernelSandbox=sandbox,
    )


async def open_terminal(http: Http, who: str, cwd: str) -> str:
    """A new terminal opened by ``who`` in ``cwd``; its name."""
    model = await http.ok(who, "POST", "api/terminals", {"cwd": cwd})
    return str(model["name"])


async def listed(http: Http, who: str) -> set[str]:
    return {t["name"] for t in await http.ok(who, "GET", "api/terminals")}


async def assert_unknown(http: Http, jp_ws_fetch: Any, world: World, who: str, name: str) -> None:
    """``who`` is told terminal ``name`` does not exist, on every route that names it."""
    assert name not in await listed(http, who), (who, name)
    for method in ("GET", "DELETE"):
        reply = await http(who, method, f"api/terminals/{name}")
        assert (reply.code, reply.reason) == (404, "not_found"), (who, method, reply)
    with pytest.raises(HTTPClientError) as refused:
        await TerminalSocket.open(jp_ws_fetch, world, who, name)
    assert refused.value.code == 404, (who, refused.value)


def add_bea(jp_serverapp: Any, world: World) -> None:
    """Bea: an Editor of acme/locked through a grant, nothing in acme/public."""
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    with store.write("test") as w:
        w.ensure_user(BEA, "google")
        w.set_collaborator("acme", "locked", BEA, "editor")
        world.tokens["bea"] = w.create_token(BEA)[1]


async def test_an_editors_terminal_sees_only_its_project(
    http: Http,
    jp_ws_fetch: Any,
    wsp_world: World,
    wsp_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable, value in SERVER_SECRETS.items():
        monkeypatch.setenv(variable, value)
    root = Path(os.path.realpath(wsp_world.root))
    plant(root, "acme/public/mine.txt", "mine")
    # the Editor created acme/private (its project admin), yet this terminal is public's
    plant(root, "acme/private/secret.txt", SECRET)
    plant(root, "elsewhere/notes.txt", SECRET)  # outside every workspace
    name = await open_terminal(http, "editor", "acme/public")
    assert await listed(http, "editor") == {name}
    term = await TerminalSocket.open(jp_ws_fetch, wsp_world, "editor", name)
    try:
        assert (await term.run("pwd")).output == str(root / "acme" / "public")
        assert (await term.run(f"ls -A1 --color=never {root}")).output == "acme"
        assert (await term.run(f"ls -A1 --color=never {root}/acme")).output == "public"
        stolen = await term.run(f"cat {root}/acme/private/secret.txt")
        assert stolen.status != 0 and SECRET not in stolen.output, stolen
        # the project itself is read-write
        assert (await term.run("cat mine.txt && echo made > made.txt")).output == "mine"
        assert (root / "acme" / "public" / "made.txt").read_text() == "made\n"
        # the policy database is hidden
        database = Path(wsp_db_url.removeprefix("sqlite:///")).resolve()
        assert database.exists()
        found = await term.run(f"ls -A {database.parent}")
        assert "policy.sqlite" not in found.output, found
        env = await term.run("env")
        assert env.status == 0 and "PATH=" in env.output, env
        for variable, value in SERVER_SECRETS.items():
            assert variable not in env.output and value not in env.output, variable
        assert "JUPYTER_SERVER_URL" not in env.output, env
    finally:
        term.close()
    reply = await http("editor", "DELETE", f"api/terminals/{name}")
    assert reply.code == 204, reply


async def test_people_without_write_are_refused(http: Http, wsp_world: World) -> None:
    refusals = {
        ("viewer", "acme/public"): (403, "role_too_low"),
        ("contributor", "acme/public"): (403, "role_too_low"),
        ("guest", "acme/public"): (403, "role_too_low"),  # a viewer grant
        ("editor", "acme/locked"): (403, "role_too_low"),  # locked: members are viewers
        ("outsider", "acme/public"): (404, "not_found"),
        ("viewer", "acme/private"): (404, "not_found"),
    }
    for (who, cwd), expected in refusals.items():
        reply = await http(who, "POST", "api/terminals", {"cwd": cwd})
        assert (reply.code, reply.reason) == expected, (who, cwd, reply)
        assert set(reply.json) == {"message", "reason"}, reply
    assert await listed(http, "admin") == set()  # nothing was opened


async def test_a_terminal_outside_projects_is_for_server_admins(
    http: Http, jp_ws_fetch: Any, wsp_world: World
) -> None:
    root = wsp_world.root
    (root / "acme" / "public" / "to-private").symlink_to(root / "acme" / "private")
    refusals: list[tuple[Any, int, str]] = [
        ({}, 403, "outside_projects"),
        ({"cwd": ""}, 403, "outside_projects"),
        ({"cwd": None}, 403, "outside_projects"),
        ({"cwd": "acme"}, 403, "outside_projects"),
        ({"cwd": "nowhere"}, 403, "outside_projects"),
        ({"cwd": "acme/public/../private"}, 404, "path_refused"),
        ({"cwd": "acme/./public"}, 404, "path_refused"),
        ({"cwd": "acme/public/to-private"}, 404, "path_refused"),
        ({"cwd": "acme/public/missing"}, 404, "not_found"),
        ({"cwd": str(root / "acme" / "public")}, 400, "absolute_cwd"),
        ({"cwd": 7}, 400, "bad_cwd"),
        ({"cwd": "acme/public", "name": "9"}, 400, "unknown_field"),
        ({"cwd": "acme/public", "shell_command": ["/bin/sh"]}, 400, "unknown_field"),
        ([], 400, "bad_body"),
    ]
    for body, code, reason in refusals:
        reply = await http("editor", "POST", "api/terminals", body)
        assert (reply.code, reply.reason) == (code, reason), (body, reply)
    assert await listed(http, "admin") == set()
    # a server admin still gets a shell at the root, as Jupyter opens one
    name = str((await http.ok("admin", "POST", "api/terminals", {}))["name"])
    term = await TerminalSocket.open(jp_ws_fetch, wsp_world, "admin", name)
    try:
        assert (await term.run("pwd")).output == os.path.realpath(root)
    finally:
        term.close()
    await assert_unknown(http, jp_ws_fetch, wsp_world, "editor", name)
    assert await listed(http, "admin") == {name}


async def test_a_terminal_belongs_to_its_project(
    http: Http, jp_ws_fetch: Any, wsp_world: World, jp_serverapp: Any
) -> None:
    add_bea(jp_serverapp, wsp_world)
    public = await open_terminal(http, "editor", "acme/public")
    locked = await open_terminal(http, "bea", "acme/locked")
    assert await listed(http, "editor") == {public}
    assert await listed(http, "bea") == {locked}
    assert await listed(http, "admin") == {public, locked}  # a server admin sees all
    for who in ("bea", "viewer", "contributor", "outsider"):
        await assert_unknown(http, jp_ws_fetch, wsp_world, who, public)
    await assert_unknown(http, jp_ws_fetch, wsp_world, "editor", locked)
    term = await TerminalSocket.open(jp_ws_fetch, wsp_world, "bea", locked)
    try:
        assert (await term.run("pwd")).output == os.path.realpath(wsp_world.root / "acme/locked")
    finally:
        term.close()
    assert (await http("editor", "GET", f"api/terminals/{public}")).code == 200
    reply = await http("admin", "DELETE", f"api/terminals/{locked}")
    assert reply.code == 204, reply
    assert await listed(http, "admin") == {public}


async def test_open_sockets_close_when_their_person_loses_the_terminal(
    http: Http, jp_ws_fetch: Any, wsp_world: World, jp_serverapp: Any
) -> None:
    """Jupyter authorizes a terminal's websocket once; the server re-checks open ones."""
    add_bea(jp_serverapp, wsp_world)
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    with store.write("test") as w:
        token, wsp_world.tokens["ed2"] = w.create_token(PEOPLE["editor"][0])
        token_id = token.id
    locked = await open_terminal(http, "bea", "acme/locked")
    public = await open_terminal(http, "ed2", "acme/public")
    beas = await TerminalSocket.open(jp_ws_fetch, wsp_world, "bea", locked)
    eds = await TerminalSocket.open(jp_ws_fetch, wsp_world, "ed2", public)
    try:
        assert (await beas.run("echo still here")).output == "still here"
        assert (await eds.run("echo still here")).output == "still here"
        with store.write("test") as w:
            w.set_collaborator("acme", "locked", BEA, "viewer")  # no project:write
            w.revoke_token(token_id)
        await beas.closed_by_the_server()
        await eds.closed_by_the_server()
    finally:
        beas.close()
        eds.close()
    await assert_unknown(http, jp_ws_fetch, wsp_world, "bea", locked)
    # the shells still run, for whoever may still use them
    for name, folder in ((locked, "acme/locked"), (public, "acme/public")):
        term = await TerminalSocket.open(jp_ws_fetch, wsp_world, "admin", name)
        try:
            assert (await term.run("pwd")).output == os.path.realpath(wsp_world.root / folder)
        finally:
            term.close()


@pytest.mark.parametrize(
    "sandbox",
    [{"mode": "required", "bwrap_path": NO_BWRAP}],
    ids=["required-but-broken"],
)
async def test_a_required_sandbox_that_fails_refuses_project_terminals(
    http: Http, jp_serverapp: Any
) -> None:
    refusal = jp_serverapp.kernel_manager.sandbox.refusal("Terminals")
    assert refusal is not None
    for who in ("editor", "admin"):
        reply = await http(who, "POST", "api/terminals", {"cwd": "acme/public"})
        assert (reply.code, reply.reason) == (503, "sandbox_unavailable"), (who, reply)
        assert reply.json["message"] == refusal, reply
    # the server admin's shell outside projects was never confined
    assert (await http("admin", "POST", "api/terminals", {})).code == 200


@pytest.mark.parametrize(
    "sandbox",
    [{"mode": "auto", "bwrap_path": NO_BWRAP}, {"mode": "off"}],
    ids=["auto-without-bubblewrap", "off"],
)
async def test_an_unconfined_terminal_is_for_server_admins(
    http: Http, jp_ws_fetch: Any, wsp_world: World, jp_serverapp: Any
) -> None:
    assert not jp_serverapp.kernel_manager.sandbox.confining
    reply = await http("editor", "POST", "api/terminals", {"cwd": "acme/public"})
    assert (reply.code, reply.reason) == (403, "sandbox_not_confining"), reply
    # the server admin's shell in the project reads everything: it belongs to no project
    name = await open_terminal(http, "admin", "acme/public")
    await assert_unknown(http, jp_ws_fetch, wsp_world, "editor", name)
    assert await listed(http, "admin") == {name}
