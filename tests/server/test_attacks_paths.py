"""Attacks on paths (docs/design.md#paths).

Someone with access to project ``public`` aims at project ``private``'s secret (or at the
policy database beside ``root_dir``):

- every encoding of ``..`` by every route that carries a path (in the URL or the body);
- symlinks planted inside ``public`` through the filesystem, as a kernel would;
- hidden files.

Each attack must never succeed, must never return the secret, and must change nothing: the
secret, its checkpoint, the database and the rest of the tree are compared byte for byte.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from tests.helpers.http import SECRET, Http, Reply, notebook, notebook_text, plant, put_file
from tests.helpers.world import World

ATTACKERS = ("admin", "guest")  # Admin: writes public, private is unknown; guest: views public


def db_path(wsp_db_url: str) -> Path:
    return Path(wsp_db_url.removeprefix("sqlite:///"))


def fingerprint(root: Path, db: Path) -> dict[str, str]:
    """A hash of every file (links not followed) under ``root`` and of the database."""
    found = {"<db>": hashlib.sha256(db.read_bytes()).hexdigest()}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            path = Path(dirpath, name)
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = "link:" + os.readlink(path)
            elif path.is_file():
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[key] = "dir"
    return found


async def secret_world(jp_serverapp: Any, root: Path) -> None:
    """A secret notebook in ``private`` with a checkpoint (restoring it would change the
    file), and a notebook in ``public``."""
    plant(root, "acme/private/secret.ipynb", notebook_text(f"print('{SECRET} v1')"))
    await jp_serverapp.contents_manager.create_checkpoint("acme/private/secret.ipynb")
    plant(root, "acme/private/secret.ipynb", notebook_text(f"print('{SECRET} v2')"))
    plant(root, "acme/public/x.ipynb", notebook_text())


def refused(reply: Reply) -> bool:
    return reply.code in (403, 404) and SECRET.encode() not in reply.raw


# -- T1: ``..`` in every encoding, on every route -----------------------------------------

# (name, folder as sent in the URL, file name): the folder leads from public to private;
# a double encoding decodes (once) to a literal ``%2e%2e`` folder name inside public, which
# does not exist: harmless whatever the status, as long as nothing outside public is touched
DOUBLE_ENCODED = {"double-encoded", "double-encoded-slash"}
TRAVERSALS = [
    ("dotdot", "acme/public/../private", "secret.ipynb"),
    ("pct-lower", "acme/public/%2e%2e/private", "secret.ipynb"),
    ("pct-upper", "acme/public/%2E%2E/private", "secret.ipynb"),
    ("dot-pct", "acme/public/.%2e/private", "secret.ipynb"),
    ("pct-dot", "acme/public/%2e./private", "secret.ipynb"),
    ("mixed-case", "acme/public/%2E%2e/private", "secret.ipynb"),
    ("slash-encoded", "acme/public/..%2Fprivate", "secret.ipynb"),
    ("slash-encoded-lower", "acme/public/..%2fprivate", "secret.ipynb"),
    ("slashes-around", "acme/public%2F..%2Fprivate", "secret.ipynb"),
    ("all-encoded", "acme%2Fpublic%2F%2e%2e%2Fprivate", "secret.ipynb"),
    ("dot-then-dotdot", "acme/public/./../private", "secret.ipynb"),
    ("up-and-back", "acme/public/../../acme/private", "secret.ipynb"),
    ("double-slash", "acme/public//../private", "secret.ipynb"),
    ("backslash", "acme/public/..%5Cprivate", "secret.ipynb"),
    ("nul", "acme/public/x%00/../../private", "secret.ipynb"),
    ("double-encoded", "acme/public/%252e%252e/private", "secret.ipynb"),
    ("double-encoded-slash", "acme/public/..%252Fprivate", "secret.ipynb"),
    ("to-the-database", "acme/public/../../../policy-db", "policy.sqlite"),
    ("to-the-database-encoded", "acme/public/%2e%2e%2F%2e%2e%2F%2e%2e/policy-db", "policy.sqlite"),
]


@dataclass(frozen=True)
class PathRoute:
    """A route with the target in the URL (``{f}`` folder, ``{n}`` file) or in the body."""

    method: str
    url: str
    body: Any = None  # "{f}" and "{n}" in string values are the *decoded* folder and file


ROUTES = {
    "contents.get": PathRoute("GET", "api/contents/{f}/{n}"),
    "contents.list": PathRoute("GET", "api/contents/{f}"),
    "contents.save": PathRoute("PUT", "api/contents/{f}/{n}", put_file("pwned")),
    "contents.save-notebook": PathRoute(
        "PUT", "api/contents/{f}/{n}", {"type": "notebook", "content": notebook("pwned")}
    ),
    "contents.new-file": PathRoute("PUT", "api/contents/{f}/new.txt", put_file("pwned")),
    "contents.mkdir": PathRoute("PUT", "api/contents/{f}/newdir", {"type": "directory"}),
    "contents.rename-away": PathRoute(
        "PATCH", "api/contents/{f}/{n}", {"path": "acme/public/stolen.ipynb"}
    ),
    "contents.delete": PathRoute("DELETE", "api/contents/{f}/{n}"),
    "contents.untitled": PathRoute("POST", "api/contents/{f}", {"type": "file"}),
    "contents.copy-into": PathRoute(
        "POST", "api/contents/{f}", {"copy_from": "acme/public/x.ipynb"}
    ),
    "files": PathRoute("GET", "files/{f}/{n}"),
    "view": PathRoute("GET", "view/{f}/{n}"),
    "nbconvert.html": PathRoute("GET", "nbconvert/html/{f}/{n}"),
    "nbconvert.download": PathRoute("GET", "nbconvert/script/{f}/{n}?download=true"),
    "checkpoints.list": PathRoute("GET", "api/contents/{f}/{n}/checkpoints"),
    "checkpoints.create": PathRoute("POST", "api/contents/{f}/{n}/checkpoints"),
    "checkpoints.restore": PathRoute("POST", "api/contents/{f}/{n}/checkpoints/checkpoint"),
    "checkpoints.delete": PathRoute("DELETE", "api/contents/{f}/{n}/checkpoints/checkpoint"),
    "trust": PathRoute("POST", "api/contents/{f}/{n}/trust"),
    "notebooks-redirect": PathRoute("GET", "api/notebooks/{f}/{n}"),
    # the target in the body, where nothing decodes it: only a literal ``..`` matters there
    "body.copy-from": PathRoute("POST", "api/contents/acme/public", {"copy_from": "{f}/{n}"}),
    "body.rename-into": PathRoute(
        "PATCH", "api/contents/acme/public/x.ipynb", {"path": "{f}/stolen.ipynb"}
    ),
    "body.session": PathRoute(
        "POST", "api/sessions", {"path": "{f}/{n}", "type": "notebook", "name": "s"}
    ),
    "body.kernel": PathRoute("POST", "api/kernels", {"name": "python3", "path": "{f}"}),
}


def fill(value: Any, folder: str, name: str) -> Any:
    if isinstance(value, dict):
        return {k: fill(v, folder, name) for k, v in value.items()}
    if isinstance(value, str):
        return value.format(f=unquote(folder), n=name)
    return value


@pytest.mark.parametrize("route", ROUTES, ids=list(ROUTES))
async def test_dotdot_in_any_encoding_never_leaves_the_project(
    http: Http, wsp_world: World, jp_serverapp: Any, wsp_db_url: str, route: str
) -> None:
    root = wsp_world.root
    await secret_world(jp_serverapp, root)
    spec = ROUTES[route]
    before = fingerprint(root, db_path(wsp_db_url))
    failures = []
    for name, folder, file in TRAVERSALS:
        url = spec.url.format(f=folder, n=file)
        body = fill(spec.body, folder, file)
        for who in ATTACKERS:
            reply = await http.raw(who, spec.method, url, body)
            if reply.code in (301, 302) and spec.method == "GET":
                # /api/notebooks only redirects to /api/contents: follow it once
                assert reply.location.startswith(http.base_url), reply
                reply = await http.raw(who, "GET", reply.location.removeprefix(http.base_url))
            if name in DOUBLE_ENCODED:
                if SECRET.encode() in reply.raw:
                    failures.append(f"{name} as {who}: {spec.method} {url}: {reply!r}")
            elif not refused(reply):
                failures.append(f"{name} as {who}: {spec.method} {url}: {reply!r}")
            elif reply.code == 404 and reply.reason not in (
                "not_found",
                "path_refused",
                "Not Found",  # no route matches (``//``): tornado's own 404 page
            ):
                failures.append(f"{name} as {who}: unexpected reason {reply!r}")
    assert not failures, "\n".join(failures)
    assert fingerprint(root, db_path(wsp_db_url)) == before, "an attack changed a file"
    # kernels started at the (missing) literal folder run in public, where the Admin may
    km = jp_serverapp.kernel_manager
    snap = jp_serverapp.web_app.settings["workspace_perms_store"].snapshot
    public = snap.projects_by_name[(snap.workspaces_by_slug["acme"], "public")]
    assert {km.project_of(k["id"]) for k in km.list_kernels()} <= {public}


# -- T2: symlinks planted inside a project ------------------------------------------------


def plant_links(root: Path, db: Path) -> dict[str, bool]:
    """Links inside ``public`` (as a kernel could make them); True where the link is
    harmless (it stays inside ``public``)."""
    public = root / "acme" / "public"
    secret = root / "acme" / "private" / "secret.ipynb"
    links = {
        "abs-secret.ipynb": (str(secret), False),
        "rel-secret.ipynb": ("../private/secret.ipynb", False),
        "abs-private": (str(root / "acme" / "private"), False),
        "rel-private": ("../private", False),
        "db.sqlite": (str(db), False),
        "rel-db.sqlite": (os.path.relpath(db, public), False),
        "passwd": ("/etc/passwd", False),
        "dangling.ipynb": ("../private/not-yet.ipynb", False),
        "ok-link.ipynb": ("x.ipynb", True),
        "ok-dir": (".", True),
    }
    for name, (target, _ok) in links.items():
        (public / name).symlink_to(target)
    return {name: ok for name, (_target, ok) in links.items()}


async def test_symlinks_never_lead_out_of_the_project(
    http: Http, wsp_world: World, jp_serverapp: Any, wsp_db_url: str
) -> None:
    root = wsp_world.root
    db = db_path(wsp_db_url)
    await secret_world(jp_serverapp, root)
    links = plant_links(root, db)
    before = fingerprint(root, db)
    # as the Admin (writes public, private unknown) and as ed (private's own project admin:
    # a link must not open private even to him, nor the database to anyone)
    failures = []
    for who in ("admin", "editor"):
        for link, harmless in links.items():
            paths = [f"acme/public/{link}"]
            if link.endswith("private") or link == "ok-dir":
                paths = [f"acme/public/{link}/{'x' if link == 'ok-dir' else 'secret'}.ipynb"]
            for path in paths:
                for method, url in (
                    ("GET", f"api/contents/{path}"),
                    ("GET", f"files/{path}"),
                    ("GET", f"view/{path}"),
                    ("GET", f"nbconvert/html/{path}"),
                    ("GET", f"api/contents/{path}/checkpoints"),
                ):
                    reply = await http(who, method, url)
                    ok = reply.code == 200 and SECRET.encode() not in reply.raw
                    if ok != harmless or (not harmless and not refused(reply)):
                        failures.append(f"{who} {method} {url}: {reply!r}")
                reply = await http(who, "POST", "api/contents/acme/public", {"copy_from": path})
                if (reply.code == 201) != harmless:
                    failures.append(f"{who} copy_from {path}: {reply!r}")
                if not harmless:
                    for method, url, body in (
                        ("PUT", f"api/contents/{path}", put_file("pwned")),
                        (
                            "PUT",
                            f"api/contents/{path}",
                            {"type": "notebook", "content": notebook("pwned")},
                        ),
                        ("POST", f"api/contents/{path}/checkpoints", None),
                        ("POST", f"api/contents/{path}/checkpoints/checkpoint", None),
                        ("POST", f"api/contents/{path}/trust", None),
                        ("PATCH", f"api/contents/{path}", {"path": "acme/public/moved"}),
                    ):
                        reply = await http(who, method, url, body)
                        if not refused(reply):
                            failures.append(f"{who} {method} {url}: {reply!r}")
        # new files through a linked folder
        for folder in ("abs-private", "rel-private"):
            for method, url, body in (
                ("PUT", f"api/contents/acme/public/{folder}/new.txt", put_file("pwned")),
                ("PUT", f"api/contents/acme/public/{folder}/newdir", {"type": "directory"}),
                ("POST", f"api/contents/acme/public/{folder}", {"type": "file"}),
                ("GET", f"api/contents/acme/public/{folder}", None),
            ):
                reply = await http(who, method, url, body)
                if not refused(reply):
                    failures.append(f"{who} {method} {url}: {reply!r}")
    assert not failures, "\n".join(failures)
    after = fingerprint(root, db)
    copies = {k for k in after if k not in before}  # of the harmless links
    assert all(k.startswith("acme/public/") for k in copies), copies
    for copy in copies:
        path = root / copy
        assert path.is_dir() or SECRET not in path.read_text(), copy
    assert {k: v for k, v in after.items() if k not in copies} == before

    # the listing shows the harmless links only, to anyone
    for who in ("admin", "editor", "guest"):
        listing = (await http.get(who, "api/contents/acme/public")).json["content"]
        shown = {e["name"] for e in listing}
        assert not {name for name, ok in links.items() if not ok} & shown, (who, shown)
        assert {"x.ipynb", "ok-link.ipynb", "ok-dir"} <= shown, (who, shown)

    # a link that stays inside the project works like its target, for writes too
    reply = await http("admin", "PUT", "api/contents/acme/public/ok-link.ipynb", put_file("fine"))
    assert reply.code == 200, reply
    assert (root / "acme" / "public" / "x.ipynb").read_text() == "fine"
    assert (root / "acme" / "public" / "ok-link.ipynb").is_symlink()


async def test_a_link_swapped_after_listing_is_refused_on_use(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    """A file that becomes a link between two requests is judged on what it is now."""
    root = wsp_world.root
    await secret_world(jp_serverapp, root)
    victim = plant(root, "acme/public/notes.ipynb", notebook_text())
    assert (await http.get("admin", "api/contents/acme/public/notes.ipynb")).code == 200
    victim.unlink()
    victim.symlink_to(root / "acme" / "private" / "secret.ipynb")
    for method, url, body in (
        ("GET", "api/contents/acme/public/notes.ipynb", None),
        ("GET", "files/acme/public/notes.ipynb", None),
        ("PUT", "api/contents/acme/public/notes.ipynb", put_file("pwned")),
    ):
        reply = await http("admin", method, url, body)
        assert refused(reply), (method, url, reply)
    assert SECRET in (root / "acme" / "private" / "secret.ipynb").read_text()


# -- T6: hidden files ----------------------------------------------------------------------


async def test_hidden_files_are_not_served(http: Http, wsp_world: World, jp_serverapp: Any) -> None:
    root = wsp_world.root
    await secret_world(jp_serverapp, root)
    plant(root, "acme/public/.hidden", SECRET)
    plant(root, "acme/public/.env/key.txt", SECRET)
    for who in ("admin", "editor", "viewer"):
        for url in (
            "api/contents/acme/public/.hidden",
            "files/acme/public/.hidden",
            "api/contents/acme/public/.env/key.txt",
            "files/acme/public/.env/key.txt",
            "api/contents/acme/private/.ipynb_checkpoints/secret-checkpoint.ipynb",
            "files/acme/private/.ipynb_checkpoints/secret-checkpoint.ipynb",
        ):
            reply = await http.get(who, url)
            assert reply.code == 404 and SECRET.encode() not in reply.raw, (who, url, reply)
        listing = (await http.get(who, "api/contents/acme/public")).json["content"]
        assert {e["name"] for e in listing} == {"x.ipynb"}, who
