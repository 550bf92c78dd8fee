"""The policy store: a database plus the in-memory snapshot every decision reads.

Request-time decisions never touch the database: they read :attr:`PolicyStore.snapshot`.
Writes go through :meth:`PolicyStore.write`, which bumps the policy version in the
same transaction and reloads this process's snapshot at once; other processes
(another server, the CLI) notice the new version on their next
:meth:`PolicyStore.refresh`, which the server runs every ``refresh_interval``.

If the database cannot be reached, the last snapshot keeps ruling (it never
fails open) and writes are refused with :class:`~..errors.StoreUnavailable`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from traitlets import Dict, Float, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ..errors import Conflict, StoreUnavailable
from ..gc_pause import collector_paused
from ..policy import PolicySnapshot
from . import database, orm
from .loader import load_snapshot, read_version
from .writer import PolicyWriter

# a SQLite file unchanged on disk is still asked this often, in case two commits
# left the same size and time stamp behind (a WAL restarted within one clock tick)
FULL_CHECK_SECONDS = 5.0


class PolicyStore(LoggingConfigurable):
    """Where workspaces, members, projects, grants and tokens live."""

    db_url = Unicode(
        config=True,
        help=f"""SQLAlchemy URL of the policy database.

        Defaults to ``${database.DB_URL_ENV}`` when set, else a SQLite file
        ``workspace_perms/policy.sqlite`` in the Jupyter data directory. Use
        ``postgresql+psycopg://user@host/db`` to share one policy between many
        servers. A bare file name means a SQLite file. Never point it inside the
        server's ``root_dir``: the server refuses to start if you do.""",
    )
    db_kwargs = Dict(
        config=True,
        help="Extra keyword arguments for ``sqlalchemy.create_engine`` (default: none).",
    )
    refresh_interval = Float(
        0.5,
        config=True,
        help="""Seconds between checks of the policy version written by other
        processes (default 0.5). Changes made through this server apply at once;
        changes by the CLI or other servers apply within this interval.""",
    )

    @default("db_url")
    def _default_db_url(self) -> str:
        return database.default_db_url()

    @validate("db_url")
    def _normalize_db_url(self, proposal: dict[str, Any]) -> str:
        return database.normalize_db_url(proposal["value"])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._snapshot = PolicySnapshot.empty()
        self._reload_lock = threading.Lock()
        self.last_refresh_ok: float | None = None
        self._sqlite_files: tuple[str, str] | None = None
        self._checked: tuple[Any, float] | None = None  # (disk signature, monotonic time)

    # -- connection --------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (created on first use)."""
        if self._engine is None:
            self._engine = database.create_db_engine(self.db_url, **self.db_kwargs)
            self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        return self._engine

    def open(self, *, create_if_empty: bool = True) -> PolicyStore:
        """Check the schema (creating it in an empty database) and load the snapshot."""
        try:
            database.check_schema(self.engine, create_if_empty=create_if_empty)
            self.reload()
        except OperationalError as e:
            self.close()
            raise StoreUnavailable(
                f"cannot open the policy database {database.redact(self.db_url)}: {e.orig}"
            ) from e
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Release database connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- reading -----------------------------------------------------------------------

    @property
    def snapshot(self) -> PolicySnapshot:
        """The policy every decision reads: immutable, swapped whole on reload."""
        return self._snapshot

    def reload(self) -> PolicySnapshot:
        """Read every fact again and swap the snapshot."""
        with self._reload_lock, self.engine.connect() as connection, collector_paused():
            with connection.begin():
                snapshot = load_snapshot(connection)
            if snapshot.version >= self._snapshot.version:
                self._snapshot = snapshot
            self.last_refresh_ok = time.monotonic()
            return self._snapshot

    def stored_version(self) -> int:
        """The version in the database (one indexed row)."""
        with self.engine.connect() as connection:
            return read_version(connection)

    def needs_check(self) -> bool:
        """Whether :meth:`refresh` must ask the database.

        For a SQLite file, every commit (another server's, the CLI's) changes the
        database file or its write-ahead log, so while both look the same as at the
        last check (two ``stat`` calls) nothing can have changed; the query, and the
        worker thread it runs in, are skipped. Other databases are always asked.
        """
        if self._checked is None:
            return True
        signature, at = self._checked
        now = time.monotonic()
        if signature is None or now - at > FULL_CHECK_SECONDS:
            return True
        if self._disk_signature() != signature:
            return True
        self.last_refresh_ok = now
        return False

    def _disk_signature(self) -> tuple[tuple[int, int, int, int] | None, ...] | None:
        if self._sqlite_files is None:
            path = database.sqlite_path(self.db_url)
            if path is None:
                return None
            self._sqlite_files = (str(path), f"{path}-wal")
        return tuple(_stat_key(name) for name in self._sqlite_files)

    def refresh(self) -> bool:
        """Reload if another process changed the policy; True when a reload happened.

        Database errors are logged and the last snapshot is kept.
        """
        signature = self._disk_signature()  # before the query: a later commit shows next time
        try:
            if self.stored_version() == self._snapshot.version:
                self.last_refresh_ok = time.monotonic()
                self._checked = (signature, self.last_refresh_ok)
                return False
            self.reload()
            self._checked = (signature, time.monotonic())
            return True
        except OperationalError as e:
            self.log.warning(
                "policy store unreachable, keeping version %s: %s", self._snapshot.version, e.orig
            )
            return False

    def tokens_of(self, user_id: int) -> list[orm.Token]:
        """A user's tokens, revoked ones included (only hashes are stored), oldest first."""
        t = orm.Token
        with Session(self.engine) as session:
            query = select(t).where(t.user_id == user_id).order_by(t.id)
            return list(session.scalars(query).all())

    # -- writing -----------------------------------------------------------------------

    @contextmanager
    def write(self, actor: str) -> Iterator[PolicyWriter]:
        """One transaction of changes by ``actor``; reloads the snapshot after commit.

        Nothing is written when the block raises.
        """
        if self._sessions is None:
            _ = self.engine
        assert self._sessions is not None
        try:
            with self._sessions() as session, session.begin():
                writer = PolicyWriter(session, actor)
                yield writer
                if writer.changed:
                    writer.bump_version()
        except IntegrityError as e:
            raise Conflict(f"the change conflicts with stored data: {e.orig}") from e
        except OperationalError as e:
            raise StoreUnavailable(
                f"the policy database is unavailable, nothing was changed: {e.orig}"
            ) from e
        self.reload()

    def record_events(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Append audit rows (``audit_events`` columns) in one transaction; returns the count.

        Unlike :meth:`write` this neither bumps the policy version nor reloads:
        audit rows are not policy, and execution records arrive for every cell run,
        which would otherwise make every server reload its policy each time.
        Raises :class:`~..errors.StoreUnavailable` when the database cannot be reached.
        """
        if not rows:
            return 0
        # one INSERT per set of columns: an executemany takes its columns from the first
        # row, and would silently drop what later rows carry beyond it
        shapes: dict[frozenset[str], list[Mapping[str, Any]]] = {}
        for row in rows:
            shapes.setdefault(frozenset(row), []).append(row)
        try:
            with self.engine.begin() as connection:
                for same in shapes.values():
                    connection.execute(insert(orm.AuditEvent), same)
        except OperationalError as e:
            raise StoreUnavailable(
                f"the policy database is unavailable, no audit event was written: {e.orig}"
            ) from e
        return len(rows)

    # -- status ------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What an operator wants to know about the store."""
        counts: dict[str, int] = {}
        with self.engine.connect() as connection:
            for name, model in (
                ("users", orm.User),
                ("workspaces", orm.Workspace),
                ("projects", orm.Project),
                ("memberships", orm.Membership),
                ("grants", orm.Grant),
                ("tokens", orm.Token),
                ("audit_events", orm.AuditEvent),
            ):
                counts[name] = int(connection.scalar(select(func.count()).select_from(model)) or 0)
        return {
            "db_url": database.redact(self.db_url),
            "schema": database.current_revision(self.engine),
            "schema_head": database.head_revision(),
            "policy_version": self.stored_version(),
            "counts": counts,
        }


def _stat_key(name: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(name)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
