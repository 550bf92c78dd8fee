"""Comments on project files and notebook cells, kept in the policy database.

Comments are not policy: no decision reads them, so a change neither bumps the policy
version nor reloads the snapshot (like :mod:`.integrations`). Every change is one
transaction holding the change and its ``audit_events`` row (who, what, where, the
comment and thread ids, never the body).

A thread is a first comment (the *root*) and its replies. Every row carries the
project id and the path inside the project, so a listing is one indexed query and a
renamed project needs no write; the anchor lives on the root: the cell id, the
``{start, end}`` range, the ``quote`` and the SHA-256 of the cell's normalized source
when the thread was posted. ``anchor_state`` follows the file:

``current``   the cell (or the quoted text of a file) is as it was;
``outdated``  the cell's source changed, or the quote no longer appears in the file;
``orphaned``  the cell, file or folder is gone; the thread is kept.

The contents manager calls :meth:`Comments.changes` and :meth:`Comments.apply`,
:meth:`Comments.moved` and :meth:`Comments.orphan` in a worker thread, with what it has
in hand; a save costs one indexed query of four columns of the file's roots and an
``UPDATE`` of the rows whose state changed. Listings read timestamps as stored (no
``datetime`` per row): thousands of comments would spend most of their time there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Connection,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from traitlets import Any as AnyTrait
from traitlets import Instance
from traitlets.config import LoggingConfigurable

from ..errors import InvalidInput, StoreUnavailable
from ..gc_pause import collector_paused
from ..notebook.anchors import notebook_states, text_states
from . import orm
from .orm import utcnow
from .store import PolicyStore

COMMENT_SCHEMA_PATH = Path(__file__).parent / "events" / "comment.yaml"
COMMENT_SCHEMA_ID = "https://events.jupyter.org/jupyter_workspace_perms/comment/v1"
IN_CHUNK = 500  # ids per ``IN (…)``: well below every database's parameter limit
COMMENTS = cast(Table, orm.Comment.__table__)
MENTIONS = cast(Table, orm.CommentMention.__table__)
AUDIT = cast(Table, orm.AuditEvent.__table__)
C = COMMENTS.c
M = MENTIONS.c


def iso(raw: Any) -> str | None:
    """A stored UTC timestamp as ISO 8601: SQLite hands back its text, PostgreSQL a
    naive ``datetime``."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw.replace(" ", "T", 1) + "+00:00"
    return str(raw.replace(tzinfo=timezone.utc).isoformat())


class CommentRecord(NamedTuple):
    """One stored comment, timestamps as ISO 8601 strings."""

    id: int
    project_id: int
    path: str
    parent_id: int | None
    cell_id: str | None
    anchor_start: int | None
    anchor_end: int | None
    quote: str
    anchor_state: str
    author: str
    body: str
    created_at: str | None
    edited_at: str | None
    resolved: bool
    resolved_by: str
    resolved_at: str | None

    @property
    def thread_id(self) -> int:
        """The id of the thread's first comment."""
        return self.id if self.parent_id is None else self.parent_id


_COLUMNS = (
    C.id,
    C.project_id,
    C.path,
    C.parent_id,
    C.cell_id,
    C.anchor_start,
    C.anchor_end,
    C.quote,
    C.anchor_state,
    C.author,
    C.body,
    type_coerce(C.created_at, String).label("created_at"),
    type_coerce(C.edited_at, String).label("edited_at"),
    C.resolved,
    C.resolved_by,
    type_coerce(C.resolved_at, String).label("resolved_at"),
)


#: a listing's columns: a :class:`CommentRecord`'s but the place, which the caller knows
_KNOWN = ("project_id", "path")
_LIST_COLUMNS = tuple(c for c in _COLUMNS if c.key not in _KNOWN)
#: the position of each field in a row of :meth:`Comments.of_file`
FIELD = {name: n for n, name in enumerate(f for f in CommentRecord._fields if f not in _KNOWN)}


def _record(row: Sequence[Any]) -> CommentRecord:
    return CommentRecord._make(
        (*row[:11], iso(row[11]), iso(row[12]), bool(row[13]), row[14], iso(row[15]))
    )


@dataclass(frozen=True)
class NewComment:
    """What a handler has checked before a comment is stored."""

    project_id: int
    workspace_id: int
    path: str  # inside the project
    target: str  # WS/PROJECT/path, for the audit log
    author: str
    body: str
    mentions: tuple[str, ...]
    parent_id: int | None = None  # the thread's root (never a reply)
    cell_id: str | None = None
    anchor: tuple[int, int] | None = None
    quote: str = ""
    source_hash: str = ""


@dataclass(frozen=True)
class Orphaned:
    """Threads that lost their file, folder or cell in one change."""

    project_id: int
    workspace_id: int
    count: int


class Comments(LoggingConfigurable):
    """Reads and writes comments and keeps their anchors in step with the files."""

    store = Instance(PolicyStore)
    event_logger = AnyTrait(None, allow_none=True)  # the server's EventLogger, once started

    # -- reading --------------------------------------------------------------------

    def get(self, comment_id: int) -> CommentRecord | None:
        """One comment, or None."""
        with self._connect() as connection:
            row = connection.execute(select(*_COLUMNS).where(C.id == comment_id)).first()
        return None if row is None else _record(row)

    def of_file(
        self, project_id: int, path: str, cell_id: str | None = None
    ) -> tuple[Sequence[Sequence[Any]], dict[int, list[str]]]:
        """Every comment on a file (of one cell), oldest first, and who each mentions:
        two queries, whatever the number of threads.

        The comments are the database's rows as they come, in the order of
        :class:`CommentRecord`'s fields without the project and the path (:data:`FIELD`
        gives each position), timestamps as stored (:func:`iso` turns them into ISO
        8601): a listing of thousands builds no object per comment but its answer's."""
        where = [C.project_id == project_id, C.path == path]
        if cell_id is not None:
            where.append(C.cell_id == cell_id)
        # thousands of acyclic rows: no cycle collection over the whole heap meanwhile
        with collector_paused(), self._connect() as connection:
            query = select(*_LIST_COLUMNS).where(*where).order_by(C.id)
            rows = _driver_rows(connection, query)
            mentioned = connection.execute(
                select(M.comment_id, M.username).join(COMMENTS, C.id == M.comment_id).where(*where)
            ).all()
        mentions: dict[int, list[str]] = {}
        for comment_id, username in mentioned:
            mentions.setdefault(comment_id, []).append(username)
        return rows, mentions

    def mentioning(
        self, username: str, project_ids: Iterable[int], limit: int = 500
    ) -> tuple[list[CommentRecord], dict[int, list[str]]]:
        """Comments in ``project_ids`` that mention ``username``, newest first."""
        ids = sorted(set(project_ids))
        if not ids:
            return [], {}
        with self._connect() as connection:
            rows = connection.execute(
                select(*_COLUMNS)
                .join(MENTIONS, M.comment_id == C.id)
                .where(M.username == username, C.project_id.in_(ids))
                .order_by(C.id.desc())
                .limit(limit)
            ).all()
            found = [_record(row) for row in rows]
            mentions = self._mentions_of(connection, [r.id for r in found])
        return found, mentions

    def roots(self, ids: Iterable[int]) -> dict[int, CommentRecord]:
        """Thread roots by id (for replies listed without their thread)."""
        wanted = sorted(set(ids))
        found: dict[int, CommentRecord] = {}
        with self._connect() as connection:
            for chunk in _chunks(wanted):
                for row in connection.execute(select(*_COLUMNS).where(C.id.in_(chunk))):
                    found[row[0]] = _record(row)
        return found

    def mentions_of(self, comment_id: int) -> list[str]:
        """Who one comment mentions."""
        with self._connect() as connection:
            return self._mentions_of(connection, [comment_id]).get(comment_id, [])

    @staticmethod
    def _mentions_of(connection: Connection, ids: list[int]) -> dict[int, list[str]]:
        mentions: dict[int, list[str]] = {}
        for chunk in _chunks(ids):
            query = select(M.comment_id, M.username).where(M.comment_id.in_(chunk))
            for comment_id, username in connection.execute(query):
                mentions.setdefault(comment_id, []).append(username)
        return mentions

    # -- writing --------------------------------------------------------------------

    def post(self, new: NewComment) -> CommentRecord:
        """Store a new thread or reply with its mentions and its audit row."""
        anchor = new.anchor or (None, None)
        values = {
            "project_id": new.project_id,
            "path": new.path,
            "parent_id": new.parent_id,
            "cell_id": new.cell_id,
            "anchor_start": anchor[0],
            "anchor_end": anchor[1],
            "quote": new.quote,
            "source_hash": new.source_hash,
            "anchor_state": "current",
            "author": new.author,
            "body": new.body,
            "created_at": utcnow(),
            "resolved": False,
            "resolved_by": "",
        }
        try:
            with self._transaction() as connection:
                comment_id = connection.execute(
                    insert(COMMENTS).values(values).returning(C.id)
                ).scalar_one()
                if new.mentions:
                    connection.execute(
                        insert(MENTIONS),
                        [{"comment_id": comment_id, "username": u} for u in new.mentions],
                    )
                thread = comment_id if new.parent_id is None else new.parent_id
                self._audit(
                    connection,
                    new.author,
                    "comment.posted",
                    new.workspace_id,
                    new.target,
                    comment_id=comment_id,
                    thread_id=thread,
                    cell_id=new.cell_id,
                    **({"parent_id": new.parent_id} if new.parent_id is not None else {}),
                )
        except IntegrityError:  # the thread was deleted meanwhile
            raise InvalidInput("the thread to reply to is gone", "invalid_parent") from None
        found = self.get(comment_id)
        assert found is not None
        return found

    def edit(
        self,
        record: CommentRecord,
        body: str,
        mentions: Sequence[str],
        actor: str,
        ws: int,
        target: str,
    ) -> CommentRecord | None:
        """Replace a comment's body and mentions; None when it was deleted meanwhile."""
        with self._transaction() as connection:
            done = connection.execute(
                update(COMMENTS).where(C.id == record.id).values(body=body, edited_at=utcnow())
            ).rowcount
            if not done:
                return None
            connection.execute(delete(MENTIONS).where(M.comment_id == record.id))
            if mentions:
                connection.execute(
                    insert(MENTIONS),
                    [{"comment_id": record.id, "username": u} for u in mentions],
                )
            self._audit(connection, actor, "comment.edited", ws, target, **_ids(record))
        return self.get(record.id)

    def resolve(
        self, root: CommentRecord, resolved: bool, actor: str, ws: int, target: str
    ) -> CommentRecord | None:
        """Resolve or reopen a thread; None when it was deleted meanwhile."""
        values: dict[str, Any] = {"resolved": resolved}
        values.update(
            {"resolved_by": actor, "resolved_at": utcnow()}
            if resolved
            else {"resolved_by": "", "resolved_at": None}
        )
        action = "comment.resolved" if resolved else "comment.reopened"
        with self._transaction() as connection:
            done = connection.execute(
                update(COMMENTS).where(C.id == root.id).values(values)
            ).rowcount
            if not done:
                return None
            self._audit(connection, actor, action, ws, target, **_ids(root))
        return self.get(root.id)

    def delete(self, record: CommentRecord, actor: str, ws: int, target: str) -> int:
        """Delete a comment (a root: its whole thread); how many comments went."""
        with self._transaction() as connection:
            replies = 0
            if record.parent_id is None:
                replies = connection.execute(
                    delete(COMMENTS).where(C.parent_id == record.id)
                ).rowcount
            done = connection.execute(delete(COMMENTS).where(C.id == record.id)).rowcount
            if not done:
                return 0
            self._audit(
                connection, actor, "comment.deleted", ws, target, replies=replies, **_ids(record)
            )
        return int(done + replies)

    # -- following the files ----------------------------------------------------------

    def reanchor(
        self,
        project_id: int,
        workspace_id: int,
        path: str,
        target: str,
        actor: str,
        *,
        cells: Sequence[Any] | None = None,
        text: str | None = None,
    ) -> Orphaned | None:
        """Re-anchor the threads of a file just saved, from the content in hand:
        :meth:`changes`, then :meth:`apply`."""
        found = self.changes(project_id, path, cells=cells, text=text)
        return self.apply(found, project_id, workspace_id, target, actor)

    def changes(
        self,
        project_id: int,
        path: str,
        *,
        cells: Sequence[Any] | None = None,
        text: str | None = None,
    ) -> dict[str, list[int]]:
        """The threads of a file whose state the content in hand changes, by new state.

        For a notebook (``cells``): a thread whose cell is gone is ``orphaned``, one
        whose cell's source hash differs ``outdated``, one whose cell is back as it
        was ``current``. For a text file (``text``): a file-level thread with a quote
        is ``outdated`` while the quote does not appear in it. Reads only; the
        contents manager runs it while the file is being written.
        """
        where = (C.project_id == project_id, C.path == path, C.parent_id.is_(None))
        if cells is not None:
            query = select(C.id, C.cell_id, C.source_hash, C.anchor_state).where(*where)
        elif text is not None:
            query = select(C.id, C.cell_id, C.anchor_state, C.quote).where(*where)
        else:
            return {}
        with collector_paused():  # see of_file
            with self._connect() as connection:
                rows = connection.execute(query).all()
            if not rows:
                return {}
            if cells is not None:
                return notebook_states(rows, cells)
            assert text is not None
            return text_states(rows, text)

    def apply(
        self,
        changes: Mapping[str, Sequence[int]],
        project_id: int,
        workspace_id: int,
        target: str,
        actor: str,
    ) -> Orphaned | None:
        """Write the states of :meth:`changes` in one transaction (nothing when there are
        none); threads orphaned here are counted in an audit row."""
        if not changes:
            return None
        orphaned = len(changes.get("orphaned", ()))
        with self._transaction() as connection:
            for state, ids in changes.items():
                for chunk in _chunks(ids):
                    connection.execute(
                        update(COMMENTS).where(C.id.in_(chunk)).values(anchor_state=state)
                    )
            if orphaned:
                self._audit(
                    connection, actor, "comment.orphaned", workspace_id, target, count=orphaned
                )
        return Orphaned(project_id, workspace_id, orphaned) if orphaned else None

    def moved(self, old: tuple[int, str], new: tuple[int, str]) -> int:
        """Carry the comments of a renamed or moved file (or of every file in a folder)
        to its new place: ``(project_id, path inside the project)`` before and after."""
        (old_project, old_path), (new_project, new_path) = old, new
        where = _at(old_project, old_path)
        with self._transaction() as connection:
            moved = connection.execute(
                update(COMMENTS)
                .where(where)
                .values(
                    project_id=new_project,
                    path=_renamed(old_path, new_path),
                )
            ).rowcount
        return int(moved)

    def orphan(
        self,
        project_id: int,
        workspace_id: int,
        path: str,
        target: str,
        actor: str,
    ) -> Orphaned | None:
        """A deleted file or folder: its threads are kept, ``orphaned``, and counted."""
        with self._transaction() as connection:
            count = connection.execute(
                update(COMMENTS)
                .where(
                    _at(project_id, path),
                    C.parent_id.is_(None),
                    C.anchor_state != "orphaned",
                )
                .values(anchor_state="orphaned")
            ).rowcount
            if count:
                self._audit(
                    connection, actor, "comment.orphaned", workspace_id, target, count=count
                )
        return Orphaned(project_id, workspace_id, int(count)) if count else None

    # -- events ---------------------------------------------------------------------

    def register_schema(self) -> None:
        """Register the comment event schema on :attr:`event_logger` (once)."""
        logger = self.event_logger
        if logger is not None and COMMENT_SCHEMA_ID not in logger.schemas:
            logger.register_event_schema(COMMENT_SCHEMA_PATH)

    def emit(
        self,
        action: str,
        username: str,
        workspace_id: int,
        project_id: int,
        path: str,
        record: CommentRecord | None = None,
        count: int = 1,
    ) -> None:
        """Emit one comment event; call it on the server's event loop (listeners are
        scheduled there). Never raises: the audit row is the record to rely on."""
        logger = self.event_logger
        if logger is None:
            return
        data = {
            "action": action,
            "username": username,
            "workspace_id": workspace_id,
            "project_id": project_id,
            "path": path,
            "comment_id": None if record is None else record.id,
            "thread_id": None if record is None else record.thread_id,
            "cell_id": None if record is None else record.cell_id,
            "count": count,
        }
        try:
            logger.emit(schema_id=COMMENT_SCHEMA_ID, data=data)
        except Exception:
            self.log.exception("comments: event not emitted")

    # -- helpers --------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        assert self.store is not None
        try:
            with self.store.engine.connect() as connection:
                yield connection
        except OperationalError as e:
            raise StoreUnavailable(f"the policy database is unavailable: {e.orig}") from e

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        assert self.store is not None
        try:
            with self.store.engine.begin() as connection:
                yield connection
        except OperationalError as e:
            raise StoreUnavailable(
                f"the policy database is unavailable, nothing was changed: {e.orig}"
            ) from e

    @staticmethod
    def _audit(
        connection: Connection,
        actor: str,
        action: str,
        workspace_id: int,
        target: str,
        **details: Any,
    ) -> None:
        """An audit row naming the comment, its thread and cell, never the body."""
        connection.execute(
            insert(AUDIT).values(
                at=utcnow(),
                actor=actor[:255],
                action=action,
                workspace_id=workspace_id,
                target=target[:512],
                details=details,
            )
        )


def _driver_rows(connection: Connection, statement: Any) -> list[Any]:
    """The rows of ``statement`` as the database driver returns them.

    A listing fetches thousands of rows; SQLAlchemy's per-row work was a third of the
    query's time (``benchmarks/comments.py``). The statement is still built and
    compiled by SQLAlchemy for the connection's dialect; its parameters are plain ints
    and strings, which need no bind processing. Values come back raw: the timestamps
    as :func:`iso` reads them, ``resolved`` as 0/1 on SQLite.
    """
    compiled = statement.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    args: Any = params
    if compiled.positional:
        args = tuple(params[name] for name in compiled.positiontup or ())
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _ids(record: CommentRecord) -> dict[str, Any]:
    return {"comment_id": record.id, "thread_id": record.thread_id, "cell_id": record.cell_id}


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), IN_CHUNK):
        yield ids[start : start + IN_CHUNK]


def _at(project_id: int, path: str) -> Any:
    """The comments on ``path`` and, when it is a folder, on anything below it (a file
    has nothing below it, so one condition serves both)."""
    prefix = path + "/"  # compared exactly: LIKE ignores case on SQLite and has wildcards
    below = func.substr(C.path, 1, len(prefix)) == prefix
    return and_(C.project_id == project_id, or_(C.path == path, below))


def _renamed(old_path: str, new_path: str) -> Any:
    """``path`` with its ``old_path`` prefix replaced by ``new_path`` (in SQL)."""
    return literal(new_path, String) + func.substr(C.path, len(old_path) + 1)
