"""The sandbox's parts on their own: signals reach only the process they were meant
for, a secret folder is never shown because a program lives there, a kernel home that
is a link is refused, the seccomp program is well formed, and an unknown kernelspec is
refused before anything starts."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_workspace_perms.sandbox import KernelEnvironment, KernelPlace, KernelSandbox
from jupyter_workspace_perms.sandbox.provisioner import signal_in_group
from jupyter_workspace_perms.sandbox.seccomp import (
    UnsupportedArchitecture,
    no_symlinks_filter,
)
from tests.helpers.http import Http


def test_a_signal_reaches_a_process_only_in_the_group_it_was_meant_for() -> None:
    with subprocess.Popen(["sleep", "30"], start_new_session=True) as sleeper:
        try:
            signal_in_group(sleeper.pid, sleeper.pid + 100_000, signal.SIGTERM)  # wrong group
            with pytest.raises(subprocess.TimeoutExpired):
                sleeper.wait(timeout=0.5)
            signal_in_group(sleeper.pid, os.getpgid(sleeper.pid), signal.SIGTERM)
            assert sleeper.wait(timeout=10) == -signal.SIGTERM
        finally:
            sleeper.kill()


def test_a_program_inside_a_secret_folder_does_not_show_that_folder(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    (runtime / "bin").mkdir(parents=True)
    sandbox = KernelSandbox()
    sandbox.server_paths = [str(runtime)]
    shown = sandbox.interpreter_paths([str(runtime / "bin" / "python")])
    assert not any(p == str(runtime) or p.startswith(str(runtime) + "/") for p in shown)
    assert sys.prefix in shown or os.path.realpath(sys.prefix) in shown


def test_a_kernel_home_that_is_a_link_is_refused(tmp_path: Path) -> None:
    environment = KernelEnvironment(homes_dir=str(tmp_path / "homes"))
    place = KernelPlace(project_id=7, project_dir=str(tmp_path), root_dir=str(tmp_path))
    home = Path(environment.home_of(place))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    local = home / ".local"
    for child in sorted(local.rglob("*"), reverse=True):
        child.rmdir()
    local.rmdir()
    local.symlink_to(elsewhere)
    with pytest.raises(OSError, match="is a symbolic link"):
        environment.home_of(place)
    assert list(elsewhere.iterdir()) == []  # nothing made where the link points


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_seccomp_program_checks_the_architecture_then_the_links(machine: str) -> None:
    program = no_symlinks_filter(machine)
    insns = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    assert insns[0] == (0x20, 0, 0, 4)  # load the architecture
    deny = len(insns) - 1
    assert insns[deny] == (0x06, 0, 0, 0x00050000 | 1)  # EPERM
    assert insns[1][2] == deny - 2  # another architecture: straight to deny
    for index, (code, jt, _jf, _k) in enumerate(insns):
        if code in (0x15, 0x35) and index > 1:
            assert index + 1 + jt == deny
    with pytest.raises(UnsupportedArchitecture):
        no_symlinks_filter("mips")


async def test_an_unknown_kernel_is_refused_before_it_starts(http: Http) -> None:
    reply = await http("editor", "POST", "api/kernels", {"name": "nosuch", "path": "acme/public"})
    assert (reply.code, reply.reason) == (404, "no_such_kernel")
    assert await http.ok("editor", "GET", "api/kernels") == []


def test_the_import_path_is_shown_but_nothing_of_the_root_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package installed in editable mode (its source under /tmp or a home) must import
    in the kernel, as the admin panel does; a sys.path entry inside the root folder never
    shows the root's other projects."""
    source, root = tmp_path / "checkout", tmp_path / "root"
    (root / "acme" / "one").mkdir(parents=True)
    (root / "acme" / "two").mkdir(parents=True)
    source.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(source), str(root / "acme" / "two")])
    sandbox = KernelSandbox()
    sandbox.seccomp_file = str(tmp_path / "filter.bpf")
    environment = KernelEnvironment(homes_dir=str(tmp_path / "homes"))
    sandbox.environment = environment
    place = KernelPlace(1, str(root / "acme" / "one"), str(root))
    argv = sandbox.wrap([sys.executable], place, str(root / "acme" / "one"), [])
    shown = {argv[i + 1] for i, arg in enumerate(argv) if arg == "--ro-bind"}
    assert str(source) in shown
    assert not any(p.startswith(str(root)) for p in shown)
