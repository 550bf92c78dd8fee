"""Enforcement on Jupyter's file routes: each role on each route, listings and ``writable``
(projects that follow their folders: ``test_enforce_projects.py``).

Real HTTP against a real Jupyter server (``wsp_world``: workspace ``acme`` with projects
``public`` (full, creator ed), ``locked`` (view) and ``private`` (none, creator ed); gus is a
guest with a viewer grant on ``public``; otto is in no workspace). Every refusal is checked
for its status, its ``reason`` and for changing nothing on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.http import Http, Reply, notebook_text, plant, put_file, tree
from tests.helpers.world import World

PEOPLE = ("admin", "editor", "contributor", "viewer", "guest", "outsider")

# what each person may do in each project: "write", "read" or None (invisible)
LEVELS: dict[str, dict[str, str | None]] = {
    "public": {
        "admin": "write",
        "editor": "write",
        "contributor": "read",
        "viewer": "read",
        "guest": "read",
        "outsider": None,
    },
    "locked": {
        "admin": "write",  # Admins can always edit a locked project
        "editor": "read",
        "contributor": "read",
        "viewer": "read",
        "guest": None,
        "outsider": None,
    },
    "private": {
        "admin": None,  # Admins may know the name (REST API), never the files
        "editor": "write",  # creator: project admin
        "contributor": None,
        "viewer": None,
        "guest": None,
        "outsider": None,
    },
}


@dataclass(frozen=True)
class Route:
    """One request on a project's files; ``done`` says whether an allowed one took effect."""

    name: str
    needs: str  # "read" or "write"
    method: str
    path: str  # "{p}" is the project folder, "{who}" the person
    status: int  # on success
    body: Any = None
    done: Callable[[Path, str, Reply], bool] | None = None  # (project folder, who, reply)


def _text(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


ROUTES = [
    Route(
        "contents.get",
        "read",
        "GET",
        "api/contents/{p}/f.txt",
        200,
        done=lambda d, w, r: r.json["content"] == "original",
    ),
    Route("contents.get-notebook", "read", "GET", "api/contents/{p}/nb.ipynb", 200),
    Route("contents.list", "read", "GET", "api/contents/{p}", 200),
    Route(
        "files", "read", "GET", "files/{p}/f.txt", 200, done=lambda d, w, r: r.raw == b"original"
    ),
    Route("view", "read", "GET", "view/{p}/nb.ipynb", 200),
    Route(
        "nbconvert.html",
        "read",
        "GET",
        "nbconvert/html/{p}/nb.ipynb",
        200,
        done=lambda d, w, r: b"hello" in r.raw,
    ),
    Route("checkpoints.list", "read", "GET", "api/contents/{p}/f.txt/checkpoints", 200),
    Route(
        "contents.save",
        "write",
        "PUT",
        "api/contents/{p}/sv-{who}.txt",
        200,
        body=put_file("saved"),
        done=lambda d, w, r: _text(d / f"sv-{w}.txt") == "saved",
    ),
    Route(
        "contents.create",
        "write",
        "PUT",
        "api/contents/{p}/new-{who}.txt",
        201,
        body=put_file("new"),
        done=lambda d, w, r: _text(d / f"new-{w}.txt") == "new",
    ),
    Route(
        "contents.mkdir",
        "write",
        "PUT",
        "api/contents/{p}/dir-{who}",
        201,
        body={"type": "directory"},
        done=lambda d, w, r: (d / f"dir-{w}").is_dir(),
    ),
    Route(
        "contents.rename",
        "write",
        "PATCH",
        "api/contents/{p}/mv-{who}.txt",
        200,
        body={"path": "{p}/moved-{who}.txt"},
        done=lambda d, w, r: (
            _text(d / f"moved-{w}.txt") == "x" and not (d / f"mv-{w}.txt").exists()
        ),
    ),
    Route(
        "contents.delete",
        "write",
        "DELETE",
        "api/contents/{p}/rm-{who}.txt",
        204,
        done=lambda d, w, r: not (d / f"rm-{w}.txt").exists(),
    ),
    Route(
        "contents.untitled",
        "write",
        "POST",
        "api/contents/{p}",
        201,
        body={"type": "file", "ext": ".txt"},
        done=lambda d, w, r: (d / r.json["name"]).is_file(),
    ),
    Route(
        "contents.copy",
        "write",
        "POST",
        "api/contents/{p}",
        201,
        body={"copy_from": "{p}/f.txt"},
        done=lambda d, w, r: (d / r.json["name"]).is_file() and r.json["name"] != "f.txt",
    ),
    Route(
        "checkpoints.restore",
        "write",
        "POST",
        "api/contents/{p}/ck-{who}.txt/checkpoints/checkpoint",
        204,
        done=lambda d, w, r: _text(d / f"ck-{w}.txt") == "checkpointed",
    ),
    Route(
        "checkpoints.delete",
        "write",
        "DELETE",
        "api/contents/{p}/ck-{who}.txt/checkpoints/checkpoint",
        204,
        done=lambda d, w, r: not (d / ".ipynb_checkpoints" / f"ck-{w}-checkpoint.txt").exists(),
    ),
    Route(
        "checkpoints.create",
        "write",
        "POST",
        "api/contents/{p}/cp-{who}.txt/checkpoints",
        201,
        done=lambda d, w, r: (d / ".ipynb_checkpoints" / f"cp-{w}-checkpoint.txt").is_file(),
    ),
    Route("trust", "write", "POST", "api/contents/{p}/nb.ipynb/trust", 201),
]


def expected(level: str | None, needs: str, route: Route) -> tuple[int, str | None]:
    """(status, reason) for a person with ``level`` on a route that ``needs`` read or write."""
    if level is None:
        return 404, "not_found"
    if needs == "write" and level == "read":
        return 403, "role_too_low"
    return route.status, None


async def prepare_project(jp_serverapp: Any, root: Path, project: str) -> Path:
    """Files every route works on, per person where a route changes them."""
    folder = root / "acme" / project
    plant(root, f"acme/{project}/f.txt", "original")
    plant(root, f"acme/{project}/nb.ipynb", notebook_text())
    cm = jp_serverapp.contents_manager
    for who in PEOPLE:
        for name in ("sv", "mv", "rm", "cp"):
            plant(root, f"acme/{project}/{name}-{who}.txt", "x")
        plant(root, f"acme/{project}/ck-{who}.txt", "checkpointed")
        await cm.create_checkpoint(f"acme/{project}/ck-{who}.txt")
        plant(root, f"acme/{project}/ck-{who}.txt", "changed since")
    return folder


@pytest.mark.parametrize("project", ["public", "locked", "private"])
async def test_each_role_on_each_file_route(
    http: Http, wsp_world: World, jp_serverapp: Any, project: str
) -> None:
    folder = await prepare_project(jp_serverapp, wsp_world.root, project)
    p = f"acme/{project}"
    failures = []
    for who in PEOPLE:
        level = LEVELS[project][who]
        for route in ROUTES:
            path = route.path.format(p=p, who=who)
            body = route.body
            if isinstance(body, dict):
                body = {
                    k: v.format(p=p, who=who) if isinstance(v, str) else v for k, v in body.items()
                }
            before = tree(folder)
            reply = await http(who, route.method, path, body)
            status, reason = expected(level, route.needs, route)
            label = f"{who} {route.name} in {project}"
            if reply.code != status or (reason is not None and reply.reason != reason):
                failures.append(f"{label}: expected {status} {reason}, got {reply!r}")
            elif reason is not None and tree(folder) != before:
                failures.append(f"{label}: refused, yet files changed")
            elif reason is None and route.done is not None and not route.done(folder, who, reply):
                failures.append(f"{label}: allowed, yet it did not happen ({reply!r})")
    assert not failures, "\n".join(failures)


# -- listings and ``writable`` ------------------------------------------------------------


def names(reply: Reply) -> list[str]:
    assert reply.code == 200, reply
    return sorted(entry["name"] for entry in reply.json["content"])


async def test_listings_show_only_what_each_person_may_read(http: Http, wsp_world: World) -> None:
    root = wsp_world.root
    plant(root, "stray/file.txt", "not a workspace")  # a top-level folder that is no workspace
    plant(root, "acme/README.md", "welcome")
    for project in ("public", "locked", "private"):
        plant(root, f"acme/{project}/f.txt", project)
    members = ["README.md", "locked", "public"]
    seen_in_acme = {
        "admin": members,  # private is invisible to a workspace Admin without a grant
        "editor": ["README.md", "locked", "private", "public"],
        "contributor": members,
        "viewer": members,
        "guest": ["public"],  # only the shared project; no workspace files
    }
    for who, expected_names in seen_in_acme.items():
        assert names(await http.get(who, "api/contents")) == ["acme"], who
        assert names(await http.get(who, "api/contents/acme")) == expected_names, who
    assert names(await http.get("outsider", "api/contents")) == []
    reply = await http.get("outsider", "api/contents/acme")
    assert (reply.code, reply.reason) == (404, "not_found")
    for who in ("admin", "editor", "viewer"):
        reply = await http.get(who, "api/contents/stray")
        assert (reply.code, reply.reason) == (404, "not_found"), (who, reply)


async def test_writable_is_per_person(http: Http, wsp_world: World) -> None:
    root = wsp_world.root
    for project in ("public", "locked"):
        plant(root, f"acme/{project}/f.txt", "x")
        plant(root, f"acme/{project}/nb.ipynb", notebook_text())
    writable = {
        "public": {
            "admin": True,
            "editor": True,
            "contributor": False,
            "viewer": False,
            "guest": False,
        },
        "locked": {"admin": True, "editor": False, "contributor": False, "viewer": False},
    }
    # notebooks are writable for those who may run but not edit: their saves are merged
    # (test_merge_save.py); in the locked project the contributor is a viewer
    merges = {("public", "contributor")}
    for project, by_who in writable.items():
        for who, can_write in by_who.items():
            expected = {"f.txt": can_write, "nb.ipynb": can_write or (project, who) in merges}
            for name in ("f.txt", "nb.ipynb"):
                model = (await http.get(who, f"api/contents/acme/{project}/{name}")).json
                assert model["writable"] is expected[name], (project, who, name)
            listing = (await http.get(who, f"api/contents/acme/{project}")).json["content"]
            assert {e["name"]: e["writable"] for e in listing} == expected, (project, who)
    # files directly in the workspace folder: only Admins write
    plant(root, "acme/README.md", "welcome")
    for who, can_write in (("admin", True), ("editor", False), ("viewer", False)):
        model = (await http.get(who, "api/contents/acme/README.md")).json
        assert model["writable"] is can_write, who
