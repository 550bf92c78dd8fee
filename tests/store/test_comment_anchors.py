"""The store's side of re-anchoring (:class:`~jupyter_workspace_perms.store.comments.Comments`):
states from the content in hand, moves by path prefix, orphaning, and what each writes.

The HTTP tests (``tests/api/test_comments.py``) drive the same code through the contents
API; these pin the edges: LIKE wildcards in folder names, a file whose name starts like
another's, thread-level files on notebooks, and that an unchanged save writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from jupyter_workspace_perms.notebook.anchors import source_hash
from jupyter_workspace_perms.store import PolicyStore, orm
from jupyter_workspace_perms.store.comments import Comments, NewComment


@pytest.fixture
def comments(wsp_store: PolicyStore) -> Comments:
    with wsp_store.write("test") as w:
        w.create_workspace("acme", "ada@acme.test", "google")
        w.create_project("acme", "one", "full")
        w.create_project("acme", "two", "full")
    return Comments(store=wsp_store)


def ids(comments: Comments) -> tuple[int, int, int]:
    snap = comments.store.snapshot
    ws = snap.workspaces_by_slug["acme"]
    return ws, snap.projects_by_name[(ws, "one")], snap.projects_by_name[(ws, "two")]


def post(comments: Comments, path: str, cell_id: str | None, source: str, **more: Any) -> int:
    ws, one, _ = ids(comments)
    new = NewComment(
        one,
        ws,
        path,
        f"acme/one/{path}",
        "ada@acme.test",
        "body",
        (),
        cell_id=cell_id,
        quote=source[:200],
        source_hash=source_hash(source),
        **more,
    )
    return comments.post(new).id


def state(comments: Comments, comment_id: int) -> tuple[int, str, str]:
    found = comments.get(comment_id)
    assert found is not None
    return found.project_id, found.path, found.anchor_state


def audit_count(comments: Comments, action: str) -> int:
    with comments.store.engine.connect() as connection:
        return int(
            connection.scalar(select(func.count()).where(orm.AuditEvent.action == action)) or 0
        )


def test_notebook_states_follow_the_cells_and_only_changes_are_written(
    comments: Comments,
) -> None:
    ws, one, _ = ids(comments)
    a = post(comments, "nb.ipynb", "a", "x = 1\n")
    b = post(comments, "nb.ipynb", "b", "y = 2\n")
    whole = post(comments, "nb.ipynb", None, "")
    cells = [{"id": "a", "source": ["x = 1\r\n"]}, {"id": "b", "source": "y = 3\n"}]
    version = comments.store.stored_version()
    assert comments.reanchor(one, ws, "nb.ipynb", "acme/one/nb.ipynb", "ed", cells=cells) is None
    assert [state(comments, i)[2] for i in (a, b, whole)] == ["current", "outdated", "current"]
    assert comments.store.stored_version() == version  # comments are not policy
    orphaned = comments.reanchor(one, ws, "nb.ipynb", "t", "ed", cells=[cells[1]])
    assert orphaned is not None and orphaned.count == 1
    assert [state(comments, i)[2] for i in (a, b)] == ["orphaned", "outdated"]
    assert audit_count(comments, "comment.orphaned") == 1
    again = comments.reanchor(one, ws, "nb.ipynb", "t", "ed", cells=[cells[1]])
    assert again is None and audit_count(comments, "comment.orphaned") == 1  # nothing new
    back = [{"id": "a", "source": "x = 1\n"}, {"id": "b", "source": "y = 2\n"}]
    comments.reanchor(one, ws, "nb.ipynb", "t", "ed", cells=back)
    assert [state(comments, i)[2] for i in (a, b)] == ["current", "current"]


def test_a_text_quote_outdates_while_it_is_missing(comments: Comments) -> None:
    ws, one, _ = ids(comments)
    quoted = post(comments, "notes.md", None, "keep this line\n", anchor=(0, 9))
    assert comments.get(quoted) is not None
    comments.reanchor(one, ws, "notes.md", "t", "ed", text="something else\n")
    assert state(comments, quoted)[2] == "outdated"
    comments.reanchor(one, ws, "notes.md", "t", "ed", text="a\r\nkeep this line\r\n")
    assert state(comments, quoted)[2] == "current"


def test_moves_carry_exact_paths_and_folders_only(comments: Comments) -> None:
    _, one, two = ids(comments)
    in_folder = post(comments, "50%_done/a.txt", None, "a")
    look_alike = post(comments, "50x_done/b.txt", None, "b")  # '%' and '_' match these in LIKE
    prefix_file = post(comments, "50%_done.txt", None, "c")  # starts like the folder's name
    other_case = post(comments, "50%_DONE/c.txt", None, "d")  # another folder on Linux
    moved = comments.moved((one, "50%_done"), (two, "archive/done"))
    assert moved == 1
    assert state(comments, in_folder)[:2] == (two, "archive/done/a.txt")
    assert state(comments, look_alike)[:2] == (one, "50x_done/b.txt")
    assert state(comments, prefix_file)[:2] == (one, "50%_done.txt")
    assert state(comments, other_case)[:2] == (one, "50%_DONE/c.txt")
    assert comments.moved((one, "50%_done.txt"), (one, "done.txt")) == 1
    assert state(comments, prefix_file)[:2] == (one, "done.txt")


def test_orphaning_a_folder_keeps_the_threads_and_counts_them(comments: Comments) -> None:
    ws, one, _ = ids(comments)
    inside = [post(comments, f"data/{n}.csv", None, "x") for n in range(3)]
    outside = post(comments, "data.csv", None, "x")
    reply = comments.post(
        NewComment(one, ws, "data/0.csv", "t", "ed@acme.test", "re", (), parent_id=inside[0])
    )
    result = comments.orphan(one, ws, "data", "acme/one/data", "ed")
    assert result is not None and result.count == 3  # threads, not replies
    assert [state(comments, i)[2] for i in inside] == ["orphaned"] * 3
    assert state(comments, outside)[2] == "current"
    assert comments.get(reply.id) is not None
    assert comments.orphan(one, ws, "data", "acme/one/data", "ed") is None  # already orphaned
    with comments.store.engine.connect() as connection:
        rows = connection.execute(
            select(orm.AuditEvent.target, orm.AuditEvent.details).where(
                orm.AuditEvent.action == "comment.orphaned"
            )
        ).all()
    assert [tuple(r) for r in rows] == [("acme/one/data", {"count": 3})]
