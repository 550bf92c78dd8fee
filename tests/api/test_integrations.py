"""Integrations: a workspace's secrets reach the kernels of connected projects, and no
one reads them back through any route.

A real server, real kernels (in the sandbox when bubblewrap works), real websockets.
Ada (Admin) creates an integration, Ed (Editor) connects it to ``acme/public``, Cora
(Contributor) runs a saved cell that compares the variable with the secret: True, while
the value appears in no answer of any route (REST, kernels, sessions, contents, errors),
no audit row, no kernel connection file and no log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from jupyter_workspace_perms.store import orm
from tests.helpers.api import Api, RouteCase, check_refusals
from tests.helpers.http import Http, Reply, start_session
from tests.helpers.kernel_ws import KernelSocket, write_notebook
from tests.helpers.world import World

SECRET = "s3cret-9f41c7d2-never-shown"
OTHER = "another-secret-2b7e"
NOTEBOOK = "acme/public/warehouse.ipynb"
CHECK = f"import os\nprint(os.environ.get('DB_PASSWORD') == {SECRET!r}, 'DB_URL' in os.environ)"
INTEGRATIONS = "api/workspace-perms/workspaces/acme/integrations"
CONNECT = "api/workspace-perms/workspaces/acme/projects/public/integrations/warehouse"


class Recorder:
    """Every answer the server gave during a test, to search for the secret."""

    def __init__(self, http: Http) -> None:
        self.http = http
        self.answers: list[bytes] = []

    async def __call__(self, who: str | None, method: str, path: str, body: Any = None) -> Reply:
        reply = await self.http(who, method, path, body)
        self.answers.append(reply.raw)
        return reply

    async def ok(self, who: str, method: str, path: str, body: Any = None) -> Any:
        reply = await self(who, method, path, body)
        assert 200 <= reply.code < 300, f"{who} {method} {path}: {reply!r}"
        return reply.json

    def leaked(self, *values: str) -> list[str]:
        return [v for v in values for raw in self.answers if v.encode() in raw]


@pytest.fixture
def rec(http: Http) -> Recorder:
    return Recorder(http)


async def create_warehouse(rec: Recorder) -> dict[str, Any]:
    body = {"name": "warehouse", "variables": {"DB_PASSWORD": SECRET, "DB_URL": OTHER}}
    created = await rec.ok("admin", "POST", INTEGRATIONS, body)
    return dict(created)


async def saved_cell_as(
    who: str, http: Http, jp_ws_fetch: Any, world: World, kernel_id: str | None = None
) -> tuple[str, str]:
    """Run the saved cell ``check`` as ``who``; its output and the kernel id."""
    if kernel_id is None:
        kernel_id = str((await start_session(http, who, NOTEBOOK))["kernel"]["id"])
    socket = await KernelSocket.open(jp_ws_fetch, world, who, kernel_id, "v1")
    try:
        ran = await socket.execute(CHECK, cell_id="check")
        assert ran.status == "ok", ran
        return ran.stdout.strip(), kernel_id
    finally:
        socket.close()


async def test_a_contributor_runs_with_the_secret_that_nobody_reads_back(
    rec: Recorder,
    http: Http,
    jp_ws_fetch: Any,
    wsp_world: World,
    jp_serverapp: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    write_notebook(wsp_world.root / NOTEBOOK, {"check": CHECK})
    created = await create_warehouse(rec)
    assert [v["name"] for v in created["variables"]] == ["DB_PASSWORD", "DB_URL"]
    assert created["variables"][0]["set_by"] == "ada@acme.test"

    refused = await rec("editor", "PUT", CONNECT.replace("public", "locked"))
    assert refused.code == 403, refused  # a locked project: Editors only view it
    connected = await rec.ok("editor", "PUT", CONNECT)
    assert connected["connected"] is True and connected["running_kernels"] == 0

    output, kernel_id = await saved_cell_as("contributor", http, jp_ws_fetch, wsp_world)
    assert output == "True True"

    # every route that shows integrations, kernels or sessions, for everyone
    for who in ("admin", "editor", "contributor", "viewer", "guest", "outsider"):
        await rec(who, "GET", INTEGRATIONS)
        await rec(who, "GET", "api/workspace-perms/workspaces/acme/projects/public/integrations")
        await rec(who, "GET", "api/kernels")
        await rec(who, "GET", f"api/kernels/{kernel_id}")
        await rec(who, "GET", "api/sessions")
        await rec(who, "GET", "api/workspace-perms/status")
    # errors: a taken name, a reserved variable, a bad name, a viewer's attempt
    dup = {"name": "warehouse", "variables": {"DB_PASSWORD": SECRET}}
    assert (await rec("admin", "POST", INTEGRATIONS, dup)).reason == "integration_exists"
    reserved = {"name": "other", "variables": {"HOME": SECRET}}
    assert (await rec("admin", "POST", INTEGRATIONS, reserved)).reason == "reserved_variable"
    patch = {"variables": {"bad name": SECRET}}
    bad = await rec("admin", "PATCH", INTEGRATIONS + "/warehouse", patch)
    assert (bad.code, bad.reason) == (400, "invalid_variable")
    assert (await rec("viewer", "PATCH", INTEGRATIONS + "/warehouse", patch)).code == 403
    assert (await rec("outsider", "GET", INTEGRATIONS)).code == 404

    assert rec.leaked(SECRET, OTHER) == []
    runtime = Path(jp_serverapp.runtime_dir)
    for path in runtime.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in caplog.text and OTHER not in caplog.text
    with wsp_world.store.engine.connect() as connection:
        rows = connection.execute(select(orm.AuditEvent.details, orm.AuditEvent.target)).all()
        stored = connection.execute(select(orm.IntegrationVariable.ciphertext)).scalars().all()
    assert SECRET not in json.dumps([list(r) for r in rows])
    assert len(stored) == 2 and not any(SECRET in c or OTHER in c for c in stored)
    audit = [r for r in rows if r[1] == "warehouse"]
    assert {"set": ["DB_PASSWORD", "DB_URL"], "removed": []} in [r[0] for r in audit]


async def test_a_connection_applies_at_the_next_start_and_says_so(
    rec: Recorder, http: Http, jp_ws_fetch: Any, wsp_world: World
) -> None:
    write_notebook(wsp_world.root / NOTEBOOK, {"check": CHECK})
    await create_warehouse(rec)
    before, kernel_id = await saved_cell_as("editor", http, jp_ws_fetch, wsp_world)
    assert before == "False False"
    connected = await rec.ok("editor", "PUT", CONNECT)
    assert connected["running_kernels"] == 1
    assert "restart it to apply the change" in connected["message"]
    still, _ = await saved_cell_as("editor", http, jp_ws_fetch, wsp_world, kernel_id)
    assert still == "False False"  # a running kernel keeps its environment
    await rec.ok("editor", "POST", f"api/kernels/{kernel_id}/restart")
    after, _ = await saved_cell_as("editor", http, jp_ws_fetch, wsp_world, kernel_id)
    assert after == "True True"

    # updating one variable keeps the other; disconnecting applies on restart
    await rec.ok(
        "admin", "PATCH", INTEGRATIONS + "/warehouse", {"variables": {"DB_PASSWORD": "new"}}
    )
    await rec.ok("editor", "POST", f"api/kernels/{kernel_id}/restart")
    changed, _ = await saved_cell_as("editor", http, jp_ws_fetch, wsp_world, kernel_id)
    assert changed == "False True"
    listed = await rec.ok(
        "viewer", "GET", "api/workspace-perms/workspaces/acme/projects/public/integrations"
    )
    assert [(c["name"], c["variables"]) for c in listed["integrations"]] == [
        ("warehouse", ["DB_PASSWORD", "DB_URL"])
    ]
    gone = await rec.ok("editor", "DELETE", CONNECT)
    assert gone["connected"] is False
    await rec.ok("editor", "POST", f"api/kernels/{kernel_id}/restart")
    lost, _ = await saved_cell_as("editor", http, jp_ws_fetch, wsp_world, kernel_id)
    assert lost == "False False"
    again = await rec("editor", "DELETE", CONNECT)
    assert (again.code, again.reason) == (404, "not_connected")


@pytest.mark.parametrize(
    ("who", "method", "path", "code"),
    [
        ("editor", "POST", INTEGRATIONS, 403),
        ("contributor", "PUT", CONNECT, 403),
        ("viewer", "PUT", CONNECT, 403),
        ("guest", "PUT", CONNECT, 403),
        ("viewer", "DELETE", INTEGRATIONS + "/warehouse", 403),
        ("editor", "DELETE", INTEGRATIONS + "/warehouse", 403),
        ("outsider", "PUT", CONNECT, 404),
        ("outsider", "GET", INTEGRATIONS, 404),
        ("guest", "GET", INTEGRATIONS, 403),
        ("editor", "PUT", CONNECT.replace("warehouse", "nothing"), 404),
    ],
)
async def test_who_may_do_what(rec: Recorder, who: str, method: str, path: str, code: int) -> None:
    await create_warehouse(rec)
    body = {"name": "x", "variables": {}} if method == "POST" else None
    reply = await rec(who, method, path, body)
    assert reply.code == code, reply
    assert rec.leaked(SECRET, OTHER) == []


async def test_rename_delete_and_private_projects(rec: Recorder, wsp_world: World) -> None:
    await create_warehouse(rec)
    await rec.ok("editor", "PUT", CONNECT)
    # ed created the private project: private projects may use integrations too
    await rec.ok("editor", "PUT", CONNECT.replace("public", "private"))
    renamed = await rec.ok("admin", "PATCH", INTEGRATIONS + "/warehouse", {"name": "dwh"})
    # the Admin without a grant on the private project does not learn its name
    assert (renamed["name"], renamed["projects"]) == ("dwh", ["public"])
    listed = await rec.ok("editor", "GET", INTEGRATIONS)
    assert listed["integrations"][0]["projects"] == ["private", "public"]
    assert (await rec("admin", "DELETE", INTEGRATIONS + "/dwh")).code == 204
    assert (await rec.ok("editor", "GET", INTEGRATIONS))["integrations"] == []
    with wsp_world.store.engine.connect() as connection:
        links = connection.execute(select(orm.ProjectIntegration)).all()
    assert links == []


WS_PATH = "workspaces/acme/integrations"
CONNECT_PATH = "workspaces/acme/projects/public/integrations/warehouse"
ROUTES = [
    pytest.param(
        RouteCase("integrations.list", "GET", WS_PATH, (("guest", 403, "guest"),)), id="list"
    ),
    pytest.param(
        RouteCase(
            "integrations.create",
            "POST",
            WS_PATH,
            (("editor", 403, "role_too_low"), ("outsider", 404, "not_found")),
            body={"name": "crm"},
        ),
        id="create-needs-manage-integrations",
    ),
    pytest.param(
        RouteCase(
            "integration.patch",
            "PATCH",
            WS_PATH + "/warehouse",
            (("editor", 403, "role_too_low"), ("guest", 403, "guest")),
            body={"name": "other"},
        ),
        id="patch-needs-manage-integrations",
    ),
    pytest.param(
        RouteCase(
            "integration.delete",
            "DELETE",
            WS_PATH + "/warehouse",
            (("contributor", 403, "role_too_low"), ("outsider", 404, "not_found")),
        ),
        id="delete-needs-manage-integrations",
    ),
    pytest.param(
        RouteCase(
            "project_integrations.list",
            "GET",
            "workspaces/acme/projects/private/integrations",
            (("viewer", 404, "not_found"),),
        ),
        id="connections-need-project-read",
    ),
    pytest.param(
        RouteCase(
            "project_integration.put",
            "PUT",
            CONNECT_PATH,
            (("contributor", 403, "role_too_low"), ("guest", 403, "role_too_low")),
        ),
        id="connect-needs-project-integrations",
    ),
    pytest.param(
        RouteCase(
            "project_integration.delete",
            "DELETE",
            CONNECT_PATH,
            (("viewer", 403, "role_too_low"), ("outsider", 404, "not_found")),
        ),
        id="disconnect-needs-project-integrations",
    ),
]


@pytest.mark.parametrize("case", ROUTES)
async def test_refusals_change_nothing(api: Api, rec: Recorder, case: RouteCase) -> None:
    await create_warehouse(rec)
    await rec.ok("editor", "PUT", CONNECT)
    before = await rec.ok("editor", "GET", INTEGRATIONS)
    await check_refusals(api, case)
    assert await rec.ok("editor", "GET", INTEGRATIONS) == before


async def test_guests_never_reach_integrations_even_as_project_editors(
    rec: Recorder, wsp_world: World, http: Http
) -> None:
    await create_warehouse(rec)
    with wsp_world.store.write("test") as w:
        w.set_collaborator("acme", "public", "gus@gmail.test", "editor")
    for _ in range(100):  # the server notices the change within its refresh interval
        me = await rec.ok("guest", "GET", "api/workspace-perms/me")
        [acme] = [w for w in me["workspaces"] if w["slug"] == "acme"]
        if [p["role"] for p in acme["projects"] if p["name"] == "public"] == ["editor"]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the guest's grant did not change")
    for method in ("PUT", "DELETE"):
        for name in ("warehouse", "guessed"):
            reply = await rec("guest", method, CONNECT.replace("warehouse", name))
            assert (reply.code, reply.reason) == (403, "guest"), (method, name, reply)
    assert (await rec("guest", "GET", INTEGRATIONS)).code == 403
    listed = await rec.ok(
        "guest", "GET", "api/workspace-perms/workspaces/acme/projects/public/integrations"
    )
    assert listed["integrations"] == []


@pytest.mark.parametrize(
    "variables",
    [
        {"API_KEY": 987654321},
        {"API_KEY": [SECRET]},
        {"API_KEY": {"v": SECRET}},
        {"API_KEY": SECRET * 3000},  # over 64 KiB
        {"API_KEY": "\ud800" + SECRET},  # not encodable text
    ],
    ids=["number", "list", "object", "too-long", "lone-surrogate"],
)
async def test_a_refused_value_is_never_repeated(
    rec: Recorder, variables: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for method, path, body in (
        ("POST", INTEGRATIONS, {"name": "x", "variables": variables}),
        ("PATCH", INTEGRATIONS + "/warehouse", {"variables": variables}),
    ):
        if method == "PATCH":
            await create_warehouse(rec)
        reply = await rec("admin", method, path, body)
        assert reply.code == 400, reply
        assert reply.json["message"]
    assert rec.leaked(SECRET, "987654321") == []
    assert SECRET not in caplog.text and "987654321" not in caplog.text


@pytest.mark.parametrize(
    "name",
    [
        "BASH_ENV",
        "ENV",
        "PYTHONSTARTUP",
        "PYTHONHOME",
        "http_proxy",
        "HTTPS_PROXY",
        "PIP_INDEX_URL",
        "GIT_CONFIG_COUNT",
        "LD_PRELOAD",
        "HOME\n",
        "NODE_OPTIONS",
        "REQUESTS_CA_BUNDLE",
        "GLIBC_TUNABLES",
    ],
)
async def test_variables_that_change_how_programs_run_are_refused(rec: Recorder, name: str) -> None:
    reply = await rec("admin", "POST", INTEGRATIONS, {"name": "x", "variables": {name: "v"}})
    assert reply.code == 400, reply
    assert reply.reason in ("reserved_variable", "invalid_variable")
    listed = await rec.ok("admin", "GET", INTEGRATIONS)
    assert listed["integrations"] == []
