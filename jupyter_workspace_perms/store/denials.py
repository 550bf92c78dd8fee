"""Denials in the audit log, rate-limited so a flood of refused requests cannot fill the disk.

Every refusal the server answers (the Authorizer's 403 and 404 on Jupyter's routes, the
REST API's) is handed to :meth:`DenialRecorder.record` on the event loop. The recorder
keeps, per (user, reason), a window of ``window`` seconds: the first ``limit`` denials
in it become ``denied`` rows; the rest are only counted, and when the window ends one
``denied.suppressed`` row says how many there were. Windows live in insertion order,
so ended ones are closed from the front in constant time; at most ``max_keys`` are
tracked, and denials for further keys while that many windows are open are counted
in one overflow window (user ``*``, reason ``too_many_keys``). Memory stays bounded
whatever arrives.

``record`` only appends to a list; the rows reach the database with the execution
audit's batches (:class:`~..kernel.audit.ExecutionAuditor` drains :meth:`drain` at each
flush, in its worker thread, with its retry and its bounded queue), never bumping the
policy version.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from traitlets import Bool, Float, Int
from traitlets.config import LoggingConfigurable

ACTION_DENIED = "denied"
ACTION_SUPPRESSED = "denied.suppressed"
OVERFLOW_KEY = ("*", "too_many_keys")
# Column sizes of ``audit_events``: PostgreSQL refuses longer strings.
ACTOR_MAX, TARGET_MAX = 255, 512


@dataclass
class _Window:
    start: float
    recorded: int = 0
    suppressed: int = 0
    workspace_id: int | None = None
    target: str = ""


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


class DenialRecorder(LoggingConfigurable):
    """Turns refusals into ``denied`` audit rows, at most ``limit`` per user and reason
    per ``window`` seconds, then one ``denied.suppressed`` row with the count."""

    enabled = Bool(
        True,
        config=True,
        help="""Record refused requests (403 and 404 answers) in the audit log as
        ``denied`` rows (default True).""",
    )
    limit = Int(
        20,
        config=True,
        help="""Denials recorded per user and reason within one ``window`` (default 20);
        more are counted and summed up in one ``denied.suppressed`` row when the window
        ends.""",
    )
    window = Float(
        60.0,
        config=True,
        help="Seconds of one rate-limiting window of recorded denials (default 60).",
    )
    max_keys = Int(
        10_000,
        config=True,
        help="""Most (user, reason) windows tracked at once (default 10000); denials for
        other keys while that many are open are counted in one overflow window
        (user ``*``, reason ``too_many_keys``).""",
    )
    max_pending = Int(
        10_000,
        config=True,
        help="""Most denial rows waiting for the next audit write (default 10000);
        beyond that they are dropped and counted.""",
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._windows: OrderedDict[tuple[str, str], _Window] = OrderedDict()
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # record() on the loop, drain() in the writer thread
        self._final = False
        self.recorded = 0
        self.suppressed = 0
        self.dropped = 0

    def record(
        self,
        actor: str,
        reason: str,
        workspace_id: int | None,
        target: str,
        method: str,
        status: int,
        now: float | None = None,
    ) -> None:
        """Count one refusal; a row when its window still has room. Never raises."""
        if not self.enabled:
            return
        try:
            self._record(actor, reason, workspace_id, target, method, status, now)
        except Exception:  # the refusal stands whatever happens here
            self.log.exception("denial audit: a denial could not be recorded")

    def _record(
        self,
        actor: str,
        reason: str,
        workspace_id: int | None,
        target: str,
        method: str,
        status: int,
        now: float | None,
    ) -> None:
        now = time.time() if now is None else now
        key = (actor[:ACTOR_MAX], reason)
        with self._lock:
            self._close_ended(now)
            window = self._windows.get(key)
            if window is None:
                if len(self._windows) >= self.max_keys:
                    key = OVERFLOW_KEY
                    window = self._windows.get(key)
                if window is None:
                    window = self._windows[key] = _Window(now)
            window.workspace_id, window.target = workspace_id, target[:TARGET_MAX]
            if window.recorded >= self.limit or key == OVERFLOW_KEY:
                window.suppressed += 1
                self.suppressed += 1
                return
            window.recorded += 1
            self._add(
                {
                    "at": _at(now),
                    "actor": key[0],
                    "action": ACTION_DENIED,
                    "workspace_id": workspace_id,
                    "target": window.target,
                    "details": {"reason": reason, "method": method, "status": status},
                }
            )
            self.recorded += 1

    def _close_ended(self, now: float) -> None:
        """Close the windows that ended (all of them once finishing), oldest first."""
        while self._windows:
            key, window = next(iter(self._windows.items()))
            if not self._final and now - window.start < self.window:
                return
            del self._windows[key]
            if window.suppressed:
                self._add(
                    {
                        "at": _at(min(now, window.start + self.window)),
                        "actor": key[0],
                        "action": ACTION_SUPPRESSED,
                        "workspace_id": window.workspace_id,
                        "target": window.target,
                        "details": {
                            "reason": key[1],
                            "count": window.suppressed,
                            "since": _at(window.start).isoformat(),
                            "until": _at(window.start + self.window).isoformat(),
                        },
                    }
                )

    def _add(self, row: dict[str, Any]) -> None:
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            return
        self._pending.append(row)

    def drain(self, now: float | None = None) -> list[dict[str, Any]]:
        """The rows to write now (``audit_events`` columns), ended windows summed up."""
        with self._lock:
            self._close_ended(time.time() if now is None else now)
            rows, self._pending = self._pending, []
            return rows

    def finish(self) -> None:
        """At shutdown: the next :meth:`drain` closes every window, ended or not."""
        with self._lock:
            self._final = True

    @property
    def tracked(self) -> int:
        """How many (user, reason) windows are open now."""
        return len(self._windows)
