"""Duplicating a project into another workspace (``POST …/projects/{project}/duplicate``).

Real HTTP against a real Jupyter server on the sample world (``wsp_world``: workspace
``acme``, projects ``public`` (creator ed, gus a guest viewer), ``locked`` and ``private``
(creator ed)), plus workspace ``beta`` (owner ada) where vic, acme's Viewer, is an Editor
and cora a Viewer. The source project holds what a duplicate must leave out: hidden files,
checkpoints, environment files, a special file and links (one to a file of the private
project, one to its folder), none of which is ever followed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_workspace_perms.server.project_copies import ENVIRONMENT_FILES, ENVIRONMENT_FOLDERS
from tests.helpers.api import Api, BodyCase, RouteCase, check_bad_bodies, check_refusals

SOURCE = "workspaces/acme/projects/public/duplicate"
SECRET = "only collaborators of acme/private may read this"
KEPT = {
    "analysis.ipynb": '{"cells": []}',
    "data/values.csv": "x,y\n1,2\n",
    "data/deep/notes.md": "# notes\n",
    "data/requirements.txt": "numpy\n",  # environment files count only at the top level
}
FOLDERS = {"data", "data/deep"}


def fill_public(root: Path) -> None:
    """Files of every kind in acme/public, and a secret in acme/private."""
    public = root / "acme" / "public"
    for relative, text in KEPT.items():
        (public / relative).parent.mkdir(parents=True, exist_ok=True)
        (public / relative).write_text(text, encoding="utf-8")
    (public / ".env").write_text("TOKEN=hidden\n", encoding="utf-8")
    (public / "data" / ".cache").mkdir()
    (public / "data" / ".cache" / "blob").write_text("cached", encoding="utf-8")
    (public / ".ipynb_checkpoints").mkdir()
    (public / ".ipynb_checkpoints" / "analysis-checkpoint.ipynb").write_text("{}")
    (public / "environment.yml").write_text("dependencies: [numpy]\n", encoding="utf-8")
    (public / "requirements.txt").write_text("pandas\n", encoding="utf-8")
    (public / "binder").mkdir()
    (public / "binder" / "postBuild").write_text("#!/bin/sh\n", encoding="utf-8")
    (root / "acme" / "private" / "plans.md").write_text(SECRET, encoding="utf-8")
    (public / "plans-link.md").symlink_to(root / "acme" / "private" / "plans.md")
    (public / "data" / "private-folder").symlink_to("../../private")
    (public / "data" / "same-project.ipynb").symlink_to("../analysis.ipynb")
    os.mkfifo(public / "data" / "pipe")


@pytest.fixture
def beta(api: Api, jp_root_dir: Path) -> Path:
    """Workspace ``beta`` (ada owns it; vic Editor, cora Viewer), with acme/public filled."""
    with api.store.write("test") as w:
        w.create_workspace("beta", "ada@acme.test", "google")
        w.set_member("beta", "vic@acme.test", "editor")
        w.set_member("beta", "cora@acme.test", "viewer")
    (jp_root_dir / "beta").mkdir()
    fill_public(jp_root_dir)
    return jp_root_dir / "beta"


def tree(folder: Path) -> dict[str, str | None]:
    """Every entry below ``folder``: file contents, None for folders; links fail."""
    found: dict[str, str | None] = {}
    for path in sorted(folder.rglob("*")):
        assert not path.is_symlink(), f"{path} is a link"
        relative = str(path.relative_to(folder))
        found[relative] = None if path.is_dir() else path.read_text(encoding="utf-8")
    return found


def snapshot(root: Path) -> list[str]:
    """Every path under the root (hidden ones included): what a refusal must not change."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# -- what is copied, and what is left behind ---------------------------------------------------


async def test_a_viewer_duplicates_into_a_workspace_where_they_are_editor(
    api: Api, beta: Path
) -> None:
    reply = await api("viewer", "POST", SOURCE, {"to_workspace": "beta"})
    assert reply.code == 201, reply
    body = reply.body
    assert body["project"] == {
        **body["project"],
        "name": "public",
        "workspace": "beta",
        "access": "full",
        "role": "admin",
        "creator": "vic@acme.test",
        "collaborators": [
            {"username": "vic@acme.test", "role": "admin", "expires_at": None, "guest": False}
        ],
    }
    assert "project:share" in body["project"]["permissions"]
    assert body["copied"] == {
        "files": len(KEPT),
        "folders": len(FOLDERS),
        "bytes": sum(len(text.encode()) for text in KEPT.values()),
    }
    assert body["left_behind"] == [
        {"what": "collaborators", "count": 2},
        {"what": "hidden files", "count": 2},
        {"what": "checkpoints", "count": 1},
        {
            "what": "environment files",
            "count": 3,
            "paths": ["binder", "environment.yml", "requirements.txt"],
        },
        {
            "what": "symlinks",
            "count": 3,
            "paths": ["plans-link.md", "data/private-folder", "data/same-project.ipynb"],
        },
        {"what": "special files", "count": 1, "paths": ["data/pipe"]},
        {"what": "integration connections", "note": body["left_behind"][-2]["note"]},
        {"what": "installed packages", "note": body["left_behind"][-1]["note"]},
    ]
    assert "never carried" in body["left_behind"][-2]["note"]

    # on disk: exactly the kept files and folders, no link, nothing of the private project
    assert tree(beta / "public") == {**KEPT, **dict.fromkeys(FOLDERS)}
    assert os.listdir(beta) == ["public"]  # no temporary folder left
    for path in beta.rglob("*"):
        assert path.is_dir() or SECRET not in path.read_text(encoding="utf-8")
    # the source is untouched
    assert (beta.parent / "acme" / "public" / "plans-link.md").is_symlink()

    # the copy is a project of beta: vic administers it, beta's members get their role,
    # the source's collaborators are not carried
    assert (await api.ok("viewer", "GET", "workspaces/beta/projects/public"))["role"] == "admin"
    assert (await api.ok("contributor", "GET", "workspaces/beta/projects/public"))[
        "role"
    ] == "viewer"
    for who in ("guest", "editor"):
        reply = await api(who, "GET", "workspaces/beta/projects/public")
        assert (reply.code, reply.reason) == (404, "not_found"), who
    copied = await api.ok(
        "viewer",
        "PUT",
        "workspaces/beta/projects/public/collaborators/gus@gmail.test",
        {"role": "viewer"},
    )
    assert copied["username"] == "gus@gmail.test"

    # recorded like any new project, by the person who duplicated it, naming the source
    assert api.audit("project.create")[-1] == (
        "vic@acme.test",
        "beta/public",
        {"access": "full", "creator": "vic@acme.test", "duplicate_of": "acme/public"},
    )


async def test_the_copy_is_served_by_jupyter_to_its_project_admin(
    api: Api, beta: Path, wsp_fetch: Any
) -> None:
    await api.ok("viewer", "POST", SOURCE, {"to_workspace": "beta"})
    listing = await wsp_fetch("viewer", "api", "contents", "beta", "public", "data")
    assert listing.code == 200
    names = {entry["name"]: entry["writable"] for entry in json.loads(listing.body)["content"]}
    assert names == {"deep": True, "requirements.txt": True, "values.csv": True}


async def test_taken_names_get_a_copy_suffix_and_an_asked_name_must_be_free(
    api: Api, beta: Path
) -> None:
    # an unregistered folder takes its name too (the REST API never adopts one)
    (beta / "public-copy-2").mkdir()
    names = [
        (await api.ok("viewer", "POST", SOURCE, {"to_workspace": "beta"}))["project"]["name"]
        for _ in range(3)
    ]
    assert names == ["public", "public-copy", "public-copy-3"]
    named = await api.ok("viewer", "POST", SOURCE, {"to_workspace": "beta", "name": "Q4 (draft)"})
    assert named["project"]["name"] == "Q4 (draft)"
    assert (beta / "Q4 (draft)" / "analysis.ipynb").is_file()
    # within the source's own workspace too, for who may create projects there
    same = await api.ok("editor", "POST", SOURCE, {"to_workspace": "acme"})
    assert same["project"]["name"] == "public-copy"

    before, files = api.version(), snapshot(beta.parent)
    for name in ("public", "public-copy-2"):
        reply = await api("viewer", "POST", SOURCE, {"to_workspace": "beta", "name": name})
        assert (reply.code, reply.reason) == (409, "exists"), name
    for name in ("..", ".hidden", "a\\b", "trailing.", "x" * 127 + "y"):
        reply = await api("viewer", "POST", SOURCE, {"to_workspace": "beta", "name": name})
        assert reply.code == 400 and reply.reason in ("invalid_name", "invalid_body"), name
    assert api.version() == before
    assert snapshot(beta.parent) == files


async def test_long_names_are_shortened_to_fit_the_suffix(api: Api, jp_root_dir: Path) -> None:
    long = "n" * 127
    await api.ok("editor", "POST", "workspaces/acme/projects", {"name": long})
    copy = await api.ok(
        "editor", "POST", f"workspaces/acme/projects/{long}/duplicate", {"to_workspace": "acme"}
    )
    assert copy["project"]["name"] == "n" * 122 + "-copy"
    assert (jp_root_dir / "acme" / copy["project"]["name"]).is_dir()


# -- who may duplicate where -------------------------------------------------------------------


ROUTES = [
    pytest.param(
        RouteCase(
            "project.duplicate",
            "POST",
            SOURCE,
            (
                ("viewer", 403, "role_too_low"),  # only a Viewer of acme
                ("contributor", 403, "role_too_low"),
                ("guest", 403, "guest"),  # a guest holds no workspace permission
                ("outsider", 404, "not_found"),  # cannot see the source
            ),
            body={"to_workspace": "acme"},
        ),
        id="into-acme-needs-workspace-create-project-there",
    ),
    pytest.param(
        RouteCase(
            "project.duplicate",
            "POST",
            SOURCE,
            (
                ("contributor", 403, "role_too_low"),  # a Viewer of beta
                ("editor", 404, "not_found"),  # not a member of beta: cannot see it
                ("guest", 404, "not_found"),
            ),
            body={"to_workspace": "beta"},
        ),
        id="into-beta-is-for-its-editors-and-invisible-to-others",
    ),
    pytest.param(
        RouteCase(
            "project.duplicate",
            "POST",
            "workspaces/acme/projects/private/duplicate",
            (
                ("viewer", 404, "not_found"),  # a private project is invisible to her
                ("admin", 403, "private"),  # Admins know it exists, never its files
                ("contributor", 404, "not_found"),
            ),
            body={"to_workspace": "beta"},
        ),
        id="a-private-project-is-duplicated-only-by-its-collaborators",
    ),
    pytest.param(
        RouteCase(
            "project.duplicate",
            "POST",
            SOURCE,
            (("viewer", 404, "not_found"), ("admin", 404, "not_found")),
            body={"to_workspace": "nowhere"},
        ),
        id="an-unknown-workspace-is-not-found",
    ),
]


@pytest.mark.parametrize("case", ROUTES)
async def test_refusals_change_nothing(
    api: Api, beta: Path, jp_root_dir: Path, case: RouteCase
) -> None:
    files = snapshot(jp_root_dir)
    await check_refusals(api, case)
    assert snapshot(jp_root_dir) == files


async def test_a_refusal_names_the_permission_it_needs(api: Api, beta: Path) -> None:
    reply = await api("contributor", "POST", SOURCE, {"to_workspace": "beta"})
    assert reply.code == 403
    assert "workspace:create_project" in reply.body["message"], reply


async def test_a_guest_duplicates_into_their_own_workspace(api: Api, jp_root_dir: Path) -> None:
    fill_public(jp_root_dir)
    gus = api.workspace("gusco", "gus@gmail.test", "github")  # no folder yet: it is made
    reply = await api(gus, "POST", SOURCE, {"to_workspace": "gusco", "name": "borrowed"})
    assert reply.code == 201, reply
    assert (reply.body["project"]["role"], reply.body["project"]["creator"]) == (
        "admin",
        "gus@gmail.test",
    )
    assert tree(jp_root_dir / "gusco" / "borrowed") == {**KEPT, **dict.fromkeys(FOLDERS)}
    # the source's collaborators (ed, gus) stay behind; gus is the only one on the copy
    assert reply.body["left_behind"][0] == {"what": "collaborators", "count": 2}
    assert [c["username"] for c in reply.body["project"]["collaborators"]] == ["gus@gmail.test"]


async def test_a_collaborator_of_a_private_project_duplicates_it(
    api: Api, jp_root_dir: Path
) -> None:
    (jp_root_dir / "acme" / "private" / "plans.md").write_text(SECRET, encoding="utf-8")
    reply = await api(
        "editor", "POST", "workspaces/acme/projects/private/duplicate", {"to_workspace": "acme"}
    )
    assert reply.code == 201, reply
    assert reply.body["project"]["name"] == "private-copy"
    assert reply.body["project"]["access"] == "full"
    assert {"what": "project access", "note": reply.body["left_behind"][1]["note"]} in (
        reply.body["left_behind"]
    )
    assert "private" in reply.body["left_behind"][1]["note"]


# -- limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "value", "words"),
    [("max_copy_entries", 5, "files and folders"), ("max_copy_folder_size_mb", 0, "MB")],
)
async def test_an_oversized_project_is_refused_before_anything_is_written(
    api: Api, beta: Path, jp_serverapp: Any, limit: str, value: int, words: str
) -> None:
    manager = jp_serverapp.contents_manager
    saved = getattr(manager, limit)
    setattr(manager, limit, value)
    before, files = api.version(), snapshot(beta.parent)
    try:
        reply = await api("viewer", "POST", SOURCE, {"to_workspace": "beta"})
    finally:
        setattr(manager, limit, saved)
    assert (reply.code, reply.reason) == (413, "copy_too_large"), reply
    assert (
        words in reply.body["message"]
        and f"WorkspaceContentsManager.{limit}" in (reply.body["message"])
    )
    assert api.version() == before
    assert snapshot(beta.parent) == files
    reply = await api("viewer", "GET", "workspaces/beta/projects/public")
    assert (reply.code, reply.reason) == (404, "not_found")


async def test_a_project_folder_that_is_a_link_is_not_copied(
    api: Api, beta: Path, jp_root_dir: Path
) -> None:
    with api.store.write("test") as w:
        w.create_project("acme", "linked", "full")
    (jp_root_dir / "acme" / "linked").symlink_to(jp_root_dir / "acme" / "private")
    before, files = api.version(), snapshot(jp_root_dir)
    reply = await api(
        "admin", "POST", "workspaces/acme/projects/linked/duplicate", {"to_workspace": "beta"}
    )
    assert (reply.code, reply.reason) == (400, "copy_failed"), reply
    assert api.version() == before
    assert snapshot(jp_root_dir) == files


BODIES = [
    pytest.param(
        BodyCase(
            "project.duplicate",
            "POST",
            SOURCE,
            "viewer",
            (
                {},
                {"name": "copy"},
                {"to_workspace": "../beta"},
                {"to_workspace": "beta", "name": ""},
                {"to_workspace": "beta", "access": "none"},
                {"to_workspace": ["beta"]},
            ),
        ),
        id="a-duplicate-takes-a-workspace-slug-and-an-optional-name",
    )
]


@pytest.mark.parametrize("case", BODIES)
async def test_malformed_bodies_are_refused(api: Api, beta: Path, case: BodyCase) -> None:
    await check_bad_bodies(api, case)


def test_the_docs_name_every_environment_file_left_behind() -> None:
    repo = Path(__file__).resolve().parents[2]
    for doc in ("README.md", "docs/design.md"):
        text = " ".join((repo / doc).read_text(encoding="utf-8").split())
        for name in sorted(ENVIRONMENT_FILES):
            assert f"`{name}`" in text, (doc, name)
        for folder in sorted(ENVIRONMENT_FOLDERS):
            assert f"`{folder}/`" in text, (doc, folder)
