"""What ``POST /api/contents`` and renames may create, and the folder copier that never leaks.

Jupyter copies a folder with ``shutil.copytree`` after the Authorizer saw only the top
folder: it follows links (a link to another project's file becomes a regular file with its
content), copies hidden files and checkpoints, creates missing parent folders, runs on the
event loop, has no limit on the number of files and leaves a half copy behind on any error
(copying the root into a project recursed until a ``RecursionError``). Here:

- **What may be copied** (:func:`folder_copy_refusal`, asked by the Authorizer and again by
  the contents manager). A file wherever the user may read it. A folder only from *inside* a
  project, never the root, a workspace folder, a project folder or a folder directly in a
  workspace: their entries belong to several projects (each with its own access) or to none.
  Grants are per project, so inside one project every file has the project's answer: with
  links refused and the walk never leaving the source folder, the read check on the top folder
  *is* the decision for each file it holds (the rule listings use too). A copy into another
  project needs write there, as for one file.
- **What it creates**: a folder directly in a workspace is a project, made only by a new
  folder (``workspace:create_project``, registered at once) or the REST API. A copied or moved
  folder never becomes one (:func:`folder_copy_refusal`, :func:`move_refusal`), and a folder
  that is no project is never moved into one (nobody may read what it holds).
- **How** (:func:`copy_folder`): our own walk, by file descriptor, never following a link. A
  folder holding a link, or anything but folders and regular files, is refused (400, naming
  it) rather than copied in part: a link inside a project may lead anywhere. Hidden entries
  are skipped unless ``allow_hidden`` (a copy holds what the user's file browser shows) and
  checkpoint folders always (they are the original file's history). The number of entries and
  their size are counted before anything is written (413 naming the limit), the copy is written
  into a hidden temporary sibling and renamed into place, and removed on any failure: nothing
  half-copied is ever visible. It runs in a worker thread, off the event loop.
- **New untitled entries** (:func:`ext_problem`): Jupyter appends ``ext`` to the new name
  unchecked, so ``"/../other/x"`` would create elsewhere than the folder the Authorizer
  decided on; only a plain extension is accepted.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import uuid
from dataclasses import dataclass

from ..errors import WorkspacePermsError
from ..paths import Level, Location

Problem = tuple[str, str]  # (reason code, message)

COPY_ROOT: Problem = (
    "copy_root",
    "the root folder is never copied: copy files or folders inside a project",
)
_SOURCE_REFUSALS: dict[Level, Problem] = {
    Level.root: COPY_ROOT,
    Level.workspace: (
        "copy_workspace_folder",
        "a workspace folder is never copied (each of its projects has its own access): "
        "copy files or folders inside a project",
    ),
    Level.project: (
        "copy_project_folder",
        "a project folder is not copied as a whole: create a new project, then copy the "
        "files or folders inside this one into it",
    ),
}
_OUTSIDE_PROJECTS: Problem = ("copy_outside_projects", "only folders inside a project are copied")
MAKES_PROJECT: Problem = (
    "copy_makes_project",
    "a copied or moved folder cannot become a project: create the project first "
    "(a new folder or the REST API), then copy or move files into it",
)
MOVE_OUTSIDE_PROJECTS: Problem = (
    "move_outside_projects",
    "this folder is not a project, so nobody may read what it holds: it cannot be moved "
    "into a project (an operator can register it with `jupyter workspace-perms project create`)",
)


def folder_copy_refusal(source: Location, into: Location) -> Problem | None:
    """Why copying the folder ``source`` into the folder ``into`` is refused, or None.

    Only folders inside a project are copied; a copy never lands directly in a workspace
    (it would be a folder the policy does not know, or a project nobody created). Whether
    the user may read ``source`` and make a folder in ``into`` is asked separately.
    """
    if source.level is not Level.project_file:
        return _SOURCE_REFUSALS.get(source.level, _OUTSIDE_PROJECTS)
    if into.level is Level.workspace:
        return MAKES_PROJECT
    return None


def move_refusal(source: Location, target: Location, directory: bool) -> Problem | None:
    """Why moving (renaming) the folder ``source`` to ``target`` is refused, or None.

    A folder from a project moved directly into a workspace would be a folder the policy
    does not know; a folder directly in a workspace that is no project holds files nobody
    may read, which a move into a project would show. Project folders follow their own rule
    (renamed within their workspace, in the contents manager).
    """
    if not directory:
        return None
    if source.level is Level.project_file and target.level is Level.workspace_file:
        return MAKES_PROJECT
    if source.level is Level.workspace_file and target.level is not Level.workspace_file:
        return MOVE_OUTSIDE_PROJECTS
    return None


def entry_in(folder: Location) -> Location:
    """The location of a new entry made inside ``folder`` (its name not known yet).

    Directly in a workspace: a workspace file (a folder there is a new project); inside a
    project: a project file; inside a folder directly in a workspace that is no project:
    unregistered (refused). Other levels (root, outside) are returned as is, so the access
    table refuses them with their own reason.
    """
    child = folder.path + "/?"
    if folder.level is Level.workspace:
        return Location(child, Level.workspace_file, folder.workspace, None)
    if folder.level in (Level.project, Level.project_file):
        return Location(child, Level.project_file, folder.workspace, folder.project)
    if folder.level is Level.workspace_file:
        return Location(child, Level.unregistered, folder.workspace, folder.project)
    return folder


def ext_problem(ext: object) -> str | None:
    """Why ``ext`` (appended by Jupyter to a new untitled name) is refused, or None."""
    if not isinstance(ext, str):
        return "ext must be a string, e.g. '.py'"
    if "/" in ext or "\\" in ext or any(ord(c) < 32 or ord(c) == 127 for c in ext):
        return f"ext {ext!r} must be a plain file extension such as '.py' (no slashes)"
    if len(ext) > 64:
        return "ext must be at most 64 characters"
    return None


class CopyRefused(WorkspacePermsError):
    """A folder copy refused or failed; nothing of it is left on disk."""

    status = 400
    reason = "copy_refused"

    def __init__(self, message: str, reason: str, status: int = 400) -> None:
        super().__init__(message, reason)
        self.status = status


@dataclass(frozen=True)
class CopyRules:
    """What a folder copy takes and how much of it (traits of the contents manager)."""

    max_entries: int
    max_bytes: int
    entries_limit: str  # how operators raise each limit, for the 413 message
    bytes_limit: str
    keep_hidden: bool = False  # ``allow_hidden``: copy names starting with a dot
    skip_names: frozenset[str] = frozenset({".ipynb_checkpoints"})  # never copied

    def keeps(self, name: str) -> bool:
        """Whether an entry named ``name`` is copied."""
        if name in self.skip_names:
            return False
        return self.keep_hidden or not name.startswith(".")


_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20
_MB = 1024 * 1024


@dataclass(frozen=True)
class _Entry:
    """One entry to copy: its path below the source folder, and its permission bits."""

    rel: tuple[str, ...]
    folder: bool
    mode: int


def copy_folder(source: str, parent: str, name: str, rules: CopyRules, label: str) -> None:
    """Copy the folder ``source`` (an OS path) to ``parent/name``, all or nothing.

    The whole tree is listed (and refused) before anything is written; then exactly the
    listed entries are copied, so a copy into the source folder itself never copies itself.
    ``label`` is the source's API path, used in messages. Raises :class:`CopyRefused`:
    400 for a link, a special file or a failed write, 413 over a limit, 409 when ``name``
    appeared meanwhile.
    """
    try:
        top = os.open(source, _DIR)
    except OSError as e:
        reason = "copy_links" if e.errno == errno.ELOOP else "copy_failed"
        raise CopyRefused(f"cannot copy {label!r}: {_why(e)}", reason) from None
    try:
        plan = _plan(top, rules, label)
        _copy_into(top, plan, parent, name, rules, label)
    except OSError as e:
        raise CopyRefused(f"could not copy {label!r}: {_why(e)}", "copy_failed") from None
    finally:
        os.close(top)


def _plan(top: int, rules: CopyRules, label: str) -> list[_Entry]:
    """Every kept entry below ``top``, parents first, never following a link; refused
    (nothing written yet) for a link, a special file or a tree over the limits."""
    plan: list[_Entry] = []
    size = 0
    pending: list[tuple[str, ...]] = [()]
    while pending:
        rel = pending.pop()
        fd = _open_below(top, rel)
        try:
            with os.scandir(fd) as found:
                names = sorted(e.name for e in found if rules.keeps(e.name))
            for entry in names:
                path = (*rel, entry)
                st = os.stat(entry, dir_fd=fd, follow_symlinks=False)
                shown = "/".join((label, *path))
                if stat.S_ISLNK(st.st_mode):
                    raise CopyRefused(
                        f"{shown!r} is a symbolic link: folders holding links are not copied "
                        "(copy the files themselves)",
                        "copy_links",
                    )
                folder = stat.S_ISDIR(st.st_mode)
                if not (folder or stat.S_ISREG(st.st_mode)):
                    raise CopyRefused(
                        f"{shown!r} is not a regular file or folder: it is not copied",
                        "copy_special_file",
                    )
                plan.append(_Entry(path, folder, stat.S_IMODE(st.st_mode)))
                size += 0 if folder else st.st_size
                _within_limits(len(plan), size, rules, label)
                if folder:
                    pending.append(path)
        finally:
            os.close(fd)
    return plan


def _copy_into(
    top: int, plan: list[_Entry], parent: str, name: str, rules: CopyRules, label: str
) -> None:
    """Write ``plan`` into a hidden sibling of ``parent/name``, then rename it into place;
    on any failure the sibling is removed."""
    parent_fd = os.open(parent, _DIR)
    try:
        temp = f".~copy-{uuid.uuid4().hex}"
        os.mkdir(temp, dir_fd=parent_fd)
        try:
            dest = os.open(temp, _DIR, dir_fd=parent_fd)
            try:
                written = 0
                for entry in plan:
                    written += _copy_entry(top, dest, entry, label)
                    _within_limits(len(plan), written, rules, label)  # files that grew
            finally:
                os.close(dest)
            if _exists(name, parent_fd):
                raise CopyRefused(f"{name!r} appeared while copying", "exists", 409)
            os.rename(temp, name, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
        except BaseException:
            shutil.rmtree(os.path.join(parent, temp), ignore_errors=True)
            raise
    finally:
        os.close(parent_fd)


def _within_limits(entries: int, size: int, rules: CopyRules, label: str) -> None:
    if entries > rules.max_entries:
        raise CopyRefused(
            f"{label!r} holds more than {rules.max_entries} files and folders, the most a copy "
            f"may hold ({rules.entries_limit})",
            "copy_too_large",
            413,
        )
    if size > rules.max_bytes:
        raise CopyRefused(
            f"{label!r} holds more than {rules.max_bytes // _MB} MB, the most a copy "
            f"may hold ({rules.bytes_limit})",
            "copy_too_large",
            413,
        )


def _copy_entry(top: int, dest: int, entry: _Entry, label: str) -> int:
    """Recreate one planned entry below ``dest``; the number of bytes written.

    Every folder on the way is opened again with ``O_NOFOLLOW``, and a file must still be
    a regular file: an entry swapped for a link since it was listed fails the copy.
    """
    source_parent = _open_below(top, entry.rel[:-1])
    dest_parent = _open_below(dest, entry.rel[:-1])
    name = entry.rel[-1]
    try:
        if entry.folder:
            os.mkdir(name, dir_fd=dest_parent)
            return 0
        src = os.open(name, _FILE, dir_fd=source_parent)
        try:
            if not stat.S_ISREG(os.fstat(src).st_mode):
                shown = "/".join((label, *entry.rel))
                raise CopyRefused(f"{shown!r} changed while copying", "copy_changed")
            dst = os.open(name, _NEW_FILE, entry.mode & 0o777, dir_fd=dest_parent)
            try:
                return _copy_bytes(src, dst)
            finally:
                os.close(dst)
        finally:
            os.close(src)
    finally:
        os.close(source_parent)
        os.close(dest_parent)


def _copy_bytes(src: int, dst: int) -> int:
    written = 0
    while chunk := os.read(src, _CHUNK):
        view = memoryview(chunk)
        while view:
            view = view[os.write(dst, view) :]
        written += len(chunk)
    return written


def _open_below(top: int, rel: tuple[str, ...]) -> int:
    """A new descriptor of the folder ``rel`` below ``top``, refusing links on the way."""
    fd = os.dup(top)
    for part in rel:
        try:
            child = os.open(part, _DIR, dir_fd=fd)
        finally:
            os.close(fd)
        fd = child
    return fd


def _exists(name: str, parent: int) -> bool:
    try:
        os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _why(error: OSError) -> str:
    return error.strerror or type(error).__name__
