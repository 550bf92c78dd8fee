"""The path canonicalizer on a real folder tree with real symlinks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_workspace_perms.paths import Level, PathRefused, locate, served_root

PROJECTS = {("acme", "a"), ("acme", "b")}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    for folder in ("acme/a/sub", "acme/b", "acme/unreg/deep", "other"):
        (root / folder).mkdir(parents=True)
    (root / "acme" / "b" / "secret.txt").write_text("b's secret")
    (root / "acme" / "a" / "notes.txt").write_text("a's notes")
    (root / "acme" / "README.md").write_text("workspace file")
    (tmp_path / "outside.txt").write_text("outside")
    a = root / "acme" / "a"
    os.symlink(root / "acme" / "b" / "secret.txt", a / "abs-link-to-b")
    os.symlink("../b", a / "rel-link-to-b-dir")
    os.symlink(tmp_path / "outside.txt", a / "link-outside")
    os.symlink(a / "nowhere", a / "dangling-inside")
    os.symlink(tmp_path / "nowhere", a / "dangling-outside")
    os.symlink("notes.txt", a / "link-inside")
    os.symlink(root / "acme" / "b", root / "acme" / "c-is-b")
    return root


def where(root: Path, raw: str) -> tuple[Level, str | None, str | None, str]:
    loc = locate(
        str(root),
        raw,
        lambda ws: ws == "acme",
        lambda ws, p: (ws, p) in PROJECTS | {("acme", "c-is-b")},
    )
    return loc.level, loc.workspace, loc.project, loc.path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", (Level.root, None, None, "")),
        ("/", (Level.root, None, None, "")),
        ("other", (Level.outside, None, None, "other")),
        ("acme", (Level.workspace, "acme", None, "acme")),
        ("/acme/", (Level.workspace, "acme", None, "acme")),
        ("acme/README.md", (Level.workspace_file, "acme", "README.md", "acme/README.md")),
        ("acme/a", (Level.project, "acme", "a", "acme/a")),
        ("acme/a/notes.txt", (Level.project_file, "acme", "a", "acme/a/notes.txt")),
        ("acme/a/new-file.ipynb", (Level.project_file, "acme", "a", "acme/a/new-file.ipynb")),
        (
            "acme/a/sub/new/deeper.txt",
            (Level.project_file, "acme", "a", "acme/a/sub/new/deeper.txt"),
        ),
        ("acme/a/link-inside", (Level.project_file, "acme", "a", "acme/a/link-inside")),
        ("acme/a/dangling-inside", (Level.project_file, "acme", "a", "acme/a/dangling-inside")),
        ("acme/new-project", (Level.workspace_file, "acme", "new-project", "acme/new-project")),
        ("acme/unreg/deep", (Level.unregistered, "acme", "unreg", "acme/unreg/deep")),
    ],
)
def test_locations(root: Path, raw: str, expected: tuple) -> None:
    assert where(root, raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "acme/a/../b/secret.txt",
        "acme/a/./notes.txt",
        "acme//a/notes.txt",
        "../outside.txt",
        "acme/a/..",
        "acme\\a\\notes.txt",
        "acme/a/x\x00y",
        "acme/a/line\nbreak",
        "acme/a/abs-link-to-b",
        "acme/a/rel-link-to-b-dir/secret.txt",
        "acme/a/rel-link-to-b-dir",
        "acme/a/link-outside",
        "acme/a/dangling-outside",
        "acme/a/rel-link-to-b-dir/new-file.txt",
        "acme/c-is-b/secret.txt",
        "acme/c-is-b",
    ],
)
def test_refused(root: Path, raw: str) -> None:
    with pytest.raises(PathRefused):
        where(root, raw)


def test_a_linked_workspace_folder_is_refused(root: Path, tmp_path: Path) -> None:
    (root / "acme").rename(tmp_path / "real-acme")
    os.symlink(tmp_path / "real-acme", root / "acme")
    with pytest.raises(PathRefused):
        where(root, "acme/a/notes.txt")


async def test_each_request_locates_a_path_once(
    wsp_world: Any, wsp_fetch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Authorizer and the contents manager share one Location per request."""
    from jupyter_workspace_perms import paths

    (wsp_world.root / "acme" / "public" / "n.txt").write_text("hello")
    located: list[str] = []
    real_locate = paths.locate

    def counting(root_dir: str, raw: str, *args: Any) -> paths.Location:
        located.append(raw)
        return real_locate(root_dir, raw, *args)

    monkeypatch.setattr(paths, "locate", counting)
    reply = await wsp_fetch("editor", "api", "contents", "acme", "public", "n.txt")
    assert reply.code == 200
    assert json.loads(reply.body)["writable"] is True
    assert [p.strip("/") for p in located].count("acme/public/n.txt") == 1
    located.clear()
    reply = await wsp_fetch("viewer", "api", "contents", "acme", "public", "n.txt")
    assert json.loads(reply.body)["writable"] is False
    assert [p.strip("/") for p in located].count("acme/public/n.txt") == 1


async def test_a_save_is_authorized_without_parsing_its_body(
    wsp_world: Any, wsp_fetch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving an existing file is decided from the path: the handler parses the body once."""
    from jupyter_workspace_perms.server.authz import targets

    (wsp_world.root / "acme" / "public" / "n.txt").write_text("hello")
    parsed: list[str] = []
    real_body = targets.Request.body

    def counting(self: targets.Request) -> dict[str, Any]:
        parsed.append(self.method)
        return real_body(self)

    monkeypatch.setattr(targets.Request, "body", counting)
    model = json.dumps({"type": "file", "format": "text", "content": "changed"})
    for path in ("n.txt", "new.txt"):
        reply = await wsp_fetch(
            "editor", "api", "contents", "acme", "public", path, method="PUT", body=model
        )
        assert reply.code in (200, 201)
    assert (wsp_world.root / "acme" / "public" / "n.txt").read_text() == "changed"
    assert parsed == ["PUT"]  # only the new file's body (folder or file?) was read


def test_the_served_root_expands_the_home_folder_jupyter_collapsed(tmp_path: Path) -> None:
    """Jupyter writes ``server_root_dir`` as ``~/…`` under its user's home (found on Binder)."""
    home = os.path.expanduser("~")
    assert served_root({"server_root_dir": "~/demo"}) == os.path.join(home, "demo")
    assert served_root({"server_root_dir": str(tmp_path)}) == str(tmp_path)
