"""A kernel sees its own project and nothing else of the server.

Real servers, real kernels under bubblewrap, real websockets: from a kernel of
``acme/public`` (an Editor's), the root folder shows only that project; the private
project, the policy database, the server's runtime files (its connection files, its
``jpserver-*.json``, its cookie secret), the server's process and environment are out
of reach; a symlink the kernel plants towards another project leads nowhere, through
the kernel and through the server's file routes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jupyter_workspace_perms.store.database import sqlite_path
from tests.helpers.http import Http
from tests.helpers.world import World
from tests.sandbox.conftest import OpenKernel

SECRET = "the private project's numbers"

LOOK = """
import json, os
def attempt(path):
    try:
        with open(path, "rb") as f:
            return "read " + repr(f.read(40))
    except OSError as e:
        return type(e).__name__
def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as e:
        return type(e).__name__
with open("written-by-the-kernel.txt", "w") as f:
    f.write("mine")
seen = {
    "cwd": os.getcwd(),
    "root": listing(ROOT),
    "workspace": listing(os.path.join(ROOT, "acme")),
    "private": attempt(os.path.join(ROOT, "acme", "private", "secret.txt")),
    "private_by_dots": attempt("../private/secret.txt"),
    "database": attempt(DATABASE),
    "runtime": listing(RUNTIME),
    "cookie_secret": attempt(COOKIE),
    "server_info": attempt(INFO),
    "integration_key": attempt(KEY),
    "server_environ": attempt(f"/proc/{SERVER_PID}/environ"),
    "server_root_through_proc": listing(f"/proc/{SERVER_PID}/root{ROOT}"),
    "own_file": open("written-by-the-kernel.txt").read(),
    "home": os.environ["HOME"],
    "pid": os.getpid(),
    "secrets": sorted(k for k in os.environ if "TOKEN" in k or k.startswith("WORKSPACE_PERMS")),
}
print(json.dumps(seen))
"""


def look(world: World, serverapp: Any, db_url: str) -> str:
    """The probe, with the server's paths filled in."""
    values = {
        "ROOT": str(world.root.resolve()),
        "DATABASE": str(sqlite_path(db_url)),
        "RUNTIME": serverapp.runtime_dir,
        "COOKIE": serverapp.cookie_secret_file,
        "INFO": serverapp.info_file,
        "KEY": serverapp.web_app.settings["workspace_perms_integrations"].key_file,
        "SERVER_PID": os.getpid(),  # the test server runs in this process
    }
    header = "".join(f"{name} = {value!r}\n" for name, value in values.items())
    return header + LOOK


async def test_a_kernel_sees_only_its_own_project(
    open_kernel: OpenKernel,
    wsp_world: World,
    jp_serverapp: Any,
    wsp_db_url: str,
    monkeypatch: Any,
) -> None:
    monkeypatch.setenv("JUPYTER_TOKEN", "0123456789abcdef")  # the server's secrets
    (wsp_world.root / "acme/private/secret.txt").write_text(SECRET)
    Path(jp_serverapp.info_file).write_text("{}")  # as a started server writes it
    key = Path(jp_serverapp.web_app.settings["workspace_perms_integrations"].key_file)
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text("not a real key")  # as after the first integration value
    kernel_id, socket = await open_kernel("editor", "acme/public")
    ran = await socket.execute(look(wsp_world, jp_serverapp, wsp_db_url))
    assert ran.status == "ok", ran
    seen = json.loads(ran.stdout)
    public = str((wsp_world.root / "acme/public").resolve())
    assert seen["cwd"] == public
    assert seen["root"] == ["acme"]
    assert seen["workspace"] == ["public"]
    for hidden in ("private", "private_by_dots", "cookie_secret", "server_info", "integration_key"):
        assert seen[hidden] == "FileNotFoundError", (hidden, seen[hidden])
    assert seen["database"] == "FileNotFoundError"
    assert seen["server_environ"] == "FileNotFoundError"  # another PID namespace
    assert seen["server_root_through_proc"] == "FileNotFoundError"
    assert seen["runtime"] == [f"kernel-{kernel_id}.json"]  # its own connection file only
    assert seen["own_file"] == "mine"
    assert (wsp_world.root / "acme/public/written-by-the-kernel.txt").read_text() == "mine"
    assert seen["home"].endswith(os.sep + "1") and "kernel-homes" in seen["home"]
    assert seen["pid"] < 10
    assert seen["secrets"] == []


async def test_a_kernel_cannot_make_links_nor_change_the_hosts_settings(
    open_kernel: OpenKernel, wsp_world: World, jp_serverapp: Any
) -> None:
    """A link planted in the project would be followed by the server's file routes (by
    swapping a file and a link between the server's check and its use): kernels cannot
    make one. Hard links cannot leave the sandbox's mounts. The host's kernel settings
    (``/proc/sys``) are read-only, even for a server running as root."""
    secret = wsp_world.root / "acme/private/secret.txt"
    secret.write_text(SECRET)
    kernel_id, socket = await open_kernel("editor", "acme/public")
    info = jp_serverapp.kernel_manager.get_kernel(kernel_id).get_connection_info()
    sockets = os.path.dirname(str(info["ip"]))
    probe = (
        "import ctypes, json, os\n"
        "def attempt(make):\n"
        "    try:\n"
        "        make()\n"
        "        return 'made'\n"
        "    except OSError as e:\n"
        "        return type(e).__name__\n"
        "open('plain.txt', 'w').write('x')\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def io_uring():\n"
        "    params = ctypes.create_string_buffer(120)\n"
        "    if libc.syscall(425, 4, params) < 0:\n"
        "        raise OSError(ctypes.get_errno(), 'io_uring_setup')\n"
        "def symlinkat():\n"
        "    if libc.symlinkat(b'/etc/passwd', -100, b'by-symlinkat') != 0:\n"
        "        raise OSError(ctypes.get_errno(), 'symlinkat')\n"
        "results = {\n"
        f"    'symlink': attempt(lambda: os.symlink({str(secret.resolve())!r}, 'evil.txt')),\n"
        "    'symlinkat': attempt(symlinkat),\n"
        "    'io_uring': attempt(io_uring),\n"
        f"    'socket': attempt(lambda: os.symlink('/tmp', {sockets!r} + '/k-9')),\n"
        "    'hardlink_out': attempt(lambda: os.link('/etc/hostname', 'h')),\n"
        "    'hardlink_in': attempt(lambda: os.link('plain.txt', 'plain-too.txt')),\n"
        "    'sysctl': attempt(lambda: os.close(os.open('/proc/sys/kernel/core_pattern',"
        " os.O_WRONLY))),\n"
        "}\n"
        "print(json.dumps(results))\n"
    )
    ran = await socket.execute(probe)
    assert ran.status == "ok", ran
    results = json.loads(ran.stdout)
    assert results["symlink"] == results["symlinkat"] == "PermissionError"
    assert results["io_uring"] == "PermissionError"  # its SYMLINKAT would pass unseen
    assert results["socket"] == "PermissionError"
    assert results["hardlink_out"] in ("OSError", "PermissionError")  # EXDEV / EPERM
    assert results["hardlink_in"] == "made"  # inside the project: harmless, allowed
    assert results["sysctl"] in ("OSError", "PermissionError")  # EROFS / EACCES
    assert not (wsp_world.root / "acme/public/evil.txt").is_symlink()
    assert kernel_id not in sockets  # the socket folder's name tells nothing


async def test_ipython_startup_files_left_by_one_kernel_never_run_in_the_next(
    open_kernel: OpenKernel, http: Http
) -> None:
    """Profiles and startup files live in each kernel's private /tmp: an Editor's kernel
    cannot leave code that runs, unseen, in the kernels Contributors start later."""
    kernel_id, socket = await open_kernel("editor", "acme/public")
    plant = (
        "import os\n"
        "startup = os.path.join(os.environ['IPYTHONDIR'], 'profile_default', 'startup')\n"
        "os.makedirs(startup, exist_ok=True)\n"
        "open(os.path.join(startup, '00-backdoor.py'), 'w').write('BACKDOOR = 1')\n"
        "print(os.environ['IPYTHONDIR'], os.environ['MPLCONFIGDIR'])\n"
    )
    ran = await socket.execute(plant)
    assert ran.stdout.split() == ["/tmp/ipython", "/tmp/matplotlib"]
    await http.ok("editor", "POST", f"api/kernels/{kernel_id}/restart")
    _, again = await open_kernel("editor", "acme/public")  # the same, restarted kernel
    seen = await again.execute("print('BACKDOOR' in globals())")
    assert seen.stdout.strip() == "False"
