"""A Binder rehearsal without Docker: the repository run the way repo2docker and BinderHub run it.

repo2docker copies the repository into ``$HOME`` (its working directory), installs the
environment, runs ``binder/postBuild`` there once, and starts every launch through
``binder/start``; BinderHub then runs ``jupyter lab`` with the arguments of its
``BinderSpawnerMixin`` (a random token, a base URL, ``trust_xheaders``) and sends the
browser to ``<base_url><urlpath>?token=<token>``. Here:

1. the repository's files (what git would hand repo2docker) go into a new ``$HOME``;
   a new virtual environment stands in for the conda environment of
   ``binder/environment.yml`` (conda is not reachable here; the file is checked);
2. ``binder/postBuild`` runs there (it installs the package from source, building the
   lab extension), then ``binder/start jupyter lab …`` with BinderHub's arguments;
3. Chromium opens the badge's URL, picks the Contributor, runs every cell of the
   sample notebook, switches to the Viewer from the status bar and sees the view-only
   banner. Only what a person sees is used (no ``window.jupyterapp``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_workspace_perms.demo.world import FORECAST
from tests.browser.conftest import READY_TIMEOUT_MS, Page
from tests.helpers.chromium import VIEWPORT
from tests.helpers.servers import answers, free_port, run, started

REPO = Path(__file__).resolve().parents[2]
BASE_URL = "/binder/jupyter/user/test/"
URLPATH = "workspace-perms/demo"  # the README badge's ?urlpath=
ITEM = "#jupyter-workspace-perms-whoami"
BANNER = ".jp-WorkspacePerms-banner-text"  # the banner's sentence (a button follows)
BUILD_TIMEOUT = 1200  # a source install builds the lab extension: minutes on two cores

pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + 300)


def test_environment_yml_is_what_repo2docker_needs() -> None:
    """Parsed as conda reads it: Python, Node.js new enough for the build, and pip."""
    spec = yaml.safe_load((REPO / "binder" / "environment.yml").read_text(encoding="utf-8"))
    assert set(spec) >= {"channels", "dependencies"}
    assert "conda-forge" in spec["channels"]
    packages = {str(d).split("=")[0]: str(d) for d in spec["dependencies"] if isinstance(d, str)}
    assert {"python", "nodejs", "pip"} <= set(packages)
    python = packages["python"].split("=", 1)[1]
    assert tuple(int(n) for n in python.split(".")) >= (3, 10)
    node_major = int(packages["nodejs"].split("=", 1)[1].split(".")[0])
    assert node_major >= 22  # Rspack needs Node 20.19+: conda-forge's 20.x may be older
    for script in ("postBuild", "start"):
        path = REPO / "binder" / script
        assert os.access(path, os.X_OK), f"binder/{script} is not executable"
        text = path.read_text(encoding="utf-8")
        assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert (REPO / "binder" / "start").read_text().rstrip().endswith('exec "$@"')


def repository_files() -> list[str]:
    """The files git would hand repo2docker (tracked, plus new ones not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def binder_env(home: Path, venv: Path) -> dict[str, str]:
    """A launch's environment: the image's Python first, ``$HOME``, nothing of ours."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER", "WORKSPACE_PERMS", "PYTHON", "VIRTUAL_ENV"))
    }
    return {
        **keep,
        "HOME": str(home),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        # the machine's package caches (not the image's business, only faster here)
        "YARN_GLOBAL_FOLDER": str(Path.home() / ".yarn" / "berry"),
    }


def binderhub_args(port: int, token: str) -> list[str]:
    """``BinderSpawnerMixin.get_args`` without authentication (NotebookApp and ServerApp)."""
    args = [
        "--ip=127.0.0.1",  # 0.0.0.0 in the pod; nobody else's business here
        f"--port={port}",
        f"--NotebookApp.base_url={BASE_URL}",
        f"--NotebookApp.token={token}",
        "--NotebookApp.trust_xheaders=True",
    ]
    args += [a.replace("--NotebookApp.", "--ServerApp.") for a in args if "NotebookApp" in a]
    if os.geteuid() == 0:  # CI runs as root; Binder's user is not
        args.append("--ServerApp.allow_root=True")
    return args


@dataclass
class Binder:
    base: str  # http://127.0.0.1:PORT/binder/jupyter/user/test/
    token: str
    home: Path

    def badge_url(self) -> str:
        """Where BinderHub sends the browser for ``?urlpath=workspace-perms/demo``."""
        return f"{self.base}{URLPATH}?token={self.token}"


@pytest.fixture(scope="module")
def binder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Binder]:
    home = tmp_path_factory.mktemp("jovyan")
    for name in repository_files():
        target = home / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    venv = tmp_path_factory.mktemp("image") / "env"
    env = binder_env(home, venv)
    made = run([sys.executable, "-m", "venv", str(venv)], env, timeout=120)
    assert made.returncode == 0, made.stderr
    built = run([str(home / "binder" / "postBuild")], env, timeout=BUILD_TIMEOUT, cwd=home)
    assert built.returncode == 0, (
        f"postBuild failed:\n{built.stdout[-4000:]}\n{built.stderr[-4000:]}"
    )
    assert (venv / "share" / "jupyter" / "labextensions" / "jupyter-workspace-perms").is_dir()
    port, token = free_port(), secrets.token_hex(16)
    args = [str(home / "binder" / "start"), "jupyter", "lab", *binderhub_args(port, token)]
    log = home.parent / "binder-lab.log"
    with started(args, env, log=log, cwd=home) as running:
        base = f"http://127.0.0.1:{port}{BASE_URL}"
        running.wait_until(lambda: answers(base + "api/status"), timeout=180)
        yield Binder(base, token, home)
    # the world was built under $HOME, outside the served folder
    assert (home / ".workspace-perms" / "demo.sqlite").is_file()


def test_the_token_alone_opens_the_landing_page_not_jupyterlab(binder: Binder) -> None:
    """BinderHub's plain ``<base_url>?token=`` lands on the persona page (default_url)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())  # a browser's jar
    with opener.open(f"{binder.base}?token={binder.token}", timeout=30) as answer:
        page = answer.read().decode()
        assert answer.url == binder.base + URLPATH  # the token left the URL
    assert 'data-persona="contributor"' in page


def test_a_visitor_picks_the_contributor_runs_the_notebook_then_switches_to_the_viewer(
    binder: Binder, browser: Any, shot: Callable[[Page, str], Path]
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT)
    page = Page(context.new_page(), "binder")
    try:
        page.goto(binder.badge_url())
        assert page.url == binder.base + URLPATH
        expect(page.locator("#wsp-heading")).to_have_text("Try jupyter-workspace-perms")
        expect(page.locator("section[data-persona]")).to_have_count(7)
        shot(page, "binder-landing")

        page.get_by_role("button", name="Sign in as cora").click()
        page.wait_for_url(f"{binder.base}lab/tree/{FORECAST}", timeout=READY_TIMEOUT_MS)
        expect(page.locator(ITEM)).to_contain_text(
            "cora@acme.example · Contributor", timeout=READY_TIMEOUT_MS
        )
        # the status bar's kernel item (the toolbar's indicator says idle before a kernel)
        idle = page.locator(".jp-StatusBar-TextItem", has_text="Python 3 (ipykernel) | Idle")
        expect(idle).to_have_count(1, timeout=READY_TIMEOUT_MS)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        outputs = page.locator(".jp-Notebook .jp-CodeCell .jp-OutputArea-output")
        expect(outputs.filter(has_text="171.03")).to_have_count(1, timeout=READY_TIMEOUT_MS)
        expect(page.locator(".jp-Notebook .widget-slider")).to_have_count(
            1, timeout=READY_TIMEOUT_MS
        )
        expect(page.locator("[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)
        shot(page, "binder-contributor")

        page.locator(ITEM).click()
        switcher = page.locator(".jp-WorkspacePerms-demo")
        expect(switcher).to_contain_text("two browser profiles")
        shot(page, "binder-switcher")
        with page.expect_navigation(timeout=READY_TIMEOUT_MS):
            switcher.locator("[data-persona='viewer']").click()
        expect(page.locator(ITEM)).to_contain_text(
            "vic@acme.example · Viewer", timeout=READY_TIMEOUT_MS
        )
        expect(page.locator(BANNER)).to_have_text(
            "View only — you can read this notebook", timeout=READY_TIMEOUT_MS
        )
        shot(page, "binder-viewer")
        assert page.unexpected_errors() == []
    finally:
        context.close()
