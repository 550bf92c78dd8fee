"""The sample world most server tests run in: workspace ``acme`` with one person per role.

Built by the ``wsp_world`` fixture (:mod:`tests.fixtures`): ada owns ``acme``
(admin), ed is its editor, cora its contributor, vic its viewer; gus is a guest
(viewer of ``acme/public``) and otto an outsider. Projects: ``public`` (full),
``locked`` (view) and ``private`` (none, created by ed). Everyone has a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_workspace_perms.store import PolicyStore

PEOPLE = {
    "admin": ("ada@acme.test", "google"),
    "editor": ("ed@acme.test", "google"),
    "contributor": ("cora@acme.test", "google"),
    "viewer": ("vic@acme.test", "google"),
    "guest": ("gus@gmail.test", "github"),
    "outsider": ("otto@else.test", "token"),
}


@dataclass
class World:
    """The sample world: who is who, and a token for each."""

    store: PolicyStore
    root: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        """Headers that sign in as ``who``."""
        return {"Authorization": f"token {self.tokens[who]}"}


def build_world(store: PolicyStore, root: Path) -> World:
    """Write the sample world into ``store`` and make its project folders under ``root``."""
    with store.write("test") as w:
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
    world = World(store, root)
    with store.write("test") as w:
        for who, (email, _provider) in PEOPLE.items():
            world.tokens[who] = w.create_token(email)[1]
    for project in ("public", "locked", "private"):
        (root / "acme" / project).mkdir(parents=True, exist_ok=True)
    return world


def server_config(
    db_url: str,
    *,
    extensions: Sequence[str] = (),
    refresh_interval: float = 0.1,
    **sections: dict[str, Any],
) -> dict[str, Any]:
    """A test server's config: our extension on ``db_url``, plus ``extensions`` (others off:
    terminals unless listed) and more config ``sections``."""
    enabled = {"jupyter_server_terminals": False, **dict.fromkeys(extensions, True)}
    config: dict[str, Any] = {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_workspace_perms": True, **enabled},
            "reraise_server_extension_failures": True,
        },
        "PolicyStore": {"db_url": db_url, "refresh_interval": refresh_interval},
    }
    if "jupyterlab" in extensions:
        config["LabApp"] = {"news_url": None}  # no request for news from the tests
    config.update(sections)
    return config
