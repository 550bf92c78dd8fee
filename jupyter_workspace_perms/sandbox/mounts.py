"""What a confined kernel sees, as a bubblewrap command line (pure: no I/O but realpath).

The sandbox starts from the whole system read-only (``--ro-bind / /``), hides
folders with empty private filesystems (``--tmpfs``), then shows again, at the
same paths, what the kernel needs: the interpreter read-only, its own project
folder, home and connection files read-write. Mounts are applied parents first
(sorted by depth), so a folder shown inside a hidden one stays shown and a
folder hidden inside a shown one stays hidden, whatever order they were listed in.

Nothing secret goes on the command line: any local user may read a process's
arguments, so the environment travels in the process's environment instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum


class Kind(str, Enum):
    """How a path is mounted; the order breaks ties between equal paths."""

    hide = "--tmpfs"  # an empty private folder in its place
    blank = "--ro-bind-data"  # a file replaced by nothing (see Mount.argv)
    read_only = "--ro-bind"
    read_write = "--bind"


_TIE_ORDER = {Kind.hide: 0, Kind.blank: 1, Kind.read_only: 2, Kind.read_write: 3}


@dataclass(frozen=True)
class Mount:
    """One path of the sandbox, at the same place inside as outside."""

    kind: Kind
    path: str

    def argv(self) -> list[str]:
        """The bubblewrap arguments of this mount."""
        if self.kind is Kind.hide:
            return ["--tmpfs", self.path]
        if self.kind is Kind.blank:
            return ["--ro-bind", os.devnull, self.path]
        return [self.kind.value, self.path, self.path]


@dataclass(frozen=True)
class Confinement:
    """Everything one confined process needs: what it sees, where it starts, its network.

    Paths are made real (symlinks resolved) when the mounts are computed, because the
    kernel's working folder is reported by its real path and bubblewrap mounts over
    real paths.
    """

    cwd: str
    read_write: Sequence[str]  # the project folder, its home, the connection file, sockets
    read_only: Sequence[str] = ()  # the interpreter and anything the operator adds
    hidden: Sequence[str] = ()  # the root folder, homes, Jupyter's folders, the database
    blanked_files: Sequence[str] = ()  # single files hidden where their folder cannot be
    isolate_network: bool = False
    seccomp_file: str | None = None  # a BPF program (see .seccomp) loaded before the program
    extra_args: Sequence[str] = field(default_factory=tuple)


SYSTEM_HIDDEN = ("/tmp", "/var/tmp", "/home", "/root", "/run", "/mnt", "/media")
"""Hidden in every sandbox: temporary files, every home, runtime sockets (a database's
unix socket lives in /run), removable and mounted media."""


def real(path: str) -> str:
    """``path`` made absolute with its symlinks resolved."""
    return os.path.realpath(os.path.abspath(path))


def _depth(path: str) -> int:
    return 0 if path == "/" else path.count("/")


def mounts(confinement: Confinement) -> list[Mount]:
    """The mounts of a confinement, parents first; paths that do not exist are skipped,
    and hiding a folder that holds the working folder's ancestors is fine (the later
    read-write mount shows the working folder again)."""
    wanted: dict[str, Kind] = {}

    def add(kind: Kind, paths: Iterable[str]) -> None:
        for path in paths:
            if not path or not os.path.lexists(path):
                continue
            target = real(path)
            if target == "/":
                continue  # the root is the read-only base itself
            if kind is Kind.hide and not os.path.isdir(target):
                kind_here = Kind.blank
            elif kind is Kind.blank and os.path.isdir(target):
                kind_here = Kind.hide
            else:
                kind_here = kind
            previous = wanted.get(target)
            # for one path, showing beats hiding (the kernel's own files live in
            # hidden folders), and read-write beats read-only
            if previous is None or _TIE_ORDER[kind_here] > _TIE_ORDER[previous]:
                wanted[target] = kind_here

    add(Kind.hide, [*SYSTEM_HIDDEN, *confinement.hidden])
    add(Kind.blank, confinement.blanked_files)
    add(Kind.read_only, confinement.read_only)
    add(Kind.read_write, confinement.read_write)
    ordered = sorted(wanted.items(), key=lambda item: (_depth(item[0]), item[0]))
    return [Mount(kind, path) for path, kind in ordered if not _hidden_already(path, kind, wanted)]


def _hidden_already(path: str, kind: Kind, wanted: dict[str, Kind]) -> bool:
    """Whether hiding ``path`` adds nothing: the nearest mounted folder above it is hidden
    (a second mount there would only make a mount point, telling that something is there)."""
    if kind not in (Kind.hide, Kind.blank):
        return False
    parent = os.path.dirname(path)
    while parent and parent != "/":
        if parent in wanted:
            return wanted[parent] is Kind.hide
        parent = os.path.dirname(parent)
    return False


def bwrap_argv(bwrap: str, confinement: Confinement) -> list[str]:
    """The bubblewrap command that runs a program under ``confinement``; append
    ``["--", *program]``.

    The namespaces: a user namespace without capabilities and without further user
    namespaces (so mounts cannot be undone), a PID namespace (no other process of the
    machine, the server included, is visible or can be signalled), private IPC and
    hostname, and optionally no network. The kernel's settings in ``/proc/sys`` are
    read-only (a server running as root would otherwise run confined code as the host's
    root, which may write them). The sandbox dies with the server.

    With a seccomp file, the command starts with ``/bin/sh`` opening it as descriptor 3
    and replacing itself with bubblewrap (``--seccomp 3``): callers that close inherited
    descriptors (terminals' pseudo-terminals) work the same.
    """
    opener: list[str] = []
    if confinement.seccomp_file is not None:
        opener = ["/bin/sh", "-c", 'f=$1; shift; exec "$@" 3<"$f"', "sh", confinement.seccomp_file]
    argv = [
        *opener,
        bwrap,
        "--unshare-user",
        "--disable-userns",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--ro-bind",
        "/proc/sys",
        "/proc/sys",
        "--ro-bind-try",
        "/proc/sysrq-trigger",
        "/proc/sysrq-trigger",
    ]
    if confinement.seccomp_file is not None:
        argv.extend(["--seccomp", "3"])
    if confinement.isolate_network:
        argv.append("--unshare-net")
    for mount in mounts(confinement):
        argv.extend(mount.argv())
    # Jupyter's launcher names the server's pid for the kernel to watch; inside a PID
    # namespace the kernel's parent is the sandbox's reaper, and ipykernel would exit at
    # once (--die-with-parent ends the kernel with the server instead)
    argv.extend(["--unsetenv", "JPY_PARENT_PID"])
    argv.extend(["--chdir", real(confinement.cwd), *confinement.extra_args])
    return argv
