"""The fixtures most tests share, loaded as a pytest plugin by ``tests/conftest.py``.

- ``wsp_db_url``: a fresh SQLite policy database outside ``root_dir``;
- ``wsp_store``: a :class:`PolicyStore` on it, as the CLI or another server would open it;
- ``wsp_world``: the sample world (:mod:`tests.helpers.world`) and a token per person;
- ``jp_server_config``: a real Jupyter server with the extension enabled on that database;
- ``wsp_fetch``: ``jp_fetch`` that signs in as one of the world's people;
- ``api``: requests to ``/api/workspace-perms/`` as the world's people (:mod:`tests.helpers.api`);
- ``http``: requests to any route with the URL path sent as given (:mod:`tests.helpers.http`).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tornado.httpserver
from jupyter_server.serverapp import ServerApp

from jupyter_workspace_perms.store import PolicyStore
from tests.helpers.api import Api
from tests.helpers.http import Http
from tests.helpers.world import World, build_world, server_config

Fetch = Callable[..., Awaitable[Any]]


@pytest.fixture(autouse=True)
def _shells_die_with_the_test() -> Iterator[None]:
    """Every shell a test's in-process server opened is killed when the test ends.

    The server's own cleanup (pytest-jupyter's, after this) stops its extensions
    together; when one of them fails to stop, the others' stops are abandoned, and a
    terminal left running kept pytest from exiting. A terminal's process leads its own
    session, so its group is the sandbox and the shell in it.
    """
    yield
    if not ServerApp.initialized():
        return
    app = ServerApp.instance()
    manager = getattr(app, "web_app", None) and app.web_app.settings.get("terminal_manager")
    for term in list(getattr(manager, "terminals", {}).values()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(term.ptyproc.pid, signal.SIGKILL)


@pytest.fixture
def wsp_db_url(tmp_path: Path) -> str:
    """A SQLite URL in a folder beside (never inside) the server's root_dir."""
    db_dir = tmp_path / "policy-db"
    db_dir.mkdir()
    return f"sqlite:///{db_dir / 'policy.sqlite'}"


@pytest.fixture
def wsp_store(wsp_db_url: str) -> Iterator[PolicyStore]:
    """A store opened on the test database (schema created at head)."""
    store = PolicyStore(db_url=wsp_db_url).open()
    yield store
    store.close()


@pytest.fixture
def wsp_world(wsp_store: PolicyStore, jp_root_dir: Path) -> World:
    """Workspace ``acme`` with one member per role, a guest and three projects."""
    return build_world(wsp_store, jp_root_dir)


@pytest.fixture
def jp_server_config(wsp_db_url: str) -> dict[str, Any]:
    """A server with the extension enabled on the test database."""
    return server_config(wsp_db_url)


@pytest.fixture
def wsp_fetch(wsp_world: World, jp_fetch: Fetch) -> Fetch:
    """``await wsp_fetch("admin", "api", "workspace-perms", "me")``: a request as one person."""

    async def fetch(who: str | None, *parts: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            headers.update(wsp_world.auth(who))
        else:
            headers["Authorization"] = ""
        kwargs.setdefault("raise_error", False)
        return await jp_fetch(*parts, headers=headers, **kwargs)

    return fetch


@pytest.fixture
def api(wsp_fetch: Fetch, wsp_world: World, jp_serverapp: Any) -> Api:
    """``await api("admin", "GET", "workspaces/acme")`` against the real server."""
    return Api(wsp_fetch, wsp_world, jp_serverapp.web_app.settings["workspace_perms_store"])


@pytest.fixture
def http(wsp_world: World, http_server_client: Any, jp_base_url: str) -> Http:
    """``await http("editor", "GET", "api/contents/acme/public")`` against the real server."""
    return Http(http_server_client, jp_base_url, wsp_world)


#: The base URLs the route, API, identity and kernel tests run under: pytest-jupyter's
#: (deliberately percent-encoded) and Binder's, where the server also trusts the
#: proxy's X-Forwarded-* headers (``--ServerApp.trust_xheaders=True``, as BinderHub
#: starts it) and serves a folder inside its user's home.
BASE_URLS = {"base": "/a%40b/", "binder": "/binder/jupyter/user/test/"}
BEHIND_BINDER = BASE_URLS["binder"]
#: The test folders whose servers run under every base URL of :data:`BASE_URLS`.
EVERY_BASE_URL = ("api", "identity", "server", "kernel", "sandbox")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each server test of :data:`EVERY_BASE_URL` once per base URL."""
    folder = metafunc.definition.path.relative_to(Path(__file__).parent).parts[0]
    if folder in EVERY_BASE_URL and "jp_base_url" in metafunc.fixturenames:
        metafunc.parametrize("jp_base_url", list(BASE_URLS.values()), ids=list(BASE_URLS))


@pytest.fixture
def jp_root_dir(jp_base_url: str, jp_home_dir: Path, tmp_path: Path) -> Path:
    """The served folder: on Binder it lies in the server user's home (where Jupyter
    writes it as ``~/…`` in its settings), elsewhere beside it."""
    root = jp_home_dir / "demo" if jp_base_url == BEHIND_BINDER else tmp_path / "root_dir"
    root.mkdir()
    return root


@pytest.fixture
def jp_argv(jp_base_url: str) -> list[str]:
    """Behind Binder's proxy, the server trusts its X-Forwarded-* headers."""
    return ["--ServerApp.trust_xheaders=True"] if jp_base_url == BEHIND_BINDER else []


@pytest.fixture
def http_server(
    jp_asyncio_loop: Any, http_server_port: Any, jp_web_app: Any, jp_serverapp: Any
) -> Iterator[Any]:
    """pytest-jupyter's HTTP server, made as ``ServerApp.init_httpserver`` makes it: with
    ``xheaders`` when the server trusts a proxy's headers."""

    async def make() -> Any:
        server = tornado.httpserver.HTTPServer(jp_web_app, xheaders=jp_serverapp.trust_xheaders)
        server.add_socket(http_server_port[0])
        return server

    server = jp_asyncio_loop.run_until_complete(make())
    yield server
    server.stop()
    if hasattr(server, "close_all_connections"):
        with contextlib.suppress(TimeoutError):
            jp_asyncio_loop.run_until_complete(server.close_all_connections())
    http_server_port[0].close()
