"""Keeping comments anchored while files change through the contents manager.

:class:`~.contents.WorkspaceContentsManager` calls these after each save (stock and
merged), rename or move, and delete. Each runs one transaction of
:class:`~..store.comments.Comments` in a worker thread, from what the manager already
has in hand: the saved model, or the merged notebook of a Contributor's save. The file
is never read again. Threads are keyed by project id and the path inside the project,
so renaming a project folder needs no write at all; a save's comparison runs while
the file is being written, and only the states that changed are written after it. A
move into another project moves the project id too, and a move out of every project,
like a delete, orphans them.

A failure here never fails the file operation, which has already happened: it is
logged, and the next save of the file re-anchors its threads again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..paths import Level, PathRefused, locate_in
from ..store.comments import Comments, Orphaned

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FilePlace:
    """A path inside a project, as comments are keyed."""

    path: str  # WS/PROJECT/FILE
    inner: str
    workspace_id: int
    project_id: int


def place_of(comments: Comments, root_dir: str, path: str) -> FilePlace | None:
    """Where ``path`` is in a project, from the policy as it is now; None elsewhere (a
    project folder itself, a workspace's own files, a refused path)."""
    assert comments.store is not None
    snap = comments.store.snapshot
    try:
        loc = locate_in(snap, root_dir, path)
    except PathRefused:
        return None
    if loc.level is not Level.project_file or loc.workspace is None or loc.project is None:
        return None
    ws_id = snap.workspaces_by_slug[loc.workspace]
    project_id = snap.projects_by_name[(ws_id, loc.project)]
    return FilePlace(loc.path, loc.path.split("/", 2)[2], ws_id, project_id)


async def _off_loop(work: Any, *args: Any, **kwargs: Any) -> Any:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(work, *args, **kwargs))


def _announce(comments: Comments, orphaned: Orphaned | None, actor: str, path: str) -> None:
    if orphaned is not None:
        comments.emit(
            "orphaned",
            actor,
            orphaned.workspace_id,
            orphaned.project_id,
            path,
            count=orphaned.count,
        )


@dataclass
class Pending:
    """A save's re-anchoring, computed in a worker thread while the file is written."""

    comments: Comments
    place: FilePlace
    changes: asyncio.Future[dict[str, list[int]]]
    actor: str

    async def finish(self) -> None:
        """The file was written: store the new states (if any changed)."""
        try:
            changes = await self.changes
            if not changes:
                return
            place = self.place
            orphaned = await _off_loop(
                self.comments.apply,
                changes,
                place.project_id,
                place.workspace_id,
                place.path,
                self.actor,
            )
        except Exception:
            log.exception("comments: could not re-anchor the threads of %s", self.place.path)
            return
        _announce(self.comments, orphaned, self.actor, self.place.path)

    async def abandon(self) -> None:
        """The save failed: nothing is stored (the computation's errors are dropped)."""
        with contextlib.suppress(Exception):
            await self.changes


def saving(
    comments: Comments, root_dir: str, path: str, model: Mapping[str, Any], actor: str
) -> Pending | None:
    """Start re-anchoring the threads of ``path`` on ``model`` (what is being written):
    the read and the comparison run in a worker thread meanwhile, so a save waits only
    for the writes of the states that changed. None when there is nothing to follow."""
    kind, content = model.get("type"), model.get("content")
    if kind == "notebook" and isinstance(content, Mapping):
        cells = content.get("cells")
        if not isinstance(cells, list):
            return None
        given: dict[str, Any] = {"cells": cells}
    elif kind == "file" and model.get("format") == "text" and isinstance(content, str):
        given = {"text": content}
    else:
        return None  # folders, binary files
    place = place_of(comments, root_dir, path)
    if place is None:
        return None
    work = functools.partial(comments.changes, place.project_id, place.inner, **given)
    future = asyncio.get_running_loop().run_in_executor(None, work)
    return Pending(comments, place, future, actor)


async def renamed(comments: Comments, old: FilePlace, new: FilePlace | None, actor: str) -> None:
    """Carry the threads of a renamed or moved file or folder; out of every project,
    they are orphaned (kept)."""
    try:
        if new is not None:
            await _off_loop(
                comments.moved, (old.project_id, old.inner), (new.project_id, new.inner)
            )
            return
        orphaned = await _off_loop(
            comments.orphan, old.project_id, old.workspace_id, old.inner, old.path, actor
        )
    except Exception:
        log.exception("comments: could not move the threads of %s", old.path)
        return
    _announce(comments, orphaned, actor, old.path)


async def deleted(comments: Comments, place: FilePlace, actor: str) -> None:
    """Orphan the threads of a deleted file or folder (they are kept)."""
    try:
        orphaned = await _off_loop(
            comments.orphan,
            place.project_id,
            place.workspace_id,
            place.inner,
            place.path,
            actor,
        )
    except Exception:
        log.exception("comments: could not orphan the threads of %s", place.path)
        return
    _announce(comments, orphaned, actor, place.path)
