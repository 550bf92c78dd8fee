"""Saves by users who may run but not edit, through a real server (``PUT /api/contents``).

The contributor's save is merged onto the stored notebook: outputs, execution counts and
``parameters`` values are taken, anything else is refused with 403 naming the cells, and
an Editor's edits saved meanwhile are kept. Every refusal also leaves the project folder
byte for byte as it was (checkpoints included).
"""

from __future__ import annotations

import gc
import json
from typing import Any
from urllib.parse import quote

import nbformat
import pytest

from jupyter_workspace_perms.gc_pause import collector_paused
from jupyter_workspace_perms.server.merge_save import Bases
from tests.helpers.http import Http, Reply, plant, put_file, start_session
from tests.helpers.kernel_ws import PARAMS, SETUP, USE, KernelSocket, write_notebook
from tests.helpers.world import World

NB = "acme/public/analysis.ipynb"
PREFIX = "Contributors can only change outputs and parameter values; "


def stored_notebook() -> str:
    """Four cells with ids: parameters, two code cells, a markdown cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("alpha = 0.5\nname = 'run'\n", id="params"),
        nbformat.v4.new_code_cell("x = alpha * 2\n", id="calc"),
        nbformat.v4.new_code_cell("print(x)\n", id="show"),
        nbformat.v4.new_markdown_cell("# Results\n", id="notes"),
    ]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nbformat.writes(nb)


@pytest.fixture
def world(wsp_world: World) -> World:
    plant(wsp_world.root, NB, stored_notebook())
    plant(wsp_world.root, "acme/public/notes.txt", "notes\n")
    plant(wsp_world.root, "acme/public/script.py", "print('hi')\n")
    return wsp_world


def on_disk(world: World, path: str = NB) -> dict[str, Any]:
    return dict(json.loads((world.root / path).read_text()))


def sources(nb: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: "".join(c["source"]) for c in nb["cells"]}


def folder_bytes(world: World) -> dict[str, bytes]:
    """Every file in the project folder, hidden checkpoints included."""
    folder = world.root / "acme" / "public"
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


async def model_of(http: Http, who: str, path: str, query: str) -> dict[str, Any]:
    reply = await http.raw(who, "GET", f"api/contents/{quote(path)}?{query}")
    assert reply.code == 200, (who, path, reply)
    return dict(reply.json)


async def opened(http: Http, who: str, path: str = NB) -> dict[str, Any]:
    """The notebook as JupyterLab gets it (this also records what the user saw)."""
    return dict((await model_of(http, who, path, "type=notebook&content=1"))["content"])


async def save(http: Http, who: str, nb: dict[str, Any], path: str = NB) -> Reply:
    body = {"type": "notebook", "format": "json", "content": nb}
    return await http(who, "PUT", f"api/contents/{path}", body)


def run(nb: dict[str, Any], cell_id: str, text: str, count: int) -> None:
    """What running a cell in the browser does to the model: outputs and a count."""
    cell = next(c for c in nb["cells"] if c["id"] == cell_id)
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": text}]
    cell["execution_count"] = count


def cell_of(nb: dict[str, Any], cell_id: str) -> dict[str, Any]:
    return dict(next(c for c in nb["cells"] if c["id"] == cell_id))


# -- accepted ------------------------------------------------------------------------------


async def test_contributor_saves_outputs(http: Http, world: World, jp_serverapp: Any) -> None:
    before = on_disk(world)
    nb = await opened(http, "contributor")
    run(nb, "calc", "", 1)
    run(nb, "show", "1.0\n", 2)
    nb["cells"][2]["metadata"]["scrolled"] = True  # view-only metadata is taken
    reply = await save(http, "contributor", nb)
    assert reply.code == 200, reply
    assert reply.json["writable"] is True and reply.json["content"] is None
    after = on_disk(world)
    assert sources(after) == sources(before)
    assert after["metadata"] == before["metadata"]
    assert "".join(cell_of(after, "show")["outputs"][0]["text"]) == "1.0\n"
    assert cell_of(after, "show")["execution_count"] == 2
    assert cell_of(after, "show")["metadata"] == {"scrolled": True}
    nbformat.validate(nbformat.reads(json.dumps(after), as_version=4))
    checkpoints = await http.ok("contributor", "GET", f"api/contents/{NB}/checkpoints")
    assert len(checkpoints) == 1  # the stock save made one
    reply = await http("contributor", "POST", f"api/contents/{NB}/checkpoints")
    assert reply.code == 201, reply  # JupyterLab makes one after each save


async def test_contributor_changes_a_parameter_value(http: Http, world: World) -> None:
    nb = await opened(http, "contributor")
    nb["cells"][0]["source"] = "alpha = 0.75\nname = 'second run'\n"
    run(nb, "params", "", 1)
    reply = await save(http, "contributor", nb)
    assert reply.code == 200, reply
    assert sources(on_disk(world))["params"] == "alpha = 0.75\nname = 'second run'\n"
    assert sources(on_disk(world))["calc"] == "x = alpha * 2\n"


async def test_an_editors_save_is_unaffected(http: Http, world: World) -> None:
    nb = await opened(http, "editor")
    nb["cells"][1]["source"] = "x = alpha * 3\n"
    nb["cells"].append(nbformat.v4.new_code_cell("import os\n", id="extra"))
    nb["metadata"]["title"] = "mine"
    reply = await save(http, "editor", nb)
    assert reply.code == 200, reply
    after = on_disk(world)
    assert sources(after)["calc"] == "x = alpha * 3\n"
    assert "extra" in sources(after) and after["metadata"]["title"] == "mine"
    assert reply.json["writable"] is True


async def test_merge_keeps_an_editors_concurrent_edit(http: Http, world: World) -> None:
    mine = await opened(http, "contributor")
    theirs = await opened(http, "editor")
    theirs["cells"][2]["source"] = "print('x is', x)\n"  # the editor edits cell "show"
    theirs["cells"].insert(3, nbformat.v4.new_code_cell("y = x + 1\n", id="added"))
    assert (await save(http, "editor", theirs)).code == 200
    run(mine, "calc", "", 1)
    run(mine, "show", "1.0\n", 2)  # an output of the old "show" source: not kept
    reply = await save(http, "contributor", mine)
    assert reply.code == 200, reply
    after = on_disk(world)
    assert [c["id"] for c in after["cells"]] == ["params", "calc", "show", "added", "notes"]
    assert sources(after)["show"] == "print('x is', x)\n"
    assert sources(after)["added"] == "y = x + 1\n"
    assert cell_of(after, "calc")["execution_count"] == 1
    assert cell_of(after, "show")["outputs"] == []
    # the browser still holds the old "show": saving again keeps the editor's version
    run(mine, "calc", "", 3)
    reply = await save(http, "contributor", mine)
    assert reply.code == 200, reply
    assert cell_of(on_disk(world), "calc")["execution_count"] == 3
    assert sources(on_disk(world))["show"] == "print('x is', x)\n"


async def test_outputs_of_a_real_kernel_are_saved_and_an_editors_edit_kept(
    http: Http, world: World, jp_ws_fetch: Any
) -> None:
    """The whole loop: the contributor opens the notebook, runs its cells (one with a new
    parameter value) in a real kernel, an editor saves an edit meanwhile, and the
    contributor's save keeps both."""
    path = "acme/public/demo.ipynb"
    write_notebook(world.root / path, {"setup": SETUP, "params": PARAMS, "use": USE})
    mine = await opened(http, "contributor", path)
    session = await start_session(http, "contributor", path)
    cora = await KernelSocket.open(jp_ws_fetch, world, "contributor", session["kernel"]["id"], "v1")
    try:
        mine["cells"][2]["source"] = "alpha = 5\nlabel = 'second'"
        for n, cell_id in enumerate(("setup", "params", "use"), start=1):
            cell = next(c for c in mine["cells"] if c["id"] == cell_id)
            ran = await cora.execute(cell["source"], cell_id)
            assert ran.status == "ok", ran
            run(mine, cell_id, ran.stdout, ran.reply["content"]["execution_count"])
            assert ran.reply["content"]["execution_count"] == n
    finally:
        cora.close()
    assert "".join(cell_of(mine, "use")["outputs"][0]["text"]) == "alpha is 5 second\n"
    theirs = await opened(http, "editor", path)
    theirs["cells"][3]["source"] = "print('alpha:', alpha)"
    theirs["cells"].append(nbformat.v4.new_code_cell("extra = True", id="extra"))
    assert (await save(http, "editor", theirs, path)).code == 200
    reply = await save(http, "contributor", mine, path)
    assert reply.code == 200, reply
    after = on_disk(world, path)
    assert sources(after)["params"] == "alpha = 5\nlabel = 'second'"
    assert sources(after)["use"] == "print('alpha:', alpha)"  # the editor's
    assert cell_of(after, "use")["outputs"] == []  # the old cell's output is not kept
    assert "".join(cell_of(after, "setup")["outputs"][0]["text"]) == "ready 1\n"
    assert [c["id"] for c in after["cells"]][1:] == ["setup", "params", "use", "extra"]


async def test_without_a_remembered_base_the_stored_file_is_the_base(
    http: Http, world: World, jp_serverapp: Any
) -> None:
    mine = await opened(http, "contributor")
    theirs = await opened(http, "editor")
    theirs["cells"][2]["source"] = "print('x is', x)\n"
    assert (await save(http, "editor", theirs)).code == 200
    jp_serverapp.contents_manager._bases = Bases()  # as after a restart
    before = folder_bytes(world)
    run(mine, "calc", "", 1)
    reply = await save(http, "contributor", mine)
    assert (reply.code, reply.reason) == (403, "merge_refused"), reply
    assert 'cell 3 ("print(x)") was edited' in reply.json["message"]
    assert folder_bytes(world) == before


async def test_outputs_a_contributor_saves_are_never_trusted(
    http: Http, world: World, jp_serverapp: Any
) -> None:
    nb = await opened(http, "contributor")
    html = {"text/html": "<script>alert(1)</script>"}
    nb["cells"][2]["outputs"] = [{"output_type": "display_data", "data": html, "metadata": {}}]
    nb["cells"][2]["metadata"]["trusted"] = True
    assert (await save(http, "contributor", nb)).code == 200
    stored = nbformat.reads((world.root / NB).read_text(), as_version=4)
    assert not jp_serverapp.contents_manager.notary.check_signature(stored)
    seen = await opened(http, "editor")
    assert cell_of(seen, "show")["metadata"]["trusted"] is False


# -- refused -------------------------------------------------------------------------------


def edit_code(nb: dict[str, Any]) -> None:
    nb["cells"][1]["source"] = "x = __import__('os').getcwd()\n"


def add_cell(nb: dict[str, Any]) -> None:
    nb["cells"].append(dict(nbformat.v4.new_code_cell("import os\n", id="mine")))


def delete_cell(nb: dict[str, Any]) -> None:
    del nb["cells"][3]


def move_cell(nb: dict[str, Any]) -> None:
    nb["cells"].insert(0, nb["cells"].pop(2))


def change_metadata(nb: dict[str, Any]) -> None:
    nb["cells"][1]["metadata"]["tags"] = ["parameters"]


def change_type(nb: dict[str, Any]) -> None:
    nb["cells"][3]["cell_type"] = "raw"


def edit_parameters_with_code(nb: dict[str, Any]) -> None:
    nb["cells"][0]["source"] = "alpha = open('/etc/passwd').read()\nname = 'run'\n"


REFUSED = {
    "edit a code cell": (edit_code, "cell 2 (\"x = __import__('os')...\") was edited"),
    "add a cell": (add_cell, 'cell 5 ("import os") was added'),
    "delete a cell": (delete_cell, 'cell 4 ("# Results") was removed'),
    "move a cell": (move_cell, 'cell 1 ("print(x)") was moved'),
    "change metadata": (change_metadata, 'cell 2 ("x = alpha * 2") changed its metadata'),
    "change a cell type": (change_type, 'cell 4 ("# Results") changed its type'),
    "code in a parameters cell": (
        edit_parameters_with_code,
        'cell 1 ("alpha = open(\'/etc/p...") was edited',
    ),
}


@pytest.mark.parametrize("change", REFUSED, ids=list(REFUSED))
async def test_contributor_edits_are_refused(http: Http, world: World, change: str) -> None:
    mutate, named = REFUSED[change]
    nb = await opened(http, "contributor")
    run(nb, "show", "1.0\n", 2)
    mutate(nb)
    before = folder_bytes(world)
    reply = await save(http, "contributor", nb)
    assert (reply.code, reply.reason) == (403, "merge_refused"), reply
    assert reply.json["message"] == PREFIX + named
    assert folder_bytes(world) == before


async def test_malformed_outputs_are_a_bad_request(http: Http, world: World) -> None:
    nb = await opened(http, "contributor")
    nb["cells"][2]["outputs"] = [{"output_type": "evil"}]
    before = folder_bytes(world)
    reply = await save(http, "contributor", nb)
    assert (reply.code, reply.reason) == (400, "invalid_notebook"), reply
    assert folder_bytes(world) == before


async def test_a_notebook_without_cell_ids_is_refused(http: Http, world: World) -> None:
    old = nbformat.v4.new_notebook(nbformat_minor=4)
    old.cells = [{"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": []}]
    old.cells[0]["execution_count"] = None
    plant(world.root, "acme/public/old.ipynb", json.dumps(old))
    nb = await opened(http, "contributor", "acme/public/old.ipynb")
    before = folder_bytes(world)
    reply = await save(http, "contributor", nb, "acme/public/old.ipynb")
    assert (reply.code, reply.reason) == (403, "merge_refused"), reply
    assert "cells without ids (nbformat 4.4 or older)" in reply.json["message"]
    assert folder_bytes(world) == before


def notebook_body() -> dict[str, Any]:
    return {"type": "notebook", "content": json.loads(stored_notebook())}


# (method, path, body, status, reason) of requests that need write, not execute
NEEDS_WRITE = [
    ("PUT", "acme/public/script.py", put_file("import os\n"), 403, "role_too_low"),
    ("PUT", "acme/public/notes.txt", put_file("changed\n"), 403, "role_too_low"),
    ("PUT", NB, put_file(stored_notebook()), 403, "role_too_low"),  # the notebook as text
    ("PUT", NB, {"type": "directory"}, 403, "role_too_low"),
    ("PUT", "acme/public/new.ipynb", notebook_body(), 403, "role_too_low"),
    ("POST", "acme/public", {"type": "notebook"}, 403, "role_too_low"),
    ("POST", "acme/public", {"copy_from": NB}, 403, "role_too_low"),
    ("PATCH", NB, {"path": "acme/public/renamed.ipynb"}, 403, "role_too_low"),
    ("DELETE", NB, None, 403, "role_too_low"),
]


@pytest.mark.parametrize(
    "request_", NEEDS_WRITE, ids=[f"{m} {p} {b and b.get('type')}" for m, p, b, *_ in NEEDS_WRITE]
)
async def test_contributor_needs_write_for_anything_else(
    http: Http, world: World, request_: tuple[str, str, Any, int, str]
) -> None:
    method, path, body, status, reason = request_
    await opened(http, "contributor")
    before = folder_bytes(world)
    reply = await http("contributor", method, f"api/contents/{path}", body)
    assert (reply.code, reply.reason) == (status, reason), reply
    assert set(reply.json) >= {"message", "reason"}
    assert folder_bytes(world) == before


async def test_checkpoints_restore_and_delete_still_need_write(http: Http, world: World) -> None:
    assert (await http("editor", "POST", f"api/contents/{NB}/checkpoints")).code == 201
    before = folder_bytes(world)
    for method in ("POST", "DELETE"):
        url = f"api/contents/{NB}/checkpoints/checkpoint"
        reply = await http("contributor", method, url)
        assert (reply.code, reply.reason) == (403, "role_too_low"), (method, reply)
    reply = await http("contributor", "POST", "api/contents/acme/public/notes.txt/checkpoints")
    assert (reply.code, reply.reason) == (403, "role_too_low"), reply
    assert folder_bytes(world) == before


@pytest.mark.parametrize("who", ["viewer", "guest"])
async def test_users_without_execute_cannot_save(http: Http, world: World, who: str) -> None:
    nb = await opened(http, who)
    run(nb, "show", "1.0\n", 2)
    before = folder_bytes(world)
    reply = await save(http, who, nb)
    assert (reply.code, reply.reason) == (403, "role_too_low"), reply
    reply = await http(who, "POST", f"api/contents/{NB}/checkpoints")
    assert (reply.code, reply.reason) == (403, "role_too_low"), reply
    assert folder_bytes(world) == before


async def test_contributor_in_a_locked_project_cannot_save(http: Http, world: World) -> None:
    plant(world.root, "acme/locked/nb.ipynb", stored_notebook())
    nb = await opened(http, "contributor", "acme/locked/nb.ipynb")
    before = (world.root / "acme/locked/nb.ipynb").read_bytes()
    reply = await save(http, "contributor", nb, "acme/locked/nb.ipynb")
    assert (reply.code, reply.reason) == (403, "role_too_low"), reply
    assert (world.root / "acme/locked/nb.ipynb").read_bytes() == before


# -- writable ------------------------------------------------------------------------------


async def test_writable_for_a_contributor_on_notebooks_only(http: Http, world: World) -> None:
    expected = {
        ("contributor", NB): True,
        ("contributor", "acme/public/notes.txt"): False,
        ("contributor", "acme/public/script.py"): False,
        ("viewer", NB): False,
        ("editor", NB): True,
        ("editor", "acme/public/notes.txt"): True,
    }
    for (who, path), writable in expected.items():
        model = await model_of(http, who, path, "content=0")
        assert model["writable"] is writable, (who, path)
    listing = await http.ok("contributor", "GET", "api/contents/acme/public")
    assert {e["name"]: e["writable"] for e in listing["content"]} == {
        "analysis.ipynb": True,
        "notes.txt": False,
        "script.py": False,
    }
    # a notebook fetched as text cannot be saved as text: not writable in that form
    model = await model_of(http, "contributor", NB, "type=file&format=text")
    assert model["writable"] is False


async def test_a_base_is_remembered_only_for_users_who_merge(
    http: Http, world: World, jp_serverapp: Any
) -> None:
    bases = jp_serverapp.contents_manager._bases
    for who in ("viewer", "editor", "admin"):
        await opened(http, who)
    assert len(bases) == 0
    # an export reads the notebook too, but the browser's copy did not change
    assert (await http.get("contributor", f"nbconvert/html/{NB}")).code == 200
    assert len(bases) == 0
    await opened(http, "contributor")
    assert len(bases) == 1


def test_bases_are_bounded() -> None:
    bases = Bases(capacity=2)
    nb = json.loads(stored_notebook())
    for path in ("a.ipynb", "b.ipynb", "c.ipynb"):
        bases.remember("u", path, nb)
    assert len(bases) == 2
    assert bases.get("u", "a.ipynb") is None
    assert bases.get("u", "/c.ipynb") is not None
    bases.remember("u", "c.ipynb", {"cells": [{"source": "no id"}]})
    assert bases.get("u", "c.ipynb") is None
    cells = len(nb["cells"])
    by_cells = Bases(capacity=10, max_cells=2 * cells)
    for path in ("a.ipynb", "b.ipynb", "c.ipynb"):
        by_cells.remember("u", path, nb)
    assert len(by_cells) == 2 and by_cells.get("u", "a.ipynb") is None
    huge = [{**c, "id": f"{c['id']}-{n}"} for n in range(3) for c in nb["cells"]]
    by_cells.remember("u", "huge.ipynb", {"cells": huge})  # more cells than the budget
    assert by_cells.get("u", "huge.ipynb") is None and len(by_cells) == 2


def test_the_collector_pause_restores_its_state() -> None:
    for before in (True, False):
        (gc.enable if before else gc.disable)()
        try:
            with collector_paused():
                assert not gc.isenabled()
            assert gc.isenabled() is before
        finally:
            gc.enable()
