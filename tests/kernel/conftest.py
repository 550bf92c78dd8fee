"""Fixtures of the kernel tests: both websocket protocols, and sockets closed after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.kernel_ws import PROTOCOLS, KernelSocket


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> str:
    """Each kernel websocket protocol: v1 binary framing and the legacy JSON one."""
    return str(request.param)


@pytest.fixture
def sockets() -> Iterator[list[KernelSocket]]:
    """A list to put opened sockets in; they are closed when the test ends."""
    opened: list[KernelSocket] = []
    yield opened
    for socket in opened:
        socket.close()
