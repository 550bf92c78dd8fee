"""The README's demo command, run as a user would: every persona's link signs in as them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

EXPECTED_ROLE_IN_ACME = {
    "admin": ("admin", False, False),
    "editor": ("editor", False, False),
    "contributor": ("contributor", False, False),
    "viewer": ("viewer", False, False),
    "guest": (None, True, False),
    "blocked": (None, False, True),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``jupyter workspace-perms demo`` running in a subprocess."""
    port = free_port()
    root = tmp_path_factory.mktemp("demo") / "root"
    home = tmp_path_factory.mktemp("home")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    args = [
        sys.executable,
        "-m",
        "jupyter_workspace_perms.cli.app",
        "demo",
        "--no-browser",
        f"--port={port}",
        f"--root={root}",
        "--json",
    ]
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        base = f"http://localhost:{port}"
        for _ in range(240):
            try:
                status, _body, _headers = get(f"{base}/api/status")
            except OSError:
                time.sleep(0.25)
                continue
            if status in (200, 403):
                break
        else:
            pytest.fail("the demo server did not answer")
        yield {**info, "base": base, "root": root}
    finally:
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()


def token_of(demo: dict[str, Any], persona: str) -> str:
    [url] = [p["url"] for p in demo["personas"] if p["persona"] == persona]
    return str(url.split("token=", 1)[1])


def test_the_demo_prints_one_link_per_persona(demo: dict[str, Any]) -> None:
    personas = {p["persona"] for p in demo["personas"]}
    assert set(EXPECTED_ROLE_IN_ACME) | {"joiner"} == personas
    assert all(p["url"].startswith(demo["base"] + "/lab?token=wsp_") for p in demo["personas"])
    assert not Path(demo["db_url"].removeprefix("sqlite:///")).is_relative_to(demo["root"])


@pytest.mark.parametrize("persona", sorted(EXPECTED_ROLE_IN_ACME))
def test_each_persona_signs_in_with_its_role(demo: dict[str, Any], persona: str) -> None:
    headers = {"Authorization": f"token {token_of(demo, persona)}"}
    status, body, _ = get(f"{demo['base']}/api/workspace-perms/me", headers)
    assert status == 200
    acme = {w["slug"]: w for w in json.loads(body)["workspaces"]}["acme"]
    assert (acme["role"], acme["guest"], acme["sso_blocked"]) == EXPECTED_ROLE_IN_ACME[persona]


def test_the_joiner_can_join_acme_as_viewer_through_the_domain_invite(
    demo: dict[str, Any],
) -> None:
    headers = {"Authorization": f"token {token_of(demo, 'joiner')}"}
    status, body, _ = get(f"{demo['base']}/api/workspace-perms/me", headers)
    me = json.loads(body)
    assert status == 200 and me["workspaces"] == []
    assert [w["slug"] for w in me["joinable"]] == ["acme"]
    join = urllib.request.Request(
        f"{demo['base']}/api/workspace-perms/workspaces/acme/join",
        data=b"{}",
        headers={**headers, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(join, timeout=10) as response:
        assert response.status == 201
        assert json.loads(response.read())["role"] == "viewer"
    status, body, _ = get(f"{demo['base']}/api/workspace-perms/me", headers)
    assert [(w["slug"], w["role"]) for w in json.loads(body)["workspaces"]] == [("acme", "viewer")]


def test_a_login_link_opens_jupyterlab_and_sets_a_cookie(demo: dict[str, Any]) -> None:
    link = next(p["url"] for p in demo["personas"] if p["persona"] == "viewer")
    status, body, headers = get(link)
    assert status == 200
    assert b"JupyterLab" in body or b"jupyter" in body.lower()
    cookie = headers.get("Set-Cookie", "").split(";")[0]
    assert cookie.startswith("username-")
    status, body, _ = get(f"{demo['base']}/api/workspace-perms/me", {"Cookie": cookie})
    assert status == 200 and json.loads(body)["identity"]["email"] == "vic@acme.example"


def test_the_demo_notebook_has_a_parameters_cell_and_widgets(demo: dict[str, Any]) -> None:
    notebook = json.loads((demo["root"] / "acme" / "analysis" / "forecast.ipynb").read_text())
    tags = [c["metadata"].get("tags", []) for c in notebook["cells"]]
    assert ["parameters"] in tags
    assert any("ipywidgets" in c["source"] for c in notebook["cells"])


def test_the_server_token_gets_nothing_from_the_demo(demo: dict[str, Any]) -> None:
    status, _body, _ = get(f"{demo['base']}/api/workspace-perms/me")
    assert status == 401
    status, _body, _ = get(f"{demo['base']}/api/contents")
    assert status == 403
