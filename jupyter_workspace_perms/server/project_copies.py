"""Duplicating a project: its files, as its readers see them, into a new project folder.

``POST …/projects/{project}/duplicate`` (the REST API) copies a whole project folder into
another workspace. Unlike a folder copy inside a project (:mod:`.copies`, which refuses a
folder holding a link), a duplicate *leaves out* what it does not carry and says so, so
that one link or one ``environment.yml`` does not stop a person from taking their work
along:

- **hidden entries** (names starting with a dot) unless the contents manager's
  ``allow_hidden`` shows them, and **checkpoints** always: a project's readers never see
  them in JupyterLab;
- **symbolic links**, never followed, wherever they point, and anything that is neither a
  regular file nor a folder (a pipe, a socket): a link may lead out of the project;
- **environment files**, the project's custom environment: the files repo2docker (Binder)
  reads to build a project's environment, directly in the project folder
  (:data:`ENVIRONMENT_FILES`), and the ``binder`` and ``.binder`` folders that hold them.

The walk is the folder copier's: by file descriptor, never following a link, counted
against the same limits before anything is written (413), written into a hidden temporary
folder in the target workspace and renamed into place only by :meth:`StagedCopy.place`,
which the caller runs inside the policy transaction that registers the new project. Until
then nothing is visible; on any failure the temporary folder is removed.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from dataclasses import dataclass, field

# the folder copier's descriptor-level primitives: one implementation of "open below,
# never through a link" and of the limits, shared within this package
from .copies import (
    _DIR,
    CopyRefused,
    CopyRules,
    _copy_entry,
    _Entry,
    _open_below,
    _why,
    _within_limits,
)

#: The files that make a project's custom environment, directly in the project folder:
#: what repo2docker (and so Binder) reads to build an environment (conda, pip, pipenv,
#: Julia, R, apt, Nix, Docker, and the scripts it runs at build and at start), and the
#: ``.jupyter-env`` some deployments use. Package definitions (``setup.py``,
#: ``pyproject.toml``, R's ``DESCRIPTION``) are the project's own code and are copied.
ENVIRONMENT_FILES = frozenset(
    {
        "environment.yml",
        "environment.yaml",
        "requirements.txt",
        "Pipfile",
        "Pipfile.lock",
        "Project.toml",
        "JuliaProject.toml",
        "REQUIRE",
        "install.R",
        "apt.txt",
        "runtime.txt",
        "postBuild",
        "start",
        "default.nix",
        "Dockerfile",
        ".jupyter-env",
    }
)
#: Folders directly in the project that hold environment files only (repo2docker reads
#: them instead of the project's top level).
ENVIRONMENT_FOLDERS = frozenset({"binder", ".binder"})
#: At most this many paths are listed per kind of entry left out (the count is exact).
MAX_LISTED = 100


@dataclass
class LeftOut:
    """What the walk did not copy: counts, and paths relative to the project folder."""

    hidden: int = 0
    checkpoints: int = 0
    links: list[str] = field(default_factory=list)
    special: list[str] = field(default_factory=list)
    environment: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Copied:
    """What a staged copy holds."""

    files: int
    folders: int
    bytes: int


class StagedCopy:
    """A project's files written into a hidden folder of the target workspace.

    :meth:`place` renames it to its final name; :meth:`close` removes it unless placed
    (always call it, e.g. in ``finally``); :meth:`remove_placed` undoes a placement whose
    policy transaction failed.
    """

    def __init__(self, workspace_fd: int, workspace: str, temp: str, copied: Copied) -> None:
        self.copied = copied
        self._fd = workspace_fd
        self._workspace = workspace  # its path, for messages and where /proc is missing
        self._temp = temp
        self._placed: str | None = None

    def place(self, name: str) -> None:
        """Rename the copy to ``name`` in the workspace folder; 409 if ``name`` exists."""
        try:
            os.stat(name, dir_fd=self._fd, follow_symlinks=False)
        except FileNotFoundError:
            pass
        else:
            raise CopyRefused(f"a folder named {name!r} already exists there", "exists", 409)
        os.rename(self._temp, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
        self._placed = name

    def remove_placed(self) -> None:
        """Remove the placed folder again (its project was not registered)."""
        if self._placed is not None:
            self._remove(self._placed)
            self._placed = None

    def close(self) -> None:
        """Remove the temporary folder unless it was placed, and let go of the workspace."""
        try:
            if self._placed is None:
                self._remove(self._temp)
        finally:
            os.close(self._fd)

    def _remove(self, name: str) -> None:
        # through the descriptor: the workspace folder is the one opened, whatever its name
        # leads to now (``shutil.rmtree`` takes no ``dir_fd`` before Python 3.11)
        by_fd = f"/proc/self/fd/{self._fd}"
        folder = by_fd if os.path.isdir(by_fd) else self._workspace
        shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def stage_project_copy(
    root: str, source: tuple[str, str], target_workspace: str, rules: CopyRules
) -> tuple[StagedCopy, LeftOut]:
    """Copy the project folder ``root/<workspace>/<project>`` into a hidden folder of
    ``root/<target_workspace>``; the staged copy and what was left out.

    Raises :class:`.copies.CopyRefused`: 413 over a limit (nothing written), 400 when a
    folder cannot be opened (a link on the way included) or a write fails.
    """
    label = "/".join(source)
    root_fd = os.open(root, _DIR)
    try:
        top = _open_below(root_fd, source)
        try:
            left = LeftOut()
            plan = _plan(top, rules, label, left)
            workspace_fd = _open_below(root_fd, (target_workspace,))
            workspace = os.path.join(root, target_workspace)
            return _stage(top, plan, workspace_fd, workspace, rules, label), left
        finally:
            os.close(top)
    except OSError as e:
        raise CopyRefused(f"could not copy {label!r}: {_why(e)}", "copy_failed") from None
    finally:
        os.close(root_fd)


def _plan(top: int, rules: CopyRules, label: str, left: LeftOut) -> list[_Entry]:
    """Every entry to copy below ``top``, parents first, never following a link; what is
    left out goes to ``left``. Refused (nothing written yet) over the limits."""
    plan: list[_Entry] = []
    size = 0
    pending: list[tuple[str, ...]] = [()]
    while pending:
        rel = pending.pop()
        fd = _open_below(top, rel)
        try:
            with os.scandir(fd) as found:
                names = sorted(e.name for e in found)
            for name in names:
                path = (*rel, name)
                shown = "/".join(path)
                if name in rules.skip_names:
                    left.checkpoints += 1
                elif not rel and (name in ENVIRONMENT_FILES or name in ENVIRONMENT_FOLDERS):
                    left.environment.append(shown)
                elif name.startswith(".") and not rules.keep_hidden:
                    left.hidden += 1
                else:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    folder = stat.S_ISDIR(st.st_mode)
                    if stat.S_ISLNK(st.st_mode):
                        left.links.append(shown)
                    elif not (folder or stat.S_ISREG(st.st_mode)):
                        left.special.append(shown)
                    else:
                        plan.append(_Entry(path, folder, stat.S_IMODE(st.st_mode)))
                        size += 0 if folder else st.st_size
                        _within_limits(len(plan), size, rules, label)
                        if folder:
                            pending.append(path)
        finally:
            os.close(fd)
    return plan


def _stage(
    top: int,
    plan: list[_Entry],
    workspace_fd: int,
    workspace: str,
    rules: CopyRules,
    label: str,
) -> StagedCopy:
    """Write ``plan`` into a new hidden folder of the workspace (removed on failure)."""
    temp = f".~duplicate-{uuid.uuid4().hex}"
    files = sum(not e.folder for e in plan)
    staged = StagedCopy(workspace_fd, workspace, temp, Copied(files, len(plan) - files, 0))
    try:
        os.mkdir(temp, dir_fd=workspace_fd)
        dest = os.open(temp, _DIR, dir_fd=workspace_fd)
        try:
            written = 0
            for entry in plan:
                written += _copy_entry(top, dest, entry, label)
                _within_limits(len(plan), written, rules, label)  # files that grew
        finally:
            os.close(dest)
    except BaseException:
        staged.close()
        raise
    staged.copied = Copied(files, len(plan) - files, written)
    return staged
