"""What the server does when bubblewrap fails, for each ``KernelSandbox.mode``, and what
it says: ``required`` refuses kernels with the reason, ``auto`` (the default when the
self-test fails) runs them unconfined and says so loudly, ``off`` never confines. A
kernelspec cannot opt out of the sandbox by naming another provisioner. Bubblewrap is
made to fail by pointing ``bwrap_path`` at a program that does not exist."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner

from tests.helpers.http import Http
from tests.helpers.kernel_ws import KernelSocket, write_notebook
from tests.helpers.world import World, server_config
from tests.sandbox.conftest import OpenKernel

NOTEBOOK = "acme/public/probe.ipynb"
BODY = {"path": NOTEBOOK, "type": "notebook", "name": NOTEBOOK, "kernel": {"name": "python3"}}
BROKEN = "/nonexistent/bwrap"


@pytest.fixture
def jp_server_config(wsp_db_url: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The sandbox's settings of each test (``@pytest.mark.parametrize`` indirect)."""
    sandbox = getattr(request, "param", {})
    return server_config(wsp_db_url, KernelSandbox=sandbox)


@pytest.mark.parametrize(
    "jp_server_config", [{"mode": "required", "bwrap_path": BROKEN}], indirect=True
)
async def test_required_refuses_kernels_with_the_reason(http: Http, wsp_world: World) -> None:
    write_notebook(wsp_world.root / NOTEBOOK)
    reply = await http("editor", "POST", "api/sessions", BODY)
    assert (reply.code, reply.reason) == (503, "sandbox_unavailable")
    message = reply.json["message"]
    assert "sandbox is required" in message and "not installed" in message
    assert "bubblewrap" in message
    direct = await http("editor", "POST", "api/kernels", {"name": "python3", "path": "acme/public"})
    assert (direct.code, direct.reason) == (503, "sandbox_unavailable")
    assert await http.ok("editor", "GET", "api/kernels") == []
    status = await http.ok("admin", "GET", "api/workspace-perms/status")
    isolation = status["isolation"]
    assert (isolation["kernels"], isolation["mode"], isolation["confined"]) == (
        "none",
        "required",
        False,
    )
    assert isolation["self_test"]["working"] is False
    assert "Kernels cannot start" in isolation["message"]


@pytest.mark.parametrize("jp_server_config", [{"bwrap_path": BROKEN}], indirect=True)
async def test_by_default_a_failing_sandbox_runs_kernels_unconfined_and_says_so(
    http: Http, wsp_world: World, open_kernel: OpenKernel
) -> None:
    status = await http.ok("editor", "GET", "api/workspace-perms/status")
    isolation = status["isolation"]
    assert (isolation["mode"], isolation["configured_mode"], isolation["kernels"]) == (
        "auto",
        "default",
        "none",
    )
    assert "NOT sandboxed" in isolation["message"]
    _, socket = await open_kernel("editor", "acme/public")
    root = str(wsp_world.root.resolve())
    ran = await socket.execute(f"import os\nprint(sorted(os.listdir({root!r} + '/acme')))")
    # unconfined: the kernel sees every project (what the sandbox prevents)
    assert ran.stdout.strip() == "['locked', 'private', 'public']"


@pytest.mark.parametrize("jp_server_config", [{"mode": "off"}], indirect=True)
async def test_off_never_confines_and_says_so(http: Http) -> None:
    isolation = (await http.ok("admin", "GET", "api/workspace-perms/status"))["isolation"]
    assert (isolation["mode"], isolation["kernels"], isolation["self_test"]) == (
        "off",
        "none",
        None,
    )
    assert "mode = 'off'" in isolation["message"]


class OtherProvisioner(LocalProvisioner):  # type: ignore[misc]
    """A provisioner of another package, installed beside ours."""


@pytest.fixture
def other_provisioner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An installed provisioner that is not ours (a distribution on ``sys.path``)."""
    dist = tmp_path / "site" / "other_provisioner-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: other-provisioner\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[jupyter_client.kernel_provisioners]\nother-provisioner = {__name__}:OtherProvisioner\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    KernelProvisionerFactory.clear_instance()  # it lists provisioners once
    yield "other-provisioner"
    KernelProvisionerFactory.clear_instance()


def kernelspec(kernel_dir: Path, name: str, provisioner: str) -> None:
    """A python kernelspec naming ``provisioner`` in its metadata."""
    folder = kernel_dir / name
    folder.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name,
        "language": "python",
        "metadata": {"kernel_provisioner": {"provisioner_name": provisioner}},
    }
    (folder / "kernel.json").write_text(json.dumps(spec))


async def test_a_kernelspec_cannot_opt_out_of_the_sandbox(
    http: Http, wsp_world: World, jp_kernel_dir: Path, jp_ws_fetch: Any, other_provisioner: str
) -> None:
    kernelspec(jp_kernel_dir, "escape", other_provisioner)
    kernelspec(jp_kernel_dir, "plain", "local-provisioner")
    refused = await http("editor", "POST", "api/kernels", {"name": "escape", "path": "acme/public"})
    assert (refused.code, refused.reason) == (403, "kernel_provisioner_refused")
    assert "remove the kernel_provisioner stanza" in refused.json["message"]
    assert await http.ok("editor", "GET", "api/kernels") == []
    # the stock local provisioner is replaced by the sandboxed one: still confined
    started = await http.ok(
        "editor", "POST", "api/kernels", {"name": "plain", "path": "acme/public"}
    )
    socket = await KernelSocket.open(jp_ws_fetch, wsp_world, "editor", started["id"], "v1")
    try:
        root = str(wsp_world.root.resolve())
        ran = await socket.execute(f"import os\nprint(sorted(os.listdir({root!r} + '/acme')))")
        assert ran.stdout.strip() == "['public']"
    finally:
        socket.close()
