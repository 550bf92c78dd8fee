"""``jupyter workspace-perms demo``: build the sample world and serve JupyterLab.

The policy lives in a SQLite file in a new temporary folder, beside (never inside)
the served root. One personal access token per persona is printed as a login link;
opening it signs the browser in as that persona.

The demo owns what it starts and creates. JupyterLab runs in a process group of
its own (so a terminal's Ctrl+C reaches only the demo, and no confirmation prompt
appears); SIGINT, SIGTERM or SIGHUP to the demo stop that group (Jupyter shuts its
kernels down on SIGTERM; what is still there after a grace period, or after a
second signal, is killed) and then remove the temporary folder. Files served from
``--root`` stay; the policy database goes with the temporary folder.

Jupyter's own server token is set explicitly (from a file in the temporary
folder), so Jupyter does not print its "copy and paste one of these URLs" box: that
token signs nobody in here, the persona links do. The server runs in demo mode, so
the token opens the persona page (:mod:`..demo.landing`), which the demo opens in
a browser and from which JupyterLab's status bar switches persona.

``demo-world ROOT`` builds the same world without serving it, for a server started
otherwise (Binder's ``binder/start``).
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import webbrowser
from pathlib import Path
from types import FrameType, TracebackType

from traitlets import Bool, Integer, Unicode
from traitlets.config.application import StrDict

from ..demo.landing import DEMO_PATH
from ..demo.world import PERSONAS, build_world
from ..errors import Conflict, InvalidInput
from ..store import PolicyStore
from .base import PROG, Command, Result, UsageError, table

#: Seconds JupyterLab gets to shut its kernels down before its group is killed.
STOP_GRACE = 20.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Demo(Command):
    """``demo [--port N] [--ip ADDRESS] [--root DIR] [--no-browser]``."""

    name = f"{PROG} demo"
    description = (
        "Build a sample workspace (every role, a guest, a joinable colleague, a member "
        "blocked by enforced SSO; public, locked and private projects) on SQLite in a "
        "temporary folder, start JupyterLab and print one login link per persona. "
        "Ctrl+C (or SIGTERM, SIGHUP) stops JupyterLab and its kernels and removes the "
        "temporary folder; files served from --root are kept."
    )
    opens_store = False

    port = Integer(8888, config=True, help="Port to serve on (default 8888).")
    ip = Unicode("127.0.0.1", config=True, help="Address to serve on (default 127.0.0.1).")
    root = Unicode(
        "",
        config=True,
        help="Folder to serve; must be empty or new. Its files are kept when the demo "
        "stops (default: a folder inside the temporary folder, removed with it).",
    )
    open_browser = Bool(True, config=True, help="Open the persona page in a browser.")
    aliases: StrDict = {
        **Command.aliases,
        "port": "Demo.port",
        "ip": "Demo.ip",
        "root": "Demo.root",
    }
    flags: StrDict = {
        **Command.flags,
        "no-browser": ({"Demo": {"open_browser": False}}, "Do not open a browser."),
    }

    def start(self) -> None:
        """Build the world, print the links, run the server until stopped; then clean up."""
        with self.reporting_errors(), _StopSignals() as stop:
            served = self._served_root()
            self._check_port()
            with tempfile.TemporaryDirectory(
                prefix="workspace-perms-demo-", ignore_cleanup_errors=True
            ) as temporary:
                base = Path(temporary)
                root = served or base / "root"
                root.mkdir(parents=True, exist_ok=True)
                db_url = f"sqlite:///{base / 'policy.sqlite'}"
                store = PolicyStore(db_url=db_url).open()
                try:
                    tokens = build_world(store, root)
                finally:
                    store.close()
                if stop.received is not None:
                    return
                server_token = secrets.token_hex(24)
                links = self._links(tokens)
                landing = f"{self._base()}/{DEMO_PATH}?token={server_token}"
                self._print(links, landing, root, db_url, kept=served is not None)
                self._serve(root, db_url, server_token, landing, base, stop)

    def run(self) -> Result:
        raise NotImplementedError  # start() does the work: the demo runs until stopped

    def _served_root(self) -> Path | None:
        """``--root`` as an absolute path, refused unless empty or new (nothing created yet)."""
        if not self.root:
            return None
        root = Path(self.root).expanduser().absolute()
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise UsageError(f"--root {root} is not an empty folder: give a new or empty one")
        return root

    def _check_port(self) -> None:
        """Refuse a port someone already listens on, before anything is created.

        Binds the way the server will (``SO_REUSEADDR``, every address of ``--ip``),
        so a port in TIME_WAIT is not mistaken for a taken one.
        """
        if not 0 < self.port < 65536:
            raise UsageError(f"--port {self.port} is not a port: use 1 to 65535")
        try:
            addresses = socket.getaddrinfo(
                self.ip or None, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )
        except socket.gaierror as e:
            raise UsageError(f"--ip {self.ip}: {e.strerror}") from None
        for family, kind, proto, _name, address in addresses:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                try:
                    probe.bind(address)
                except OSError as e:
                    if e.errno == errno.EADDRINUSE:
                        raise Conflict(
                            f"port {self.port} on {self.ip} is already in use: stop what "
                            "listens there or choose another with --port N",
                            "port_in_use",
                        ) from None
                    if e.errno == errno.EACCES:
                        raise InvalidInput(
                            f"not allowed to listen on port {self.port}: choose one above 1023",
                            "port_not_allowed",
                        ) from None

    def _base(self) -> str:
        host = "localhost" if self.ip in ("127.0.0.1", "localhost") else self.ip
        return f"http://{host}:{self.port}"

    def _links(self, tokens: dict[str, str]) -> dict[str, str]:
        return {key: f"{self._base()}/lab?token={t}" for key, t in tokens.items()}

    def _print(
        self, links: dict[str, str], landing: str, root: Path, db_url: str, *, kept: bool
    ) -> None:
        if self.json_output:
            personas = [
                {"persona": p.key, "email": p.email, "shows": p.shows, "url": links[p.key]}
                for p in PERSONAS
            ]
            answer = {"root": str(root), "db_url": db_url, "landing": landing}
            print(json.dumps({**answer, "personas": personas}))
        else:
            rows = [(p.shows, p.email, links[p.key]) for p in PERSONAS]
            print(f"Serving {root}\nPolicy database {db_url}\n")
            print(f"Pick a persona (and switch later from JupyterLab's status bar):\n{landing}\n")
            print(table(("shows", "signs in as", "login link"), rows))
            print("\nOr open a link to sign in as that person (private windows keep them apart).")
            removed = "the policy database is" if kept else "the served files and database are"
            print(f"Press Ctrl+C to stop: {removed} removed then.", flush=True)
        sys.stdout.flush()

    def _serve(
        self,
        root: Path,
        db_url: str,
        server_token: str,
        landing: str,
        base: Path,
        stop: _StopSignals,
    ) -> None:
        """Run JupyterLab in its own process group until it exits or a stop signal comes."""
        module = "jupyterlab" if importlib.util.find_spec("jupyterlab") else "jupyter_server"
        args = [
            sys.executable,
            "-m",
            module,
            f"--ServerApp.root_dir={root}",
            f"--ServerApp.port={self.port}",
            f"--ServerApp.ip={self.ip}",
            "--ServerApp.port_retries=0",
            "--ServerApp.open_browser=False",
            "--ServerApp.jpserver_extensions=jupyter_workspace_perms=True",
            "--ServerApp.terminals_enabled=False",
            "--WorkspacePermsExtension.demo_mode=True",
        ]
        if os.geteuid() == 0:  # containers and CI run as root
            args.append("--ServerApp.allow_root=True")
        # an explicit server token: Jupyter then prints no token box (the token is no login)
        token_file = base / "server-token"
        token_file.touch(mode=0o600)
        token_file.write_text(server_token, encoding="ascii")
        env = {k: v for k, v in os.environ.items() if k != "JUPYTER_TOKEN"}
        env.update({"WORKSPACE_PERMS_DB_URL": db_url, "JUPYTER_TOKEN_FILE": str(token_file)})
        server = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
        stopped = threading.Event()
        try:
            if self.open_browser:
                threading.Thread(
                    target=_open_when_ready, args=(landing, stopped), daemon=True
                ).start()
            while stop.received is None and not _exited(server):
                time.sleep(0.2)
        finally:
            stopped.set()
            _stop_group(server, stop)
        if stop.received is None and server.returncode:
            raise InvalidInput(
                f"JupyterLab exited with status {server.returncode} (its log is above)",
                "server_failed",
            )


class DemoWorld(Command):
    """``demo-world ROOT``: the demo's world without a server (Binder starts its own)."""

    name = f"{PROG} demo-world"
    description = (
        "Build the demo's sample world (the people, workspaces and projects of "
        f"`{PROG} demo`, and their folders in ROOT) in the policy database, without "
        "personal tokens and without serving it. Serve ROOT with "
        "c.WorkspacePermsExtension.demo_mode = True and open <base_url>"
        f"{DEMO_PATH}?token=<the server's token> to pick a persona. ROOT must be new or "
        "empty; the database must not hold a workspace acme yet."
    )
    arguments = ("ROOT",)

    def run(self) -> Result:
        root = Path(self.args[0]).expanduser().absolute()
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise UsageError(f"ROOT {root} is not an empty folder: give a new or empty one")
        if "acme" in self.store.snapshot.workspaces_by_slug:
            raise Conflict(
                "the policy database already holds a workspace acme: the demo world is "
                "built there already (or give another --db-url)",
                "demo_world_exists",
            )
        root.mkdir(parents=True, exist_ok=True)
        build_world(self.store, root, tokens=False)
        personas = [{"persona": p.key, "email": p.email, "shows": p.shows} for p in PERSONAS]
        return {"root": str(root), "landing": DEMO_PATH, "personas": personas}

    def render(self, result: Result) -> str:
        rows = [(p["shows"], p["email"]) for p in result["personas"]]
        return (
            f"Built the demo world in {result['root']}\n\n"
            + table(("shows", "signs in as"), rows)
            + "\n\nServe it with c.WorkspacePermsExtension.demo_mode = True and "
            f"c.ServerApp.root_dir = {result['root']}, then open <base_url>"
            f"{result['landing']}?token=<the server's token>."
        )


class _StopSignals:
    """SIGINT, SIGTERM and SIGHUP as a stop request the demo checks (never mid-step).

    A handler that raised instead could interrupt the demo between starting a
    process and recording it, or while removing its folder.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self.count = 0
        self._previous: dict[int, object] = {}

    def _note(self, signum: int, _frame: FrameType | None) -> None:
        self.count += 1
        if self.received is None:
            self.received = signum

    def __enter__(self) -> _StopSignals:
        for signum in STOP_SIGNALS:
            if signal.getsignal(signum) is not signal.SIG_IGN:  # e.g. SIGHUP under nohup
                self._previous[signum] = signal.signal(signum, self._note)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            if handler is not None:  # None: set outside Python, cannot be restored
                signal.signal(signum, handler)  # type: ignore[arg-type]


def _exited(server: subprocess.Popen[bytes]) -> bool:
    """Whether the server has exited, without reaping it: its pid keeps naming its group."""
    if not hasattr(os, "waitid"):  # macOS before Python 3.13
        return server.poll() is not None
    try:
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        return os.waitid(os.P_PID, server.pid, flags) is not None
    except ChildProcessError:  # already reaped
        return True


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(group, signum)


def _stop_group(server: subprocess.Popen[bytes], stop: _StopSignals) -> None:
    """SIGTERM to the server's group, wait (JupyterLab stops its kernels), then SIGKILL it.

    The final SIGKILL also reaches whatever the server left behind in its group; a
    second stop signal skips the wait.
    """
    group = server.pid  # start_new_session: the server leads its own group
    _signal_group(group, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    patience = max(stop.count, 1)  # signals so far; one more means "now"
    while not _exited(server) and time.monotonic() < deadline and stop.count <= patience:
        time.sleep(0.1)
    _signal_group(group, signal.SIGKILL)
    server.wait()


def _open_when_ready(link: str, stopped: threading.Event) -> None:
    """Open the browser once the server answers (bounded wait)."""
    status_url = link.split(f"/{DEMO_PATH}?")[0] + "/api/status"
    for _ in range(120):
        if stopped.is_set():
            return
        try:
            urllib.request.urlopen(status_url, timeout=1)
        except urllib.error.HTTPError:
            break  # it answers (403 without identity): ready
        except OSError:
            time.sleep(0.25)
            continue
        break
    if not stopped.is_set():
        webbrowser.open(link)
