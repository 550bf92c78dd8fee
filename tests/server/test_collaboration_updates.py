"""The update judge alone: a room document, a shadow, and updates made by a client copy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import nbformat
import pytest

from tests.helpers.missing import missing

try:
    from jupyter_ydoc import YNotebook
    from pycrdt import Array, Doc, Map, Text

    from jupyter_workspace_perms.server.collaboration.updates import (
        Refused,
        Shadow,
        decode_state,
        judge_events,
    )
except ImportError:
    missing("jupyter-collaboration (the test extra) is needed for these tests", module=True)


def notebook() -> dict[str, Any]:
    params = nbformat.v4.new_code_cell("alpha = 1\nname = 'x'", id="p")
    params.metadata["tags"] = ["parameters"]
    cells = [params, nbformat.v4.new_code_cell("y = alpha", id="c")]
    cells.append(nbformat.v4.new_markdown_cell("# title", id="m"))
    return dict(nbformat.v4.new_notebook(cells=cells))


class Room:
    """The room's document, its shadow, and one client's copy."""

    def __init__(self) -> None:
        self.doc: Doc[Any] = Doc()
        YNotebook(self.doc).set(notebook())
        self.shadow = Shadow(self.doc, "notebook")
        self.client: Doc[Any] = Doc()
        self.client.apply_update(self.doc.get_update())
        self.cells = self.client.get("cells", type=Array)

    def update(self, change: Callable[[], Any]) -> bytes:
        before = self.client.get_state()
        change()
        return self.client.get_update(before)

    def judge(self, update: bytes, contribute: bool = True) -> None:
        """Judge as the room handler does: refused updates rebuild the shadow."""
        try:
            judge_events(self.shadow.attempt(update), self.doc, contribute)
        except Refused:
            self.shadow.rebuild()
            raise
        self.doc.apply_update(update)


@pytest.fixture
def room() -> Room:
    return Room()


def test_contributor_changes_that_pass(room: Room) -> None:
    def run() -> None:
        cell = room.cells[1]
        cell["execution_count"] = 3
        cell["execution_state"] = "idle"
        cell["outputs"].append(Map({"output_type": "stream", "name": "stdout", "text": "1"}))
        cell["metadata"]["collapsed"] = True
        cell["metadata"]["jupyter"] = {"outputs_hidden": True}
        cell["metadata"]["trusted"] = False

    room.judge(room.update(run))
    room.judge(room.update(lambda: room.cells[0]["source"].insert(9, "0")))  # alpha = 10
    room.judge(room.update(lambda: room.cells[1]["outputs"].clear()))
    room.judge(room.update(lambda: room.client.get("state", type=Map).__setitem__("dirty", True)))
    got = YNotebook(room.doc).get()
    assert got["cells"][0]["source"].startswith("alpha = 10")
    assert got["cells"][1]["execution_count"] == 3


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.cells[1]["source"].insert(0, "#"),
        lambda c: c.cells[2]["source"].insert(0, "#"),
        lambda c: c.cells[0]["source"].insert(9, " + f()"),
        lambda c: c.cells[0]["source"].insert(0, "beta = 2\n"),
        lambda c: c.cells.append(Map({"id": "n", "source": Text("x")})),
        lambda c: c.cells.__delitem__(1),
        lambda c: c.cells[1]["metadata"].__setitem__("tags", ["parameters"]),
        lambda c: c.cells[1]["metadata"].__setitem__("jupyter", {"foo": 1}),
        lambda c: c.cells[1]["metadata"].__setitem__("trusted", True),
        lambda c: c.cells[1].__setitem__("cell_type", "raw"),
        lambda c: c.cells[1].__setitem__("execution_count", "x" * 100),
        lambda c: c.cells[1].__setitem__("attachments", {"a": 1}),
        lambda c: c.client.get("meta", type=Map).__setitem__("metadata", {"kernelspec": {}}),
        lambda c: c.client.get("state", type=Map).__setitem__("path", "elsewhere.ipynb"),
        lambda c: c.client.get("smuggled", type=Text).insert(0, "payload"),
    ],
    ids=[
        "code",
        "markdown",
        "parameters_call",
        "parameters_new_name",
        "add_cell",
        "delete_cell",
        "tags",
        "jupyter_metadata",
        "trusted",
        "cell_type",
        "count_shape",
        "attachments",
        "notebook_metadata",
        "path",
        "new_root",
    ],
)
def test_contributor_changes_refused(room: Room, change: Callable[[Room], Any]) -> None:
    before = room.doc.get_update()
    with pytest.raises(Refused):
        room.judge(room.update(lambda: change(room)))
    assert room.doc.get_update() == before
    # the shadow was rebuilt: a later allowed change is judged on the room as it is
    other = Room.__new__(Room)
    other.doc, other.shadow = room.doc, room.shadow
    other.client = Doc()
    other.client.apply_update(room.doc.get_update())
    other.cells = other.client.get("cells", type=Array)
    other.judge(other.update(lambda: other.cells[1].__setitem__("execution_count", 9)))


def test_readers_change_nothing_but_dirty(room: Room) -> None:
    state = room.client.get("state", type=Map)
    room.judge(room.update(lambda: state.__setitem__("dirty", True)), False)
    room.judge(room.client.get_update(room.client.get_state()), False)  # an empty update
    with pytest.raises(Refused):
        room.judge(room.update(lambda: room.cells[1].__setitem__("execution_count", 1)), False)


def test_updates_out_of_order_are_judged_on_what_they_change(room: Room) -> None:
    first = room.update(lambda: room.cells[1].__setitem__("execution_count", 1))
    second = room.update(lambda: room.cells[1]["source"].insert(0, "#"))
    with pytest.raises(Refused):
        room.judge(second)
    room.judge(first)
    assert str(room.doc.get("cells", type=Array)[1]["source"]) == "y = alpha"


def test_decode_state() -> None:
    doc: Doc[Any] = Doc()
    doc.get("t", type=Text).insert(0, "abc")
    assert decode_state(doc.get_state()) == {doc.client_id: 3}
