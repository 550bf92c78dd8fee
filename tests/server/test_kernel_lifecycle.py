"""Who may end, swap, interrupt and restart a kernel, and who is handed one at all
(issue #10, items 3 and 11).

One rule on REST and on the websocket (``policy/lifecycle.py``): interrupt and restart
need ``project:execute`` on the kernel's project; shutting a kernel down (``DELETE
/api/kernels/{id}``, ``DELETE /api/sessions/{id}``, a session ``PATCH`` that replaces
its kernel, a ``shutdown_request`` without restart) needs ``project:write``, or being
the user who started it. Listings and kernel/session models need ``project:execute``:
JupyterLab connects to what it is shown, and a Viewer would only wait on a refused
socket.

Real kernels on a real server (``wsp_world``: ed editor, cora contributor, vic viewer,
gus a viewer guest of ``acme/public``, otto an outsider).
"""

from __future__ import annotations

from typing import Any

from tests.helpers.http import Http, start_session
from tests.helpers.kernel_ws import KernelSocket
from tests.helpers.world import World

NOT_STARTER = (403, "not_kernel_starter")


async def listed(http: Http, who: str) -> tuple[set[str], set[str]]:
    """The kernel ids and session ids ``who`` is shown."""
    kernels = await http.get(who, "api/kernels")
    sessions = await http.get(who, "api/sessions")
    assert kernels.code == 200 and sessions.code == 200, (who, kernels, sessions)
    return {k["id"] for k in kernels.json}, {s["id"] for s in sessions.json}


async def test_a_kernel_is_shut_down_by_its_starter_or_an_editor_only(
    http: Http, wsp_world: World, jp_serverapp: Any, jp_ws_fetch: Any
) -> None:
    ed = await start_session(http, "editor", "acme/public/ed.ipynb")
    cora = await start_session(http, "contributor", "acme/public/cora.ipynb")
    ed_kernel, cora_kernel = ed["kernel"]["id"], cora["kernel"]["id"]
    km = jp_serverapp.kernel_manager

    # cora may run code in public, but ed's kernel is not hers to end or replace
    for method, url, body in (
        ("DELETE", f"api/kernels/{ed_kernel}", None),
        ("DELETE", f"api/sessions/{ed['id']}", None),
        ("PATCH", f"api/sessions/{ed['id']}", {"kernel": {"id": cora_kernel}}),
        ("PATCH", f"api/sessions/{ed['id']}", {"kernel": {"name": "python3"}}),
    ):
        reply = await http("contributor", method, url, body)
        assert (reply.code, reply.reason) == NOT_STARTER, (method, url, body, reply)
        assert "interrupt or restart" in reply.json["message"], reply
    for who, outcome in (("viewer", (403, "role_too_low")), ("outsider", (404, "not_found"))):
        for method, url in (
            ("DELETE", f"api/kernels/{ed_kernel}"),
            ("DELETE", f"api/sessions/{ed['id']}"),
        ):
            reply = await http(who, method, url)
            assert (reply.code, reply.reason) == outcome, (who, method, url, reply)
    assert {ed_kernel, cora_kernel} <= set(km.list_kernel_ids())
    session = (await http.get("editor", f"api/sessions/{ed['id']}")).json
    assert session["kernel"]["id"] == ed_kernel, session

    # ... she may interrupt and restart it
    assert (await http("contributor", "POST", f"api/kernels/{ed_kernel}/interrupt")).code == 204
    assert (await http("contributor", "POST", f"api/kernels/{ed_kernel}/restart")).code == 200

    # the websocket answers the same: ed's kernel refuses her shutdown_request ...
    socket = await KernelSocket.open(jp_ws_fetch, wsp_world, "contributor", ed_kernel, "v1")
    try:
        refused = await socket.request("control", "shutdown_request", {"restart": False})
    finally:
        socket.close()
    assert refused.reply is not None, refused
    assert refused.reply["content"]["status"] == "error", refused
    assert "another user started" in refused.reply["content"]["evalue"], refused
    # ... and her own kernel takes it
    socket = await KernelSocket.open(jp_ws_fetch, wsp_world, "contributor", cora_kernel, "v1")
    try:
        msg_id = socket.send("control", "shutdown_request", {"restart": False})
        reply = None
        while reply is None:
            got = await socket.receive()
            assert got is not None, "the socket closed before the kernel answered"
            channel, msg = got
            if channel == "control" and msg["parent_header"].get("msg_id") == msg_id:
                reply = msg
    finally:
        socket.close()
    assert reply["msg_type"] == "shutdown_reply", reply
    assert reply["content"]["status"] == "ok", reply
    assert reply["content"]["restart"] is False, reply

    # over REST too: cora ends her own session; Ada (may edit public) ends ed's
    assert (await http("contributor", "DELETE", f"api/sessions/{cora['id']}")).code == 204
    assert (await http("admin", "DELETE", f"api/sessions/{ed['id']}")).code == 204
    assert cora_kernel not in km and ed_kernel not in km


async def test_who_may_not_run_code_is_handed_no_kernel_nor_session(
    http: Http, jp_serverapp: Any
) -> None:
    session = await start_session(http, "contributor", "acme/public/shared.ipynb")
    kernel_id, session_id = session["kernel"]["id"], session["id"]

    for who in ("contributor", "editor", "admin"):
        assert await listed(http, who) == ({kernel_id}, {session_id}), who
        assert (await http.get(who, f"api/kernels/{kernel_id}")).code == 200, who
        assert (await http.get(who, f"api/sessions/{session_id}")).code == 200, who
    # vic and gus read acme/public but may not run code there; otto does not know it
    for who, outcome in (
        ("viewer", (403, "role_too_low")),
        ("guest", (403, "role_too_low")),
        ("outsider", (404, "not_found")),
    ):
        assert await listed(http, who) == (set(), set()), who
        for url in (f"api/kernels/{kernel_id}", f"api/sessions/{session_id}"):
            reply = await http.get(who, url)
            assert (reply.code, reply.reason) == outcome, (who, url, reply)

    # a permission, not a role: viewers who may run code are handed them (the server's
    # own store, as the CLI in-process would write it: seen on the next request)
    with jp_serverapp.web_app.settings["workspace_perms_store"].write("test") as w:
        w.set_settings("acme", viewers_can_execute=True)
    assert await listed(http, "viewer") == ({kernel_id}, {session_id})
    assert (await http.get("viewer", f"api/kernels/{kernel_id}")).code == 200


async def test_a_session_is_changed_only_by_who_may_end_its_kernel(http: Http) -> None:
    """Retargeting a session changes which saved notebook feeds its kernel's runnable
    cells, for everyone on it: a Contributor may change only sessions of kernels they
    started (the review's reproduction: a Contributor moved an Editor's session)."""
    ed = await start_session(http, "editor", "acme/public/ed.ipynb")
    cora = await start_session(http, "contributor", "acme/public/cora.ipynb")
    for body in ({"path": "acme/public/other.ipynb"}, {"name": "renamed"}, {"type": "file"}):
        reply = await http("contributor", "PATCH", f"api/sessions/{ed['id']}", body)
        assert (reply.code, reply.reason) == NOT_STARTER, (body, reply)
    after = await http.ok("editor", "GET", f"api/sessions/{ed['id']}")
    assert (after["path"], after["name"], after["type"]) == (ed["path"], ed["name"], ed["type"])

    # her own session (JupyterLab renames its placeholder path right after starting it)
    moved = await http.ok(
        "contributor", "PATCH", f"api/sessions/{cora['id']}", {"path": "acme/public/mine.ipynb"}
    )
    assert moved["path"] == "acme/public/mine.ipynb"
    # the Editor may change any session of the project
    await http.ok("editor", "PATCH", f"api/sessions/{cora['id']}", {"name": "edited"})
