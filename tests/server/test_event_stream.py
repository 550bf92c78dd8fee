"""The event stream is per recipient (issue #10, items 6 and 15).

Every signed-in user may subscribe to ``/api/events/subscribe`` (JupyterLab does on
every page load); each event reaches only those who may see what it names: file
events only readers of every path in them, kernel events only those who may run
code in the kernel's project, anything else only server admins. The subscribers
here are real websocket clients (tornado's ``websocket_connect`` with the
``Authorization`` header); the events come from real contents and kernel
operations by other users.

Nothing here waits for an event *not* to come: after the operations a recipient
must not see, each recipient's stream is read up to a *sentinel* event that it
must see, emitted last; events are sent in the order they are emitted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from tornado.httpclient import HTTPClientError
from tornado.websocket import WebSocketClientConnection

if TYPE_CHECKING:
    from tests.helpers.world import World

CONTENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"
KERNEL_ACTIONS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
EXECUTION = "https://events.jupyter.org/jupyter_workspace_perms/kernel/execution/v1"
GATEWAY = "https://events.jupyter.org/jupyter_server/gateway_client/v1"
BOB = "bob@beta.test"  # owner (Admin) of a second workspace, "beta"
TIMEOUT = 60.0  # a guard against a hang, not a timing assertion
SECRET = "secret-plan"


@pytest.fixture
def beta(wsp_world: World, jp_serverapp: Any) -> None:
    """A second workspace, ``beta``, owned by bob (``wsp_world.auth("bob")``), with a
    project ``lab``."""
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    with store.write("test") as w:
        w.create_workspace("beta", BOB, "google", name="Beta")
        w.create_project("beta", "lab", "full", creator=BOB)
        wsp_world.tokens["bob"] = w.create_token(BOB)[1]
    (wsp_world.root / "beta" / "lab").mkdir(parents=True)


async def subscribe(jp_ws_fetch: Any, headers: dict[str, str]) -> WebSocketClientConnection:
    ws: WebSocketClientConnection = await jp_ws_fetch("api", "events", "subscribe", headers=headers)
    return ws


async def read_until(
    ws: WebSocketClientConnection, last: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Every event up to and including the first for which ``last`` is true."""
    seen: list[dict[str, Any]] = []
    while True:
        raw = await asyncio.wait_for(ws.read_message(), TIMEOUT)
        assert raw is not None, f"the stream closed after {seen}"
        event = json.loads(raw)
        seen.append(event)
        if last(event):
            return seen


def about(path: str) -> Callable[[dict[str, Any]], bool]:
    """A contents event that names ``path``."""
    return lambda e: e["schema_id"] == CONTENTS and e.get("path") == path


def named(events: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    return [e for e in events if text in json.dumps(e)]


async def put(fetch: Any, who: str, path: str, text: str) -> None:
    body = json.dumps({"type": "file", "format": "text", "content": text})
    r = await fetch(who, "api", "contents", *path.split("/"), method="PUT", body=body)
    assert r.code in (200, 201), (who, path, r.code, r.body)


async def call(fetch: Any, who: str, method: str, path: str, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"method": method}
    if body is not None or method in ("POST", "PUT", "PATCH"):
        kwargs["body"] = json.dumps(body if body is not None else {})
    r = await fetch(who, *path.split("/"), **kwargs)
    assert r.code in (200, 201, 204), (who, method, path, r.code, r.body)
    return json.loads(r.body) if r.body else None


async def private_file_work(wsp_fetch: Any) -> None:
    """The editor's work on a private project's files: save, read, list, rename (also
    into a public project), copy, delete."""
    base = "api/contents/acme/private"
    await put(wsp_fetch, "editor", f"acme/private/{SECRET}.txt", "launch on friday")
    await call(wsp_fetch, "editor", "GET", f"{base}/{SECRET}.txt")
    await call(wsp_fetch, "editor", "GET", base)
    renamed = {"path": f"acme/private/{SECRET}-2.txt"}
    await call(wsp_fetch, "editor", "PATCH", f"{base}/{SECRET}.txt", renamed)
    await call(wsp_fetch, "editor", "POST", base, {"copy_from": f"acme/private/{SECRET}-2.txt"})
    moved = {"path": "acme/public/moved.txt"}
    await call(wsp_fetch, "editor", "PATCH", f"{base}/{SECRET}-2.txt", moved)
    await call(wsp_fetch, "editor", "DELETE", f"{base}/{SECRET}-2-Copy1.txt")


async def test_another_workspaces_admin_learns_no_file_names(
    wsp_world: World, wsp_fetch: Any, jp_ws_fetch: Any, beta: None
) -> None:
    """bob (Admin of beta only) subscribes and sees his own files' events, nothing of acme;
    posting events stays for server admins (with two workspaces and no list: nobody)."""
    bob = await subscribe(jp_ws_fetch, wsp_world.auth("bob"))
    try:
        await private_file_work(wsp_fetch)
        await put(wsp_fetch, "editor", "acme/public/sentinel.txt", "hello")
        await put(wsp_fetch, "bob", "beta/lab/bob-sentinel.txt", "mine")
        seen = await read_until(bob, about("beta/lab/bob-sentinel.txt"))
    finally:
        bob.close()
    assert not named(seen, "acme"), seen
    assert all(e["path"].startswith("beta/") for e in seen), seen
    event = {"schema_id": CONTENTS, "version": "1", "data": {"action": "save", "path": "x"}}
    r = await wsp_fetch("bob", "api", "events", method="POST", body=json.dumps(event))
    assert (r.code, json.loads(r.body)["reason"]) == (403, "admins_only"), r.body


async def test_members_see_events_of_the_files_they_may_read(
    wsp_world: World, wsp_fetch: Any, jp_ws_fetch: Any
) -> None:
    """The viewer and the Admin (who may not read the private project) see none of its
    files, not even as the source of a move into a project they may read; the editor,
    who may read it, sees all."""
    streams = {who: await subscribe(jp_ws_fetch, wsp_world.auth(who)) for who in wsp_world.tokens}
    try:
        await private_file_work(wsp_fetch)
        await put(wsp_fetch, "editor", "acme/public/sentinel.txt", "hello")
        seen = {
            who: await read_until(ws, about("acme/public/sentinel.txt"))
            for who, ws in streams.items()
            if who != "outsider"
        }
        # the outsider reads nothing in acme: their sentinel is the root listing
        await call(wsp_fetch, "outsider", "GET", "api/contents")
        seen["outsider"] = await read_until(streams["outsider"], about(""))
    finally:
        for ws in streams.values():
            ws.close()
    for who in ("admin", "contributor", "viewer", "guest", "outsider"):
        assert not named(seen[who], "acme/private"), (who, seen[who])
    assert not named(seen["outsider"], "acme"), seen["outsider"]
    # the move into public is seen by readers of public only as the file it became
    assert named(seen["viewer"], "acme/public/moved.txt"), seen["viewer"]
    editor = seen["editor"]
    actions = {(e["action"], e["path"]) for e in editor if e["schema_id"] == CONTENTS}
    assert {
        ("save", f"acme/private/{SECRET}.txt"),
        ("rename", f"acme/private/{SECRET}-2.txt"),
        ("copy", f"acme/private/{SECRET}-2-Copy1.txt"),
        ("rename", "acme/public/moved.txt"),
        ("delete", f"acme/private/{SECRET}-2-Copy1.txt"),
        ("get", "acme/private"),
    } <= actions, editor
    # the guest (viewer of acme/public only) sees the sentinel in public
    assert named(seen["guest"], "sentinel"), seen["guest"]


async def test_kernel_events_go_to_those_who_may_run_the_kernel(
    wsp_world: World, wsp_fetch: Any, jp_ws_fetch: Any
) -> None:
    """A kernel of the private project: its start, interrupt and shutdown reach the
    editor who runs it, not the workspace's Admin (who may not look inside), nor the
    viewer."""
    nb = wsp_world.root / "acme" / "private" / "nb.ipynb"
    nb.write_text(nbformat.writes(nbformat.v4.new_notebook()))
    streams = {
        who: await subscribe(jp_ws_fetch, wsp_world.auth(who))
        for who in ("editor", "admin", "viewer")
    }
    try:
        body = {
            "path": "acme/private/nb.ipynb",
            "type": "notebook",
            "name": "nb",
            "kernel": {"name": "python3"},
        }
        session = await call(wsp_fetch, "editor", "POST", "api/sessions", body)
        kernel_id = session["kernel"]["id"]
        await call(wsp_fetch, "editor", "POST", f"api/kernels/{kernel_id}/interrupt")
        await call(wsp_fetch, "editor", "DELETE", f"api/kernels/{kernel_id}")
        await put(wsp_fetch, "editor", "acme/public/sentinel.txt", "hello")
        seen = {
            who: await read_until(ws, about("acme/public/sentinel.txt"))
            for who, ws in streams.items()
        }
    finally:
        for ws in streams.values():
            ws.close()
    actions = [e["action"] for e in seen["editor"] if e["schema_id"] == KERNEL_ACTIONS]
    assert actions == ["start", "interrupt", "shutdown"], seen["editor"]
    for who in ("admin", "viewer"):
        assert not named(seen[who], kernel_id), (who, seen[who])
        assert not [e for e in seen[who] if e["schema_id"] == KERNEL_ACTIONS], (who, seen[who])


async def test_other_schemas_reach_only_server_admins_and_auditors(
    wsp_world: World, wsp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> None:
    """Execution audit events reach holders of ``workspace:audit`` who may read the
    project; events of other schemas only server admins."""
    snap = jp_serverapp.web_app.settings["workspace_perms_store"].snapshot
    ws_id = snap.workspaces_by_slug["acme"]
    projects = {name: snap.projects_by_name[(ws_id, name)] for name in ("public", "private")}
    logger = jp_serverapp.event_logger
    streams = {
        who: await subscribe(jp_ws_fetch, wsp_world.auth(who))
        for who in ("admin", "editor", "viewer")
    }
    jp_serverapp.authorizer.server_admins = ["ed@acme.test"]
    try:
        for name, project_id in projects.items():
            logger.emit(
                schema_id=EXECUTION,
                data={
                    "username": "cora@acme.test",
                    "workspace_id": ws_id,
                    "project_id": project_id,
                    "notebook": f"acme/{name}/nb.ipynb",
                    "cell_id": None,
                    "code_sha256": "0" * 64,
                    "allowed": True,
                    "reason": "test",
                    "kernel_id": f"kernel-of-{name}",
                },
            )
        logger.emit(schema_id=GATEWAY, data={"msg": "gateway-news", "status": "success"})
        await put(wsp_fetch, "editor", "acme/public/sentinel.txt", "hello")
        seen = {
            who: await read_until(ws, about("acme/public/sentinel.txt"))
            for who, ws in streams.items()
        }
    finally:
        jp_serverapp.authorizer.server_admins = None
        for ws in streams.values():
            ws.close()
    kernels = {
        who: [e["kernel_id"] for e in events if e["schema_id"] == EXECUTION]
        for who, events in seen.items()
    }
    # the Admin audits acme and reads public, not private; the editor reads both but
    # does not audit; the viewer neither
    assert kernels == {"admin": ["kernel-of-public"], "editor": [], "viewer": []}, seen
    gateway = {who: bool(named(events, "gateway-news")) for who, events in seen.items()}
    assert gateway == {"admin": False, "editor": True, "viewer": False}, seen


async def test_anonymous_subscribers_are_refused(jp_ws_fetch: Any, wsp_world: World) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_ws_fetch("api", "events", "subscribe", headers={"Authorization": ""})
    assert refused.value.code in (302, 401, 403)  # 302: to the login page
