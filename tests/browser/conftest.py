"""What people see, tested in a real browser: Debian's Chromium driven by Playwright.

- ``lab``: a real ``jupyter lab`` with the extension on the demo world (workspaces
  ``acme`` and ``lab``; personas admin, editor, contributor, viewer, guest, joiner,
  blocked), started in its own process group for the test module and stopped after it;
  ``fresh_lab`` is the same for one test, for tests that change the policy.
- ``browser``: one Chromium for the browser tests (never Playwright's own download).
- ``sign_in``: ``page = sign_in(lab, "contributor")`` opens a new browser context, follows
  the persona's login link, clicks "Sign in" on the confirmation page and waits until
  JupyterLab has started; every console error and uncaught exception of the page is
  collected, and the test fails at its end if there was one (``page.errors`` lists them;
  ``allow_errors(page, pattern)`` excuses an expected one, e.g. a 403 the test provokes).
- ``shot(page, name)``: a PNG under the test's temporary folder (its path is returned),
  copied into ``$WORKSPACE_PERMS_SCREENSHOTS`` too when that is set.

A missing Chromium or Playwright fails the run under ``CI=true`` and skips elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jupyter_workspace_perms.demo.world import PERSONAS, build_world
from jupyter_workspace_perms.store import PolicyStore
from tests.helpers.chromium import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.helpers.missing import missing
from tests.helpers.servers import free_port, jupyter_env, server_args, started

#: A folder to copy every screenshot into as well (they are looked at, not compared).
KEEP_SCREENSHOTS = "WORKSPACE_PERMS_SCREENSHOTS"
READY_TIMEOUT_MS = 90_000  # a JupyterLab start on a busy two-core machine


@dataclass
class Lab:
    """A running JupyterLab on the demo world."""

    base: str  # "http://127.0.0.1:PORT/"
    root: Path
    db_url: str
    tokens: dict[str, str]
    emails: dict[str, str] = field(default_factory=dict)

    def url(self, path: str = "lab") -> str:
        return self.base + path.lstrip("/")

    def link(self, persona: str, path: str = "lab") -> str:
        """The persona's login link, as the demo prints it."""
        return f"{self.url(path)}?token={self.tokens[persona]}"

    def store(self) -> PolicyStore:
        """The policy database, as the CLI would open it (close it after use)."""
        return PolicyStore(db_url=self.db_url).open()

    def api(self, persona: str, method: str, path: str, body: Any = None) -> Any:
        """One REST call as ``persona`` (with its token), for setup and checks."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url("api/workspace-perms/" + path.lstrip("/")),
            data=data,
            method=method,
            headers={"Authorization": f"token {self.tokens[persona]}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None


@contextmanager
def running_lab(home: Path, *extra: str) -> Iterator[Lab]:
    """``jupyter lab`` with the extension on a new demo world under ``home`` (``extra``:
    more command-line options)."""
    root = home / "root"
    root.mkdir(parents=True)
    db_url = f"sqlite:///{home / 'policy.sqlite'}"
    store = PolicyStore(db_url=db_url).open()
    try:
        tokens = build_world(store, root)
    finally:
        store.close()
    port = free_port()
    server_token = secrets.token_hex(24)
    (home / "server-token").write_text(server_token)
    env = jupyter_env(
        home,
        {"WORKSPACE_PERMS_DB_URL": db_url, "JUPYTER_TOKEN_FILE": str(home / "server-token")},
    )
    args = server_args(
        root,
        port,
        module="jupyterlab",
        extra=[
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True",
            "--JupyterNotebookApp.expose_app_in_browser=True",
            "--PolicyStore.refresh_interval=0.1",
            *extra,
        ],
    )
    with started(args, env, log=home / "lab.log") as running:
        base = f"http://127.0.0.1:{port}/"
        running.wait_until(lambda: _answers(base + "api/status"), timeout=120)
        emails = {p.key: p.email for p in PERSONAS}
        yield Lab(base, root, db_url, tokens, emails)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5)
    except urllib.error.HTTPError:
        return True  # 403 without an identity: it is up
    return True


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """Playwright's synchronous API runs its own event loop in this thread: pytest-jupyter's
    autouse loop (made and closed around every test) must not touch it here."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    """No in-process Jupyter server runs here (``jupyter lab`` is a subprocess): nothing to
    clean up, and pytest-jupyter's clean-up would make one."""
    yield None


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab on the demo world, shared by the tests of one module."""
    with running_lab(tmp_path_factory.mktemp("lab")) as found:
        yield found


@pytest.fixture
def fresh_lab(tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab on a demo world of its own, for a test that changes the policy."""
    with running_lab(tmp_path / "lab") as found:
        yield found


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright (no browser download), for the browser
    tests only: Playwright's synchronous API runs an event loop in this thread while it is
    open, which the other tests' (pytest-jupyter's) loops must not meet."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing(f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# jupyter-collaboration's timeline plugin needs JupyterLab's status bar, which Notebook 7's
# pages lack: it fails to activate there whatever this extension does
UPSTREAM_NOISE = (
    re.compile(r"'@jupyter/docprovider-extension:statusBarTimeline' failed to activate"),
)


class Page:
    """A Playwright page plus the errors its console reported."""

    def __init__(self, page: Any, persona: str) -> None:
        self.page = page
        self.persona = persona
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = list(UPSTREAM_NOISE)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            where = (message.location or {}).get("url", "")
            self.errors.append(f"console: {message.text} ({where})")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


def allow_errors(page: Page, pattern: str) -> None:
    """Excuse console errors matching ``pattern`` (a refusal the test provokes on purpose)."""
    page.allowed.append(re.compile(pattern))


def wait_for_lab(page: Page) -> None:
    """Until JupyterLab (or Notebook 7) has started and restored its layout."""
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.restored"
        " && window.jupyterapp.restored.then(() => true)",
        timeout=READY_TIMEOUT_MS,
    )


def activated_plugins(page: Page, prefix: str = "jupyter-workspace-perms:") -> list[str]:
    """The ids of the activated front-end plugins whose id starts with ``prefix``."""
    found: list[str] = page.evaluate(
        "(prefix) => window.jupyterapp.listPlugins()"
        " .filter(id => id.startsWith(prefix) && window.jupyterapp.isPluginActivated(id))",
        prefix,
    )
    return found


SignIn = Callable[..., Page]


@pytest.fixture
def sign_in(browser: Any) -> Iterator[SignIn]:
    """``sign_in(lab, persona, path="lab")``: a signed-in page; fails the test on console
    errors nobody allowed."""
    opened: list[tuple[Any, Page]] = []

    def open_as(lab: Lab, persona: str, path: str = "lab", wait: bool = True) -> Page:
        context = browser.new_context(viewport=VIEWPORT)
        page = Page(context.new_page(), persona)
        opened.append((context, page))
        page.goto(lab.link(persona, path))
        page.click("#wsp-sign-in")  # the confirmation page: a link alone never signs in
        if wait:
            wait_for_lab(page)
        return page

    yield open_as
    problems = {page.persona: page.unexpected_errors() for _, page in opened}
    for context, _ in opened:
        context.close()
    problems = {who: errors for who, errors in problems.items() if errors}
    assert problems == {}, f"console errors: {problems}"


@pytest.fixture
def shot(tmp_path: Path) -> Callable[[Page, str], Path]:
    """``shot(page, "viewer-banner")``: a screenshot under the test's temporary folder."""

    def take(page: Page, name: str) -> Path:
        path = tmp_path / "screenshots" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=False)
        kept = os.environ.get(KEEP_SCREENSHOTS)
        if kept:  # to look at them after the run (the temporary folder goes)
            Path(kept).mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, Path(kept) / path.name)
        return path

    return take
