"""Closing the sockets of people whose rights dropped, on a timer.

Kernel sockets and collaboration room sockets each keep the set of their open sockets,
and each socket decides again whether its user may still use it (``revoke_if_lost``,
which closes it when not and says how many it closed). :class:`SocketWatcher` asks
every open socket on the server's event loop every ``interval`` seconds. A socket whose
cached rights are still fresh (same policy snapshot, no expiry passed) answers after a
few comparisons, so an idle tick costs little.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from tornado.ioloop import PeriodicCallback


class Revocable(Protocol):
    """A socket that can check its user's rights again."""

    log: Any

    def revoke_if_lost(self) -> int:
        """Close the socket when its user lost the right to use it; the number closed."""


class SocketWatcher:
    """Re-checks every socket ``sockets()`` lists, every ``interval`` seconds."""

    def __init__(
        self, sockets: Callable[[], Iterable[Revocable]], what: str, interval: float = 0.25
    ) -> None:
        self.sockets = sockets
        self.what = what  # for the log: "a kernel socket", "a room socket"
        self.interval = interval
        self._callback: PeriodicCallback | None = None

    def start(self) -> None:
        """Start ticking on the current event loop."""
        self._callback = PeriodicCallback(self.tick, self.interval * 1000)
        self._callback.start()

    def stop(self) -> None:
        """Stop ticking."""
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    def tick(self) -> None:
        """One periodic check."""
        self.check_all()

    def check_all(self) -> int:
        """Re-check every open socket; the number closed."""
        closed = 0
        for socket in list(self.sockets()):
            try:
                closed += socket.revoke_if_lost()
            except Exception:
                socket.log.exception("could not re-check %s", self.what)
        return closed
