"""Parts of the kernel websocket hook that need no kernel: frames, notebooks, wiring.

- frame parsing refuses malformed input without allocating for forged counts;
- the notebook cache follows the file and fails closed;
- session paths count only inside the kernel's project;
- the server runs the hook, and refuses to start when other config replaces it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.session import Session
from jupyter_server.services.kernels.connection.base import (
    serialize_binary_message,
    serialize_msg_to_ws_v1,
)

from jupyter_workspace_perms.kernel.connection import RevocationWatcher, WorkspaceKernelConnection
from jupyter_workspace_perms.kernel.frames import Incoming, Malformed, parse_legacy, split_v1
from jupyter_workspace_perms.kernel.notebooks import NotebookCache, SessionPaths, session_os_path

SESSION = Session(key=b"")


def message(msg_type: str = "execute_request", **content: Any) -> dict[str, Any]:
    return dict(SESSION.msg(msg_type, content=content or {"code": "1"}))


# -- frames ------------------------------------------------------------------------------


def test_v1_frames_parse_lazily_and_keep_their_bytes() -> None:
    msg = message(code="print(1)")
    frame = serialize_msg_to_ws_v1(msg, "shell", SESSION.pack) + b""
    incoming = Incoming.parse(frame, v1=True)
    assert (incoming.channel, incoming.msg_type) == ("shell", "execute_request")
    assert incoming.parts is not None and incoming.parts[3] == SESSION.pack(msg["content"])
    assert incoming.part(3, "content") == {"code": "print(1)"}


def test_v1_frames_with_buffers_keep_them() -> None:
    msg = message("comm_msg", comm_id="c", data={})
    parts = [SESSION.pack(msg[k]) for k in ("header", "parent_header", "metadata", "content")]
    frame = serialize_msg_to_ws_v1([*parts, b"\x00\x01buffer"], "shell")
    channel, found = split_v1(frame)
    assert channel == "shell" and found[4] == b"\x00\x01buffer"


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\x00" * 7,
        (2**62).to_bytes(8, "little") + b"\x00" * 32,  # a forged count
        (6).to_bytes(8, "little") + (10**9).to_bytes(8, "little") * 6,  # offsets past the end
        (6).to_bytes(8, "little")
        + b"".join(n.to_bytes(8, "little") for n in (56, 60, 58, 70))
        + b"\x00" * 40,  # offsets going backwards
        "a text frame",
    ],
)
def test_malformed_v1_frames_are_refused(frame: bytes | str) -> None:
    with pytest.raises(Malformed):
        Incoming.parse(frame, v1=True)


def test_v1_parts_that_are_not_json_objects_are_refused() -> None:
    frame = serialize_msg_to_ws_v1([b"{}", b"{}", b"{}", b"[1]"], "shell")
    incoming = Incoming.parse(frame, v1=True)
    with pytest.raises(Malformed):
        _ = incoming.msg_type  # no msg_type in the header
    with pytest.raises(Malformed):
        incoming.part(3, "content")
    with pytest.raises(Malformed):
        Incoming.parse(serialize_msg_to_ws_v1([b"{", b"{}", b"{}", b"{}"], "shell"), v1=True)


def test_legacy_messages_need_every_part_as_an_object() -> None:
    msg = message()
    msg["channel"] = "control"
    incoming = Incoming.parse(json.dumps(msg, default=str), v1=False)
    assert (incoming.channel, incoming.msg_type) == ("control", "execute_request")
    del msg["channel"]
    assert Incoming.parse(json.dumps(msg, default=str), v1=False).channel == "shell"
    for part, value in (("header", None), ("content", ["x"]), ("metadata", "m")):
        broken = {**msg, part: value}
        with pytest.raises(Malformed):
            parse_legacy(json.dumps(broken, default=str))
    for text in ("", "nope", "[1]", "1" * 10, "[" * 100_000):
        with pytest.raises(Malformed):
            parse_legacy(text)


def test_legacy_binary_messages() -> None:
    msg = message("comm_msg", comm_id="c", data={})
    msg["buffers"] = [b"abc"]
    msg["channel"] = "shell"
    parsed = parse_legacy(serialize_binary_message(msg))
    assert parsed["buffers"] == [b"abc"] and parsed["channel"] == "shell"
    no_header = {k: v for k, v in msg.items() if k != "header"}
    for frame in (
        serialize_binary_message(no_header),
        serialize_binary_message({"buffers": [b"x"]})[:8] + b"[1, 2]",
        b"\x00\x00\x00\x01\x00\x00\x00\x08\xff\xfe",  # not UTF-8
        b"\x00\x00",
        b"\x7f\xff\xff\xff" + b"\x00" * 8,
        b"\x00\x00\x00\x00" + b"\x00" * 8,
    ):
        with pytest.raises(Malformed):
            parse_legacy(frame)


# -- notebooks ---------------------------------------------------------------------------


def write(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    for i, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = f"c{i}"
        nb.cells.append(cell)
    nbformat.write(nb, str(path))


def test_the_cache_follows_the_file_and_fails_closed(tmp_path: Path) -> None:
    cache = NotebookCache(max_entries=2)
    path = tmp_path / "a.ipynb"
    write(path, "print(1)")
    first = cache.index(str(path))
    assert first is not None and first.check_code("print(1)", "c0").allowed
    assert cache.index(str(path)) is first  # unchanged: the same index
    write(path, "print(2)")
    os.utime(path, ns=(1, 1))  # even with an older mtime, the size changed
    second = cache.index(str(path))
    assert second is not None and second is not first
    assert not second.check_code("print(1)", "c0").allowed
    path.write_text("{not json")
    assert cache.index(str(path)) is None
    path.write_text(json.dumps({"cells": "nope"}))
    assert cache.index(str(path)) is None
    path.unlink()
    assert cache.index(str(path)) is None
    (tmp_path / "dir.ipynb").mkdir()
    assert cache.index(str(tmp_path / "dir.ipynb")) is None


def test_the_cache_keeps_a_bounded_number_of_notebooks(tmp_path: Path) -> None:
    cache = NotebookCache(max_entries=2)
    for name in "abc":
        write(tmp_path / f"{name}.ipynb", name)
        cache.index(str(tmp_path / f"{name}.ipynb"))
    assert len(cache._entries) == 2


def test_session_paths_count_only_inside_the_project(tmp_path: Path) -> None:
    root = tmp_path / "root"
    project = root / "acme" / "public"
    project.mkdir(parents=True)
    (root / "acme" / "other").mkdir()
    write(project / "a.ipynb", "x")
    write(root / "acme" / "other" / "b.ipynb", "x")
    (project / "link.ipynb").symlink_to(root / "acme" / "other" / "b.ipynb")
    (project / "inner.ipynb").symlink_to(project / "a.ipynb")
    cache = NotebookCache()
    folder = cache.real_folder(str(project))
    assert folder == os.path.realpath(project)

    def usable(path: str) -> bool:
        os_path = session_os_path(str(root), path)
        found = None if os_path is None else cache.lookup(os_path)
        return found is not None and found.index is not None and found.inside(folder)

    assert usable("acme/public/a.ipynb") and usable("acme/public/inner.ipynb")
    for path in (
        "acme/other/b.ipynb",
        "acme/public/../other/b.ipynb",
        "acme/public/./a.ipynb",
        "acme/public/link.ipynb",  # a link out of the project
        "acme/public/missing.ipynb",
        "acme/public//a.ipynb",
        "acme\\public\\a.ipynb",
    ):
        assert not usable(path), path
    # retargeting a link is another file: its real path is resolved again
    (project / "inner.ipynb").unlink()
    (project / "inner.ipynb").symlink_to(root / "acme" / "other" / "b.ipynb")
    assert not usable("acme/public/inner.ipynb")
    # a project folder replaced by a link elsewhere resolves again too
    os.rename(project, root / "acme" / "moved")
    project.symlink_to(root / "acme" / "other")
    assert cache.real_folder(str(project)) == os.path.realpath(root / "acme" / "other")


class FakeSessions:
    """The part of Jupyter's SessionManager the lookup reads: its sqlite table."""

    def __init__(self) -> None:
        self.connection = sqlite3.connect(":memory:", isolation_level=None)
        self.cursor = self.connection.cursor()
        self.cursor.execute("CREATE TABLE session (session_id, path, name, type, kernel_id)")

    def add(self, session_id: str, path: str, kernel_id: str) -> None:
        self.cursor.execute(
            "INSERT INTO session VALUES (?, ?, 'n', 'notebook', ?)", (session_id, path, kernel_id)
        )


def test_session_paths_are_read_again_after_any_change() -> None:
    sessions, paths = FakeSessions(), SessionPaths()
    sessions.add("s1", "acme/public/a.ipynb", "k1")
    sessions.add("s2", "acme/public/other.ipynb", "k2")
    assert paths.of(sessions, "k1") == ("acme/public/a.ipynb",)
    assert paths.of(sessions, "k1") == ("acme/public/a.ipynb",)
    sessions.cursor.execute("UPDATE session SET path='acme/public/b.ipynb' WHERE session_id='s1'")
    assert paths.of(sessions, "k1") == ("acme/public/b.ipynb",)
    sessions.add("s3", "acme/public/c.ipynb", "k1")
    assert sorted(paths.of(sessions, "k1")) == ["acme/public/b.ipynb", "acme/public/c.ipynb"]
    sessions.cursor.execute("DELETE FROM session WHERE kernel_id='k1'")
    assert paths.of(sessions, "k1") == ()
    assert paths.of(object(), "k1") == ()  # no session table: no notebooks


# -- wiring ------------------------------------------------------------------------------


def test_the_server_runs_the_hook(jp_serverapp: Any) -> None:
    assert issubclass(jp_serverapp.kernel_websocket_connection_class, WorkspaceKernelConnection)
    assert jp_serverapp.web_app.settings["kernel_websocket_connection_class"] is (
        jp_serverapp.kernel_websocket_connection_class
    )


def test_an_idle_watcher_closes_nothing() -> None:
    assert RevocationWatcher().check_all() == 0
