"""Checkpoints never follow a symbolic link.

The checkpoint of ``acme/public/r.txt`` is ``acme/public/.ipynb_checkpoints/
r-checkpoint.txt``, a path the server builds itself. A link there (left by a kernel that
ran unconfined, or by anyone before kernels were refused links) to another project or
to a secret must not be read by a restore nor written by a new checkpoint.
"""

from __future__ import annotations

import pytest

from tests.helpers.http import Http, put_file
from tests.helpers.world import World

SECRET = "the private project's numbers"


@pytest.mark.parametrize("linked", ["file", "folder"])
async def test_a_linked_checkpoint_is_neither_read_nor_written(
    http: Http, wsp_world: World, linked: str
) -> None:
    private = wsp_world.root / "acme/private"
    (private / "secret.txt").write_text(SECRET)
    public = wsp_world.root / "acme/public"
    (public / "r.txt").write_text("mine")
    checkpoints = public / ".ipynb_checkpoints"
    if linked == "file":
        checkpoints.mkdir()
        (checkpoints / "r-checkpoint.txt").symlink_to(private / "secret.txt")
    else:
        (private / "r-checkpoint.txt").write_text(SECRET)
        checkpoints.symlink_to(private)

    restore = await http("editor", "POST", "api/contents/acme/public/r.txt/checkpoints/checkpoint")
    assert restore.code == 404, restore
    assert (public / "r.txt").read_text() == "mine"
    listed = await http("editor", "GET", "api/contents/acme/public/r.txt/checkpoints")
    assert listed.code in (200, 404) and SECRET.encode() not in listed.raw

    (public / "w.txt").write_text("written by the editor")
    if linked == "file":
        (checkpoints / "w-checkpoint.txt").symlink_to(private / "planted.txt")
    created = await http("editor", "POST", "api/contents/acme/public/w.txt/checkpoints")
    assert created.code == 404, created
    assert not (private / "planted.txt").exists()
    assert not (private / "w-checkpoint.txt").exists()
    # saving (which makes a checkpoint first) is refused too, and writes nothing there
    saved = await http("editor", "PUT", "api/contents/acme/public/w.txt", put_file("new"))
    assert not (private / "planted.txt").exists()
    assert not (private / "w-checkpoint.txt").exists()
    assert saved.code in (200, 404), saved


async def test_plain_checkpoints_still_work(http: Http, wsp_world: World) -> None:
    (wsp_world.root / "acme/public/r.txt").write_text("first")
    made = await http.ok("editor", "POST", "api/contents/acme/public/r.txt/checkpoints")
    (wsp_world.root / "acme/public/r.txt").write_text("second")
    await http.ok("editor", "POST", f"api/contents/acme/public/r.txt/checkpoints/{made['id']}")
    assert (wsp_world.root / "acme/public/r.txt").read_text() == "first"
