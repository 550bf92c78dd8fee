"""Jupyter processes started by the tests and the benchmarks, and always stopped.

A server started here

- runs in a process group of its own (``start_new_session``), so stopping it
  reaches everything it started in that group, and a test's Ctrl+C does not;
- sees Jupyter folders of its own (config, data, runtime under ``home``), so no
  real user's configuration reaches it and nothing of it is left beside theirs;
- is stopped when the ``with`` block ends, however it ends: SIGTERM to the group
  (Jupyter shuts its kernels down), then SIGKILL to whatever is left of the group.

Tests that expect the process to exit by itself (a server refusing to start) use
:func:`run`, which kills the group if it does not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

HOST = "127.0.0.1"
STOP_TIMEOUT = 20.0


def jupyter_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment, with Jupyter's folders under ``home``."""
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    env.update(extra or {})
    return env


def free_port(host: str = HOST) -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def server_args(
    root: Path,
    port: int = 0,
    *,
    module: str = "jupyter_server",
    extension: bool = True,
    extra: Sequence[str] = (),
) -> list[str]:
    """``python -m jupyter_server`` serving ``root`` on loopback, with or without us."""
    args = [
        sys.executable,
        "-m",
        module,
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--ServerApp.terminals_enabled=False",
        f"--ServerApp.jpserver_extensions=jupyter_workspace_perms={extension}",
    ]
    if os.geteuid() == 0:  # containers and CI run as root
        args.append("--ServerApp.allow_root=True")
    return [*args, *extra]


def tail(log: Path | None, lines: int = 40) -> str:
    """The end of a log file, for failure messages."""
    if log is None or not log.exists():
        return "(no log)"
    text = log.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def demo_args(port: int, *extra: str) -> list[str]:
    """``jupyter workspace-perms demo`` on ``port``, without opening a browser."""
    return [
        sys.executable,
        "-m",
        "jupyter_workspace_perms.cli.app",
        "demo",
        "--no-browser",
        f"--port={port}",
        *extra,
    ]


@dataclass
class Running:
    """A started process, its log (a file, when one was given) and how to stop it."""

    process: subprocess.Popen[Any]
    log: Path | None = None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the log, for failure messages."""
        return tail(self.log, lines)

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the process's group (nothing if it is gone)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def stop(self, first: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int | None:
        """``first`` to the group, wait, then SIGKILL whatever is left of the group."""
        if self.process.poll() is None:
            self.signal_group(first)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode

    def wait_until(self, ready: Callable[[], bool], timeout: float = 60.0) -> None:
        """Poll ``ready`` until it holds; raise with the log when the process exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the process exited with {self.process.returncode}\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError):
                if ready():
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the process was not ready within {timeout} s\n{self.log_tail()}")


@contextlib.contextmanager
def started(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    log: Path | None = None,
    stdout: int | IO[Any] | None = None,
    stop_signal: int = signal.SIGTERM,
    cwd: Path | None = None,
) -> Iterator[Running]:
    """Run ``args`` in a new process group until the block ends, then stop the group.

    Output goes to ``log`` (a file, stdout and stderr together) when given, else to
    ``stdout`` (e.g. ``subprocess.PIPE``, stderr then goes to the log-less void).
    """
    with contextlib.ExitStack() as stack:
        if log is not None:
            sink: Any = stack.enter_context(log.open("wb"))
            err: Any = subprocess.STDOUT
        else:
            sink, err = stdout, subprocess.DEVNULL
        process = subprocess.Popen(
            list(args),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=err,
            start_new_session=True,
            text=log is None and stdout is subprocess.PIPE,
            cwd=cwd,
        )
        running = Running(process, log)
        try:
            yield running
        finally:
            running.stop(stop_signal)


def run(
    args: Sequence[str], env: Mapping[str, str], timeout: float = 60.0, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in a new process group until it exits by itself; kill the group if not."""
    with subprocess.Popen(
        list(args),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=cwd,
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            Running(process).signal_group(signal.SIGKILL)
            out, err = process.communicate()
            raise AssertionError(f"{args[:4]} did not exit within {timeout} s:\n{err}") from None
        finally:
            Running(process).signal_group(signal.SIGKILL)  # anything it left in its group
    return subprocess.CompletedProcess(list(args), process.returncode, out, err)


def start_server(
    root: Path, db_url: str, home: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """Run a server with the extension until it exits by itself: one that refuses to start.

    A good start would run until the timeout, which fails the test.
    """
    env = jupyter_env(home, {"WORKSPACE_PERMS_DB_URL": db_url})
    args = server_args(
        root, extra=["--ServerApp.jpserver_extensions=jupyter_server_terminals=False", *extra]
    )
    return run(args, env, timeout=60)


def answers(url: str, headers: Mapping[str, str] | None = None) -> bool:
    """Whether an HTTP server answers ``url`` (any status)."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
