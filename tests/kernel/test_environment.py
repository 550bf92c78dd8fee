"""Kernels never receive the server's secrets: the policy database URL, the proxy secret,
the server's token. Anyone who runs code in a kernel reads its environment, and with the
database URL could rewrite the policy itself. Kernels get only the allowed variables
(``KernelEnvironment.allowed``): an ordinary variable of the server does not pass either.

A real server and real kernels, started by an Editor through ``POST /api/sessions``; the
kernel reports its own environment over a real websocket, before and after a session
rename (which hands jupyter_server's whole environment to the kernel's next start) and a
restart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.http import Http, start_session
from tests.helpers.kernel_ws import KernelSocket, write_notebook
from tests.helpers.world import World

NOTEBOOK = "acme/public/env.ipynb"
SECRETS = {
    "WORKSPACE_PERMS_DB_URL": "postgresql+psycopg://policy:hunter2@db.internal/policy",
    "WORKSPACE_PERMS_PROXY_SECRET": "proxy-secret-4f1c",
    "JUPYTER_TOKEN": "0123456789abcdef0123456789abcdef",
}
REPORT = (
    "import json, os\n"
    "print(json.dumps(sorted(k for k in os.environ if k.startswith('WORKSPACE_PERMS')"
    " or k in ('JUPYTER_TOKEN', 'NOT_ALLOWED', 'LC_MEASUREMENT'))))"
)


@pytest.fixture
def secrets_in_the_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server process holds secrets in its environment (as a deployment would)."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NOT_ALLOWED", "an ordinary variable no kernel needs")
    monkeypatch.setenv("LC_MEASUREMENT", "C.UTF-8")  # allowed: LC_*
    yield


async def seen_by_the_kernel(socket: KernelSocket) -> list[str]:
    ran = await socket.execute(REPORT)
    assert ran.status == "ok", ran
    return list(json.loads(ran.stdout))


async def test_kernels_never_see_the_servers_secrets(
    secrets_in_the_server: None, http: Http, jp_ws_fetch: Any, wsp_world: World
) -> None:
    write_notebook(wsp_world.root / NOTEBOOK, {"report": REPORT})
    session = await start_session(http, "editor", NOTEBOOK)
    kernel_id = str(session["kernel"]["id"])
    socket = await KernelSocket.open(jp_ws_fetch, wsp_world, "editor", kernel_id, "v1")
    try:
        assert await seen_by_the_kernel(socket) == ["LC_MEASUREMENT"]
    finally:
        socket.close()

    # a rename gives the kernel jupyter_server's whole environment for its next start
    renamed = "acme/public/renamed.ipynb"
    (wsp_world.root / NOTEBOOK).rename(wsp_world.root / renamed)
    await http.ok("editor", "PATCH", f"api/sessions/{session['id']}", {"path": renamed})
    await http.ok("editor", "POST", f"api/kernels/{kernel_id}/restart")
    socket = await KernelSocket.open(jp_ws_fetch, wsp_world, "editor", kernel_id, "v1")
    try:
        assert await seen_by_the_kernel(socket) == ["LC_MEASUREMENT"]
    finally:
        socket.close()
