"""The saved notebooks of a kernel's sessions, indexed once per version of each file.

The websocket hook asks for them on every ``execute_request`` of a user who may
run but not edit, so the lookup is a comparison with the session table's change
count (a query only after it changed), a ``stat`` per notebook and a dictionary
hit. A notebook is read, indexed and its real path resolved again only when the
file it leads to changes: another file (device and inode, so a retargeted link
counts), modification time or size.

Fail closed: a notebook that is missing, unreadable, not JSON, not a notebook, or
whose real path is outside the kernel's project gives no index, so nothing runs
from it.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..notebook.cells import NotebookIndex
from ..paths import PathRefused, split_path
from ..policy import PolicySnapshot, ProjectFacts, WorkspaceFacts

# a notebook is read in full to index it; a larger file indexes as nothing (nothing runs)
MAX_NOTEBOOK_BYTES = 256 * 1024 * 1024

FileKey = tuple[int, int, int, int]  # st_dev, st_ino, st_mtime_ns, st_size


class SessionPaths:
    """The session paths of each kernel, read again only after the session table changed.

    ``sqlite3.Connection.total_changes`` counts every row the session manager inserts,
    updates or deletes, so comparing it is exact and costs far less than a query.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, int, tuple[str, ...]]] = {}

    def of(self, session_manager: Any, kernel_id: str) -> tuple[str, ...]:
        """The paths (relative to ``root_dir``) of the sessions using ``kernel_id``."""
        connection = getattr(session_manager, "connection", None)
        changes = getattr(connection, "total_changes", None)
        seen = self._seen.get(kernel_id)
        if isinstance(changes, int) and seen is not None and seen[:2] == (id(connection), changes):
            return seen[2]
        paths = tuple(session_paths(session_manager, kernel_id))
        if isinstance(changes, int):
            if len(self._seen) > 4096:
                self._seen.clear()
            self._seen[kernel_id] = (id(connection), changes, paths)
        return paths


def session_paths(session_manager: Any, kernel_id: str) -> list[str]:
    """The paths (relative to ``root_dir``) of the sessions using ``kernel_id``, queried now."""
    cursor = getattr(session_manager, "cursor", None)
    if cursor is None:
        return []
    rows = cursor.execute("SELECT path FROM session WHERE kernel_id=?", (kernel_id,)).fetchall()
    return [row[0] for row in rows if isinstance(row[0], str) and row[0]]


def session_os_path(root_dir: str, api_path: str) -> str | None:
    """``api_path`` joined to ``root_dir``, or None when the one path canonicalizer
    (:func:`..paths.split_path`) refuses it or it is hidden.

    A hidden path (a segment starting with ``.``) gives no notebook: runnable cells
    come from a project's current notebooks only, never from a checkpoint
    (``.ipynb_checkpoints/nb-checkpoint.ipynb`` still holds cells an Editor
    deleted) or another hidden copy. The session routes refuse such paths; this
    covers sessions that were made before. Links are resolved later
    (:meth:`NotebookCache.lookup`), and the real path is checked against the
    project's real folder.
    """
    try:
        parts = split_path(api_path)
    except PathRefused:
        return None
    if not parts or any(part.startswith(".") for part in parts):
        return None
    return os.path.join(root_dir, *parts)


def _key(st: os.stat_result) -> FileKey:
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class Found:
    """A notebook as the cache knows it: its real path and its index (None if unusable)."""

    key: FileKey
    real_path: str
    index: NotebookIndex | None

    def inside(self, real_folder: str) -> bool:
        """Whether the notebook really lives inside ``real_folder`` (a real path), and
        not in a hidden place there (a link to a checkpoint counts as the checkpoint)."""
        prefix = real_folder + os.sep
        return self.real_path.startswith(prefix) and (
            os.sep + "." not in self.real_path[len(prefix) - 1 :]
        )


class NotebookCache:
    """Indexes of saved notebooks by path, kept while the file stays the same."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Found] = OrderedDict()
        self._folders: dict[str, tuple[tuple[int, int], str]] = {}
        self._lock = threading.Lock()

    def lookup(self, os_path: str) -> Found | None:
        """The notebook at ``os_path`` as it is now, or None when there is no such file."""
        try:
            key = _key(os.stat(os_path))
        except (OSError, ValueError):
            self._forget(os_path)
            return None
        with self._lock:
            hit = self._entries.get(os_path)
            if hit is not None and hit.key == key:
                self._entries.move_to_end(os_path)
                return hit
        found = _load(os.path.realpath(os_path))
        with self._lock:
            self._entries[os_path] = found
            self._entries.move_to_end(os_path)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return found

    def index(self, os_path: str) -> NotebookIndex | None:
        """The index of the notebook at ``os_path``, wherever it really is, or None."""
        found = self.lookup(os_path)
        return None if found is None else found.index

    def real_folder(self, os_path: str) -> str | None:
        """The real path of a folder, resolved again when another folder takes its place."""
        try:
            st = os.stat(os_path)
        except (OSError, ValueError):
            return None
        identity = (st.st_dev, st.st_ino)
        hit = self._folders.get(os_path)
        if hit is not None and hit[0] == identity:
            return hit[1]
        real = os.path.realpath(os_path)
        with self._lock:
            if len(self._folders) >= self.max_entries:
                self._folders.clear()
            self._folders[os_path] = (identity, real)
        return real

    def _forget(self, os_path: str) -> None:
        with self._lock:
            self._entries.pop(os_path, None)


def _load(real_path: str) -> Found:
    """Read and index a notebook; the key is the opened file's own."""
    try:
        with open(real_path, "rb") as f:
            key = _key(os.fstat(f.fileno()))
            if key[3] > MAX_NOTEBOOK_BYTES:
                return Found(key, real_path, None)
            data = json.loads(f.read())
    except (OSError, ValueError, RecursionError):
        return Found((-1, -1, -1, -1), real_path, None)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return Found(key, real_path, None)
    return Found(key, real_path, NotebookIndex.from_notebook(data))


# -- the notebooks of one kernel connection --------------------------------------------------

NOTEBOOKS = NotebookCache()
SESSIONS = SessionPaths()


class KernelContext(Protocol):
    """What the lookups need from a kernel connection: parts fixed while it is open."""

    @property
    def settings(self) -> dict[str, Any]:
        """The server's settings (its session manager among them)."""

    @property
    def root_dir(self) -> str:
        """The server's ``root_dir``."""

    @property
    def kernel_id(self) -> str:
        """The connection's kernel."""

    def project_id(self) -> int | None:
        """The project the kernel is bound to now."""


@dataclass(frozen=True, slots=True)
class SessionNotebooks:
    """The session notebooks of a kernel, as the judge and the audit need them."""

    found: tuple[tuple[str, NotebookIndex | None], ...] = ()  # (path, index if usable)
    indexes: tuple[NotebookIndex, ...] = ()  # the usable ones, in order
    paths: tuple[str, ...] = ()  # their paths

    @classmethod
    def of(cls, found: tuple[tuple[str, NotebookIndex | None], ...]) -> SessionNotebooks:
        """The notebooks found, and the usable ones."""
        usable = [(path, index) for path, index in found if index is not None]
        return cls(found, tuple(i for _, i in usable), tuple(p for p, _ in usable))


NO_NOTEBOOKS = SessionNotebooks()


@dataclass(slots=True)
class _Seen:
    """A connection's session notebooks as its last message found them."""

    paths: tuple[str, ...]  # the kernel's session paths
    project: ProjectFacts
    workspace: WorkspaceFacts
    folder_path: str  # the project's folder under root_dir
    os_paths: tuple[str | None, ...]  # each session path under root_dir (None: not plain)
    notebooks: list[Found | None] = field(default_factory=list)  # found for os_paths
    # what they gave (None: not yet, or the project folder is missing)
    result: SessionNotebooks | None = None


class ConnectionNotebooks:
    """The session notebooks one kernel connection last found, kept between its messages."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: _Seen | None = None

    def find(
        self, context: KernelContext, snap: PolicySnapshot | None, project: ProjectFacts | None
    ) -> SessionNotebooks:
        """Each session notebook of the kernel, with its index if it is inside the project.

        Each notebook costs a ``stat``: the index found for it last time is kept
        while the file is the same one, unchanged (:class:`Found`), and anything
        else asks :data:`NOTEBOOKS`. The project folder's real path is resolved
        again (a ``stat``, and ``realpath`` when it is another folder) whenever the
        folder's path or any notebook found changed since the last message. Not
        before: a notebook that is the same file, unchanged, was inside the folder
        then and holds the same cells now; and a folder replaced by a link elsewhere
        makes the notebook paths lead to other files, so it is noticed with them.
        """
        if snap is None or project is None:
            return NO_NOTEBOOKS
        paths = SESSIONS.of(context.settings.get("session_manager"), context.kernel_id)
        if not paths:
            return NO_NOTEBOOKS
        workspace = snap.workspaces[project.workspace_id]
        seen = self._seen
        if (
            seen is None
            or seen.paths is not paths
            or seen.project is not project
            or seen.workspace is not workspace
        ):
            root = context.root_dir
            seen = self._seen = _Seen(
                paths,
                project,
                workspace,
                os.path.join(root, workspace.slug, project.name),
                tuple(session_os_path(root, path) for path in paths),
            )
        found = [_lookup(os_path, seen, n) for n, os_path in enumerate(seen.os_paths)]
        if seen.result is not None and found == seen.notebooks:
            return seen.result
        seen.notebooks = found
        seen.result = None
        folder = NOTEBOOKS.real_folder(seen.folder_path)
        if folder is None:
            return NO_NOTEBOOKS  # resolved again with the next message
        seen.result = SessionNotebooks.of(
            tuple(
                (path, None if notebook is None or not notebook.inside(folder) else notebook.index)
                for path, notebook in zip(paths, found, strict=True)
            )
        )
        return seen.result


def _lookup(os_path: str | None, seen: _Seen, position: int) -> Found | None:
    """The notebook at ``os_path``: the one ``seen`` found if its file is unchanged."""
    if os_path is None:
        return None
    before = seen.notebooks[position] if position < len(seen.notebooks) else None
    if before is not None:
        try:
            st = os.stat(os_path)
        except (OSError, ValueError):
            return NOTEBOOKS.lookup(os_path)  # forgets it
        if before.key == (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size):
            return before
    return NOTEBOOKS.lookup(os_path)


class MessageNotebooks:
    """The kernel's project and session notebooks, looked up at most once per message."""

    __slots__ = ("_found", "_project", "cache", "context", "snap")

    def __init__(
        self, cache: ConnectionNotebooks, context: KernelContext, snap: PolicySnapshot | None
    ) -> None:
        self.cache = cache
        self.context = context
        self.snap = snap
        self._project: tuple[int | None, ProjectFacts | None] | None = None
        self._found: SessionNotebooks | None = None

    def project(self) -> tuple[int | None, ProjectFacts | None]:
        """The kernel's project id, and the project if the policy has it."""
        if self._project is None:
            project_id = self.context.project_id()
            snap = self.snap
            project = None if snap is None or project_id is None else snap.projects.get(project_id)
            self._project = (project_id, project)
        return self._project

    def _load(self) -> SessionNotebooks:
        if self._found is None:
            self._found = self.cache.find(self.context, self.snap, self.project()[1])
        return self._found

    def __call__(self) -> Sequence[NotebookIndex]:
        return self._load().indexes

    def path_of(self, position: int | None) -> str | None:
        """The path of the notebook at ``position`` among the usable ones, else the first.

        Without a position (the judge read no notebook: a user with write, or a
        refusal before any lookup) that is the first session path, found without
        reading any notebook.
        """
        if position is None and self._found is None:
            if self.snap is None or self.project()[1] is None:
                return None
            paths = SESSIONS.of(
                self.context.settings.get("session_manager"), self.context.kernel_id
            )
            return paths[0] if paths else None
        found = self._load()
        if position is not None and position < len(found.paths):
            return found.paths[position]
        return found.found[0][0] if found.found else None
