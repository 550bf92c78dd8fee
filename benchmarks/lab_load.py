"""Benchmark what the lab extension costs a person opening a notebook: a JupyterLab page load,
until the notebook's kernel is idle and its cells are drawn, with the extension and without.

Run from the repository root (see ``benchmarks/README.md``)::

    python benchmarks/lab_load.py [--quick] [--aa] [--pairs 20] [--json PATH] [--strict]

It starts two ``jupyter lab`` servers side by side on 127.0.0.1, from the same installed
JupyterLab, on the same files (the demo world), with the same options except:

- *stock*: our server extension off (``jupyter_workspace_perms=False``), JupyterLab's
  ``labextensions_path`` holding every installed lab extension but ours (links to the same
  folders), and the server's token;
- *extension*: both halves on, the demo's policy, signed in as the Contributor through the
  sign-in confirmation page.

Then, in pairs of rounds (stock and extension back to back, the order alternating), Debian's
Chromium, driven by Playwright, opens ``lab/tree/acme/analysis/forecast.ipynb`` in a fresh
browser context and the page itself records when the notebook's cells are drawn and its
kernel is idle. Progress goes to stderr; the Markdown tables and target lines go to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import (  # noqa: E402
    Target,
    cpu_seconds,
    load_average,
    log,
    percentile,
)
from tests.helpers.chromium import CHROMIUM, CHROMIUM_ARGS, VIEWPORT  # noqa: E402
from tests.helpers.servers import (  # noqa: E402
    HOST,
    Running,
    free_port,
    jupyter_env,
    server_args,
    started,
)

SIDES = ("stock", "extension")
LAB_EXTENSION = "jupyter-workspace-perms"  # the lab extension's package name
PLUGIN_PREFIX = LAB_EXTENSION + ":"
BUNDLE_PATH = f"/lab/extensions/{LAB_EXTENSION}/"  # where JupyterLab serves its files
API_PATH = "/api/workspace-perms/"
NOTEBOOK = "acme/analysis/forecast.ipynb"
PERSONA = "contributor"
STARTUP_TIMEOUT_S = 120.0
LOAD_TIMEOUT_MS = 120_000
POLL_MS = 20  # how often the page checks whether the notebook is ready

TARGET_RATIO = 1.05  # extension / stock median load time, at most


# -- what the page records -------------------------------------------------------------

# Runs in the timed page before JupyterLab's own scripts. Times are ``performance.now()``:
# milliseconds since the navigation started. The checks read a few properties until the
# notebook panel exists, then query only the panel's own nodes, so polling costs both sides
# alike and little.
PROBE = """
(() => {
  const PATH = %(path)s, CELLS = %(cells)d, CODE = %(code)d, MARKDOWN = %(markdown)d;
  performance.setResourceTimingBufferSize(10000);
  const t = {};
  let hooked = false;
  const mark = (key) => { if (!(key in t)) t[key] = performance.now(); };
  const poll = () => {
    const app = window.jupyterapp;
    if (app) {
      mark('app');
      if (!hooked) {
        hooked = true;
        app.started.then(() => mark('started'));
        app.restored.then(() => mark('restored'));
      }
      const w = app.shell.currentWidget;
      if (w && w.content && w.context && w.context.path === PATH && w.context.isReady) {
        mark('opened');
        const cells = w.content.node.querySelectorAll('.jp-Cell').length;
        const editors = w.content.node.querySelectorAll('.jp-CodeCell .cm-editor').length;
        const md = w.content.node.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown').length;
        if (w.content.widgets.length === CELLS && cells === CELLS && editors === CODE
            && md === MARKDOWN) {
          mark('rendered');
        }
        if (w.sessionContext && w.sessionContext.kernelDisplayStatus === 'idle') mark('idle');
        if ('rendered' in t && 'idle' in t) {
          t.done = Math.max(t.rendered, t.idle);
          window.__wspLoad = t;
          return;
        }
      }
    }
    setTimeout(poll, %(poll)d);
  };
  poll();
})();
"""

# What the page fetched (resource timing) and when its document arrived.
RESOURCES = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const list = performance.getEntriesByType('resource').map(e => ({
    path: new URL(e.name).pathname,
    type: e.initiatorType,
    start: e.startTime,
    duration: e.duration,
    end: e.responseEnd,
    transfer: e.transferSize,
    body: e.encodedBodySize,
  }));
  return {document_ms: nav ? nav.responseEnd : null,
          dom_content_loaded_ms: nav ? nav.domContentLoadedEventEnd : null,
          load_event_ms: nav ? nav.loadEventEnd : null,
          resources: list};
}
"""

PLUGINS = """
(prefix) => window.jupyterapp.listPlugins().filter(id => id.startsWith(prefix))
  .map(id => [id, window.jupyterapp.isPluginActivated(id)])
"""


def notebook_shape() -> tuple[int, int, int]:
    """Cells, code cells and markdown cells of the demo's notebook (what must be drawn)."""
    from jupyter_workspace_perms.demo.world import forecast_notebook

    cells = forecast_notebook()["cells"]
    kinds = [c["cell_type"] for c in cells]
    return len(cells), kinds.count("code"), kinds.count("markdown")


def probe_script() -> str:
    """The init script of the timed page."""
    cells, code, markdown = notebook_shape()
    values = {
        "path": json.dumps(NOTEBOOK),
        "cells": cells,
        "code": code,
        "markdown": markdown,
        "poll": POLL_MS,
    }
    return PROBE % values


# -- the servers -----------------------------------------------------------------------


@dataclass
class Server:
    """A running ``jupyter lab`` and how to sign in to it."""

    name: str
    port: int
    token: str  # stock: the server's token; extension: the Contributor's personal token
    home: Path
    running: Running
    extension: bool  # False on both sides of an A/A run

    @property
    def base(self) -> str:
        """The server's URL, ending with a slash."""
        return f"http://{HOST}:{self.port}/"

    @property
    def workspaces(self) -> Path:
        """JupyterLab's saved layouts (``LabApp.workspaces_dir``), emptied between rounds."""
        return self.home / "workspaces"


def lab_args(root: Path, port: int, home: Path, token: str, extension: bool) -> list[str]:
    """The command line of one side; only the extension's switches differ."""
    extra = [
        f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        # the extension sets this itself (it must not pip-install); stock gets it too
        "--LabApp.extension_manager=readonly",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        f"--LabApp.user_settings_dir={home / 'user-settings'}",
        # jupyter-collaboration's update store: upstream's default is the working folder
        f"--SQLiteYStore.db_path={home / 'ystore.db'}",
    ]
    if not extension:
        extra.append(f"--LabApp.labextensions_path={home / 'labextensions'}")
    return server_args(root, port, module="jupyterlab", extension=extension, extra=extra)


def lab_extensions(env: dict[str, str]) -> dict[str, Any]:
    """Every lab extension a server with ``env`` would serve, as jupyterlab_server finds them."""
    from jupyterlab_server.config import get_federated_extensions

    code = "import json; from jupyter_core.paths import jupyter_path as p; "
    code += "print(json.dumps(p('labextensions')))"
    found = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    extensions: dict[str, Any] = get_federated_extensions(json.loads(found.stdout))
    return extensions


def stock_labextensions(home: Path, env: dict[str, str]) -> list[str]:
    """Links to every installed lab extension but ours, in the stock server's own folder.

    ``jupyter labextension disable`` only stops the plugins from activating: JupyterLab
    still fetches and runs the extension's ``remoteEntry`` and its module (checked with
    ``listPlugins()`` and the page's resource timing). ``LabServerApp.blocked_extensions``
    is not an option of this JupyterLab (only ``blocked_extensions_uris``, for the extension
    manager's listings), so it loads everything. Leaving our folder off the path is what
    serves JupyterLab without it.
    """
    folder = home / "labextensions"
    names = []
    for name, data in sorted(lab_extensions(env).items()):
        if name == LAB_EXTENSION:
            continue
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).symlink_to(data["ext_path"], target_is_directory=True)
        names.append(name)
    return names


def build_home(home: Path) -> dict[str, str]:
    """The demo world under ``home``: its files, its policy database; returns its tokens."""
    from jupyter_workspace_perms.demo.world import build_world
    from jupyter_workspace_perms.store import PolicyStore

    (home / "root").mkdir(parents=True)
    store = PolicyStore(db_url=f"sqlite:///{home / 'policy.sqlite'}").open()
    try:
        return build_world(store, home / "root")
    finally:
        store.close()


def start(stack: ExitStack, name: str, home: Path, aa: bool) -> tuple[Server, list[str]]:
    """One side on its own demo world and Jupyter folders, stopped when ``stack`` closes."""
    tokens = build_home(home)
    extension = name == "extension" and not aa
    token = secrets.token_hex(24)
    extra_env = {"TMPDIR": os.environ["TMPDIR"]}
    if extension:
        extra_env["WORKSPACE_PERMS_DB_URL"] = f"sqlite:///{home / 'policy.sqlite'}"
    env = jupyter_env(home, extra_env)
    others = [] if extension else stock_labextensions(home, env)
    port = free_port()
    args = lab_args(home / "root", port, home, token, extension)
    running = stack.enter_context(started(args, env, log=home / "lab.log"))
    signed_in_with = tokens[PERSONA] if extension else token
    return Server(name, port, signed_in_with, home, running, extension), others


def http(server: Server, path: str, method: str = "GET") -> tuple[int, bytes]:
    """One request with the side's credential (setup, checks and clean-up; never timed)."""
    request = urllib.request.Request(
        server.base + path, method=method, headers={"Authorization": f"token {server.token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as e:
        return int(e.code), bytes(e.read())


def wait_ready(server: Server) -> None:
    """Until ``/api/status`` answers the side's credential."""

    def ready() -> bool:
        return http(server, "api/status")[0] == 200

    server.running.wait_until(ready, timeout=STARTUP_TIMEOUT_S)


@contextmanager
def running_servers(
    workdir: Path, aa: bool = False
) -> Iterator[tuple[dict[str, Server], list[str]]]:
    """Both sides, started together and stopped (each process group) afterwards; with
    ``aa`` both are stock (an A/A run: the noise floor)."""
    with ExitStack() as stack:
        servers: dict[str, Server] = {}
        others: list[str] = []
        for name in SIDES:
            servers[name], found = start(stack, name, workdir / name, aa)
            others = others or found
        for server in servers.values():
            wait_ready(server)
        log("both servers are up")
        yield servers, others


def reset(server: Server) -> None:
    """Between rounds: no kernel left running for the notebook, no saved layout.

    A running session would let the next page attach to the kernel instead of starting
    one, and a saved layout would restore the notebook twice.
    """
    status, body = http(server, "api/sessions")
    for session in json.loads(body) if status == 200 else []:
        gone, _ = http(server, f"api/sessions/{session['id']}", "DELETE")
        if gone != 204:
            raise RuntimeError(f"{server.name}: deleting a session answered {gone}")
    deadline = time.monotonic() + 30
    while http(server, "api/kernels")[1].strip() not in (b"[]", b""):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name}: a kernel is still running")
        time.sleep(0.1)
    if server.workspaces.exists():
        shutil.rmtree(server.workspaces)


# -- the browser -----------------------------------------------------------------------


def sign_in(context: Any, server: Server) -> None:
    """Sign the browser context in, untimed, without loading JupyterLab.

    The link goes to Jupyter's login page with ``next=/api/status``, so the context's
    cache holds only the sign-in pages' files (jupyter_server's page template), none of
    JupyterLab's. With the extension the link shows the confirmation page first, whose
    button sets the login cookie; the stock server takes its token from the URL.
    """
    page = context.new_page()
    query = urllib.parse.urlencode({"next": "/api/status", "token": server.token})
    page.goto(f"{server.base}login?{query}")
    if server.extension:
        with page.expect_navigation(url=lambda url: url.endswith("/api/status")):
            page.click("#wsp-sign-in")
    if not page.url.endswith("/api/status") or '"started"' not in page.content():
        raise RuntimeError(f"{server.name}: signing in ended at {page.url}")
    page.close()


@dataclass
class Round:
    """One page load."""

    side: str
    pair: int  # 0 for the untimed warm-up
    marks: dict[str, float]  # ms since navigation start
    wall_s: float  # Playwright's goto to the page's mark, seen from Python
    server_cpu_s: float  # the server process's CPU time (all threads) during the load
    document_ms: float
    requests: int
    transfer_bytes: int
    bundle_files: int  # our lab extension's files fetched
    bundle_bytes: int
    api: list[dict[str, Any]]  # our REST API's requests: path, start, duration
    errors: list[str] = field(default_factory=list)
    plugins: list[list[Any]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Navigation start to the notebook drawn with an idle kernel."""
        return self.marks["done"] / 1000


def load_once(browser: Any, server: Server, pair: int, probe: str) -> Round:
    """A fresh browser context signs in (untimed), then opens the notebook (timed)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        sign_in(context, server)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
        page.on(
            "console",
            lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.add_init_script(probe)
        cpu = cpu_seconds(server.running.process.pid)
        began = time.perf_counter()
        page.goto(server.base + "lab/tree/" + NOTEBOOK, wait_until="commit")
        page.wait_for_function(
            "() => window.__wspLoad !== undefined", polling=100, timeout=LOAD_TIMEOUT_MS
        )
        wall = time.perf_counter() - began
        cpu = cpu_seconds(server.running.process.pid) - cpu
        marks: dict[str, float] = page.evaluate("() => window.__wspLoad")
        found: dict[str, Any] = page.evaluate(RESOURCES)
        plugins: list[list[Any]] = page.evaluate(PLUGINS, PLUGIN_PREFIX)
    finally:
        context.close()
    resources = found["resources"]
    bundle = [r for r in resources if r["path"].startswith(BUNDLE_PATH)]
    return Round(
        side=server.name,
        pair=pair,
        marks=marks,
        wall_s=wall,
        server_cpu_s=cpu,
        document_ms=float(found["document_ms"] or 0),
        requests=len(resources),
        transfer_bytes=sum(int(r["transfer"]) for r in resources),
        bundle_files=len(bundle),
        bundle_bytes=sum(int(r["body"]) for r in bundle),
        api=[
            {k: r[k] for k in ("path", "start", "duration", "end")}
            for r in resources
            if r["path"].startswith(API_PATH)
        ],
        errors=errors,
        plugins=plugins,
    )


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never Playwright's own browser download)."""
    from playwright.sync_api import sync_playwright

    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        raise RuntimeError(f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# -- checks ----------------------------------------------------------------------------


def check_servers(servers: dict[str, Server]) -> list[str]:
    """Both serve the same notebook; our REST API answers where the extension is on only."""
    cells = []
    for server in servers.values():
        status, body = http(server, f"api/contents/{NOTEBOOK}?content=1")
        if status != 200:
            raise RuntimeError(f"{server.name} does not serve {NOTEBOOK}: {status}")
        cells.append([c["source"] for c in json.loads(body)["content"]["cells"]])
    if cells[0] != cells[1]:
        raise RuntimeError("the two servers serve different notebooks")
    notes = [f"both servers serve {NOTEBOOK} ({len(cells[0])} cells, the same sources)"]
    for server in servers.values():
        status, body = http(server, "api/workspace-perms/me")
        if status != (200 if server.extension else 404):
            raise RuntimeError(f"{server.name}: our REST API answered {status}")
        if server.extension:
            who = json.loads(body).get("identity", {}).get("email", "?")
            notes.append(
                f"our REST API answers 404 on stock and 200 on the extension side "
                f"(signed in as {who})"
            )
    return notes


def check_warmup(
    servers: dict[str, Server], warm: dict[str, Round], others: list[str]
) -> list[str]:
    """The untimed first load: our plugins are active where the extension is on, and
    neither listed nor fetched elsewhere."""
    notes = []
    for name, server in servers.items():
        found = warm[name]
        if not server.extension:
            if found.plugins or found.bundle_files:
                raise RuntimeError(
                    f"{name} lists {found.plugins} and fetched {found.bundle_files} of our files"
                )
            notes.append(
                f"{name}: listPlugins() has none of ours and the page fetched nothing under "
                f"{BUNDLE_PATH}; it serves the other lab extensions ({', '.join(others)}) "
                "from the same installed folders"
            )
            continue
        active = [pid for pid, on in found.plugins if on]
        if PLUGIN_PREFIX + "core" not in active or not found.bundle_files:
            raise RuntimeError(
                f"{name}: our plugins {found.plugins}, {found.bundle_files} files fetched"
            )
        notes.append(f"{name}: {len(active)} of our plugins activated ({', '.join(active)})")
    if not any(server.extension for server in servers.values()):
        notes.insert(0, "A/A run: the extension is OFF on both sides, so every ratio is noise")
    return notes


# -- the run ---------------------------------------------------------------------------


@contextmanager
def private_tmp() -> Iterator[Path]:
    """A temporary folder for everything (servers, kernels, Chromium's profile), TMPDIR
    pointing inside it while the run lasts, removed afterwards."""
    # short names: Chromium's singleton socket goes in TMPDIR, and a socket's path must
    # stay under 108 bytes (the test suite's TMPDIR is already a few folders deep)
    root = Path(tempfile.mkdtemp(prefix="wsp-lab-"))
    tmp = root / "t"
    tmp.mkdir()
    saved_env, saved_tempdir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = str(tmp), str(tmp)
    try:
        yield root
    finally:
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
        tempfile.tempdir = saved_tempdir
        shutil.rmtree(root, ignore_errors=True)


def run_all(pairs: int, aa: bool = False) -> tuple[list[Round], dict[str, Any]]:
    """Start both sides and the browser, check them, warm up, then time ``pairs`` pairs."""
    began = time.perf_counter()
    rounds: list[Round] = []
    probe = probe_script()
    with (
        private_tmp() as workdir,
        running_servers(workdir, aa) as (servers, others),
        chromium() as browser,
    ):
        log(f"setup took {time.perf_counter() - began:.1f} s")
        notes = check_servers(servers)
        warm = {}
        for name in SIDES:  # untimed: server-side imports and caches, and the checks
            warm[name] = load_once(browser, servers[name], 0, probe)
            reset(servers[name])
            log(f"warm-up {name:9s} {warm[name].seconds:6.2f} s")
        notes += check_warmup(servers, warm, others)
        for p in range(1, pairs + 1):
            order = SIDES if p % 2 else SIDES[::-1]  # AB BA: drift hits both alike
            for name in order:
                found = load_once(browser, servers[name], p, probe)
                reset(servers[name])
                rounds.append(found)
                _log_round(found)
    return rounds, {"notes": notes, "seconds": time.perf_counter() - began, "aa": aa}


def _log_round(r: Round) -> None:
    m = r.marks
    log(
        f"pair {r.pair:2d} {r.side:9s} {r.seconds:6.2f} s (restored {m['restored'] / 1000:.2f}, "
        f"rendered {m['rendered'] / 1000:.2f}, idle {m['idle'] / 1000:.2f}; "
        f"{r.requests} requests, {len(r.errors)} console errors)"
    )


# -- report ----------------------------------------------------------------------------


def side_rounds(rounds: list[Round], side: str) -> list[Round]:
    """The timed rounds of one side, in the order they ran."""
    return [r for r in rounds if r.side == side]


def mark_s(rounds: list[Round], key: str) -> list[float]:
    """One page mark of every round, in seconds."""
    return [r.marks[key] / 1000 for r in rounds]


def pair_ratios(rounds: list[Round], key: str = "done") -> list[float]:
    """Extension over stock of one mark, for each back-to-back pair."""
    by_pair: dict[int, dict[str, float]] = {}
    for r in rounds:
        by_pair.setdefault(r.pair, {})[r.side] = r.marks[key]
    return [v["extension"] / v["stock"] for _, v in sorted(by_pair.items())]


def ratio_of(rounds: list[Round], key: str, q: float) -> float:
    """Extension over stock of one percentile of a mark (q=50: the medians of the tables)."""

    def pick(side: str) -> float:
        values = mark_s(side_rounds(rounds, side), key)
        return float(statistics.median(values)) if q == 50 else percentile(values, q)

    return pick("extension") / pick("stock")


def all_targets(rounds: list[Round]) -> list[Target]:
    """The load-time ratio (median over median)."""
    ratio = ratio_of(rounds, "done", 50)
    ext = statistics.median(mark_s(side_rounds(rounds, "extension"), "done"))
    stock = statistics.median(mark_s(side_rounds(rounds, "stock"), "done"))
    pairs = pair_ratios(rounds)
    return [
        Target(
            f"lab load extension/stock ≤ {TARGET_RATIO}",
            "PASS" if ratio <= TARGET_RATIO else "FAIL",
            f"ratio of medians {ratio:.3f}, of p90s {ratio_of(rounds, 'done', 90):.3f}, "
            f"median pair ratio {statistics.median(pairs):.3f}, pairs "
            f"{min(pairs):.2f}..{max(pairs):.2f}; {ext:.2f} vs {stock:.2f} s",
        )
    ]


MARKS = (
    ("document", "page HTML received"),
    ("app", "app object made (scripts loaded)"),
    ("started", "app started (plugins activated)"),
    ("restored", "lab restored"),
    ("opened", "notebook opened (model loaded)"),
    ("rendered", "cells drawn"),
    ("idle", "kernel idle"),
    ("done", "notebook ready"),
)


def _marks(r: Round) -> dict[str, float]:
    return {"document": r.document_ms, **r.marks}


def main_table(rounds: list[Round], aa: bool = False) -> str:
    """One row per side: the load time's spread, what the page fetched, the server's CPU."""
    lines = [
        "| side | rounds | median s | p90 s | min s | max s | requests | transferred kB "
        "| server CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for side in SIDES:
        mine = side_rounds(rounds, side)
        done = mark_s(mine, "done")
        cells = [
            str(len(mine)),
            f"{statistics.median(done):.2f}",
            f"{percentile(done, 90):.2f}",
            f"{min(done):.2f}",
            f"{max(done):.2f}",
            f"{statistics.median(r.requests for r in mine):.0f}",
            f"{statistics.median(r.transfer_bytes for r in mine) / 1e3:.0f}",
            f"{statistics.median(r.server_cpu_s for r in mine):.2f}",
        ]
        lines.append(f"| {_title(side, aa)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def steps_table(rounds: list[Round], aa: bool = False) -> str:
    """When each step was reached (median ms since navigation start), and the ratio."""
    lines = [
        f"| step | stock ms | {'stock B' if aa else 'extension'} ms | ratio of medians "
        "| median of pair ratios |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, title in MARKS:
        medians = [
            statistics.median(_marks(r)[key] for r in side_rounds(rounds, side)) for side in SIDES
        ]
        pairs = [
            _marks(e)[key] / _marks(s)[key]
            for s, e in zip(
                side_rounds(rounds, "stock"), side_rounds(rounds, "extension"), strict=True
            )
        ]
        lines.append(
            f"| {title} | {medians[0]:.0f} | {medians[1]:.0f} | {medians[1] / medians[0]:.3f} "
            f"| {statistics.median(pairs):.3f} |"
        )
    return "\n".join(lines)


def _title(side: str, aa: bool = False) -> str:
    if aa:
        return "stock B (A/A)" if side == "extension" else "stock"
    return "extension (Contributor)" if side == "extension" else "stock"


def extension_requests(rounds: list[Round]) -> list[str]:
    """What the extension fetched in its timed loads: its files and its REST calls."""
    mine = side_rounds(rounds, "extension")
    calls: dict[str, list[dict[str, Any]]] = {}
    for r in mine:
        for call in r.api:
            calls.setdefault(call["path"], []).append(call)
    lines = [
        f"extension at load: {statistics.median(r.bundle_files for r in mine):.0f} files of "
        f"its bundle ({statistics.median(r.bundle_bytes for r in mine) / 1e3:.1f} kB), "
        f"{statistics.median(len(r.api) for r in mine):.0f} calls to {API_PATH} per load"
    ]
    for path, found in sorted(calls.items()):
        lines.append(
            f"extension calls {path}: {len(found) / len(mine):.1f} per load, median "
            f"{statistics.median(c['duration'] for c in found):.0f} ms each, started at "
            f"{statistics.median(c['start'] for c in found) / 1000:.2f} s, answered at "
            f"{statistics.median(c['end'] for c in found) / 1000:.2f} s (medians)"
        )
    return lines


def bundle_info() -> str:
    """The prebuilt bundle's size on disk: total, and its largest chunk."""
    static = REPO / "jupyter_workspace_perms" / "labextension" / "static"
    with contextlib.suppress(Exception):
        served = Path(lab_extensions(dict(os.environ))[LAB_EXTENSION]["ext_path"]) / "static"
        static = served if served.is_dir() else static
    files = sorted((p for p in static.glob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    if not files:
        return f"lab extension bundle: {static} not found (build it: jlpm build:prod)"
    js = [p for p in files if p.suffix == ".js"]
    total = sum(p.stat().st_size for p in files)
    zipped = sum(len(gzip.compress(p.read_bytes(), 6)) for p in js)
    largest = js[-1] if js else files[-1]
    return (
        f"lab extension bundle ({static}): {len(files)} files, {total / 1e3:.1f} kB "
        f"({sum(p.stat().st_size for p in js) / 1e3:.1f} kB of JavaScript, "
        f"{zipped / 1e3:.1f} kB gzipped); largest chunk {largest.name} "
        f"{largest.stat().st_size / 1e3:.1f} kB"
    )


def print_report(
    rounds: list[Round], targets: list[Target], machine: dict[str, Any], context: dict[str, Any]
) -> None:
    """The Markdown report on stdout."""
    pairs = len(side_rounds(rounds, "stock"))
    aa = bool(context.get("aa"))
    title = "A/A run, the extension off on both sides" if aa else "stock vs. the extension"
    print(f"## JupyterLab load: {title}\n")
    print(main_table(rounds, aa))
    print(
        f"\n{pairs} rounds per side, in back-to-back pairs whose order alternates (AB BA …). "
        f"Each round opens lab/tree/{NOTEBOOK} in a fresh browser context (empty HTTP cache "
        "and storage, signed in beforehand, untimed) and counts from the start of the "
        "navigation until the notebook's cells are drawn and its new kernel is idle. "
        "Requests and bytes: the page's resource timing (websockets not included). Server "
        "CPU: the server process (all threads; not its kernels) during the load.\n"
    )
    print("### Steps of the load (median ms since the navigation started)\n")
    print(steps_table(rounds, aa))
    print("\n### Targets\n")
    for target in targets:
        print(f"- TARGET {target.name}: {target.status} ({target.measured})")
    print(f"- INFO {bundle_info()}")
    for line in [] if aa else extension_requests(rounds):
        print(f"- INFO {line}")
    errors = {side: sum(len(r.errors) for r in side_rounds(rounds, side)) for side in SIDES}
    print(
        f"- INFO console errors over the timed loads: {errors['stock']} stock, "
        f"{errors['extension']} extension"
    )
    print(
        f"- INFO cores {machine['cores']}, load average (1/5/15 min) before "
        f"{machine['load_before']}, after {machine['load_after']} "
        f"(a busy machine inflates every number); run took {context['seconds']:.0f} s"
    )
    for note in context["notes"]:
        print(f"- INFO {note}")


def write_json(
    path: Path,
    rounds: list[Round],
    targets: list[Target],
    machine: dict[str, Any],
    context: dict[str, Any],
) -> None:
    """Machine-readable results, every round included."""
    payload = {
        "python": sys.version.split()[0],
        "machine": machine,
        "context": context,
        "rounds": [asdict(r) for r in rounds],
        "pair_ratios": pair_ratios(rounds),
        "targets": [asdict(t) for t in targets],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")


# -- command line ----------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 pairs of rounds, a smoke run")
    parser.add_argument("--pairs", type=int, help="pairs of rounds (default: 20, 2 with --quick)")
    parser.add_argument(
        "--aa",
        action="store_true",
        help="A/A run: the extension off on both sides, to see this machine's noise floor",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    if args.pairs is not None and args.pairs < 1:
        parser.error("--pairs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rounds, print the report, and exit 1 on a failed target only with --strict."""
    args = parse_args(argv)
    pairs = args.pairs or (2 if args.quick else 20)
    machine: dict[str, Any] = {
        "cores": os.cpu_count(),
        "pairs": pairs,
        "load_before": load_average(),
    }
    rounds, context = run_all(pairs, args.aa)
    machine["load_after"] = load_average()
    targets = all_targets(rounds)
    print_report(rounds, targets, machine, context)
    if args.json:
        write_json(args.json, rounds, targets, machine, context)
    failed = any(t.status == "FAIL" for t in targets)
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
