"""The contents manager: per-user listings and ``writable``, projects following their folders.

- A directory listing shows only entries the requesting user may read.
- ``writable`` says whether *this* user may write (false for viewers): JupyterLab
  then opens the file read-only. Notebooks are writable for users who may run but
  not edit, whose saves are merged (:mod:`.merge_save`): only outputs, execution
  counts and ``parameters`` values are kept from them.
- A folder created directly in a workspace folder is a new project, whose creator
  becomes its project admin; renaming or deleting a project folder renames or
  forgets the project, so its grants stay with it.
- Folders are copied by our own code (:mod:`.copies`), never ``shutil.copytree``: only from
  inside a project, never into a workspace folder, without links, within limits, all or
  nothing, off the event loop. Moving a project's folder directly into a workspace, or a
  folder that is no project into a project, is refused too.

The Authorizer has already decided whether the request may happen at all; this
class shapes what it returns, keeps the policy in step with the folders, and
decides between a save and a merge-save (a PUT of an existing notebook reaches it
with ``project:execute`` only).
"""

from __future__ import annotations

import asyncio
import os
import time
from contextvars import ContextVar
from typing import Any

from jupyter_core.paths import is_hidden
from jupyter_server import CallContext
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupyter_server.services.contents.manager import AsyncContentsManager, copy_pat
from tornado import web
from traitlets import Int, default

from ..errors import WorkspacePermsError
from ..identity.provider import WorkspaceUser
from ..paths import Level, Location, PathRefused, locate_in
from ..policy import PolicySnapshot
from ..policy.names import validate_project_name
from ..store import PolicyStore
from ..store.comments import Comments
from . import comment_anchors
from .authz.access import decide_location, refused
from .checkpoints import WorkspaceCheckpoints
from .collaboration.context import ROOM_SAVE
from .copies import (
    COPY_ROOT,
    CopyRefused,
    CopyRules,
    copy_folder,
    entry_in,
    ext_problem,
    folder_copy_refusal,
    move_refusal,
)
from .merge_save import NEEDS_WRITE, Bases, SaveLocks, merged

# set while the base class builds a model: the entries it fetches with ``self.get`` for a
# listing are shaped by ``_listing``, which decides every kept entry's ``writable`` anyway
_LISTING: ContextVar[bool] = ContextVar("workspace_perms_listing", default=False)


class WorkspaceContentsManager(AsyncLargeFileManager):
    """Files on disk, shown and kept in step with the workspace policy."""

    @default("checkpoints_class")
    def _default_checkpoints_class(self) -> type[WorkspaceCheckpoints]:
        return WorkspaceCheckpoints

    max_copy_entries = Int(
        10_000,
        config=True,
        help="""Most files and folders one folder copy (``POST /api/contents`` with a
        folder's ``copy_from``) or one project duplicate (``POST
        /api/workspace-perms/…/duplicate``) may hold, hidden entries and checkpoints not
        counted. A larger copy is refused with 413 before anything is written; the size
        limit is ``max_copy_folder_size_mb``.""",
    )

    #: set by the extension: threads follow saves, renames and deletes (.comment_anchors)
    comments: Comments | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._bases = Bases()  # what each user without write last got of each notebook
        self._save_locks = SaveLocks()

    # -- context -----------------------------------------------------------------------

    def _request_user(self) -> tuple[PolicyStore, WorkspaceUser] | None:
        handler = CallContext.get(CallContext.JUPYTER_HANDLER)
        user = getattr(handler, "current_user", None)
        store = None if handler is None else handler.settings.get("workspace_perms_store")
        if store is None or not isinstance(user, WorkspaceUser):
            return None
        return store, user

    def _locate(self, snap: PolicySnapshot, path: str) -> Location:
        """Where ``path`` is; located once per request (the Authorizer did it first)."""
        return locate_in(snap, self.root_dir, path, CallContext.get(CallContext.JUPYTER_HANDLER))

    def _may(self, snap: PolicySnapshot, user: WorkspaceUser, path: str, intent: str) -> bool:
        try:
            loc = self._locate(snap, path)
        except PathRefused:
            return False
        return decide_location(snap, user.subject, loc, intent, time.time()).allowed

    def _save_mode(self, snap: PolicySnapshot, user: WorkspaceUser, path: str) -> str | None:
        """``"write"``, ``"merge"`` (a project file, with execute but not write) or None."""
        try:
            loc = self._locate(snap, path)
        except PathRefused:
            return None
        return _save_mode_at(snap, user, loc)

    # -- reading -----------------------------------------------------------------------

    async def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        """The model, with listings and ``writable`` for the requesting user."""
        found = None if _LISTING.get() else self._request_user()
        listing = _LISTING.set(True)
        try:
            model: dict[str, Any] = await super().get(path, content, type, format, require_hash)
        finally:
            _LISTING.reset(listing)
        if found is None:
            return model  # server internals, or an entry fetched for a listing (see _LISTING)
        snap = found[0].snapshot
        user = found[1]
        mode = self._shape(snap, user, model)
        if mode == "merge" and model.get("type") == "notebook" and model.get("content"):
            self._remember_base(user, path, model["content"])
        if model.get("type") == "directory" and isinstance(model.get("content"), list):
            model["content"] = self._listing(snap, user, path, model["content"])
        return model

    def _remember_base(self, user: WorkspaceUser, path: str, notebook: Any) -> None:
        """Remember what a user whose saves are merged now has in the browser: the
        notebook served by ``GET /api/contents`` (not by exports and other readers)."""
        handler = CallContext.get(CallContext.JUPYTER_HANDLER)
        if type(handler).__name__ == "ContentsHandler":
            self._bases.remember(user.username, path, notebook)

    # FileContentsManager's sync method is the one in effect (first in the MRO);
    # AsyncContentsManager declares an async one, hence the ignore
    def resolve_path(self, path: str) -> str | None:  # type: ignore[override]
        """``/api/resolvePath``: only paths the requesting user may read resolve.

        Without this, any member could learn which files exist in projects they
        cannot see (the route's Authorizer label is the open ``api`` read), or
        which hidden files exist where they may read.
        """
        resolved: str | None = super().resolve_path(path)
        if resolved is None:
            return None
        if not self.allow_hidden and is_hidden(self._get_os_path(resolved), self.root_dir):
            return None  # as ``GET /api/contents`` answers: there is nothing to see
        found = self._request_user()
        if found is None:
            return resolved
        return resolved if self._may(found[0].snapshot, found[1], resolved, "read") else None

    def _listing(
        self, snap: PolicySnapshot, user: WorkspaceUser, path: str, entries: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The entries the user may see, shaped for them.

        Inside a project every entry shares the folder's answer, so only links are
        checked one by one (a link may lead out of the project).
        """
        try:
            folder = self._locate(snap, path)
        except PathRefused:
            return []
        if folder.level in (Level.project, Level.project_file):
            links = _links_in(os.path.join(self.root_dir, folder.path))
            kept = [
                e
                for e in entries
                if e["name"] not in links or self._may(snap, user, e["path"], "read")
            ]
            writable = self._may(snap, user, path, "write")
            notebook = next((e for e in kept if e.get("type") == "notebook"), None)
            merges = (
                not writable
                and notebook is not None
                and self._save_mode(snap, user, notebook["path"]) == "merge"
            )
            for entry in kept:
                may = writable or (merges and entry.get("type") == "notebook")
                entry["writable"] = bool(entry.get("writable")) and may
            return kept
        kept = [e for e in entries if self._may(snap, user, e["path"], "read")]
        for entry in kept:
            self._shape(snap, user, entry)
        return kept

    def _shape(
        self, snap: PolicySnapshot, user: WorkspaceUser, model: dict[str, Any]
    ) -> str | None:
        """Set ``writable`` for this user (a notebook also when its saves are merged);
        returns the user's save mode."""
        mode = self._save_mode(snap, user, model["path"])
        may = mode == "write" or (mode == "merge" and model.get("type") == "notebook")
        model["writable"] = bool(model.get("writable")) and may
        return mode

    # -- keeping projects in step with folders -----------------------------------------

    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        """Save as the requesting user may.

        - with write at ``path``: the stock save;
        - with execute but not write, on a project's notebook: a merge-save only;
        - a new folder directly in a workspace: the stock save, and it becomes a
          project (the Authorizer checked ``workspace:create_project``);
        - anything else is refused: whatever let the request through, no path
          here writes for a user who may not.
        """
        found = self._request_user()
        if found is None:
            return await self._stock_save(model, path)  # server internals
        store, user = found
        loc = self._location(store.snapshot, path)
        new_project = await self._new_project(loc, model, path)
        if new_project is None:
            mode = _save_mode_at(store.snapshot, user, loc)
            if mode == "merge":
                return await self._merge_save(user, model, path)
            if mode != "write":
                raise web.HTTPError(403, NEEDS_WRITE, reason="role_too_low")
        result = await self._stock_save(model, path)
        if new_project is not None:
            ws, name = new_project.workspace, new_project.project
            await self._write(
                store, user, lambda w: w.create_project(ws, name, "full", user.username)
            )
        return result

    def check_and_sign(self, nb: Any, path: str = "", **kwargs: Any) -> None:
        """Sign as usual, except a notebook saved for a collaboration room: it may hold
        outputs of people without write, which must not become trusted."""
        if ROOM_SAVE.get():
            return
        super().check_and_sign(nb, path, **kwargs)

    async def _stock_save(self, model: dict[str, Any], path: str) -> dict[str, Any]:
        """The stock save; notebooks one at a time per path (see :meth:`_merge_save`).
        The file's comment threads are re-anchored on what was written."""
        if model.get("type") != "notebook":
            return await self._save_and_reanchor(model, path)
        async with self._save_locks(path):
            return await self._save_and_reanchor(model, path)

    async def _save_and_reanchor(self, model: dict[str, Any], path: str) -> dict[str, Any]:
        """The stock save of ``model``; its comment threads re-anchored on it meanwhile
        (:mod:`.comment_anchors`), stored once the file is written."""
        pending = None
        if self.comments is not None:
            actor = self._actor()
            pending = comment_anchors.saving(self.comments, self.root_dir, path, model, actor)
        try:
            result: dict[str, Any] = await super().save(model, path)
        except BaseException:
            if pending is not None:
                await pending.abandon()
            raise
        if pending is not None:
            await pending.finish()
        return result

    def _actor(self) -> str:
        """Who the current request is from, for audit rows (``server`` for internals)."""
        found = self._request_user()
        return "server" if found is None else found[1].username

    def _comment_place(self, path: str) -> comment_anchors.FilePlace | None:
        if self.comments is None:
            return None
        return comment_anchors.place_of(self.comments, self.root_dir, path)

    async def _merge_save(
        self, user: WorkspaceUser, model: dict[str, Any], path: str
    ) -> dict[str, Any]:
        """Merge a notebook saved by a user who may run but not edit onto the stored file.

        The stored notebook is read once and the merged one is written by the stock
        save (checkpoints, signature, hash and ``last_modified`` as usual). The user's
        base becomes what they sent, which is what their browser now holds.
        """
        if model.get("type") != "notebook" or not await self.file_exists(path):
            raise web.HTTPError(403, NEEDS_WRITE, reason="role_too_low")
        async with self._save_locks(path):
            os_path = self._get_os_path(path.strip("/"))
            base = self._bases.get(user.username, path)
            loop = asyncio.get_running_loop()
            written = await loop.run_in_executor(None, merged, os_path, model.get("content"), base)
            merged_model = {"type": "notebook", "format": "json", "content": written}
            result = await self._save_and_reanchor(merged_model, path)
        self._bases.remember(user.username, path, model["content"])
        return result

    def _location(self, snap: PolicySnapshot, path: str) -> Location:
        try:
            return self._locate(snap, path)
        except PathRefused as e:
            raise web.HTTPError(404, e.message, reason=e.reason) from None

    async def _new_project(
        self, loc: Location, model: dict[str, Any], path: str
    ) -> Location | None:
        """``loc`` when this save makes a new folder directly in a workspace: a project."""
        if model.get("type") != "directory" or loc.level is not Level.workspace_file:
            return None
        if await self.dir_exists(path):
            return None
        _valid_project_name(loc.project or "")
        return loc

    # -- copies and new entries (see .copies) -----------------------------------------

    async def copy(self, from_path: str, to_path: str | None = None) -> dict[str, Any]:
        """Copy a file, or a folder from inside a project; never with ``shutil.copytree``.

        A file: Jupyter's get and save, the save deciding the target again. A folder: the
        root never; for the requesting user, decided again as the Authorizer did (read on
        the source, a new folder in an existing folder of a project); then copied by
        :func:`.copies.copy_folder` in a worker thread, all or nothing, and announced
        with the same ``copy`` event as a file copy.
        """
        source = from_path.strip("/")
        into = source.rpartition("/")[0] if to_path is None else to_path.strip("/")
        found = self._request_user()
        if found is not None and not self._may(found[0].snapshot, found[1], source, "read"):
            raise web.HTTPError(404, "not found (or not visible to you)", reason="not_found")
        os_source = self._get_os_path(source)
        if not os.path.isdir(os_source):
            result: dict[str, Any] = await AsyncContentsManager.copy(self, from_path, to_path)
            return result
        if not source:
            raise web.HTTPError(403, COPY_ROOT[1], reason=COPY_ROOT[0])
        if not await self.dir_exists(into):
            raise web.HTTPError(404, f"no such folder: {into!r}", reason="not_found")
        if found is not None:
            self._may_copy_folder(found[0].snapshot, found[1], source, into)
        name = await self.increment_filename(
            copy_pat.sub(".", source.rpartition("/")[2]), into, insert="-Copy"
        )
        work = (os_source, self._get_os_path(into), name, self.copy_rules(), source)
        try:
            await asyncio.get_running_loop().run_in_executor(None, copy_folder, *work)
        except CopyRefused as e:
            raise web.HTTPError(e.status, e.message, reason=e.reason) from None
        new_path = f"{into}/{name}".strip("/")
        self.emit(data={"action": "copy", "path": new_path, "source_path": from_path})
        model: dict[str, Any] = await self.get(new_path, content=False)
        return model

    def copy_rules(self) -> CopyRules:
        """What a folder copy (and a project's duplicate) takes, and how much of it."""
        return CopyRules(
            self.max_copy_entries,
            self.max_copy_folder_size_mb * 1024 * 1024,
            f"{type(self).__name__}.max_copy_entries",
            f"{type(self).__name__}.max_copy_folder_size_mb",
            keep_hidden=self.allow_hidden,
            skip_names=frozenset(
                {".ipynb_checkpoints", str(getattr(self.checkpoints, "checkpoint_dir", ""))}
            ),
        )

    def _may_copy_folder(
        self, snap: PolicySnapshot, user: WorkspaceUser, source: str, into: str
    ) -> None:
        """Refuse a folder copy the user may not make (see :func:`.copies.folder_copy_refusal`)."""
        folder = self._location(snap, into)
        decision = decide_location(snap, user.subject, entry_in(folder), "mkdir", time.time())
        if not decision.allowed:
            raise refused(decision)
        problem = folder_copy_refusal(self._location(snap, source), folder)
        if problem is not None:
            raise web.HTTPError(403, problem[1], reason=problem[0])

    async def new_untitled(self, path: str = "", type: str = "", ext: str = "") -> dict[str, Any]:
        """A new untitled entry in the folder ``path``; ``ext`` must be a plain extension
        (Jupyter appends it to the name, so a slash would create it elsewhere)."""
        problem = ext_problem(ext)
        if problem is not None:
            raise web.HTTPError(400, problem, reason="invalid_ext")
        result: dict[str, Any] = await super().new_untitled(path, type, ext)
        return result

    async def rename_file(self, old_path: str, new_path: str) -> None:
        """Rename; a project folder's rename renames the project (in its workspace only).
        Comment threads follow the file or folder (a project folder needs nothing)."""
        found = self._request_user()
        threads = self._comment_place(old_path)
        moved_to = None if threads is None else self._comment_place(new_path)
        old = None
        if found is not None:
            snap = found[0].snapshot
            old, new = self._locate(snap, old_path), self._locate(snap, new_path)
            if old.level is Level.project:
                if new.level is not Level.workspace_file or new.workspace != old.workspace:
                    raise web.HTTPError(
                        403,
                        "a project folder can only be renamed within its workspace",
                        reason="project_folder",
                    )
                _valid_project_name(new.project or "")
            else:
                directory = await self.dir_exists(old_path)
                problem = move_refusal(old, new, directory)
                if problem is not None:
                    raise web.HTTPError(403, problem[1], reason=problem[0])
                old = None
        await super().rename_file(old_path, new_path)
        if old is not None and found is not None:
            store, user = found
            ws, name, new_name = old.workspace, old.project, new_path.strip("/").split("/")[1]
            try:
                await self._write(store, user, lambda w: w.rename_project(ws, name, new_name))
            except web.HTTPError:
                await super().rename_file(new_path, old_path)  # keep folder and policy in step
                raise
        if threads is not None and self.comments is not None:
            await comment_anchors.renamed(self.comments, threads, moved_to, self._actor())

    async def delete_file(self, path: str) -> None:
        """Delete; deleting a project folder forgets the project (its comments with it),
        deleting a file or folder inside one orphans its comment threads (kept)."""
        found = self._request_user()
        loc = None if found is None else self._locate(found[0].snapshot, path)
        threads = self._comment_place(path)
        await super().delete_file(path)
        if threads is not None and self.comments is not None:
            await comment_anchors.deleted(self.comments, threads, self._actor())
        if loc is not None and loc.level is Level.project and found is not None:
            store, user = found
            ws, name = loc.workspace, loc.project
            await self._write(store, user, lambda w: w.delete_project(ws, name))

    async def _write(self, store: PolicyStore, user: WorkspaceUser, work: Any) -> None:
        def run() -> None:
            with store.write(user.username) as writer:
                work(writer)

        try:
            await asyncio.get_running_loop().run_in_executor(None, run)
        except WorkspacePermsError as e:
            raise web.HTTPError(e.status, e.message, reason=e.reason) from None


def _save_mode_at(snap: PolicySnapshot, user: WorkspaceUser, loc: Location) -> str | None:
    """``"write"``; ``"merge"`` where only outputs and parameter values may be saved
    (``save_outputs``: a project file, with execute); or None."""
    now = time.time()
    if decide_location(snap, user.subject, loc, "write", now).allowed:
        return "write"
    if loc.level is Level.project_file and (
        decide_location(snap, user.subject, loc, "save_outputs", now).allowed
    ):
        return "merge"
    return None


def _links_in(folder: str) -> frozenset[str]:
    """Names of the symbolic links in ``folder`` (one directory scan, no stat per entry)."""
    try:
        with os.scandir(folder) as entries:
            return frozenset(e.name for e in entries if e.is_symlink())
    except OSError:
        return frozenset()


def _valid_project_name(name: str) -> None:
    try:
        validate_project_name(name)
    except ValueError as e:
        raise web.HTTPError(400, str(e), reason="invalid_name") from None
