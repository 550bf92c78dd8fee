"""``/api/resolvePath`` tells nobody what exists where they may not look (issue #10, item 5).

The kernel scope (``?kernel=``) answers only for files in the kernel's project that
the caller may read, and only to callers who may run code there; everything else
(another project, a file outside the root, a hidden file, a missing file, someone
else's kernel, an unknown kernel id) gets the same empty answer. The server scope
answers only readable paths, hidden ones excepted. A real kernel resolves the paths.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import nbformat

if TYPE_CHECKING:
    from pathlib import Path

    from tests.helpers.world import World


async def resolve(fetch: Any, who: str, path: str, kernel: str | None = None) -> Any:
    params = {"path": path} if kernel is None else {"path": path, "kernel": kernel}
    r = await fetch(who, "api", "resolvePath", params=params)
    assert r.code == 200, (who, path, r.code, r.body)
    return json.loads(r.body)


async def start_kernel(wsp_world: World, wsp_fetch: Any) -> str:
    """A real kernel of ``acme/public``, started by the editor; files around it."""
    acme = wsp_world.root / "acme"
    (acme / "public" / "nb.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    (acme / "public" / "data.csv").write_text("a,b\n")
    (acme / "public" / ".hidden.txt").write_text("hidden")
    (acme / "private" / "secret.txt").write_text("secret")
    (wsp_world.root.parent / "outside-root.txt").write_text("outside")
    (acme / "public" / "link.txt").symlink_to(acme / "private" / "secret.txt")
    body = {"path": "acme/public/nb.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    r = await wsp_fetch("editor", "api", "sessions", method="POST", body=json.dumps(body))
    assert r.code == 201, r.body
    kernel_id: str = json.loads(r.body)["kernel"]["id"]
    return kernel_id


async def test_the_kernel_scope_answers_only_inside_the_kernels_project(
    wsp_world: World, wsp_fetch: Any
) -> None:
    kernel = await start_kernel(wsp_world, wsp_fetch)
    root: Path = wsp_world.root
    data = os.path.realpath(root / "acme" / "public" / "data.csv")
    # a file of the kernel's project, for those who may run code in it
    for who in ("editor", "contributor", "admin"):
        answer = await resolve(wsp_fetch, who, "data.csv", kernel)
        assert answer == {"resolved": [{"scope": "kernel", "path": data}]}, (who, answer)
    # the editor may read the private project, but it is not the kernel's: nothing, as
    # for anything outside the root, a hidden file or a missing one
    for path in (
        "../private/secret.txt",
        "../../../outside-root.txt",
        str(root.parent / "outside-root.txt"),
        "/etc/passwd",
        ".hidden.txt",
        str(root / "acme" / "public" / ".hidden.txt"),
        "link.txt",
        "missing.csv",
    ):
        answer = await resolve(wsp_fetch, "editor", path, kernel)
        assert answer == {"resolved": []}, (path, answer)
    # an absolute path in the root is the server scope's, which answers what one may read
    private = str(root / "acme" / "private" / "secret.txt")
    answer = await resolve(wsp_fetch, "editor", private, kernel)
    assert answer == {"resolved": [{"scope": "server", "path": "acme/private/secret.txt"}]}
    assert await resolve(wsp_fetch, "contributor", private, kernel) == {"resolved": []}


async def test_no_kernel_scope_for_who_may_not_run_it_nor_for_unknown_kernels(
    wsp_world: World, wsp_fetch: Any
) -> None:
    """Someone else's kernel and a kernel id that does not exist look the same."""
    kernel = await start_kernel(wsp_world, wsp_fetch)
    for who in ("viewer", "guest", "outsider"):
        for kernel_id in (kernel, "00000000-0000-0000-0000-000000000000"):
            answer = await resolve(wsp_fetch, who, "data.csv", kernel_id)
            assert answer == {"resolved": []}, (who, kernel_id, answer)
    answer = await resolve(wsp_fetch, "editor", "data.csv", "no-such-kernel")
    assert answer == {"resolved": []}, answer
    # the server scope still answers alongside, for what the user may read
    answer = await resolve(wsp_fetch, "viewer", "acme/public/data.csv", kernel)
    assert answer == {"resolved": [{"scope": "server", "path": "acme/public/data.csv"}]}


async def test_the_server_scope_answers_no_hidden_or_unreadable_path(
    wsp_world: World, wsp_fetch: Any
) -> None:
    await start_kernel(wsp_world, wsp_fetch)  # writes the files
    checkpoints = wsp_world.root / "acme" / "public" / ".ipynb_checkpoints"
    checkpoints.mkdir(exist_ok=True)
    (checkpoints / "nb-checkpoint.ipynb").write_text("{}")
    for path in (
        "acme/public/.hidden.txt",
        "acme/public/.ipynb_checkpoints/nb-checkpoint.ipynb",
        "acme/public/.ipynb_checkpoints",
        "acme/public/link.txt",
    ):
        for who in ("editor", "viewer"):
            assert await resolve(wsp_fetch, who, path) == {"resolved": []}, (who, path)
    for who in ("viewer", "outsider"):
        assert await resolve(wsp_fetch, who, "acme/private/secret.txt") == {"resolved": []}
    expected = {"resolved": [{"scope": "server", "path": "acme/private/secret.txt"}]}
    assert await resolve(wsp_fetch, "editor", "acme/private/secret.txt") == expected
