"""Issue #10 item 14: the demo stops everything it started and removes what it created.

The demo runs as the real ``python -m jupyter_workspace_perms.cli.app demo`` in a
process group of its own, with a terminal (a pty) as its stdin as when a person
runs it, and its own ``TMPDIR`` so that a folder it leaves behind is seen. Each
test kills every process group it saw (the demo's, JupyterLab's, the kernel's)
when it ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.missing import missing
from tests.helpers.servers import Running, answers, demo_args, free_port, jupyter_env, run

if not Path("/proc/self/stat").exists():  # process groups and states are read there
    missing("these tests read /proc, which this system lacks", module=True)

TOKEN_BOX = ("copy and paste one of these URLs", "Or copy and paste")
SERVER_TOKEN_IN_URL = re.compile(r"token=[0-9a-f]{48}\b")
CONFIRM_PROMPT = "Shutdown this Jupyter server"


def living(groups: set[int]) -> list[str]:
    """Processes (not zombies) whose process group is one of ``groups``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            text = stat.read_text()
            state, _ppid, pgrp = text.rsplit(")", 1)[1].split()[:3]
            if int(pgrp) in groups and state != "Z":
                found.append(text.split(")")[0] + ")")
    return found


def processes_mentioning(needle: str) -> set[int]:
    """Pids whose command line contains ``needle`` (a kernel's connection file name)."""
    pids = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if needle.encode() in cmdline.read_bytes():
                pids.add(int(cmdline.parent.name))
    return pids


def demo_folders(tmpdir: Path) -> list[str]:
    return sorted(p.name for p in tmpdir.iterdir() if p.name.startswith("workspace-perms-demo-"))


@dataclass
class Demo:
    """A running demo, what it printed and every process group it is known to have."""

    running: Running
    tmpdir: Path
    base: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    groups: set[int] = field(default_factory=set)

    def output(self) -> str:
        assert self.running.log is not None
        return self.running.log.read_text(encoding="utf-8", errors="replace")

    def token(self, persona: str) -> str:
        [url] = [p["url"] for p in self.info["personas"] if p["persona"] == persona]
        return str(url.split("token=", 1)[1])


@contextlib.contextmanager
def running_demo(tmp_path: Path, *extra: str) -> Iterator[Demo]:
    """The demo with a pty as stdin, serving until the test stops it; every group killed after."""
    home, tmpdir = tmp_path / "home", tmp_path / "tmp"
    tmpdir.mkdir()
    env = jupyter_env(home, {"TMPDIR": str(tmpdir)})
    port = free_port()
    log = tmp_path / "demo.log"
    terminal, stdin = pty.openpty()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            demo_args(port, "--json", *extra),
            env=env,
            stdin=stdin,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    os.close(stdin)
    demo = Demo(Running(process, log), tmpdir, groups={process.pid})
    try:
        demo.running.wait_until(lambda: demo.output().startswith("{"), timeout=60)
        demo.info = json.loads(demo.output().splitlines()[0])
        demo.base = f"http://localhost:{port}"
        demo.running.wait_until(lambda: answers(f"{demo.base}/api/status"), timeout=90)
        demo.running.wait_until(lambda: any((home / "runtime").glob("jpserver-*.json")))
        [info] = (home / "runtime").glob("jpserver-*.json")
        demo.groups.add(os.getpgid(json.loads(info.read_text())["pid"]))
        yield demo
    finally:
        for group in demo.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        demo.running.stop(signal.SIGKILL)
        os.close(terminal)


def start_kernel(demo: Demo) -> set[int]:
    """A notebook session as the Admin; the groups of its kernel's processes."""
    request = urllib.request.Request(
        f"{demo.base}/api/sessions",
        data=json.dumps(
            {
                "path": "acme/analysis/forecast.ipynb",
                "type": "notebook",
                "name": "forecast.ipynb",
                "kernel": {"name": "python3"},
            }
        ).encode(),
        headers={
            "Authorization": f"token {demo.token('admin')}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        kernel_id = json.loads(response.read())["kernel"]["id"]
    deadline = time.monotonic() + 60
    while not (pids := processes_mentioning(f"kernel-{kernel_id}.json")):
        assert time.monotonic() < deadline, "the kernel process did not appear"
        time.sleep(0.2)
    return {os.getpgid(pid) for pid in pids}


STOPS = {
    # (signal, sent to the whole group like a terminal does, --root given)
    "kill-TERM-pid-with-root": (signal.SIGTERM, False, True),
    "ctrl-c": (signal.SIGINT, True, False),
    "terminal-closed": (signal.SIGHUP, True, False),
}


@pytest.mark.parametrize(("signum", "to_group", "with_root"), STOPS.values(), ids=STOPS)
def test_a_stop_signal_ends_every_process_and_removes_the_temporary_folder(
    tmp_path: Path, signum: int, to_group: bool, with_root: bool
) -> None:
    root = tmp_path / "served"
    extra = [f"--root={root}"] if with_root else []
    with running_demo(tmp_path, *extra) as demo:
        assert len(demo_folders(demo.tmpdir)) == 1
        demo.groups |= start_kernel(demo)
        process = demo.running.process
        if to_group:
            os.killpg(process.pid, signum)
        else:
            os.kill(process.pid, signum)
        assert process.wait(timeout=60) == 0, demo.output()[-3000:]
        assert living(demo.groups) == [], demo.output()[-3000:]
        assert demo_folders(demo.tmpdir) == []
        output = demo.output()
        assert CONFIRM_PROMPT not in output
        assert not any(box in output for box in TOKEN_BOX)
        # the server's token appears once: in the persona page's link the demo printed
        landing = demo.info["landing"]
        assert [m.group(0) for m in SERVER_TOKEN_IN_URL.finditer(output)] == [
            "token=" + landing.split("token=", 1)[1]
        ]
        if with_root:  # the served files stay, the policy database went with the temporary folder
            assert (root / "acme" / "analysis" / "forecast.ipynb").is_file()
            assert demo.info["root"] == str(root)


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_a_taken_port_is_one_clear_error_before_anything_is_created(
    tmp_path: Path, json_output: bool
) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = jupyter_env(tmp_path / "home", {"TMPDIR": str(tmpdir)})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run(demo_args(port, *(["--json"] if json_output else [])), env, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    message = f"port {port} on 127.0.0.1 is already in use"
    if json_output:
        assert done.stderr == ""
        assert json.loads(done.stdout)["reason"] == "port_in_use"
        assert message in json.loads(done.stdout)["error"]
    else:
        assert done.stdout == ""
        assert done.stderr.startswith(f"error: {message}") and done.stderr.count("\n") == 1
    assert demo_folders(tmpdir) == []
