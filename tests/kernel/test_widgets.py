"""Widget comms of a Contributor reach the kernel only as inputs of its standard controls.

ipywidgets hands every state change a page sends on to every other page showing the
widget, so a Contributor who could set an ``Output`` widget's ``outputs`` would run their
script in an Admin's page (the outside review's reproduction). Real kernel, real
websockets in both protocols: an Editor's page shows the widgets; the Contributor moves
the slider (it moves everywhere) and tries every other change (nothing reaches the
kernel, nor the Editor's page).
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_workspace_perms.kernel.widgets import WidgetRegistry, comm_msg_refusal
from tests.helpers.http import Http, start_session
from tests.helpers.kernel_ws import KernelSocket, write_notebook
from tests.helpers.world import World

NOTEBOOK = "acme/public/widgets.ipynb"
UI = (
    "import ipywidgets as w\n"
    "out = w.Output()\n"
    "slider = w.IntSlider(value=1)\n"
    "html = w.HTML('ok')\n"
    "box = w.VBox([slider])\n"
    "display(out, slider, html, box)"
)
SCRIPT = {
    "output_type": "display_data",
    "data": {"application/javascript": "document.title = 'owned'", "text/plain": "x"},
    "metadata": {},
}
REPORT = (
    "import json\n"
    "print(json.dumps({'outputs': len(out.outputs), 'slider': slider.value,"
    " 'html': html.value, 'children': len(box.children), 'open': slider.comm is not None}))"
)


def widget_ids(messages: list[dict[str, Any]]) -> dict[str, str]:
    """Model name -> comm id, from the comm_open messages a page received."""
    return {
        m["content"]["data"]["state"]["_model_name"]: m["content"]["comm_id"]
        for m in messages
        if m["msg_type"] == "comm_open"
    }


async def drain(socket: KernelSocket) -> list[dict[str, Any]]:
    """Every message the page received so far (kept ones and those still arriving)."""
    got = [m for _channel, m in socket.pending]
    socket.pending = []
    return got


async def report(editor: KernelSocket) -> dict[str, Any]:
    ran = await editor.execute(REPORT)
    assert ran.status == "ok", ran
    return dict(json.loads(ran.stdout))


async def test_a_contributor_changes_only_widget_inputs(
    http: Http, jp_ws_fetch: Any, wsp_world: World, protocol: str, sockets: list[KernelSocket]
) -> None:
    write_notebook(wsp_world.root / NOTEBOOK, {"ui": UI})
    session = await start_session(http, "contributor", NOTEBOOK)
    kernel_id = str(session["kernel"]["id"])
    ed = await KernelSocket.open(jp_ws_fetch, wsp_world, "editor", kernel_id, protocol)
    cora = await KernelSocket.open(jp_ws_fetch, wsp_world, "contributor", kernel_id, protocol)
    sockets += [ed, cora]

    shown = await cora.execute(UI, "ui")  # the saved cell: the Contributor may run it
    assert shown.status == "ok", shown
    ids = widget_ids(shown.iopub)
    out, slider = ids["OutputModel"], ids["IntSliderModel"]
    html, box = ids["HTMLModel"], ids["VBoxModel"]

    def update(comm_id: str, state: dict[str, Any]) -> None:
        data = {"method": "update", "state": state, "buffer_paths": []}
        cora.send("shell", "comm_msg", {"comm_id": comm_id, "data": data})

    update(out, {"outputs": [SCRIPT]})
    update(html, {"value": "<img src=x onerror=alert(1)>"})
    update(box, {"children": []})
    update(slider, {"description": "<b>x</b>", "description_allow_html": True})
    cora.send("shell", "comm_close", {"comm_id": slider, "data": {}})
    cora.send(
        "shell",
        "comm_open",
        {"comm_id": "mine", "target_name": "jupyter.widget", "data": {"state": {}}},
    )
    update(slider, {"value": 42})  # using the slider: allowed
    # shell messages of one socket are handled in order: once this is answered, the
    # kernel has seen (or never got) all of the above
    assert (await cora.request("shell", "kernel_info_request")).status == "ok"

    assert await report(ed) == {
        "outputs": 0,
        "slider": 42,
        "html": "ok",
        "children": 1,
        "open": True,
    }
    # the Editor's page got the slider's new value, and nothing else of the Contributor's
    echoed = [
        m["content"]["data"]
        for m in await drain(ed)
        if m["msg_type"] == "comm_msg" and m["content"]["data"].get("method") == "echo_update"
    ]
    assert echoed == [{"method": "echo_update", "state": {"value": 42}, "buffer_paths": []}]


def test_the_registry_learns_widgets_from_what_the_kernel_sends() -> None:
    registry = WidgetRegistry()
    registry.learn(
        "comm_open",
        {
            "comm_id": "a",
            "target_name": "jupyter.widget",
            "data": {
                "state": {"_model_module": "@jupyter-widgets/output", "_model_name": "OutputModel"}
            },
        },
    )
    states = {
        "b": {"model_module": "@jupyter-widgets/controls", "model_name": "IntSliderModel"},
        "c": {"model_module": 7, "model_name": "X"},  # not a kind: stays unknown
    }
    registry.learn(
        "comm_msg", {"comm_id": "ctl", "data": {"method": "update_states", "states": states}}
    )
    assert registry.kind("a") == "@jupyter-widgets/output:OutputModel"
    assert registry.kind("b") == "@jupyter-widgets/controls:IntSliderModel"
    assert registry.kind("c") is None
    registry.learn("comm_close", {"comm_id": "b", "data": {}})
    assert registry.kind("b") is None
    # what a page sends is judged on what the kernel made
    moved = {"data": {"method": "update", "state": {"value": 3}}}
    assert comm_msg_refusal(moved, registry.kind("b")) is not None  # unknown once closed
    assert comm_msg_refusal(moved, "@jupyter-widgets/controls:IntSliderModel") is None
