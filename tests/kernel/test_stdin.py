"""Only the socket whose request asked for input may answer it (``input()`` on stdin).

The kernel sends ``input_request`` to the socket whose ``execute_request`` waits, but
takes the next stdin message from any socket as the answer. A real kernel, real
websockets in both protocols: an Editor's ``input()`` is answered by the Editor, never by
a Contributor sharing the kernel.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.helpers.http import Http, start_session
from tests.helpers.kernel_ws import KernelSocket, write_notebook
from tests.helpers.world import World

NOTEBOOK = "acme/public/ask.ipynb"
ASK = "answer = input('name? ')\nprint('got', answer)"


async def wait_for(socket: KernelSocket, channel: str, msg_type: str) -> dict[str, Any]:
    """The next ``msg_type`` on ``channel``; other messages are kept for later."""
    while True:
        got = await socket.receive()
        assert got is not None, f"the socket closed while waiting for {msg_type}"
        if got[0] == channel and got[1]["msg_type"] == msg_type:
            return got[1]
        socket.pending.append(got)


async def test_another_socket_cannot_answer_an_input_request(
    http: Http, jp_ws_fetch: Any, wsp_world: World, protocol: str, sockets: list[KernelSocket]
) -> None:
    write_notebook(wsp_world.root / NOTEBOOK, {"ask": ASK})
    session = await start_session(http, "contributor", NOTEBOOK)
    kernel_id = str(session["kernel"]["id"])
    ed = await KernelSocket.open(jp_ws_fetch, wsp_world, "editor", kernel_id, protocol)
    cora = await KernelSocket.open(jp_ws_fetch, wsp_world, "contributor", kernel_id, protocol)
    sockets += [ed, cora]

    ask = {"code": ASK, "silent": False, "user_expressions": {}, "allow_stdin": True}
    run_id = ed.send("shell", "execute_request", ask, {"cellId": "ask"})
    request = await wait_for(ed, "stdin", "input_request")
    assert request["content"]["prompt"] == "name? "

    # the contributor answers first: with no parent, and pretending to answer the request
    cora.send("stdin", "input_reply", {"value": "from-cora", "status": "ok"})
    cora.send("stdin", "input_reply", {"value": "from-cora-2"}, parent=request["header"])
    # the control channel answers while input() blocks the kernel's main thread: once it
    # has, the server has handled the contributor's stdin messages (they came first)
    info = await cora.request("control", "kernel_info_request")
    assert info.status == "ok", info
    await asyncio.sleep(0.5)  # let the kernel read its stdin socket

    ed.send("stdin", "input_reply", {"value": "from-ed", "status": "ok"}, parent=request["header"])
    ran = await ed.exchange("shell", run_id)
    assert ran.status == "ok", ran
    assert ran.stdout == "got from-ed\n", ran

    # an answer nobody asked for is dropped too: the next request is answered by its socket
    ed.send("stdin", "input_reply", {"value": "stale", "status": "ok"})
    again = ed.send("shell", "execute_request", ask, {"cellId": "ask"})
    second = await wait_for(ed, "stdin", "input_request")
    ed.send("stdin", "input_reply", {"value": "fresh", "status": "ok"}, parent=second["header"])
    assert (await ed.exchange("shell", again)).stdout == "got fresh\n"
