"""What JupyterLab's and Notebook 7's pages carry: never the server's token.

JupyterLab and Notebook put the server's token into every page's config for their own
requests. Here it identifies nobody, and in demo mode it opens the persona page, so a
person signed in with a personal token must not be able to read it from a page.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from jupyter_workspace_perms.demo.landing import PAGE_CONFIG_KEY
from tests.helpers.http import Http
from tests.helpers.world import server_config

SERVER_TOKEN = "pages-server-token-0123456789abcdef"
PAGES = ["lab", "lab/tree/acme/public", "tree", "tree/acme/public"]


@pytest.fixture(params=[False, True], ids=["server", "demo-mode"])
def demo_mode(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def jp_server_config(wsp_db_url: str, demo_mode: bool) -> dict[str, Any]:
    """JupyterLab and Notebook 7 with our extension, and a known server token."""
    return server_config(
        wsp_db_url,
        extensions=["jupyterlab", "notebook"],
        IdentityProvider={"token": SERVER_TOKEN},
        WorkspacePermsExtension={"demo_mode": demo_mode},
    )


def page_config(html: str) -> dict[str, Any]:
    [found] = re.findall(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S
    )
    return dict(json.loads(found))


@pytest.mark.parametrize("page", PAGES)
async def test_no_page_carries_the_servers_token(http: Http, demo_mode: bool, page: str) -> None:
    reply = await http("viewer", "GET", page)
    assert reply.code == 200, reply
    html = reply.raw.decode()
    assert SERVER_TOKEN not in html
    config = page_config(html)
    assert config["token"] == ""
    assert (PAGE_CONFIG_KEY in config) is demo_mode


async def test_jupyters_own_pages_do_not_carry_it_either(http: Http) -> None:
    """Jupyter's page template writes the token into error pages for a signed-in person."""
    for page in ("no-such-page", "api/workspace-perms/../../nbconvert/no-such-format/x"):
        reply = await http("viewer", "GET", page)
        assert reply.code in (403, 404), (page, reply.code)
        assert SERVER_TOKEN not in reply.raw.decode(), page
