"""The README's demo command, run as a user would: every persona's link signs in as them."""

from __future__ import annotations

import html
import json
import re
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.helpers.servers import answers, demo_args, free_port, jupyter_env, started

EXPECTED_ROLE_IN_ACME = {
    "admin": ("admin", False, False),
    "editor": ("editor", False, False),
    "contributor": ("contributor", False, False),
    "viewer": ("viewer", False, False),
    "guest": (None, True, False),
    "blocked": (None, False, True),
}


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``jupyter workspace-perms demo`` running in a subprocess (its own process group)."""
    port = free_port()
    root = tmp_path_factory.mktemp("demo") / "root"
    home = tmp_path_factory.mktemp("home")
    args = demo_args(port, f"--root={root}", "--json")
    with started(
        args, jupyter_env(home), stdout=subprocess.PIPE, stop_signal=signal.SIGINT
    ) as demo:
        assert demo.process.stdout is not None
        info = json.loads(demo.process.stdout.readline())
        base = f"http://localhost:{port}"
        demo.wait_until(lambda: answers(f"{base}/api/status"), timeout=60)
        yield {**info, "base": base, "root": root}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def redirected(request: urllib.request.Request | str, cookie_prefix: str) -> tuple[str, str]:
    """Send ``request`` without following its redirect: (Location, the cookie it set)."""
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    assert answer.value.code == 302
    cookie = next(
        c.split(";")[0]
        for c in answer.value.headers.get_all("Set-Cookie", [])
        if c.startswith(cookie_prefix)
    )
    location = str(answer.value.headers["Location"])
    answer.value.close()
    return location, cookie


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


def test_a_login_link_asks_first_then_opens_jupyterlab_signed_in(demo: dict[str, Any]) -> None:
    """The link shows "Sign in as …?"; only its button (an XSRF-checked POST) sets the cookie."""
    link = next(p["url"] for p in demo["personas"] if p["persona"] == "viewer")
    status, page, headers = get(link)
    assert status == 200 and b"vic@acme.example" in page and b"Viewer of acme" in page
    cookies = dict(c.split(";")[0].split("=", 1) for c in headers.get_all("Set-Cookie", []))
    assert not any(name.startswith("username-") for name in cookies)
    text = page.decode()
    [action] = re.findall(r'<form method="post" action="([^"]+)"', text)
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', text))
    assert form["next"] == "/lab" and set(form) == {"_xsrf", "sign_in_token", "next"}
    confirm = urllib.request.Request(
        demo["base"] + action,
        data=urlencode({k: html.unescape(v) for k, v in form.items()}).encode(),
        headers={"Cookie": f"_xsrf={cookies['_xsrf']}", "Referer": link},
        method="POST",
    )
    location, cookie = redirected(confirm, "username-")
    assert location == "/lab"
    status, body, _ = get(f"{demo['base']}/lab", {"Cookie": cookie})
    assert status == 200 and b"JupyterLab" in body
    status, body, _ = get(f"{demo['base']}/api/workspace-perms/me", {"Cookie": cookie})
    assert status == 200 and json.loads(body)["identity"]["email"] == "vic@acme.example"


def test_the_demo_notebook_has_a_parameters_cell_and_widgets(demo: dict[str, Any]) -> None:
    notebook = json.loads((demo["root"] / "acme" / "analysis" / "forecast.ipynb").read_text())
    tags = [c["metadata"].get("tags", []) for c in notebook["cells"]]
    assert ["parameters"] in tags
    assert any("ipywidgets" in c["source"] for c in notebook["cells"])


def test_the_persona_page_opens_with_the_printed_link(demo: dict[str, Any]) -> None:
    """The demo serves in demo mode: its printed persona page (the server's token) opens."""
    landing = demo["landing"]
    assert landing.startswith(demo["base"] + "/workspace-perms/demo?token=")
    location, cookie = redirected(landing, "workspace-perms-demo-")
    assert location == "/workspace-perms/demo"  # without the token
    status, page, _ = get(f"{demo['base']}/workspace-perms/demo", {"Cookie": cookie})
    assert status == 200
    assert sorted(re.findall(r'data-persona="([a-z]+)"', page.decode())) == sorted(
        p["persona"] for p in demo["personas"]
    )
    # the token alone signs nobody in
    status, _body, _ = get(f"{demo['base']}/api/workspace-perms/me", {"Cookie": cookie})
    assert status == 401


def test_the_server_token_gets_nothing_from_the_demo(demo: dict[str, Any]) -> None:
    status, _body, _ = get(f"{demo['base']}/api/workspace-perms/me")
    assert status == 401
    status, _body, _ = get(f"{demo['base']}/api/contents")
    assert status == 403
