"""A cell an Editor deleted stays deleted (issue #10, item 4).

A Contributor runs only cells saved in the notebooks of the kernel's sessions. A
checkpoint (``.ipynb_checkpoints/nb-checkpoint.ipynb``) still holds cells an Editor
has since deleted, so sessions on hidden paths are refused, and the kernel hook finds
no runnable cells in a session path that is hidden (made before the refusal existed)
or in a notebook that is really a hidden file (a link to a checkpoint).

Real server, real kernel, real websocket (``wsp_world``: ed editor, cora contributor of
``acme/public``).
"""

from __future__ import annotations

import os
from typing import Any

import nbformat

from tests.helpers.http import Http, start_session
from tests.helpers.kernel_ws import KernelSocket
from tests.helpers.world import World

NOTEBOOK = "acme/public/nb.ipynb"
CHECKPOINT = "acme/public/.ipynb_checkpoints/nb-checkpoint.ipynb"
KEEP = "print('kept cell ran')"
GONE = "print('deleted cell ran')"


def notebook(cells: dict[str, str]) -> dict[str, Any]:
    """A notebook model of code cells with fixed ids."""
    nb = nbformat.v4.new_notebook()
    for cell_id, source in cells.items():
        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = cell_id
        nb.cells.append(cell)
    return dict(nb)


async def checkpoint_then_delete_a_cell(http: Http) -> None:
    """Ed saves the notebook, cora makes a checkpoint of it, ed deletes cell ``gone``."""
    body = {"type": "notebook", "format": "json"}
    await http.ok(
        "editor",
        "PUT",
        f"api/contents/{NOTEBOOK}",
        {**body, "content": notebook({"keep": KEEP, "gone": GONE})},
    )
    await http.ok("contributor", "POST", f"api/contents/{NOTEBOOK}/checkpoints")
    await http.ok(
        "editor", "PUT", f"api/contents/{NOTEBOOK}", {**body, "content": notebook({"keep": KEEP})}
    )


async def test_sessions_on_hidden_paths_are_refused(http: Http, wsp_world: World) -> None:
    await checkpoint_then_delete_a_cell(http)
    assert (wsp_world.root / CHECKPOINT).is_file()
    body = {"path": CHECKPOINT, "type": "notebook", "name": "nb", "kernel": {"name": "python3"}}
    reply = await http("contributor", "POST", "api/sessions", body)
    assert (reply.code, reply.reason) == (403, "hidden_path"), reply

    session = await start_session(http, "contributor", NOTEBOOK)
    for path in (CHECKPOINT, "acme/public/.hidden/nb.ipynb", "acme/public/.nb.ipynb"):
        reply = await http("contributor", "PATCH", f"api/sessions/{session['id']}", {"path": path})
        assert (reply.code, reply.reason) == (403, "hidden_path"), (path, reply)
    listed = (await http.get("contributor", "api/sessions")).json
    assert [s["path"] for s in listed] == [NOTEBOOK], listed


async def test_the_kernel_hook_ignores_hidden_notebooks(
    http: Http, wsp_world: World, jp_serverapp: Any, jp_ws_fetch: Any
) -> None:
    await checkpoint_then_delete_a_cell(http)
    session = await start_session(http, "contributor", NOTEBOOK)
    kernel_id = session["kernel"]["id"]
    # a session on the checkpoint, as one made before such sessions were refused
    await jp_serverapp.session_manager.create_session(
        path=CHECKPOINT, name="nb", type="notebook", kernel_id=kernel_id
    )
    # and a notebook that is a link to the checkpoint (say, made by an Editor's code)
    os.symlink(".ipynb_checkpoints/nb-checkpoint.ipynb", wsp_world.root / "acme/public/link.ipynb")
    body = {"path": "acme/public/link.ipynb", "type": "notebook", "kernel": {"id": kernel_id}}
    reply = await http("contributor", "POST", "api/sessions", body)
    assert reply.code == 201 and reply.json["kernel"]["id"] == kernel_id, reply

    socket = await KernelSocket.open(jp_ws_fetch, wsp_world, "contributor", kernel_id, "v1")
    try:
        kept = await socket.execute(KEEP, "keep")
        gone = await socket.execute(GONE, "gone")
    finally:
        socket.close()
    assert kept.status == "ok" and kept.stdout == "kept cell ran\n", kept
    assert gone.status == "error" and gone.stdout == "", gone
    assert gone.errors and gone.errors[0]["ename"] == "PermissionError", gone
