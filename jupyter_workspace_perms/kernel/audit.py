"""Execution audit: every ``execute_request``, allowed or refused, is recorded twice.

Each record becomes one ``audit_events`` row in the policy database (action
``kernel.execute`` or ``kernel.execute_refused``) and one ``jupyter_events`` event
with the published schema ``events/execution.yaml``. Only the SHA-256 of the code
is kept, never the code: a notebook may hold secrets, and the hash is enough to
tell which cell ran.

The kernel websocket filter calls :meth:`ExecutionAuditor.record` for every
``execute_request`` of every role, on the server's event loop, so ``record`` only
hashes the code and appends to a bounded queue. A worker thread writes the queue
to the database every ``flush_interval`` seconds, one transaction per batch, and
without bumping the policy version (:meth:`~..store.PolicyStore.record_events`).

Why events are emitted on the event loop, and in batches
--------------------------------------------------------
``EventLogger.emit`` returns after a few dict lookups (under 1 µs) when no handler
and no listener is configured, but with one it deep-copies and validates the event
and formats it for logging: 65-200 µs with a logging handler or a listener
(jupyter_events 0.12 on 2 shared cores; ``benchmarks/kernel_hook.py``). Emitting
in ``record`` (about 2 µs) would blow the filter's whole per-message budget of
20 µs, so ``record`` never emits. Nor can the worker thread emit:
``emit`` schedules listeners with ``asyncio.create_task``, which needs the loop's
own thread, and the server's event stream (``/api/events/subscribe``) is such a
listener. So the worker builds the payloads and hands each batch to the loop with
``call_soon_threadsafe``; the loop emits them in chunks of :data:`EMIT_CHUNK`, so
a "run all" of a long notebook never stalls it for more than a few milliseconds.
Without a loop (tests, scripts) events are emitted in the flushing thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from traitlets import Float, Int, observe
from traitlets.config import LoggingConfigurable

from ..errors import StoreUnavailable

if TYPE_CHECKING:
    from jupyter_events import EventLogger

    from ..store import PolicyStore

EXECUTION_SCHEMA_PATH = Path(__file__).parent / "events" / "execution.yaml"
EXECUTION_SCHEMA_ID = "https://events.jupyter.org/jupyter_workspace_perms/kernel/execution/v1"
ACTION_ALLOWED = "kernel.execute"
ACTION_REFUSED = "kernel.execute_refused"
EMIT_CHUNK = 50  # events emitted per loop callback (3-10 ms with a handler)
WRITE_CHUNK = 1000  # rows per transaction
# Column sizes of ``audit_events``: PostgreSQL refuses longer strings.
ACTOR_MAX, TARGET_MAX = 255, 512


def register_execution_schema(event_logger: EventLogger) -> None:
    """Register the execution event schema on ``event_logger`` (once)."""
    if EXECUTION_SCHEMA_ID not in event_logger.schemas:
        event_logger.register_event_schema(EXECUTION_SCHEMA_PATH)


def code_sha256(code: str) -> str:
    """Hex SHA-256 of the code's UTF-8; lone surrogates (valid in JSON) do not raise."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


class ExecutionRecord(NamedTuple):
    """One ``execute_request`` as the filter judged it (the code only as its hash)."""

    at: float
    username: str
    workspace_id: int
    project_id: int
    notebook: str | None
    cell_id: str | None
    code_sha256: str
    allowed: bool
    reason: str
    kernel_id: str

    def timestamp(self) -> datetime:
        """When the request arrived (timezone-aware)."""
        return datetime.fromtimestamp(self.at, timezone.utc)

    def event(self) -> dict[str, Any]:
        """The ``jupyter_events`` payload (see ``events/execution.yaml``)."""
        return {
            "username": self.username,
            "workspace_id": self.workspace_id,
            "project_id": self.project_id,
            "notebook": self.notebook,
            "cell_id": self.cell_id,
            "code_sha256": self.code_sha256,
            "allowed": self.allowed,
            "reason": self.reason,
            "kernel_id": self.kernel_id,
        }

    def row(self, target: str) -> dict[str, Any]:
        """The ``audit_events`` row."""
        details = self.event()
        del details["username"], details["workspace_id"]
        return {
            "at": self.timestamp(),
            "actor": self.username[:ACTOR_MAX],
            "action": ACTION_ALLOWED if self.allowed else ACTION_REFUSED,
            "workspace_id": self.workspace_id,
            "target": target[:TARGET_MAX],
            "details": details,
        }


class _Warner:
    """Logs a warning at most once per interval (the drops it reports keep counting)."""

    def __init__(self) -> None:
        self.next_at = 0.0

    def due(self, interval: float) -> bool:
        now = time.monotonic()
        if now < self.next_at:
            return False
        self.next_at = now + interval
        return True


class ExecutionAuditor(LoggingConfigurable):
    """Records every kernel execution request without ever blocking the event loop."""

    flush_interval = Float(
        0.5,
        config=True,
        help="""Seconds between writes of execution records to the policy database
        and their ``jupyter_events`` events (default 0.5). Records still queued are
        written when the server stops.""",
    )
    max_queue_length = Int(
        10_000,
        config=True,
        help="""Execution records kept in memory while waiting to be written
        (default 10000); the same number again is kept for a retry while the
        database is unreachable. Beyond that, records are dropped and counted, with a
        warning every ``drop_warning_interval`` seconds: the server never waits for
        the audit.""",
    )
    drop_warning_interval = Float(
        60.0,
        config=True,
        help="""Seconds between warnings about dropped execution records or an
        unreachable policy database (default 60).""",
    )

    def __init__(
        self,
        store: PolicyStore,
        event_logger: EventLogger | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.event_logger = event_logger
        self.loop = loop
        self._queue: deque[ExecutionRecord] = deque()
        self._limit = self.max_queue_length
        self._retry: list[dict[str, Any]] = []
        self._flush_lock = threading.Lock()
        self._drop_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._full_warner, self._store_warner = _Warner(), _Warner()
        self.dropped_full = 0  # queue full, or a record that could not be made
        self.dropped_unwritten = 0  # the database refused them or stayed unreachable
        self.written = 0
        # other audit rows written with these batches (the denial recorder's ``drain``)
        self.sources: list[Callable[[], list[dict[str, Any]]]] = []

    @observe("max_queue_length")
    def _limit_changed(self, change: dict[str, Any]) -> None:
        self._limit = int(change["new"])

    @property
    def dropped(self) -> int:
        """Records lost so far, for any reason."""
        return self.dropped_full + self.dropped_unwritten

    @property
    def queued(self) -> int:
        """Records waiting to be written (new ones and ones kept for a retry)."""
        return len(self._queue) + len(self._retry)

    # -- the event loop's side -----------------------------------------------------------

    def record(
        self,
        username: str,
        workspace_id: int,
        project_id: int,
        notebook: str | None,
        cell_id: str | None,
        code: str,
        allowed: bool,
        reason: str,
        kernel_id: str,
    ) -> None:
        """Queue one execution request for the audit; never blocks, never raises."""
        try:
            if len(self._queue) >= self._limit:
                self._drop("the queue is full")
                return
            self._queue.append(
                ExecutionRecord(
                    time.time(),
                    username,
                    workspace_id,
                    project_id,
                    notebook,
                    cell_id,
                    code_sha256(code),
                    allowed,
                    reason,
                    kernel_id,
                )
            )
        except Exception:
            self._drop("a record could not be made", exc_info=True)

    def _drop(self, why: str, exc_info: bool = False) -> None:
        with self._drop_lock:
            self.dropped_full += 1
            if self._full_warner.due(self.drop_warning_interval):
                self.log.warning(
                    "execution audit: %s; %d records dropped so far",
                    why,
                    self.dropped_full,
                    exc_info=exc_info,
                )

    # -- the worker ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker that flushes every ``flush_interval`` seconds."""
        if self._thread is not None:
            return
        if self.loop is None:
            with contextlib.suppress(RuntimeError):
                self.loop = asyncio.get_running_loop()
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="workspace-perms-execution-audit", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.flush_interval):
            try:
                self.flush()
            except Exception:  # keep auditing whatever went wrong once
                self.log.exception("execution audit: flush failed")

    def stop(self) -> None:
        """Stop the worker and write what is queued; records that cannot be written are
        dropped and counted. Blocks while writing: call it from a worker thread."""
        thread, self._thread = self._thread, None
        self._stopping.set()
        if thread is not None:
            thread.join()
        self.flush()
        with self._flush_lock:
            if self._retry:
                self.dropped_unwritten += len(self._retry)
                self.log.warning(
                    "execution audit: the policy database is unreachable at shutdown; "
                    "%d records dropped",
                    len(self._retry),
                )
                self._retry = []

    def flush(self) -> int:
        """Write queued records now and hand their events over; returns the rows written."""
        with self._flush_lock:
            batch = self._drain()
            if batch:
                self._deliver_events(batch)
            rows = self._retry + [record.row(self._target(record)) for record in batch]
            rows += self._from_sources()
            self._retry = []
            written = self._write(rows)
            self.written += written
            return written

    def _from_sources(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for source in self.sources:
            try:
                rows += source()
            except Exception:
                self.log.exception("audit: a source of rows failed")
        return rows

    def _drain(self) -> list[ExecutionRecord]:
        """Take what is queued now (``record`` may keep appending meanwhile)."""
        pop = self._queue.popleft
        return [pop() for _ in range(len(self._queue))]

    def _target(self, record: ExecutionRecord) -> str:
        """The notebook's path, else the project as ``slug/name`` (read from the snapshot)."""
        if record.notebook:
            return record.notebook
        snapshot = self.store.snapshot
        project = snapshot.projects.get(record.project_id)
        workspace = snapshot.workspaces.get(record.workspace_id)
        if project is None or workspace is None:
            return f"project {record.project_id}"
        return f"{workspace.slug}/{project.name}"

    def _write(self, rows: list[dict[str, Any]]) -> int:
        """Write ``rows`` in transactions of ``WRITE_CHUNK``; keep the rest when one fails."""
        written = 0
        for start in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[start : start + WRITE_CHUNK]
            try:
                written += self.store.record_events(chunk)
            except StoreUnavailable as e:
                self._keep_for_retry(rows[start:], e)
                break
            except Exception:  # not transient: retrying would fail forever
                self.dropped_unwritten += len(chunk)
                self.log.exception("execution audit: %d records refused, dropped", len(chunk))
        return written

    def _keep_for_retry(self, rows: list[dict[str, Any]], error: StoreUnavailable) -> None:
        keep = rows[-self._limit :] if self._limit > 0 else []
        self.dropped_unwritten += len(rows) - len(keep)
        self._retry = keep
        if self._store_warner.due(self.drop_warning_interval):
            self.log.warning(
                "execution audit: %s; %d records wait for a retry, %d dropped so far",
                error.message,
                len(keep),
                self.dropped_unwritten,
            )

    # -- events --------------------------------------------------------------------------

    def _deliver_events(self, batch: Sequence[ExecutionRecord]) -> None:
        """Emit on the loop when it runs in another thread, else here (see the module doc)."""
        if self.event_logger is None:
            return
        events = [(record.event(), record.timestamp()) for record in batch]
        loop = self.loop
        if loop is not None and loop.is_running() and not _running_in(loop):
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._emit_on_loop, events)
                return
        for data, at in events:
            self._emit(data, at)

    def _emit_on_loop(self, events: list[tuple[dict[str, Any], datetime]]) -> None:
        for data, at in events[:EMIT_CHUNK]:
            self._emit(data, at)
        if len(events) > EMIT_CHUNK:
            asyncio.get_running_loop().call_soon(self._emit_on_loop, events[EMIT_CHUNK:])

    def _emit(self, data: dict[str, Any], at: datetime) -> None:
        assert self.event_logger is not None
        try:
            self.event_logger.emit(schema_id=EXECUTION_SCHEMA_ID, data=data, timestamp_override=at)
        except Exception:
            self.log.exception("execution audit: event not emitted")


def _running_in(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether this thread is running ``loop``."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
