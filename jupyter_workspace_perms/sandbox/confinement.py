"""The kernel sandbox's settings, its start-up self-test, and what it reports.

:class:`KernelSandbox` decides whether kernels run confined (``mode``), proves at
start-up that bubblewrap works on this machine (a real confined Python that must
see its own folder and not its sibling), and builds the command line of each
confined kernel. The verdict and why are in ``GET /api/workspace-perms/status``,
``jupyter workspace-perms status`` and the settings panel.

Modes:

- ``required``: kernels start only confined; when the self-test fails, every
  kernel start is refused with the reason.
- ``auto``: kernels start confined when the self-test passes, unconfined with a
  warning in the log and the status when it fails.
- ``off``: kernels are never confined (the status says so).

Left unset, the mode is ``required`` when the self-test passes and ``auto`` when it
fails, so a machine without bubblewrap still runs kernels and says loudly that
they are not confined.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from traitlets import Enum, Float, Instance, List, Type, Unicode
from traitlets.config import LoggingConfigurable

from .environment import KernelEnvironment, KernelPlace
from .mounts import Confinement, bwrap_argv, real
from .seccomp import UnsupportedArchitecture, no_symlinks_filter

CONFINED_MESSAGE = (
    "Kernels run in a bubblewrap sandbox: each sees only its own project folder read-write; "
    "other projects, the policy database, the server's files and its environment are hidden."
)
UNCONFINED_RISK = (
    "anyone who can run code (Editors, and Contributors through saved cells) can read every "
    "file the server's OS user can read, other projects and the policy database included."
)

# what the self-test runs inside the sandbox: its own folder is writable, the sibling
# folder and the server's processes are invisible
_PROBE = """
import os, sys
own, other = sys.argv[1], sys.argv[2]
with open(os.path.join(own, "probe"), "w") as f:
    f.write("ok")
assert not os.path.exists(other), "a hidden folder is visible"
assert os.getpid() < 10, "the process namespace is shared"
try:
    os.symlink(other, os.path.join(own, "link"))
except PermissionError:
    pass
else:
    raise AssertionError("symbolic links can be made (the seccomp filter did not load)")
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)  # struct io_uring_params
if libc.syscall(425, 4, params) >= 0 or ctypes.get_errno() != 1:
    raise AssertionError("io_uring is available (it makes links past the filter)")
print("confined")
"""


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def write_filter(folder: str) -> str:
    """Write the no-symlinks seccomp program into ``folder``; its path."""
    path = os.path.join(folder, "wsperms-no-symlinks.bpf")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(no_symlinks_filter())
    return path


@dataclass(frozen=True)
class SelfTest:
    """The outcome of running a confined Python at start-up."""

    working: bool
    detail: str  # why it failed ("" when it works)
    seconds: float


class KernelSandbox(LoggingConfigurable):
    """Confines each kernel to its project with bubblewrap (see the module's docstring)."""

    mode = Enum(
        ["required", "auto", "off"],
        default_value=None,
        allow_none=True,
        config=True,
        help="""Whether kernels run confined: "required" (refuse kernels when
        bubblewrap fails its self-test), "auto" (confine when it works, else run
        kernels unconfined and warn), "off" (never confine). Default: "required" when
        the start-up self-test passes, "auto" when it fails.""",
    )
    bwrap_path = Unicode(
        "bwrap",
        config=True,
        help="The bubblewrap program (a name looked up on PATH, or a path). Default: bwrap.",
    )
    network = Enum(
        ["shared", "none"],
        default_value="shared",
        config=True,
        help="""Network of confined kernels: "shared" (default: the machine's network,
        so ``%pip install`` works; kernels talk to the server over private unix
        sockets that no other kernel can see) or "none" (a network namespace of their
        own with only loopback: nothing outside, and no service of this machine, is
        reachable from a kernel).""",
    )
    hidden_paths = List(
        Unicode(),
        config=True,
        help="""More files and folders hidden from kernels, beyond the ones always hidden
        (root_dir but the kernel's project, every home, /tmp, /run, Jupyter's config,
        data and runtime folders, the policy database's folder).""",
    )
    read_only_paths = List(
        Unicode(),
        config=True,
        help="""More files and folders shown read-only to kernels inside hidden ones,
        e.g. a library installed in editable mode from a home folder. The interpreter
        of the server and of each kernel's command are always shown.""",
    )
    self_test_timeout = Float(
        30.0, config=True, help="Seconds the start-up self-test may take (default 30)."
    )
    environment_class = Type(
        default_value=KernelEnvironment,
        klass=KernelEnvironment,
        config=True,
        help="""Builds each kernel's environment (default KernelEnvironment: an
        allow-list of the server's variables plus a home per project). Subclass it and
        override ``project_variables`` to give a project's kernels more variables.""",
    )
    environment = Instance(KernelEnvironment)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.environment = self.environment_class(parent=self)
        self.server_paths: list[str] = []
        self.result: SelfTest | None = None
        self.seccomp_file: str | None = None

    # -- start-up ---------------------------------------------------------------------

    def start(self, server_paths: Sequence[str], private_dir: str) -> None:
        """Remember what the server keeps secret, write the seccomp filter into
        ``private_dir`` (a folder kernels never see), run the self-test, log the verdict."""
        self.server_paths = [path for path in server_paths if path]
        if self.mode != "off":
            try:
                self.seccomp_file = write_filter(private_dir)
            except (OSError, UnsupportedArchitecture) as e:
                self.result = SelfTest(False, str(e), 0.0)
        if self.mode == "off":
            self.result = None
        elif self.result is None:
            self.result = self.self_test()
        status = self.status()
        if status["confined"]:
            self.log.info("kernel sandbox: %s", status["message"])
        else:
            self.log.warning("kernel sandbox: %s", status["message"])

    def stop(self) -> None:
        """Remove the seccomp filter's file."""
        if self.seccomp_file is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.seccomp_file)
            self.seccomp_file = None

    def bwrap(self) -> str | None:
        """The bubblewrap program's path, if it is installed."""
        found = shutil.which(self.bwrap_path)
        return found if found else None

    def self_test(self) -> SelfTest:
        """Run a confined Python the way kernels run, and check what it sees."""
        begin = time.perf_counter()
        program = self.bwrap()
        if program is None:
            return SelfTest(False, f"{self.bwrap_path!r} is not installed", 0.0)
        with tempfile.TemporaryDirectory(prefix="wsperms-selftest-") as scratch:
            own, other = os.path.join(scratch, "own"), os.path.join(scratch, "other")
            os.mkdir(own)
            os.mkdir(other)
            try:
                seccomp = write_filter(scratch)
            except UnsupportedArchitecture as e:
                return SelfTest(False, str(e), 0.0)
            confinement = Confinement(
                cwd=own,
                read_write=[own],
                read_only=self.interpreter_paths([sys.executable]),
                hidden=[scratch, *self.hidden()],
                isolate_network=self.network == "none",
                seccomp_file=seccomp,
            )
            argv = [*bwrap_argv(program, confinement), "--", sys.executable, "-c"]
            try:
                done = subprocess.run(
                    [*argv, _PROBE, own, other],
                    capture_output=True,
                    text=True,
                    timeout=self.self_test_timeout,
                    env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                    start_new_session=True,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as e:
                return SelfTest(False, str(e), time.perf_counter() - begin)
            seconds = time.perf_counter() - begin
            if done.returncode == 0 and done.stdout.strip() == "confined":
                return SelfTest(True, "", seconds)
            said = (done.stderr.strip() or done.stdout.strip()).splitlines()
            detail = said[-1] if said else f"exit status {done.returncode}"
            return SelfTest(False, detail, seconds)

    # -- the verdict ------------------------------------------------------------------

    @property
    def effective_mode(self) -> str:
        """The mode in force: the configured one, or the default the self-test chose."""
        if self.mode is not None:
            return str(self.mode)
        return "required" if self.result is not None and self.result.working else "auto"

    @property
    def confining(self) -> bool:
        """Whether kernels start confined now."""
        return self.effective_mode != "off" and self.result is not None and self.result.working

    def refusal(self, what: str = "Kernels") -> str | None:
        """Why ``what`` (kernels, terminals) may not start at all (required mode, sandbox
        broken), if so."""
        if self.effective_mode == "required" and not self.confining:
            return (
                f"{what} cannot start: the kernel sandbox is required "
                "(c.KernelSandbox.mode = 'required') and bubblewrap failed its self-test: "
                f"{self._failure()}. Ask the server's operator to install bubblewrap or allow "
                "user namespaces (see the README's 'Kernel sandbox' section)."
            )
        return None

    def _failure(self) -> str:
        return self.result.detail if self.result is not None else "not run"

    def status(self) -> dict[str, Any]:
        """What ``status`` reports: the mode, whether kernels are confined, and why."""
        mode = self.effective_mode
        if self.confining:
            message = CONFINED_MESSAGE
        elif mode == "off":
            message = "Kernels are not sandboxed (c.KernelSandbox.mode = 'off'): " + UNCONFINED_RISK
        elif mode == "auto":
            message = (
                f"Kernels are NOT sandboxed: bubblewrap failed its self-test ({self._failure()})"
                ", so kernels start unconfined and " + UNCONFINED_RISK
            )
        else:
            message = str(self.refusal())
        return {
            "kernels": "bubblewrap" if self.confining else "none",
            "confined": self.confining,
            "mode": mode,
            "configured_mode": self.mode or "default",
            "network": self.network if self.confining else "shared",
            "self_test": None
            if self.result is None
            else {
                "working": self.result.working,
                "detail": self.result.detail,
                "seconds": round(self.result.seconds, 3),
            },
            "message": message,
        }

    # -- one kernel's confinement -----------------------------------------------------

    def hidden(self) -> list[str]:
        """Everything hidden from every kernel besides the system's temporary folders and
        homes: the server's secret places and the operator's additions."""
        return [*self.server_paths, *self.hidden_paths]

    def interpreter_paths(self, command: Sequence[str]) -> list[str]:
        """Read-only places the interpreter needs: the server's Python and the prefix of
        the kernel command's program (a virtualenv under /tmp or a home would be hidden)."""
        paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        # the server's import path: packages installed in editable mode live outside the
        # prefix (a source checkout, maybe under /tmp or a home); "" is the working folder
        paths |= {p for p in sys.path if p and os.path.isdir(p)}
        for program in [sys.executable, *command[:1]]:
            found = program if os.path.isabs(program) else shutil.which(program)
            if found:
                # .../bin/python -> ... ; the link itself and where it leads
                paths.add(os.path.dirname(os.path.dirname(os.path.abspath(found))))
                paths.add(os.path.dirname(os.path.dirname(real(found))))
        # a resolv.conf that is a link into /run (hidden) must still answer
        wanted = paths | {"/etc/resolv.conf", *self.read_only_paths}
        # never show what the server keeps secret, even if a program lives there
        secret = [real(p) for p in self.hidden() if p]
        return sorted(p for p in wanted if not any(_inside(real(p), hidden) for hidden in secret))

    def wrap(
        self, command: Sequence[str], place: KernelPlace, cwd: str, own_files: Sequence[str]
    ) -> list[str]:
        """The confined command of a kernel of ``place``: its project folder, its home
        and ``own_files`` (its connection file and socket folder) read-write."""
        program = self.bwrap()
        if program is None:
            raise RuntimeError(f"{self.bwrap_path!r} is not installed")
        home = self.environment.home_of(place)
        root = real(place.root_dir)
        # nothing of the root folder is shown but the project, whatever lies on sys.path
        shown = [p for p in self.interpreter_paths(command) if not _inside(real(p), root)]
        confinement = Confinement(
            cwd=cwd,
            read_write=[place.project_dir, home, *own_files],
            read_only=shown,
            hidden=[place.root_dir, *self.hidden()],
            isolate_network=self.network == "none",
            seccomp_file=self.seccomp_file,
        )
        if self.seccomp_file is None:
            raise RuntimeError("the kernel sandbox was not started (no seccomp filter)")
        return [*bwrap_argv(program, confinement), "--", *command]
