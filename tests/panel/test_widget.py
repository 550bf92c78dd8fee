"""The notebook admin panel, ``WorkspacePanel``: what the kernel sends and may change.

A real kernel (ipykernel through jupyter_client, in its own process group) creates the
panel; the test plays the front end on the kernel's channels. The panel must only name
a view that our prebuilt lab extension registers (no JavaScript from the kernel), take
``members`` only from the view, and send nothing but a refresh request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager
from traitlets import TraitError

from jupyter_workspace_perms.panel import MODULE_NAME, MODULE_VERSION, WorkspacePanel

REPO = Path(__file__).resolve().parents[2]
PACKAGE_JSON = REPO / "labextension" / "package.json"
VERSION_TS = REPO / "labextension" / "src" / "settings" / "version.ts"
TIMEOUT = 60.0  # generous: kernels start slowly on a busy machine

# every key the panel's model state may hold: DOMWidget's own and the panel's; a key for
# code (anywidget's ``_esm``/``_css``) or anything else new fails the test
STATE_KEYS = {
    "_dom_classes",
    "_model_module",
    "_model_module_version",
    "_model_name",
    "_view_count",
    "_view_module",
    "_view_module_version",
    "_view_name",
    "layout",
    "tabbable",
    "tooltip",
    "workspace",
    "members",
    "error",
}


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[BlockingKernelClient]:
    """A python3 kernel of this environment; its connection file stays in ``tmp_path``."""
    manager = KernelManager(kernel_name="python3", connection_file=str(tmp_path / "k.json"))
    manager.start_kernel(cwd=str(tmp_path))  # jupyter_client starts it in a new session
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=TIMEOUT)
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def run(client: BlockingKernelClient, code: str) -> list[dict[str, Any]]:
    """Execute ``code``; the iopub messages of that request up to idle (errors fail)."""
    msg_id = client.execute(code)
    messages = []
    while True:
        msg = client.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        assert msg["msg_type"] != "error", "\n".join(msg["content"]["traceback"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages


def panel_opened(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The one comm_open of the panel's model (its Layout is a widget of its own)."""
    [opened] = [
        m
        for m in messages
        if m["msg_type"] == "comm_open"
        and m["content"]["data"]["state"]["_model_name"] == "WorkspacePanelModel"
    ]
    return opened


def printed(messages: list[dict[str, Any]]) -> str:
    return "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")


def package_version() -> str:
    return str(json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["version"])


def test_the_panel_names_the_view_of_our_lab_extension_at_its_version() -> None:
    """The kernel names the module the prebuilt extension registers (version.ts), with a
    semver range the extension's package.json version satisfies."""
    version = package_version()
    assert MODULE_NAME == "jupyter-workspace-perms"
    assert f"^{version}" == MODULE_VERSION
    assert json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["name"] == MODULE_NAME
    ts = VERSION_TS.read_text(encoding="utf-8")
    assert re.search(rf"MODULE_NAME = '{re.escape(MODULE_NAME)}';", ts), ts
    assert re.search(rf"MODULE_VERSION = '{re.escape(version)}';", ts), ts


def test_the_kernel_opens_the_panel_with_state_only_and_no_code(
    kernel: BlockingKernelClient,
) -> None:
    messages = run(
        kernel,
        "from jupyter_workspace_perms.panel import WorkspacePanel\n"
        "panel = WorkspacePanel('acme')\npanel",
    )
    opened = panel_opened(messages)
    assert opened["content"]["target_name"] == "jupyter.widget"
    state = opened["content"]["data"]["state"]
    assert set(state) == STATE_KEYS, "the panel sends only these keys: no code, no styles"
    assert {k: state[k] for k in state if k.endswith(("_name", "_module", "_version"))} == {
        "_model_name": "WorkspacePanelModel",
        "_model_module": "jupyter-workspace-perms",
        "_model_module_version": MODULE_VERSION,
        "_view_name": "WorkspacePanelView",
        "_view_module": "jupyter-workspace-perms",
        "_view_module_version": MODULE_VERSION,
    }
    assert (state["workspace"], state["members"], state["error"]) == ("acme", [], "")
    [shown] = [m for m in messages if m["msg_type"] == "execute_result"]
    view = shown["content"]["data"]["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == opened["content"]["comm_id"]


def test_members_come_from_the_view_and_the_kernel_may_only_ask_for_a_refresh(
    kernel: BlockingKernelClient,
) -> None:
    messages = run(
        kernel,
        "from jupyter_workspace_perms.panel import WorkspacePanel\npanel = WorkspacePanel('acme')",
    )
    opened = panel_opened(messages)
    comm_id = opened["content"]["comm_id"]

    # the kernel cannot fill members or error itself
    refused = printed(
        run(
            kernel,
            "for name in ('members', 'error'):\n"
            "    try:\n"
            "        setattr(panel, name, [{'username': 'x'}] if name == 'members' else 'x')\n"
            "    except Exception as e:\n"
            "        print(type(e).__name__, name)\n",
        )
    )
    assert refused.splitlines() == ["TraitError members", "TraitError error"]

    # the view (this test, playing the front end) sends what its person shares
    shared = [{"username": "ada@acme.example", "role": "admin", "owner": True}]
    msg = kernel.session.msg(
        "comm_msg",
        {
            "comm_id": comm_id,
            "data": {"method": "update", "state": {"members": shared}, "buffer_paths": []},
        },
    )
    kernel.shell_channel.send(msg)
    echoed = []
    while True:  # the update is handled between executions: wait for its idle
        got = kernel.get_iopub_msg(timeout=TIMEOUT)
        if got["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        echoed.append(got)
        if got["msg_type"] == "status" and got["content"]["execution_state"] == "idle":
            break
    assert [m for m in echoed if m["msg_type"] == "comm_msg"] == [], (
        "members are not echoed to every other front end of the kernel"
    )
    assert printed(run(kernel, "print(panel.members)")).strip() == repr(shared)

    # all the kernel can send the views is a request to re-read
    sent = run(kernel, "panel.refresh()")
    assert [m["content"] for m in sent if m["msg_type"].startswith("comm")] == [
        {"comm_id": comm_id, "data": {"method": "custom", "content": {"kind": "refresh"}}}
    ]


def test_members_and_error_are_read_only_in_python() -> None:
    panel = WorkspacePanel("acme")
    try:
        for name, value in (("members", [{"username": "x"}]), ("error", "x")):
            with pytest.raises(TraitError):
                setattr(panel, name, value)
        assert (panel.members, panel.error) == ([], "")
        assert repr(panel) == "WorkspacePanel('acme', members=0)"
    finally:
        panel.close()


def test_the_panel_package_ships_no_javascript() -> None:
    folder = REPO / "jupyter_workspace_perms" / "panel"
    assert {p.suffix for p in folder.iterdir() if p.is_file()} == {".py"}
    assert not {"_esm", "_css", "_anywidget_id"} & set(WorkspacePanel.class_trait_names())
