"""Fixtures of the sandbox tests: bubblewrap must be installed (CI installs it), and a
kernel of a project, reached over a real websocket as one person."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.helpers.http import Http, start_session
from tests.helpers.kernel_ws import KernelSocket, write_notebook
from tests.helpers.missing import missing
from tests.helpers.world import World

OpenKernel = Callable[[str, str], Awaitable[tuple[str, KernelSocket]]]


@pytest.fixture(autouse=True)
def bubblewrap() -> None:
    """The sandbox tests need bubblewrap itself."""
    if shutil.which("bwrap") is None:
        missing("bubblewrap is not installed (Debian: apt-get install bubblewrap)")


@pytest.fixture
def open_kernel(http: Http, jp_ws_fetch: Any, wsp_world: World) -> Iterator[OpenKernel]:
    """``await open_kernel("editor", "acme/public")``: a new kernel of that project's
    notebook ``probe.ipynb`` and a websocket to it, both gone when the test ends."""
    opened: list[KernelSocket] = []

    async def open_(who: str, project: str) -> tuple[str, KernelSocket]:
        notebook = f"{project}/probe.ipynb"
        if not (wsp_world.root / notebook).exists():
            write_notebook(wsp_world.root / notebook, {"probe": "print('probe')"})
        session = await start_session(http, who, notebook)
        kernel_id = str(session["kernel"]["id"])
        socket = await KernelSocket.open(jp_ws_fetch, wsp_world, who, kernel_id, "v1")
        opened.append(socket)
        return kernel_id, socket

    yield open_
    for socket in opened:
        socket.close()
