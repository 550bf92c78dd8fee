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
from dataclasses import dataclass
from typing import Any

from ..server.authz.paths import PathRefused, split_path
from .cells import NotebookIndex

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
    (:func:`..server.authz.paths.split_path`) refuses it.

    Links are resolved later (:meth:`NotebookCache.lookup`), and the real path is
    checked against the project's real folder.
    """
    try:
        parts = split_path(api_path)
    except PathRefused:
        return None
    return os.path.join(root_dir, *parts) if parts else None


def _key(st: os.stat_result) -> FileKey:
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class Found:
    """A notebook as the cache knows it: its real path and its index (None if unusable)."""

    key: FileKey
    real_path: str
    index: NotebookIndex | None

    def inside(self, real_folder: str) -> bool:
        """Whether the notebook really lives inside ``real_folder`` (a real path)."""
        return self.real_path.startswith(real_folder + os.sep)


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
