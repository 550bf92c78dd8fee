"""The audit log read back: a workspace's export, and retention.

One export serves the REST route (``GET …/workspaces/{ws}/audit``) and the CLI
(``jupyter workspace-perms audit export``): :class:`AuditExport` reads
``audit_events`` in chunks of :data:`CHUNK` rows, oldest first, each chunk one
indexed query that starts after the last row of the previous one (``(at, id)``), so
a log of any length is streamed without holding it, and no cursor stays open
between chunks (the REST route reads each chunk in a worker thread and writes it
before reading the next).

Retention (:class:`AuditLog`) deletes rows older than ``retention_days`` by their
``at``, in batches, through the ``ix_audit_events_at`` index; the server runs it at
start and every ``prune_interval`` seconds, operators with ``audit prune``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, and_, delete, or_, select
from traitlets import Float, Int
from traitlets.config import LoggingConfigurable

from ..errors import InvalidInput
from . import orm
from .orm import utcnow

FORMATS = {"jsonl": "application/x-ndjson", "csv": "text/csv"}
COLUMNS = ("id", "at", "actor", "action", "workspace", "target", "details")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets run (CSV injection)
CHUNK = 2000  # rows per query (and per write of the REST route)
PRUNE_BATCH = 5000  # rows per delete: short transactions, other writers keep going


def parse_format(value: str | None) -> str:
    """``jsonl`` (the default) or ``csv``, else :class:`InvalidInput`."""
    fmt = value or "jsonl"
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}", "bad_format")
    return fmt


def parse_time(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 time with a zone (``Z`` accepted), or None; else :class:`InvalidInput`.

    A time without a zone is refused: it would mean the zone of whoever reads it.
    """
    if value is None or value == "":
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
        # in UTC: the year 1 east of Greenwich or 9999 west of it is out of range
        utc = None if when.utcoffset() is None else when.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        utc = None
    if utc is None:
        raise InvalidInput(
            f"{name} must be an ISO 8601 time with a time zone, e.g. 2026-12-01T00:00:00Z; "
            f"not {value!r}",
            f"bad_{name}",
        )
    return utc


def event_model(row: Any, slug: str) -> dict[str, Any]:
    """One row as the ``AuditEvent`` schema of the REST API says."""
    return {
        "id": row.id,
        "at": row.at.astimezone(timezone.utc).isoformat(),
        "actor": row.actor,
        "action": row.action,
        "workspace": slug,
        "target": row.target,
        "details": row.details if isinstance(row.details, dict) else {},
    }


class AuditExport:
    """A workspace's audit rows between ``since`` (included) and ``until`` (excluded),
    oldest first, as text chunks in ``fmt``."""

    def __init__(
        self,
        engine: Engine,
        workspace_id: int,
        slug: str,
        fmt: str = "jsonl",
        since: datetime | None = None,
        until: datetime | None = None,
        chunk: int = CHUNK,
    ) -> None:
        self.engine = engine
        self.workspace_id = workspace_id
        self.slug = slug
        self.fmt = parse_format(fmt)
        self.since, self.until = since, until
        self.chunk = chunk
        self._after: tuple[datetime, int] | None = None
        self._done = False
        self.rows = 0

    @property
    def content_type(self) -> str:
        """The media type of the output."""
        return FORMATS[self.fmt]

    def header(self) -> str:
        """What comes before the first row: CSV's header line, nothing for JSON lines."""
        return self._csv([COLUMNS]) if self.fmt == "csv" else ""

    def next_chunk(self) -> str | None:
        """The next rows as text; None once every row was read. Blocks on the database:
        the REST route calls it in a worker thread."""
        if self._done:
            return None
        rows = self._read()
        if len(rows) < self.chunk:
            self._done = True
        if not rows:
            return None
        self._after = (rows[-1].at, rows[-1].id)
        self.rows += len(rows)
        models = [event_model(row, self.slug) for row in rows]
        if self.fmt == "jsonl":
            return "".join(json.dumps(m, sort_keys=True) + "\n" for m in models)
        return self._csv(
            [
                [*(m[c] for c in COLUMNS[:-1]), json.dumps(m["details"], sort_keys=True)]
                for m in models
            ]
        )

    def __iter__(self) -> Any:
        """The header, then every chunk (for the CLI, which writes as it reads)."""
        head = self.header()
        if head:
            yield head
        while (text := self.next_chunk()) is not None:
            yield text

    def _read(self) -> list[Any]:
        e = orm.AuditEvent
        query = select(e.id, e.at, e.actor, e.action, e.target, e.details).where(
            e.workspace_id == self.workspace_id
        )
        if self.since is not None:
            query = query.where(e.at >= self.since)
        if self.until is not None:
            query = query.where(e.at < self.until)
        if self._after is not None:
            at, last_id = self._after
            query = query.where(or_(e.at > at, and_(e.at == at, e.id > last_id)))
        query = query.order_by(e.at, e.id).limit(self.chunk)
        with self.engine.connect() as connection:
            return list(connection.execute(query).all())

    @staticmethod
    def _csv(rows: list[Any]) -> str:
        out = io.StringIO()
        csv.writer(out).writerows([[_cell(value) for value in row] for row in rows])
        return out.getvalue()


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text starting like a formula (``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return) gets a leading ``'``. Actors and targets
    are usernames and paths, which anyone may choose (``=HYPERLINK(…)@evil.test``)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class AuditLog(LoggingConfigurable):
    """How long audit rows are kept."""

    retention_days = Int(
        365,
        config=True,
        help="""Days audit rows are kept (default 365): older rows (policy changes,
        denials, kernel executions, access requests) are deleted when the server starts
        and every ``prune_interval`` seconds, and by ``jupyter workspace-perms audit
        prune``. 0 keeps them forever. Export what you must keep longer first.""",
    )
    prune_interval = Float(
        3600.0,
        config=True,
        help="""Seconds between two prunings of old audit rows by the server
        (default 3600).""",
    )

    def cutoff(self, now: datetime | None = None) -> datetime | None:
        """Rows older than this go; None when they are kept forever."""
        if self.retention_days <= 0:
            return None
        return (now or utcnow()) - timedelta(days=self.retention_days)

    def prune(self, engine: Engine, now: datetime | None = None) -> int:
        """Delete the rows older than :meth:`cutoff`, in short batches; returns how many.

        Blocks on the database: the server runs it in a worker thread.
        """
        cutoff = self.cutoff(now)
        if cutoff is None:
            return 0
        e = orm.AuditEvent
        deleted = 0
        while True:
            with engine.begin() as connection:
                oldest = select(e.id).where(e.at < cutoff).order_by(e.at).limit(PRUNE_BATCH)
                ids = list(connection.scalars(oldest))
                if ids:
                    connection.execute(delete(e).where(e.id.in_(ids)))
            deleted += len(ids)
            if len(ids) < PRUNE_BATCH:
                break
        if deleted:
            self.log.info(
                "audit: deleted %d rows older than %d days (before %s)",
                deleted,
                self.retention_days,
                cutoff.isoformat(),
            )
        return deleted
