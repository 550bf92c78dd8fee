"""Copies, new untitled entries and moves create only what the Authorizer decided
(issue #10, item 2; ``jupyter_workspace_perms/server/copies.py``).

``wsp_world``: workspace ``acme`` with projects ``public`` (full, creator ed), ``locked``
(view) and ``private`` (none, creator ed); ada (admin) cannot see ``private``. Jupyter's own
folder copy followed links, copied the whole tree after a read check on its top folder only,
made folders directly in a workspace that no project knows, and filled the disk when the root
was copied. Every refusal here is checked for its status, its ``reason`` and for leaving the
whole tree as it was (no half copy, no temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.http import SECRET, Http, notebook_text, plant
from tests.helpers.world import World

MAX_ENTRIES = 12


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """The shared server, with small copy limits."""
    return {
        **jp_server_config,
        "WorkspaceContentsManager": {"max_copy_entries": MAX_ENTRIES},
        "FileContentsManager": {"max_copy_folder_size_mb": 1},
    }


def snapshot(root: Path) -> dict[str, str]:
    """Every entry below ``root`` (hidden ones, folders and links included) and what it is."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = "link -> " + os.readlink(path)
            elif path.is_dir():
                found[key] = "folder"
            else:
                found[key] = path.read_text(errors="replace")
    return found


def plant_world(root: Path) -> None:
    """A folder ``data`` in each project, a secret in ``private``, and a stray folder
    directly in ``acme`` that is no project (an operator's, or left by an old bug)."""
    for project in ("public", "locked", "private"):
        plant(root, f"acme/{project}/data/a.txt", f"a of {project}")
        plant(root, f"acme/{project}/data/sub/b.txt", f"b of {project}")
        plant(root, f"acme/{project}/{project}.ipynb", notebook_text(f"print('{project}')"))
    plant(root, "acme/private/secret.txt", SECRET)
    plant(root, "acme/stray/secret.txt", SECRET)


# -- what may be copied -------------------------------------------------------------------

# (who, copy_from, into, status, reason)
FOLDER_ATTACKS = [
    # a workspace folder holds projects with their own access (ada cannot see private)
    ("admin", "acme", "acme/public", 403, "copy_workspace_folder"),
    ("editor", "acme/", "acme/public/data", 403, "copy_workspace_folder"),
    # the root: every workspace (and, into one of its own folders, without end)
    ("editor", "/", "acme/public", 403, "copy_root"),
    # a project folder as a whole, another project's or a private one (ed created it)
    ("admin", "acme/locked", "acme/public", 403, "copy_project_folder"),
    ("editor", "acme/private", "acme/public", 403, "copy_project_folder"),
    ("editor", "acme/public", "acme/public/data", 403, "copy_project_folder"),
    # a folder directly in the workspace that is no project: nobody may read what it holds
    ("admin", "acme/stray", "acme/public", 403, "copy_outside_projects"),
]


@pytest.mark.parametrize(("who", "source", "into", "status", "reason"), FOLDER_ATTACKS)
async def test_folders_that_hold_other_projects_or_none_are_never_copied(
    http: Http, wsp_world: World, who: str, source: str, into: str, status: int, reason: str
) -> None:
    root = wsp_world.root
    plant_world(root)
    before = snapshot(root)
    reply = await http(who, "POST", f"api/contents/{into}", {"copy_from": source})
    assert (reply.code, reply.reason) == (status, reason), reply
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("link", "target"),
    [("leak.txt", "../../private/secret.txt"), ("leak", "../../private")],
)
async def test_a_folder_holding_a_link_is_refused_not_copied_through_it(
    http: Http, wsp_world: World, link: str, target: str
) -> None:
    """Jupyter's copy followed the link: ada read the private project's secret in the copy."""
    root = wsp_world.root
    plant_world(root)
    (root / "acme/public/data" / link).symlink_to(target)
    before = snapshot(root)
    reply = await http(
        "admin", "POST", "api/contents/acme/public", {"copy_from": "acme/public/data"}
    )
    assert (reply.code, reply.reason) == (400, "copy_links"), reply
    assert f"acme/public/data/{link}" in reply.json["message"]
    assert snapshot(root) == before


async def test_a_copied_or_moved_folder_never_lands_directly_in_a_workspace(
    http: Http, wsp_world: World
) -> None:
    """Such a folder is no project: nobody may read or list it. A copy ignores ``type``
    (the source decides what is made), so ``"directory"`` asks nothing more."""
    root = wsp_world.root
    plant_world(root)
    before = snapshot(root)
    for who in ("admin", "editor"):
        for extra in ({}, {"type": "directory"}):
            body = {"copy_from": "acme/public/data", **extra}
            reply = await http(who, "POST", "api/contents/acme", body)
            assert (reply.code, reply.reason) == (403, "copy_makes_project"), (who, body, reply)
        reply = await http(who, "PATCH", "api/contents/acme/public/data", {"path": "acme/data"})
        assert (reply.code, reply.reason) == (403, "copy_makes_project"), (who, reply)
    # a viewer is refused for their role, as for any new folder in the workspace
    reply = await http("viewer", "POST", "api/contents/acme", {"copy_from": "acme/public/data"})
    assert (reply.code, reply.reason) == (403, "role_too_low"), reply
    # and a folder that is no project never moves into one (its files would become readable)
    reply = await http("admin", "PATCH", "api/contents/acme/stray", {"path": "acme/public/stray"})
    assert (reply.code, reply.reason) == (403, "move_outside_projects"), reply
    assert snapshot(root) == before
    # a file copied into the workspace is a workspace file: Admins only, as any such file
    body = {"copy_from": "acme/public/data/a.txt", "type": "directory"}
    reply = await http("editor", "POST", "api/contents/acme", body)
    assert (reply.code, reply.reason) == (403, "role_too_low"), reply
    assert (await http("admin", "POST", "api/contents/acme", body)).code == 201
    assert (root / "acme/a.txt").read_text() == "a of public"


async def test_a_folder_copy_over_a_limit_is_refused_before_anything_is_written(
    http: Http, wsp_world: World
) -> None:
    root = wsp_world.root
    plant_world(root)
    for n in range(MAX_ENTRIES + 1):
        plant(root, f"acme/public/many/f{n}.txt", "x")
    plant(root, "acme/public/big/one.bin", "x" * (2 * 1024 * 1024))
    before = snapshot(root)
    for source, limit in (("many", "max_copy_entries"), ("big", "max_copy_folder_size_mb")):
        body = {"copy_from": f"acme/public/{source}"}
        reply = await http("editor", "POST", "api/contents/acme/public/data", body)
        assert (reply.code, reply.reason) == (413, "copy_too_large"), (source, reply)
        assert limit in reply.json["message"], reply
    assert snapshot(root) == before


# -- new untitled entries and bodiless saves ------------------------------------------------


@pytest.mark.parametrize(
    "ext",
    ["/../../private/evil.txt", "/.ipynb_checkpoints/a-checkpoint.ipynb", "/evil.txt", 5, None],
)
async def test_a_new_untitled_ext_is_a_plain_extension(
    http: Http, wsp_world: World, ext: Any
) -> None:
    """Jupyter appends ``ext`` to the new name: a slash would create the entry elsewhere
    than in the folder the Authorizer decided on (here past the hidden-file check)."""
    root = wsp_world.root
    plant_world(root)
    (root / "acme/public/untitled").mkdir()
    before = snapshot(root)
    for kind in ("file", "directory"):
        body = {"type": kind, "ext": ext}
        reply = await http("editor", "POST", "api/contents/acme/public", body)
        assert (reply.code, reply.reason) == (400, "invalid_ext"), (body, reply)
    assert snapshot(root) == before
    reply = await http("editor", "POST", "api/contents/acme/public", {"type": "file", "ext": ".py"})
    assert (reply.code, reply.json["path"]) == (201, "acme/public/untitled.py"), reply


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"copy_from": 5}, "invalid_copy_from"),
        ({"copy_from": ["acme/public/data"]}, "invalid_copy_from"),
        ({"type": ["directory"]}, "invalid_type"),
        ([{"copy_from": "acme/public/data"}], "bad_body"),
    ],
)
async def test_post_bodies_of_the_wrong_shape_are_400(
    http: Http, wsp_world: World, body: Any, reason: str
) -> None:
    """Jupyter answered these with a 500 (or read them in ways nobody checked)."""
    root = wsp_world.root
    plant_world(root)
    before = snapshot(root)
    reply = await http("editor", "POST", "api/contents/acme/public", body)
    assert (reply.code, reply.reason) == (400, reason), reply
    assert snapshot(root) == before


async def test_a_bodiless_put_on_a_folder_is_decided_on_the_file_it_makes(
    http: Http, wsp_world: World
) -> None:
    """Jupyter makes an untitled file *inside* the folder: that is what is decided."""
    root = wsp_world.root
    plant_world(root)
    before = snapshot(root)
    # inside a folder that is no project: nobody may create anything
    reply = await http("admin", "PUT", "api/contents/acme/stray", "")
    assert (reply.code, reply.reason) == (404, "not_found"), reply
    reply = await http("editor", "PUT", "api/contents/acme", "{}")
    assert (reply.code, reply.reason) == (403, "role_too_low"), reply
    assert snapshot(root) == before
    # directly in the workspace: a workspace file, which Admins may make
    reply = await http("admin", "PUT", "api/contents/acme", "")
    assert (reply.code, reply.json["path"]) == (201, "acme/untitled"), reply


# -- projects created through the REST API ----------------------------------------------------


async def test_the_api_creates_projects_only_in_new_or_empty_folders(
    http: Http, wsp_world: World
) -> None:
    """Registering a folder that holds files would show them to its creator and members."""
    root = wsp_world.root
    plant_world(root)
    (root / "acme/empty").mkdir()
    before = snapshot(root)
    projects = "api/workspace-perms/workspaces/acme/projects"
    reply = await http("editor", "POST", projects, {"name": "stray"})
    assert (reply.code, reply.reason) == (409, "folder_not_empty"), reply
    assert "stray" not in [
        p["name"] for p in (await http.ok("editor", "GET", projects))["projects"]
    ]
    assert (await http("editor", "GET", "api/contents/acme/stray/secret.txt")).code == 404
    assert snapshot(root) == before
    assert (await http("editor", "POST", projects, {"name": "empty"})).code == 201
    assert (await http("editor", "POST", projects, {"name": "fresh"})).code == 201
    assert (root / "acme/fresh").is_dir()


# -- what keeps working -----------------------------------------------------------------------


async def test_copies_within_and_between_writable_projects_still_work(
    http: Http, wsp_world: World
) -> None:
    root = wsp_world.root
    plant_world(root)
    plant(root, "acme/public/data/.hidden", "hidden")
    plant(root, "acme/public/data/.ipynb_checkpoints/a-checkpoint.txt", "old a")
    # a file within its project
    reply = await http(
        "editor", "POST", "api/contents/acme/public", {"copy_from": "acme/public/data/a.txt"}
    )
    assert (reply.code, reply.json["path"]) == (201, "acme/public/a.txt"), reply
    # a notebook to another project ed may write (ed created the private one)
    body = {"copy_from": "acme/private/private.ipynb"}
    reply = await http("editor", "POST", "api/contents/acme/public", body)
    assert (reply.code, reply.json["path"]) == (201, "acme/public/private.ipynb"), reply
    assert "print('private')" in (root / "acme/public/private.ipynb").read_text()
    # a folder within its project, twice: a free name each time; hidden entries stay behind
    for name in ("data-Copy1", "data-Copy2"):
        body = {"copy_from": "acme/public/data"}
        reply = await http("editor", "POST", "api/contents/acme/public", body)
        assert reply.code == 201, reply
        assert (reply.json["path"], reply.json["type"]) == (f"acme/public/{name}", "directory")
        copied = snapshot(root / "acme/public" / name)
        assert copied == {"a.txt": "a of public", "sub": "folder", "sub/b.txt": "b of public"}
    # a folder into one of its own folders (Jupyter's copy recursed until a 500)
    body = {"copy_from": "acme/public/data"}
    reply = await http("editor", "POST", "api/contents/acme/public/data/sub", body)
    assert (reply.code, reply.json["path"]) == (201, "acme/public/data/sub/data"), reply
    copied = snapshot(root / "acme/public/data/sub/data")
    assert copied == {"a.txt": "a of public", "sub": "folder", "sub/b.txt": "b of public"}
    # a folder from a project Admins may read into one they may write
    reply = await http(
        "admin", "POST", "api/contents/acme/public/data", {"copy_from": "acme/locked/data"}
    )
    assert (reply.code, reply.json["path"]) == (201, "acme/public/data/data"), reply
    assert (root / "acme/public/data/data/sub/b.txt").read_text() == "b of locked"
    # moves within a project still move folders
    reply = await http(
        "editor", "PATCH", "api/contents/acme/public/data-Copy2", {"path": "acme/public/data/moved"}
    )
    assert reply.code == 200, reply
    # and nothing was left behind by any copy
    assert not [p for p in snapshot(root) if ".~copy-" in p]
    # refused: a folder copy into a folder that does not exist (Jupyter made its parents)
    reply = await http(
        "editor", "POST", "api/contents/acme/public/no/such", {"copy_from": "acme/public/data"}
    )
    assert (reply.code, reply.reason) == (404, "not_found"), reply
    assert not (root / "acme/public/no").exists()
