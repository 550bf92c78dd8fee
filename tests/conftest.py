"""Fixtures shared by the test suite.

- ``wsp_db_url``: a fresh SQLite policy database outside ``root_dir``;
- ``wsp_store``: a :class:`PolicyStore` on it, as the CLI or another server would open it;
- ``wsp_world``: a small sample world (workspace ``acme`` with one member per role,
  a guest, projects with each access level) and a token per person;
- ``jp_server_config``: a real Jupyter server with the extension enabled on that database;
- ``wsp_fetch``: ``jp_fetch`` that signs in as one of the world's people.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jupyter_workspace_perms.store import PolicyStore

pytest_plugins = ["pytest_jupyter.jupyter_server", "tests.postgres"]


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


@dataclass
class World:
    """The sample world: who is who, and a token for each."""

    store: PolicyStore
    root: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        """Headers that sign in as ``who``."""
        return {"Authorization": f"token {self.tokens[who]}"}


PEOPLE = {
    "admin": ("ada@acme.test", "google"),
    "editor": ("ed@acme.test", "google"),
    "contributor": ("cora@acme.test", "google"),
    "viewer": ("vic@acme.test", "google"),
    "guest": ("gus@gmail.test", "github"),
    "outsider": ("otto@else.test", "token"),
}


@pytest.fixture
def wsp_world(wsp_store: PolicyStore, jp_root_dir: Path) -> World:
    """Workspace ``acme`` with one member per role, a guest and three projects."""
    with wsp_store.write("test") as w:
        w.create_workspace("acme", PEOPLE["admin"][0], PEOPLE["admin"][1], name="Acme")
        for role in ("editor", "contributor", "viewer"):
            email, provider = PEOPLE[role]
            w.ensure_user(email, provider)
            w.set_member("acme", email, role)
        for who in ("guest", "outsider"):
            w.ensure_user(*PEOPLE[who])
        w.create_project("acme", "public", "full", creator=PEOPLE["editor"][0])
        w.create_project("acme", "locked", "view")
        w.create_project("acme", "private", "none", creator=PEOPLE["editor"][0])
        w.set_collaborator("acme", "public", PEOPLE["guest"][0], "viewer")
    world = World(wsp_store, jp_root_dir)
    with wsp_store.write("test") as w:
        for who, (email, _provider) in PEOPLE.items():
            world.tokens[who] = w.create_token(email)[1]
    for project in ("public", "locked", "private"):
        (jp_root_dir / "acme" / project).mkdir(parents=True, exist_ok=True)
    return world


@pytest.fixture
def jp_server_config(wsp_db_url: str) -> dict[str, Any]:
    """A server with the extension enabled on the test database."""
    return {
        "ServerApp": {
            "jpserver_extensions": {
                "jupyter_workspace_perms": True,
                "jupyter_server_terminals": False,
            },
            "reraise_server_extension_failures": True,
        },
        "PolicyStore": {"db_url": wsp_db_url, "refresh_interval": 0.1},
    }


Fetch = Callable[..., Awaitable[Any]]


@pytest.fixture
def wsp_fetch(wsp_world: World, jp_fetch: Fetch) -> Callable[..., Awaitable[Any]]:
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
