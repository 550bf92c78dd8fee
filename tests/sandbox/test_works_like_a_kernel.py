"""A confined kernel works like any other: interrupts reach the running cell (not
bubblewrap, whose death would end the kernel), restarts keep it confined, ``%pip
install`` lands in the project's own place and persists for that project only,
matplotlib draws, files of its project are read and written by relative path.
Widgets and ``input()`` are covered by the kernel tests, which run confined too."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

from tests.helpers.http import Http
from tests.helpers.kernel_ws import KernelSocket
from tests.helpers.world import World
from tests.sandbox.conftest import OpenKernel


async def running(socket: KernelSocket, msg_id: str) -> None:
    """Wait until the kernel runs the cell of ``msg_id`` (an interrupt before that is
    ignored: ipykernel takes SIGINT only while a cell runs); messages are kept."""
    seen: list[tuple[str, dict[str, Any]]] = []
    while True:
        got = await socket.receive()
        assert got is not None, "the socket closed before the cell ran"
        seen.append(got)
        _, msg = got
        if msg["msg_type"] == "execute_input" and msg["parent_header"].get("msg_id") == msg_id:
            socket.pending.extend(seen)
            return


async def test_an_interrupt_stops_a_sleeping_cell_within_two_seconds(
    open_kernel: OpenKernel, http: Http
) -> None:
    kernel_id, socket = await open_kernel("editor", "acme/public")
    msg_id = socket.send(
        "shell",
        "execute_request",
        {"code": "import time\ntime.sleep(100)", "silent": False, "user_expressions": {}},
    )
    await running(socket, msg_id)
    asked = time.monotonic()
    await http.ok("editor", "POST", f"api/kernels/{kernel_id}/interrupt")
    reply = await socket.exchange("shell", msg_id)
    took = time.monotonic() - asked
    assert reply.reply is not None and reply.reply["content"]["status"] == "error", reply
    assert reply.reply["content"]["ename"] == "KeyboardInterrupt"
    assert took < 2.0, f"the interrupt took {took:.2f} s"
    # the kernel lived through it
    after = await socket.execute("print(6 * 7)")
    assert (after.status, after.stdout.strip()) == ("ok", "42")


async def test_a_restarted_kernel_is_still_confined(
    open_kernel: OpenKernel, http: Http, wsp_world: World, jp_ws_fetch: Any
) -> None:
    kernel_id, socket = await open_kernel("editor", "acme/public")
    root = str(wsp_world.root.resolve())
    before = await socket.execute(f"import os\nprint(os.getpid(), sorted(os.listdir({root!r})))")
    await http.ok("editor", "POST", f"api/kernels/{kernel_id}/restart")
    _, again = await open_kernel("editor", "acme/public")  # the same session and kernel
    after = await again.execute(f"import os\nprint(sorted(os.listdir({root!r})))")
    assert before.stdout.split(" ", 1)[1].strip() == after.stdout.strip() == "['acme']"


def tiny_wheel(folder: Path) -> Path:
    """A one-module wheel, written by hand: installing it needs no network."""
    files = {
        "wsperms_tiny.py": b"VALUE = 'installed for this project'\n",
        "wsperms_tiny-0.1.dist-info/METADATA": (
            b"Metadata-Version: 2.1\nName: wsperms-tiny\nVersion: 0.1\n"
        ),
        "wsperms_tiny-0.1.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("wsperms_tiny-0.1.dist-info/RECORD,,")
    path = folder / "wsperms_tiny-0.1-py3-none-any.whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
        wheel.writestr("wsperms_tiny-0.1.dist-info/RECORD", "\n".join(record) + "\n")
    path.write_bytes(buffer.getvalue())
    return path


async def test_pip_install_persists_for_the_project_only(
    open_kernel: OpenKernel, http: Http, wsp_world: World
) -> None:
    tiny_wheel(wsp_world.root / "acme/public")
    kernel_id, socket = await open_kernel("editor", "acme/public")
    installed = await socket.execute(
        "%pip install --no-index --no-deps --quiet ./wsperms_tiny-0.1-py3-none-any.whl",
    )
    assert installed.status == "ok", installed
    await http.ok("editor", "POST", f"api/kernels/{kernel_id}/restart")
    _, again = await open_kernel("editor", "acme/public")
    used = await again.execute("import wsperms_tiny\nprint(wsperms_tiny.VALUE)")
    assert (used.status, used.stdout.strip()) == ("ok", "installed for this project")
    # another project's kernel does not have it, and the server's environment neither
    _, other = await open_kernel("editor", "acme/private")
    missing = await other.execute("import wsperms_tiny")
    assert missing.status == "error" and "ModuleNotFoundError" in str(missing.errors)
    try:
        import wsperms_tiny  # type: ignore[import-not-found]  # noqa: F401
    except ModuleNotFoundError:
        pass
    else:  # pragma: no cover - the failure itself
        raise AssertionError("the package landed in the server's environment")


async def test_matplotlib_draws_a_figure(open_kernel: OpenKernel) -> None:
    _, socket = await open_kernel("editor", "acme/public")
    ran = await socket.execute(
        "import warnings\nwarnings.simplefilter('error')\n"
        "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()"
    )
    assert ran.status == "ok", ran
    images = [
        m
        for m in ran.iopub
        if m["msg_type"] == "display_data" and "image/png" in m["content"]["data"]
    ]
    assert len(images) == 1, ran


async def test_files_of_its_project_by_relative_path(
    open_kernel: OpenKernel, wsp_world: World
) -> None:
    (wsp_world.root / "acme/public/data").mkdir()
    (wsp_world.root / "acme/public/data/in.json").write_text(json.dumps({"n": 20}))
    _, socket = await open_kernel("editor", "acme/public")
    ran = await socket.execute(
        "import json\nn = json.load(open('data/in.json'))['n']\n"
        "json.dump({'n': n + 1}, open('data/out.json', 'w'))\nprint(n)"
    )
    assert (ran.status, ran.stdout.strip()) == ("ok", "20")
    assert json.loads((wsp_world.root / "acme/public/data/out.json").read_text()) == {"n": 21}


async def test_a_kernel_whose_project_moved_is_not_restarted_elsewhere(
    open_kernel: OpenKernel, http: Http, wsp_world: World
) -> None:
    """A restart replays the first start; once the project folder was renamed, another
    project may sit at the old path, and the kernel (with the old project's home and
    integrations) must not start there."""
    kernel_id, _ = await open_kernel("editor", "acme/public")
    renamed = await http("editor", "PATCH", "api/contents/acme/public", {"path": "acme/renamed"})
    assert renamed.code == 200, renamed
    reply = await http("editor", "POST", f"api/kernels/{kernel_id}/restart")
    assert (reply.code, reply.reason) == (409, "project_moved"), reply
    assert "start a new one" in reply.json["message"]
