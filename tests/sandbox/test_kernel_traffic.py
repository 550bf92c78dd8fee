"""Kernels cannot read each other's traffic.

On loopback TCP any process may subscribe to a kernel's iopub port and read everything
it prints (PUB/SUB needs no key). Confined kernels talk to the server over unix sockets
in a folder only their own sandbox is shown: kernel A neither sees kernel B's socket
nor hears anything through it, while an unconfined subscriber (this test, standing in
for the server) hears B at the same address — the eavesdropping itself works.
With ``KernelSandbox.network = "none"`` a kernel reaches no TCP service at all, the
server included, and still works.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest
import zmq
import zmq.asyncio

from tests.helpers.world import server_config
from tests.sandbox.conftest import OpenKernel

CHATTER = (
    "import time\nfor i in range(25):\n    print('TOPSECRET', i, flush=True)\n    time.sleep(0.1)"
)

EAVESDROP = """
import json, os, time, zmq
address = {address!r}
ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.connect("ipc://" + address)
heard, deadline = 0, time.monotonic() + 2.0
while time.monotonic() < deadline:
    if sub.poll(100):
        heard += 1
        sub.recv_multipart()
print(json.dumps({{"exists": os.path.exists(address), "heard": heard}}))
"""


async def listen(address: str, seconds: float) -> int:
    """Messages an unconfined subscriber hears at ``address`` in ``seconds``."""
    ctx = zmq.asyncio.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect("ipc://" + address)
    heard = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        while loop.time() < deadline:
            if await sub.poll(100):
                await sub.recv_multipart()
                heard += 1
    finally:
        sub.close(linger=0)
        ctx.term()
    return heard


async def test_a_kernel_cannot_hear_another_kernels_output(
    open_kernel: OpenKernel, jp_serverapp: Any
) -> None:
    _, a = await open_kernel("editor", "acme/public")
    b_id, b = await open_kernel("editor", "acme/private")
    info = jp_serverapp.kernel_manager.get_kernel(b_id).get_connection_info()
    assert info["transport"] == "ipc"
    address = f"{info['ip']}-{info['iopub_port']}"

    chatter = b.send(
        "shell", "execute_request", {"code": CHATTER, "silent": False, "user_expressions": {}}
    )
    await asyncio.sleep(0.2)
    control = asyncio.ensure_future(listen(address, 2.0))
    tried = await a.execute(EAVESDROP.format(address=address))
    assert tried.status == "ok", tried
    assert json.loads(tried.stdout) == {"exists": False, "heard": 0}
    assert await control > 0  # the same subscription, unconfined, hears B
    done = await b.exchange("shell", chatter)
    assert "TOPSECRET 24" in done.stdout


NETWORK_NONE = {"network": "none"}


@pytest.mark.parametrize("jp_server_config", [NETWORK_NONE], indirect=True)
async def test_without_a_network_a_kernel_reaches_no_tcp_service(
    open_kernel: OpenKernel, http_server_port: Any
) -> None:
    port = http_server_port[1]
    _, socket = await open_kernel("editor", "acme/public")
    ran = await socket.execute(
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    print('connected')\n"
        "except OSError as e:\n"
        "    print(type(e).__name__)\n"
    )
    assert ran.status == "ok", ran
    assert ran.stdout.strip() in ("ConnectionRefusedError", "OSError")


@pytest.fixture
def jp_server_config(wsp_db_url: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The sandbox's settings of each test (``@pytest.mark.parametrize`` indirect)."""
    return server_config(wsp_db_url, KernelSandbox=getattr(request, "param", {}))


async def test_a_kernels_socket_folder_goes_with_it(
    open_kernel: OpenKernel, jp_serverapp: Any, http: Any
) -> None:
    kernel_id, socket = await open_kernel("editor", "acme/public")
    info = jp_serverapp.kernel_manager.get_kernel(kernel_id).get_connection_info()
    folder = os.path.dirname(str(info["ip"]))
    assert os.path.isdir(folder) and oct(os.stat(folder).st_mode & 0o777) == "0o700"
    socket.close()
    reply = await http("editor", "DELETE", f"api/kernels/{kernel_id}")
    assert reply.code == 204, reply
    assert not os.path.exists(folder)
