"""The kernel websocket hook with a real server, a real ipykernel and a real websocket.

Every scenario runs over both websocket protocols (the v1 binary subprotocol JupyterLab
uses, and the legacy JSON protocol). The world (``tests/helpers/world.py``): workspace
``acme``, project ``public`` (full access), with Ada (admin), Ed (editor), Cora
(contributor) and Vic (viewer). The notebook ``acme/public/demo.ipynb``
(``tests/helpers/kernel_ws.py``) has cells ``setup``, ``params`` (tagged ``parameters``),
``use``, ``slider`` and ``report``; Cora starts its kernel through ``POST /api/sessions``,
so the kernel knows its notebook.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1
from tornado.httpclient import HTTPClientError

from tests.helpers.http import Http, start_session
from tests.helpers.kernel_ws import (
    PARAMS,
    REPORT,
    SETUP,
    SLIDER,
    USE,
    Exchange,
    KernelSocket,
    write_notebook,
)
from tests.helpers.world import PEOPLE, World

NOTEBOOK = "acme/public/demo.ipynb"
DIFFERS = "this cell differs from the saved version"


class Hook:
    """The demo notebook's kernel and sockets to it, as the world's people."""

    def __init__(self, http: Http, ws_fetch: Any, world: World, protocol: str) -> None:
        self.http, self.ws_fetch, self.world, self.protocol = http, ws_fetch, world, protocol
        self.kernel_id = self.session_id = ""
        self.opened: list[KernelSocket] = []

    async def start(self) -> str:
        """Write the notebook and start its kernel as the contributor; the kernel id."""
        write_notebook(self.world.root / NOTEBOOK)
        session = await start_session(self.http, "contributor", NOTEBOOK)
        self.kernel_id, self.session_id = str(session["kernel"]["id"]), str(session["id"])
        return self.kernel_id

    async def connect(self, who: str, session_id: str | None = None) -> KernelSocket:
        """A socket to the kernel as ``who`` (raises ``HTTPClientError`` when refused)."""
        if not self.kernel_id:
            await self.start()
        socket = await KernelSocket.open(
            self.ws_fetch, self.world, who, self.kernel_id, self.protocol, session_id
        )
        self.opened.append(socket)
        return socket


@pytest.fixture
def hook(http: Http, jp_ws_fetch: Any, wsp_world: World, protocol: str) -> Iterator[Hook]:
    made = Hook(http, jp_ws_fetch, wsp_world, protocol)
    yield made
    for socket in made.opened:
        socket.close()


def refused(exchange: Exchange, reason: str) -> bool:
    """Whether the request was answered with a PermissionError naming ``reason``."""
    reply = exchange.reply
    assert reply is not None, exchange
    content = reply["content"]
    return (
        content.get("status") == "error"
        and content.get("ename") == "PermissionError"
        and reason in content.get("evalue", "")
    )


async def test_contributor_runs_saved_cells_and_nothing_else(hook: Hook) -> None:
    cora = await hook.connect("contributor")
    ran = await cora.execute(SETUP, "setup")
    assert ran.status == "ok" and ran.stdout == "ready 1\n", ran

    # one character changed (x -> y): refused in the cell, and the kernel never sees it
    edited = await cora.execute(SETUP.replace("x = 1", "y = 1"), "setup")
    assert refused(edited, DIFFERS), edited
    assert edited.errors and edited.errors[0]["ename"] == "PermissionError", edited
    assert DIFFERS in edited.errors[0]["evalue"]
    assert edited.iopub[-1]["content"] == {"execution_state": "idle"}, edited
    assert edited.reply is not None and edited.reply["msg_type"] == "execute_reply"

    # a saved cell carrying user expressions (they are code too)
    sneaky = await cora.execute(SETUP, "setup", user_expressions={"y": "globals().update(y=2)"})
    assert refused(sneaky, "user expressions"), sneaky
    # saved code on the control channel (ipykernel would run it there)
    control = await cora.execute(SETUP.replace("x = 1", "y = 3"), None, channel="control")
    assert refused(control, "control channel"), control
    assert control.reply is not None and control.reply["msg_type"] == "execute_reply"

    # the debugger: evaluate refused, debugInfo answered by the server
    evaluate = await cora.request(
        "control",
        "debug_request",
        {"seq": 7, "type": "request", "command": "evaluate", "arguments": {"expression": "y=4"}},
    )
    assert evaluate.reply is not None and evaluate.reply["msg_type"] == "debug_reply"
    assert evaluate.reply["content"]["success"] is False, evaluate
    info = await cora.request(
        "control", "debug_request", {"seq": 8, "type": "request", "command": "debugInfo"}
    )
    assert info.reply is not None, info
    assert info.reply["content"]["success"] is True, info
    assert info.reply["content"]["body"]["isStarted"] is False, info
    history = await cora.request("shell", "history_request", {"hist_access_type": "tail", "n": 5})
    assert refused(history, "history"), history
    # introspection still works
    info = await cora.request("shell", "kernel_info_request")
    assert info.reply is not None and info.reply["content"]["status"] == "ok", info

    # the editor finds the kernel untouched by everything refused, and runs any code
    ed = await hook.connect("editor")
    state = await ed.execute("print(x, 'y' in globals())")
    assert state.stdout == "1 False\n", state
    changed = await ed.execute(SETUP.replace("x = 1", "y = 5"), "setup")
    assert changed.status == "ok" and changed.stdout == "ready 1\n", changed
    assert (await ed.execute("print(y)")).stdout == "5\n"


async def test_malformed_messages_are_dropped_and_the_socket_lives_on(
    hook: Hook, protocol: str
) -> None:
    cora = await hook.connect("contributor")
    garbage: list[bytes | str]
    if protocol == "v1":
        garbage = [b"\xff" * 64, b"\x00" * 7, (2**40).to_bytes(8, "little") + b"\x00" * 64]
        garbage.append(v1_frame(header=b"{not json", content=b"{}"))
        garbage.append(v1_frame(header=b'{"msg_type": "execute_request"}', content=b"[]"))
    else:
        garbage = ["not json", json.dumps({"header": 1}), json.dumps([1, 2])]
        message = cora.session.msg("execute_request", content={"code": "y = 1"})
        message["content"] = ["y = 1"]
        garbage.append(json.dumps(message, default=str))
        garbage.append(b"\x7f\xff\xff\xff" + b"\x00" * 16)
    for frame in garbage:
        cora.send_raw(frame)
    ran = await cora.execute(SETUP, "setup")
    assert ran.status == "ok" and ran.stdout == "ready 1\n", ran
    ed = await hook.connect("editor")
    assert (await ed.execute("print('y' in globals())")).stdout == "False\n"


def v1_frame(header: bytes, content: bytes) -> bytes:
    """A v1 frame with the given raw header and content parts."""
    return bytes(serialize_msg_to_ws_v1([header, b"{}", b"{}", content], "shell"))


async def test_contributor_changes_parameters_and_moves_a_slider(hook: Hook) -> None:
    cora = await hook.connect("contributor")
    assert (await cora.execute(PARAMS, "params")).status == "ok"
    new_values = await cora.execute("alpha = 7\nlabel = 'second'", "params")
    assert new_values.status == "ok", new_values
    used = await cora.execute(USE, "use")
    assert used.stdout == "alpha is 7 second\n", used

    for attempt in (
        "alpha = len('abc')\nlabel = 'third'",  # a call instead of a literal
        "alpha = 8\nlabel = 'third'\nextra = 1",  # an assignment added
        "label = 'third'\nalpha = 8",  # the names reordered
    ):
        refusal = await cora.execute(attempt, "params")
        assert refused(refusal, DIFFERS), (attempt, refusal)
    assert (await cora.execute(USE, "use")).stdout == "alpha is 7 second\n"

    # a widget made by a saved cell; the contributor moves it through its comm
    made = await cora.execute(SLIDER, "slider")
    assert made.status == "ok", made
    model_id = made.stdout.split()[-1]
    update = {"method": "update", "state": {"value": 7}, "buffer_paths": []}
    cora.send("shell", "comm_msg", {"comm_id": model_id, "data": update})
    report = await cora.execute(REPORT, "report")
    assert report.stdout == "moved [7] 7\n", report
    # a comm to a target that is no widget is closed at once
    comm_id = "c-" + model_id
    cora.send("shell", "comm_open", {"comm_id": comm_id, "target_name": "x", "data": {}})
    got = await cora.receive()
    while got is not None and got[1]["msg_type"] != "comm_close":
        got = await cora.receive()
    assert got is not None and got[1]["content"]["comm_id"] == comm_id, got


async def test_session_ids_belong_to_their_user(
    hook: Hook,
) -> None:
    ed = await hook.connect("editor", session_id="eds-session")
    assert (await ed.execute("secret = 'only for ed'\nprint('set')")).stdout == "set\n"
    for who in ("contributor", "admin"):
        with pytest.raises(HTTPClientError) as caught:
            await hook.connect(who, session_id="eds-session")
        assert caught.value.code == 403, who
    # Ed's socket was not replaced: it still gets its own replies
    assert (await ed.execute("print(secret)")).stdout == "only for ed\n"
    # Ed may reconnect with his own session id
    ed.close()
    again = await hook.connect("editor", session_id="eds-session")
    assert (await again.execute("print(secret)")).stdout == "only for ed\n"
    # people without project:execute never get a kernel socket
    for who in ("viewer", "guest"):
        with pytest.raises(HTTPClientError) as caught:
            await hook.connect(who)
        assert caught.value.code == 403, who


async def test_losing_the_role_closes_the_socket(
    hook: Hook, jp_serverapp: Any, wsp_world: World
) -> None:
    cora = await hook.connect("contributor")
    ed = await hook.connect("editor")
    assert (await cora.execute(SETUP, "setup")).status == "ok"
    server_store = jp_serverapp.web_app.settings["workspace_perms_store"]
    with server_store.write("test") as w:
        w.set_member("acme", PEOPLE["contributor"][0], "viewer")
    # sent right after the change: refused or cut off, never run
    cora.send("shell", "execute_request", {"code": SETUP}, {"cellId": "setup"})
    cora.send("shell", "execute_request", {"code": "z = 1"}, {})
    assert await cora.closed(within=1.5), "the socket stayed open"
    assert cora.ws.close_code == 1008, cora.ws.close_code
    assert (await ed.execute("print('z' in globals())")).stdout == "False\n"


async def test_a_policy_change_from_another_process_closes_the_socket(
    hook: Hook, wsp_world: World
) -> None:
    cora = await hook.connect("contributor")
    assert (await cora.execute(SETUP, "setup")).status == "ok"
    with wsp_world.store.write("cli") as w:  # as the CLI would, in another process
        w.set_project_access("acme", "public", "view")
    assert await cora.closed(within=1.5), "the socket stayed open"


async def test_an_ending_grant_or_a_revoked_token_closes_the_socket(
    hook: Hook, jp_serverapp: Any
) -> None:
    await hook.start()
    server_store = jp_serverapp.web_app.settings["workspace_perms_store"]
    ends = datetime.now(timezone.utc) + timedelta(seconds=3)
    with server_store.write("test") as w:
        w.set_collaborator("acme", "public", PEOPLE["guest"][0], "contributor", ends)
    gus = await hook.connect("guest")
    cora = await hook.connect("contributor")
    snap = server_store.snapshot
    cora_id = snap.users_by_name[PEOPLE["contributor"][0]]
    (token,) = server_store.tokens_of(cora_id)
    with server_store.write("test") as w:
        w.revoke_token(token.id)
    assert await cora.closed(within=1.5), "the socket of a revoked token stayed open"
    left = ends.timestamp() - time.time()
    assert await gus.closed(within=max(left, 0) + 1.5), "the socket outlived the grant"


async def test_the_kernel_follows_its_notebook_when_the_session_moves(
    hook: Hook, http: Http, wsp_world: World
) -> None:
    cora = await hook.connect("contributor")
    assert (await cora.execute(SETUP, "setup")).status == "ok"
    write_notebook(wsp_world.root / "acme" / "public" / "other.ipynb", {"other": "print('other')"})
    body = {"path": "acme/public/other.ipynb"}
    moved = await http("contributor", "PATCH", f"api/sessions/{hook.session_id}", body)
    assert moved.code == 200, moved
    ran = await cora.execute("print('other')", "other")
    assert ran.status == "ok" and ran.stdout == "other\n", ran
    # the first notebook's cells are no longer the kernel's notebook
    assert refused(await cora.execute(SETUP, "setup"), "not in the saved notebook")
