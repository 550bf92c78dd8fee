"""Real-time collaboration keeps every role: real rooms, real Yjs clients, the file on disk.

A server with jupyter-collaboration (jupyter_server_ydoc, jupyter_server_fileid) and
our extension; Editor, Contributor and Viewer of ``acme/public`` join one notebook's
room as pycrdt clients (:mod:`tests.helpers.rtc`).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from tests.helpers.missing import missing
from tests.helpers.world import PEOPLE, World, server_config

try:
    import jupyter_server_ydoc  # noqa: F401
    from pycrdt import Map, Text, create_update_message

    from tests.helpers.rtc import RoomClient
except ImportError:
    missing("jupyter-collaboration (the test extra) is needed for these tests", module=True)

NB = "acme/public/nb.ipynb"
SAVE_DELAY = 0.2


@pytest.fixture
def jp_server_config(wsp_db_url: str, tmp_path: Path) -> dict[str, Any]:
    """Our extension with jupyter-collaboration; saves soon after a change."""
    stores = tmp_path / "stores"
    stores.mkdir()
    return server_config(
        wsp_db_url,
        extensions=["jupyter_server_fileid", "jupyter_server_ydoc"],
        YDocExtension={"document_save_delay": SAVE_DELAY, "file_poll_interval": 0.5},
        BaseFileIdManager={"db_path": str(stores / "file_id.db")},
        SQLiteYStore={"db_path": str(stores / "ystore.db")},
    )


def write_nb(root: Path) -> None:
    params = nbformat.v4.new_code_cell("alpha = 1", id="p")
    params.metadata["tags"] = ["parameters"]
    cells = [
        params,
        nbformat.v4.new_code_cell("x = alpha * 2", id="c"),
        nbformat.v4.new_markdown_cell("# notes", id="m"),
    ]
    (root / NB).write_text(nbformat.writes(nbformat.v4.new_notebook(cells=cells)))


def read_disk(root: Path) -> Any:
    """The stored notebook, or None while a save is writing it. Never waits: the server
    runs on this test's event loop, and a save needs the loop to finish."""
    try:
        return nbformat.reads((root / NB).read_text(), as_version=4)
    except (ValueError, nbformat.reader.NotJSONError):
        return None


def on_disk(root: Path) -> Any:
    """The stored notebook, when no save is under way (a refused change saves nothing)."""
    found = read_disk(root)
    assert found is not None, "the notebook on disk is unreadable"
    return found


def disk_source_is(root: Path, index: int, text: str) -> bool:
    """Whether the stored notebook is readable and cell ``index`` holds ``text``."""
    found = read_disk(root)
    return found is not None and found.cells[index].source == text


class Rtc:
    """The server as seen by the world's people."""

    def __init__(self, world: World, fetch: Any, ws_base: str) -> None:
        self.world = world
        self.fetch = fetch
        self.ws_base = ws_base
        self.session = ""  # the server's collaboration session, as a session PUT says

    async def room_of(self, who: str, path: str = NB) -> str:
        r = await self.fetch(
            "api",
            "collaboration",
            "session",
            path,
            method="PUT",
            body=json.dumps({"format": "json", "type": "notebook"}),
            headers=self.world.auth(who),
        )
        answer = json.loads(r.body)
        self.session = answer["sessionId"]
        return f"json:notebook:{answer['fileId']}"

    async def join(self, who: str, room: str, sync: bool = True) -> RoomClient:
        query = f"?sessionId={self.session}" if self.session else ""
        return await RoomClient.join(self.ws_base, self.world.auth(who), room + query, who, sync)


@pytest.fixture
def rtc(wsp_world: World, jp_fetch: Any, jp_http_port: int, jp_base_url: str) -> Rtc:
    write_nb(wsp_world.root)
    return Rtc(wsp_world, jp_fetch, f"ws://localhost:{jp_http_port}{jp_base_url}")


async def wait_for(check: Any, timeout: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if check():
            return True
        await asyncio.sleep(0.05)
    return bool(check())


async def three(rtc: Rtc) -> tuple[RoomClient, RoomClient, RoomClient]:
    room = await rtc.room_of("viewer")  # a read: Viewers open documents too
    return (
        await rtc.join("editor", room),
        await rtc.join("contributor", room),
        await rtc.join("viewer", room),
    )


def source(client: RoomClient, index: int) -> str:
    return str(client.notebook.ycells[index]["source"])


async def test_editor_edit_reaches_everyone_and_disk(rtc: Rtc, wsp_world: World) -> None:
    editor, contributor, viewer = await three(rtc)
    editor.edit(lambda: editor.notebook.ycells[1]["source"].insert(13, " + 1"))
    for other in (contributor, viewer):
        assert await other.until(lambda o=other: source(o, 1) == "x = alpha * 2 + 1")
    assert await wait_for(lambda: disk_source_is(wsp_world.root, 1, "x = alpha * 2 + 1"))
    assert editor.closed is None


async def test_viewer_edit_is_refused_and_never_lands(rtc: Rtc, wsp_world: World) -> None:
    editor, contributor, viewer = await three(rtc)
    viewer.edit(lambda: viewer.notebook.ycells[1]["source"].insert(0, "import os; "))
    assert await viewer.until(lambda: viewer.closed is not None)
    code, reason = viewer.closed or (None, None)
    assert code == 1003
    assert json.loads(reason or "{}")["errorReason"].startswith("Refused: editing code")
    await editor.pump(SAVE_DELAY * 4)
    await contributor.pump(0.1)
    assert source(editor, 1) == source(contributor, 1) == "x = alpha * 2"
    assert on_disk(wsp_world.root).cells[1].source == "x = alpha * 2"
    # the room still works for the others after the refusal (its shadow was rebuilt)
    contributor.edit(lambda: contributor.notebook.ycells[1].__setitem__("execution_count", 7))
    assert await editor.until(lambda: editor.cell(1).get("execution_count") == 7)


async def test_contributor_code_edit_is_refused(rtc: Rtc, wsp_world: World) -> None:
    editor, contributor, viewer = await three(rtc)
    contributor.edit(lambda: contributor.notebook.ycells[1]["source"].insert(0, "#"))
    assert await contributor.until(lambda: contributor.closed is not None)
    assert contributor.closed is not None and contributor.closed[0] == 1003
    await editor.pump(SAVE_DELAY * 4)
    await viewer.pump(0.1)
    assert source(editor, 1) == source(viewer, 1) == "x = alpha * 2"
    assert on_disk(wsp_world.root).cells[1].source == "x = alpha * 2"


@pytest.mark.parametrize(
    "change",
    [
        "add_cell",
        "delete_cell",
        "markdown",
        "tags",
        "notebook_metadata",
        "parameters_code",
    ],
)
async def test_contributor_refusals(rtc: Rtc, wsp_world: World, change: str) -> None:
    editor, contributor, _viewer = await three(rtc)
    cells = contributor.notebook.ycells
    changes = {
        "add_cell": lambda: cells.append(
            Map({"id": "n", "cell_type": "code", "source": Text("1"), "metadata": Map()})
        ),
        "delete_cell": lambda: cells.__delitem__(2),
        "markdown": lambda: cells[2]["source"].insert(7, "!"),
        "tags": lambda: cells[1]["metadata"].__setitem__("tags", ["parameters"]),
        "notebook_metadata": lambda: contributor.notebook._ymeta["metadata"].__setitem__("x", 1),
        "parameters_code": lambda: cells[0]["source"].insert(9, "; import os"),
    }
    before = (wsp_world.root / NB).read_text()
    contributor.edit(changes[change])
    assert await contributor.until(lambda: contributor.closed is not None), change
    await editor.pump(SAVE_DELAY * 4)
    assert len(editor.notebook.ycells) == 3
    assert editor.notebook.get()["metadata"].get("x") is None
    assert editor.cell(1)["metadata"].get("tags") is None
    assert source(editor, 0) == "alpha = 1" and source(editor, 2) == "# notes"
    assert (wsp_world.root / NB).read_text() == before


async def test_contributor_outputs_and_parameters_pass(rtc: Rtc, wsp_world: World) -> None:
    editor, contributor, viewer = await three(rtc)
    output = {"output_type": "stream", "name": "stdout", "text": "2\n"}

    def run() -> None:
        cell = contributor.notebook.ycells[1]
        cell["execution_count"] = 1
        cell["outputs"].append(Map(output))
        cell["metadata"]["collapsed"] = False

    contributor.edit(run)
    contributor.edit(lambda: contributor.notebook.ycells[0]["source"].insert(9, "0"))  # 10
    assert await editor.until(lambda: source(editor, 0) == "alpha = 10")
    assert await viewer.until(lambda: len(viewer.cell(1)["outputs"]) == 1)
    assert contributor.closed is None

    seen: list[Any] = []

    def saved() -> bool:
        nb = read_disk(wsp_world.root)
        seen[:] = [nb]
        return nb is not None and (nb.cells[0].source, nb.cells[1].execution_count) == (
            "alpha = 10",
            1,
        )

    assert await wait_for(saved)
    [nb] = seen
    assert nb.cells[1].outputs[0]["text"] == "2\n"
    assert nb.cells[1].source == "x = alpha * 2"


async def test_fork_merge_needs_write(rtc: Rtc, wsp_world: World, jp_fetch: Any) -> None:
    editor, _contributor, _viewer = await three(rtc)
    room = await rtc.room_of("editor")
    r = await jp_fetch(
        "api",
        "collaboration",
        "fork",
        room,
        method="PUT",
        body=json.dumps({"synchronize": False}),
        headers=wsp_world.auth("editor"),
    )
    fork = json.loads(r.body)["fork_roomid"]
    for who in ("contributor", "viewer"):
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch(
                "api",
                "collaboration",
                "fork",
                fork,
                method="DELETE",
                params={"merge": "true"},
                headers=wsp_world.auth(who),
            )
        assert refused.value.code == 403
        with pytest.raises(HTTPClientError) as made:
            await jp_fetch(
                "api",
                "collaboration",
                "fork",
                room,
                method="PUT",
                body="{}",
                headers=wsp_world.auth(who),
            )
        assert made.value.code == 403
    # a Contributor in the fork's room cannot edit it either
    forked = await rtc.join("contributor", fork)
    forked.edit(lambda: forked.notebook.ycells[1]["source"].insert(0, "#"))
    assert await forked.until(lambda: forked.closed is not None)
    r = await jp_fetch(
        "api",
        "collaboration",
        "fork",
        fork,
        method="DELETE",
        params={"merge": "true"},
        headers=wsp_world.auth("editor"),
    )
    assert r.code == 200
    await editor.pump(0.3)
    assert source(editor, 1) == "x = alpha * 2"


async def test_rooms_need_read(rtc: Rtc, wsp_world: World, jp_fetch: Any) -> None:
    private = "acme/private/secret.ipynb"
    (wsp_world.root / private).write_text(
        nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("s = 1")]))
    )
    room = await rtc.room_of("editor", private)
    for who in ("viewer", "contributor", "guest", "outsider"):
        with pytest.raises(HTTPClientError) as refused:
            await rtc.join(who, room, sync=False)
        assert refused.value.code == 404, who
        with pytest.raises(HTTPClientError) as session:
            await rtc.room_of(who, private)
        assert session.value.code == 404, who
        file_id = room.rsplit(":", 1)[1]
        for args, params in (("id", {"path": private}), ("path", {"id": file_id})):
            with pytest.raises(HTTPClientError) as lookup:
                await jp_fetch("api", "fileid", args, params=params, headers=wsp_world.auth(who))
            assert lookup.value.code == 404
    with pytest.raises(HTTPClientError) as unknown:
        await rtc.join("editor", "json:notebook:00000000-0000-0000-0000-000000000000", False)
    assert unknown.value.code == 404
    with pytest.raises(HTTPClientError) as made_up:
        await rtc.join("editor", "a-room-of-my-own", sync=False)
    assert made_up.value.code == 404


async def test_revocation_closes_the_room_socket(rtc: Rtc, wsp_world: World) -> None:
    editor, contributor, viewer = await three(rtc)
    with wsp_world.store.write("test") as w:
        w.set_member("acme", PEOPLE["contributor"][0], "viewer")
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await contributor.until(lambda: contributor.closed is not None, timeout=3)
    assert loop.time() - start < 1.5
    assert contributor.closed is not None and contributor.closed[0] == 1003
    await editor.pump(0.3)
    assert editor.closed is None and viewer.closed is None


async def test_token_revocation_closes_the_room_socket(rtc: Rtc, wsp_world: World) -> None:
    _editor, _contributor, viewer = await three(rtc)
    with wsp_world.store.write("test") as w:
        tokens = [t for t in wsp_world.store.snapshot.tokens_by_id.values()]
        (mine,) = [t for t in tokens if t.user_id == _user_id(wsp_world, "viewer")]
        w.revoke_token(mine.id)
    assert await viewer.until(lambda: viewer.closed is not None, timeout=3)


def _user_id(world: World, who: str) -> int:
    snap = world.store.snapshot
    return next(u.id for u in snap.users.values() if u.username == PEOPLE[who][0])


async def test_awareness_speaks_as_the_server_knows(rtc: Rtc) -> None:
    editor, contributor, viewer = await three(rtc)
    viewer.say(4242, {"user": {"username": "ada@acme.test", "name": "Ada"}, "cursors": []})
    assert await editor.until(lambda: any(e["client"] == 4242 for e in editor.awareness))
    (seen,) = [e for e in editor.awareness if e["client"] == 4242]
    assert seen["state"]["user"]["username"] == PEOPLE["viewer"][0]
    # another socket cannot speak for that client id
    contributor.say(4242, {"user": {}, "cursors": ["taken"]})
    await editor.pump(0.5)
    assert all(e["state"].get("cursors") != ["taken"] for e in editor.awareness)


async def test_global_awareness_is_filtered_per_recipient(rtc: Rtc) -> None:
    room = "JupyterLab:globalAwareness"
    editor = await rtc.join("editor", room, sync=False)
    guest = await rtc.join("guest", room, sync=False)
    outsider = await rtc.join("outsider", room, sync=False)  # open, but hears of nobody
    editor.say(
        777,
        {
            "current": "notebook:acme/private/plan.ipynb",
            "documents": ["acme/public/nb.ipynb", "acme/private/plan.ipynb"],
        },
    )
    assert await guest.until(lambda: any(e["client"] == 777 for e in guest.awareness))
    (seen,) = [e for e in guest.awareness if e["client"] == 777]
    assert seen["state"]["documents"] == ["acme/public/nb.ipynb"]
    assert seen["state"]["current"] is None
    assert await editor.until(lambda: any(e["client"] == 777 for e in editor.awareness))
    (own,) = [e for e in editor.awareness if e["client"] == 777]
    assert own["state"]["current"] == "notebook:acme/private/plan.ipynb"
    outsider.say(888, {"current": None})
    assert await outsider.until(lambda: any(e["client"] == 888 for e in outsider.awareness))
    await outsider.pump(0.3)
    assert {e["client"] for e in outsider.awareness} == {888}
    await editor.pump(0.3)
    assert all(e["client"] != 888 for e in editor.awareness)


async def test_unreadable_update_is_refused(rtc: Rtc, wsp_world: World) -> None:
    editor, contributor, _viewer = await three(rtc)
    contributor.ws.write_message(create_update_message(b"\x05\xff\xff\x01garbage"), binary=True)
    assert await contributor.until(lambda: contributor.closed is not None)
    editor.edit(lambda: editor.notebook.ycells[1]["source"].insert(0, "#"))
    await editor.pump(0.3)
    assert source(editor, 1) == "#x = alpha * 2"
    assert editor.closed is None
