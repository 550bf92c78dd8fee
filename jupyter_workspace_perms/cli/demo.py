"""``jupyter workspace-perms demo``: build the sample world and serve JupyterLab.

The policy lives in a SQLite file in a new temporary folder, beside (never inside)
the served root. One personal access token per persona is printed as a login link;
opening it signs the browser in as that persona.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import webbrowser
from pathlib import Path

from traitlets import Bool, Integer, Unicode
from traitlets.config.application import StrDict

from ..demo.world import PERSONAS, build_world
from ..store import PolicyStore
from .base import PROG, Command, Result, UsageError, table


class Demo(Command):
    """``demo [--port N] [--root DIR] [--no-browser]``."""

    name = f"{PROG} demo"
    description = (
        "Build a sample workspace (every role, a guest, a joinable colleague, a member "
        "blocked by enforced SSO; public, locked and private projects) on SQLite in a "
        "temporary folder, start JupyterLab and print one login link per persona."
    )
    opens_store = False

    port = Integer(8888, config=True, help="Port to serve on (default 8888).")
    ip = Unicode("127.0.0.1", config=True, help="Address to serve on (default 127.0.0.1).")
    root = Unicode(
        "",
        config=True,
        help="Folder to serve; must be empty or new (default: a new temporary folder).",
    )
    open_browser = Bool(True, config=True, help="Open the Admin's link in a browser.")
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
        """Build the world, print the links, run the server until interrupted."""
        with self.reporting_errors():
            base = Path(tempfile.mkdtemp(prefix="workspace-perms-demo-"))
            root = self._root(base)
            db_url = f"sqlite:///{base / 'policy.sqlite'}"
            store = PolicyStore(db_url=db_url).open()
            try:
                tokens = build_world(store, root)
            finally:
                store.close()
            links = self._links(tokens)
            self._print(links, root, db_url)
            raise SystemExit(self._serve(root, db_url, links["admin"]))

    def run(self) -> Result:
        raise NotImplementedError  # start() does the work: the demo runs until stopped

    def _root(self, base: Path) -> Path:
        if not self.root:
            root = base / "root"
            root.mkdir()
            return root
        root = Path(self.root).expanduser().absolute()
        if root.exists() and any(root.iterdir()):
            raise UsageError(f"--root {root} is not empty: give a new or empty folder")
        root.mkdir(parents=True, exist_ok=True)
        return root

    def _links(self, tokens: dict[str, str]) -> dict[str, str]:
        host = "localhost" if self.ip in ("127.0.0.1", "localhost") else self.ip
        return {key: f"http://{host}:{self.port}/lab?token={t}" for key, t in tokens.items()}

    def _print(self, links: dict[str, str], root: Path, db_url: str) -> None:
        if self.json_output:
            personas = [
                {"persona": p.key, "email": p.email, "shows": p.shows, "url": links[p.key]}
                for p in PERSONAS
            ]
            print(json.dumps({"root": str(root), "db_url": db_url, "personas": personas}))
        else:
            rows = [(p.shows, p.email, links[p.key]) for p in PERSONAS]
            print(f"Serving {root}\nPolicy database {db_url}\n")
            print(table(("shows", "signs in as", "login link"), rows))
            print("\nOpen a link to sign in as that person (private windows keep them apart).")
            print("Press Ctrl+C to stop.", flush=True)
        sys.stdout.flush()

    def _serve(self, root: Path, db_url: str, admin_link: str) -> int:
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
        ]
        if os.geteuid() == 0:  # containers and CI run as root
            args.append("--ServerApp.allow_root=True")
        env = {**os.environ, "WORKSPACE_PERMS_DB_URL": db_url}
        server = subprocess.Popen(args, env=env)
        if self.open_browser:
            threading.Thread(
                target=_open_when_ready, args=(admin_link, server), daemon=True
            ).start()
        try:
            return server.wait()
        except KeyboardInterrupt:
            server.send_signal(signal.SIGINT)
            server.send_signal(signal.SIGINT)  # Jupyter asks for confirmation once
            return server.wait(timeout=30)


def _open_when_ready(link: str, server: subprocess.Popen[bytes]) -> None:
    """Open the browser once the server answers (bounded wait)."""
    status_url = link.split("/lab?")[0] + "/api/status"
    for _ in range(120):
        if server.poll() is not None:
            return
        try:
            urllib.request.urlopen(status_url, timeout=1)
        except urllib.error.HTTPError:
            break  # it answers (403 without identity): ready
        except OSError:
            time.sleep(0.25)
            continue
        break
    webbrowser.open(link)
