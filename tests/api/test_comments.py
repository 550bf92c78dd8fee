"""Comments over real HTTP on a real server: who posts and reads them, what each answer
shows, how threads follow saves, renames and deletes made through the contents API.

The sample world (:mod:`tests.helpers.world`): ada (Admin), ed (Editor, creator and so
project admin of ``public`` and ``private``), cora (Contributor), vic (Viewer), gus (a
guest viewer of ``public``) and otto (no member).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import nbformat
import pytest
from sqlalchemy import func, select

from jupyter_workspace_perms.api.schemas import COMMENT_MAX_CHARS
from jupyter_workspace_perms.store import orm
from tests.helpers.api import Api, RouteCase, check_refusals
from tests.helpers.http import Http, Reply
from tests.helpers.world import World

NB = "acme/public/analysis.ipynb"
CELLS = {"load": "import pandas as pd\ndf = pd.read_csv('sales.csv')", "plot": "df.plot()"}
PARAMS = "alpha = 1\nbeta = 'x'"
BASE = "api/workspace-perms/comments"
SUBSCRIBE_TIMEOUT = 60.0
COMMENT_SCHEMA = "https://events.jupyter.org/jupyter_workspace_perms/comment/v1"


def notebook(cells: dict[str, str], params: str | None = PARAMS) -> dict[str, Any]:
    """A notebook whose code cells have the given ids; a ``params`` cell tagged
    ``parameters`` first when ``params`` is given."""
    nb = nbformat.v4.new_notebook()
    if params is not None:
        cell = nbformat.v4.new_code_cell(params)
        cell["id"] = "params"
        cell["metadata"]["tags"] = ["parameters"]
        nb.cells.append(cell)
    for cell_id, source in cells.items():
        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = cell_id
        nb.cells.append(cell)
    return json.loads(nbformat.writes(nb))


def write(root: Path, path: str, nb: dict[str, Any] | str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(nb if isinstance(nb, str) else json.dumps(nb))


class CommentApi:
    """The comment routes as the world's people."""

    def __init__(self, http: Http) -> None:
        self.http = http

    async def post(self, who: str, body: dict[str, Any]) -> Reply:
        return await self.http.raw(who, "POST", BASE, json.dumps(body))

    async def ok_post(self, who: str, **body: Any) -> dict[str, Any]:
        reply = await self.post(who, body)
        assert reply.code == 201, reply
        return dict(reply.json)

    async def list(self, who: str, path: str, **query: str) -> Reply:
        return await self.http.raw(who, "GET", f"{BASE}?{urlencode({'path': path, **query})}")

    async def threads(self, who: str, path: str, **query: str) -> list[dict[str, Any]]:
        reply = await self.list(who, path, **query)
        assert reply.code == 200, reply
        return list(reply.json["threads"])

    async def patch(self, who: str, comment_id: Any, body: dict[str, Any]) -> Reply:
        return await self.http.raw(who, "PATCH", f"{BASE}/{comment_id}", json.dumps(body))

    async def delete(self, who: str, comment_id: Any) -> Reply:
        return await self.http.raw(who, "DELETE", f"{BASE}/{comment_id}")

    async def mentions(self, who: str, ws: str = "acme") -> Reply:
        path = f"api/workspace-perms/workspaces/{quote(ws)}/comments?mentions=me"
        return await self.http.raw(who, "GET", path)


@pytest.fixture
def comments(http: Http, wsp_world: World) -> CommentApi:
    write(wsp_world.root, NB, notebook(CELLS))
    return CommentApi(http)


def audit(world: World, action: str) -> list[tuple[str, str, dict[str, Any]]]:
    event = orm.AuditEvent
    query = select(event.actor, event.target, event.details).where(event.action == action)
    with world.store.engine.connect() as connection:
        return [(a, t, d) for a, t, d in connection.execute(query.order_by(event.id))]


async def save(http: Http, who: str, path: str, nb: dict[str, Any]) -> Reply:
    body = {"type": "notebook", "format": "json", "content": nb}
    return await http(who, "PUT", f"api/contents/{path}", body)


async def states(comments: CommentApi, path: str) -> dict[str, str]:
    return {
        t["cell_id"] or t["quote"]: t["anchor_state"]
        for t in await comments.threads("editor", path)
    }


# -- posting and reading ----------------------------------------------------------------------


async def test_a_viewer_and_a_guest_post_and_reply(comments: CommentApi, wsp_world: World) -> None:
    source = CELLS["load"]
    start = source.index("pd.read_csv")
    thread = await comments.ok_post(
        "viewer",
        path=NB,
        cell_id="load",
        anchor={"start": start, "end": start + 11},
        body="Why **CSV**? <script>alert(1)</script>",
    )
    assert thread["quote"] == "pd.read_csv"  # computed by the server from the file
    assert thread["anchor"] == {"start": start, "end": start + 11}
    assert (thread["anchor_state"], thread["author"]) == ("current", "vic@acme.test")
    assert thread["body"] == "Why **CSV**? <script>alert(1)</script>"  # verbatim, not rendered
    assert thread["can"] == {"edit": True, "resolve": True, "delete": True}
    reply = await comments.ok_post("guest", path=NB, parent_id=thread["id"], body="Agreed.")
    assert (reply["thread_id"], reply["parent_id"], reply["cell_id"]) == (
        thread["id"],
        thread["id"],
        "load",
    )
    # a reply to a reply joins the thread's first comment
    nested = await comments.ok_post("viewer", path=NB, parent_id=reply["id"], body="Thanks")
    assert nested["parent_id"] == thread["id"]
    whole = await comments.ok_post("guest", path=NB, body="Nice notebook")
    assert (whole["cell_id"], whole["quote"], whole["anchor"]) == (None, "", None)

    listed = await comments.list("guest", NB)
    assert listed.code == 200 and listed.json["can_comment"] is True
    threads = listed.json["threads"]
    assert [t["id"] for t in threads] == [thread["id"], whole["id"]]
    assert [r["body"] for r in threads[0]["replies"]] == ["Agreed.", "Thanks"]
    # the guest may edit and delete their own reply only, resolve nothing of vic's
    assert threads[0]["can"] == {"edit": False, "resolve": False, "delete": False}
    assert threads[0]["replies"][0]["can"] == {"edit": True, "resolve": False, "delete": True}
    assert [t["id"] for t in await comments.threads("editor", NB, cell_id="load")] == [thread["id"]]

    posted = audit(wsp_world, "comment.posted")
    assert [(a, t) for a, t, _ in posted][:2] == [("vic@acme.test", NB), ("gus@gmail.test", NB)]
    assert posted[0][2] == {
        "comment_id": thread["id"],
        "thread_id": thread["id"],
        "cell_id": "load",
    }
    assert "CSV" not in json.dumps([d for _, _, d in posted])  # never the body


async def test_non_members_get_404_without_a_count(comments: CommentApi) -> None:
    thread = await comments.ok_post("viewer", path=NB, cell_id="plot", body="hmm")
    unknown = max(thread["id"], 1) + 1000
    answers = [
        await comments.list("outsider", NB),
        await comments.list("outsider", "acme/public/nothing-here.ipynb"),
        await comments.post("outsider", {"path": NB, "body": "hi"}),
        await comments.patch("outsider", thread["id"], {"body": "mine now"}),
        await comments.patch("outsider", unknown, {"body": "mine now"}),
        await comments.delete("outsider", thread["id"]),
        await comments.delete("viewer", unknown),
        await comments.delete("viewer", "not-a-number"),
        await comments.patch("viewer", "1e3", {"resolved": True}),
    ]
    for reply in answers:
        assert (reply.code, reply.json) == (
            404,
            {"message": "not found (or not visible to you)", "reason": "not_found"},
        ), reply
    assert (await comments.mentions("outsider")).code == 404
    assert len(await comments.threads("viewer", NB)) == 1  # still there, unchanged
    assert (await comments.threads("viewer", NB))[0]["body"] == "hmm"


async def test_a_private_projects_comments_are_invisible_to_an_admin_without_a_grant(
    comments: CommentApi, wsp_world: World
) -> None:
    write(wsp_world.root, "acme/private/plan.txt", "launch on friday\n")
    thread = await comments.ok_post(
        "editor", path="acme/private/plan.txt", body="@ada@acme.test @vic@acme.test look"
    )
    assert thread["quote"] == "launch on friday\n"
    assert thread["mentions"] == []  # neither may read the project: plain text
    for who in ("admin", "viewer"):
        assert (await comments.list(who, "acme/private/plan.txt")).code == 404
        assert (await comments.patch(who, thread["id"], {"resolved": True})).code == 404
        assert (await comments.delete(who, thread["id"])).code == 404
        reply = await comments.post(who, {"path": "acme/private/plan.txt", "body": "x"})
        assert reply.code == 404
        listed = await comments.mentions(who)
        assert listed.code == 200 and listed.json == {"comments": []}
    assert len(await comments.threads("editor", "acme/private/plan.txt")) == 1


async def test_mentions_resolve_only_to_readers(comments: CommentApi, wsp_world: World) -> None:
    body = "cc @ed@acme.test, @gus@gmail.test and @otto@else.test and @nobody@else.test."
    thread = await comments.ok_post("viewer", path=NB, cell_id="load", body=body)
    assert thread["mentions"] == ["ed@acme.test", "gus@gmail.test"]
    assert thread["body"] == body  # the others stay plain text
    stranger = await comments.ok_post("viewer", path=NB, body="ask @otto@else.test")
    nobody = await comments.ok_post("viewer", path=NB, body="ask @nobody@else.test")
    assert stranger["mentions"] == nobody["mentions"] == []  # no hint who exists
    for who in ("editor", "guest"):
        listed = await comments.mentions(who)
        assert listed.code == 200, listed
        assert [c["id"] for c in listed.json["comments"]] == [thread["id"]]
        assert listed.json["comments"][0]["path"] == NB
    assert (await comments.mentions("outsider")).code == 404
    assert (await comments.mentions("contributor")).json == {"comments": []}
    # an edit re-resolves the mentions
    edited = await comments.patch("viewer", thread["id"], {"body": "only @cora@acme.test"})
    assert edited.code == 200 and edited.json["mentions"] == ["cora@acme.test"]
    assert (await comments.mentions("editor")).json == {"comments": []}
    assert [c["id"] for c in (await comments.mentions("contributor")).json["comments"]] == [
        thread["id"]
    ]
    with wsp_world.store.engine.connect() as connection:
        stored = connection.execute(select(orm.CommentMention.username)).scalars().all()
    assert sorted(stored) == ["cora@acme.test"]


# -- rights ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "resolve", "delete"),
    [
        ("viewer", (403, "resolve_needs_write"), (403, "delete_needs_share")),
        ("guest", (403, "resolve_needs_write"), (403, "delete_needs_share")),
        ("contributor", (403, "resolve_needs_write"), (403, "delete_needs_share")),
        ("editor", (200, None), (204, None)),  # ed created public: its project admin
        ("admin", (200, None), (204, None)),
    ],
)
async def test_resolve_and_delete_someone_elses_thread(
    comments: CommentApi, who: str, resolve: tuple[int, Any], delete: tuple[int, Any]
) -> None:
    """Rows of tests/policy/cases/comments.yaml over HTTP, on a thread someone else started."""
    author = "contributor" if who != "contributor" else "viewer"
    thread = await comments.ok_post(author, path=NB, cell_id="load", body="question")
    edit = await comments.patch(who, thread["id"], {"body": "changed"})
    assert (edit.code, edit.reason) == (403, "not_comment_author"), edit
    answer = await comments.patch(who, thread["id"], {"resolved": True})
    assert (answer.code, answer.reason) == resolve, answer
    if answer.code == 200:
        assert answer.json["resolved"] is True and answer.json["resolved_by"]
        assert [t["id"] for t in await comments.threads(who, NB, state="resolved")] == [
            thread["id"]
        ]
        assert await comments.threads(who, NB, state="open") == []
    gone = await comments.delete(who, thread["id"])
    assert (gone.code, gone.reason) == delete, gone
    left = await comments.threads("viewer", NB)
    assert len(left) == (0 if delete[0] == 204 else 1)


async def test_authors_edit_resolve_reopen_and_delete_their_own(
    comments: CommentApi, wsp_world: World
) -> None:
    thread = await comments.ok_post("guest", path=NB, cell_id="plot", body="typo")
    reply = await comments.ok_post("editor", path=NB, parent_id=thread["id"], body="fixed")
    edited = await comments.patch("guest", thread["id"], {"body": "typo here"})
    assert edited.code == 200 and edited.json["body"] == "typo here"
    assert edited.json["edited_at"] is not None
    assert (await comments.patch("guest", thread["id"], {"resolved": True})).code == 200
    reopened = await comments.patch("guest", thread["id"], {"resolved": False})
    assert reopened.code == 200
    assert (reopened.json["resolved"], reopened.json["resolved_by"]) == (False, None)
    assert (await comments.delete("guest", reply["id"])).code == 403  # ed's reply
    assert (await comments.delete("guest", thread["id"])).code == 204  # with its replies
    assert await comments.threads("guest", NB) == []
    with wsp_world.store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(orm.Comment)) == 0
    for action in ("edited", "resolved", "reopened", "deleted"):
        rows = audit(wsp_world, f"comment.{action}")
        assert [(actor, target) for actor, target, _ in rows] == [("gus@gmail.test", NB)]
        assert rows[0][2]["thread_id"] == thread["id"]
    assert audit(wsp_world, "comment.deleted")[0][2]["replies"] == 1


# -- bad input -------------------------------------------------------------------------------


async def test_every_bad_input_gets_its_400(comments: CommentApi, wsp_world: World) -> None:
    write(wsp_world.root, "acme/public/notes.txt", "hello world\n")
    write(wsp_world.root, "acme/public/.secret.txt", "hidden\n")
    write(wsp_world.root, "acme/public/other.ipynb", notebook({"x": "1"}))
    other = await comments.ok_post("viewer", path="acme/public/other.ipynb", body="elsewhere")
    load_len = len(CELLS["load"])
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"path": "acme/public", "body": "x"}, 400, "not_a_project_file"),
        ({"path": "acme", "body": "x"}, 400, "not_a_project_file"),
        ({"path": "acme/public/missing.ipynb", "body": "x"}, 400, "no_such_file"),
        ({"path": "acme/public/sub", "body": "x"}, 400, "no_such_file"),
        ({"path": NB, "cell_id": "nope", "body": "x"}, 400, "no_such_cell"),
        ({"path": "acme/public/notes.txt", "cell_id": "load", "body": "x"}, 400, "no_such_cell"),
        ({"path": NB, "body": " \n\t "}, 400, "empty_body"),
        ({"path": NB, "body": "x" * (COMMENT_MAX_CHARS + 1)}, 400, "invalid_body"),
        ({"path": NB, "body": ""}, 400, "invalid_body"),
        ({"path": NB, "body": "x", "quote": "forged"}, 400, "invalid_body"),
        (
            {
                "path": NB,
                "cell_id": "load",
                "anchor": {"start": 0, "end": load_len + 1},
                "body": "x",
            },
            400,
            "invalid_anchor",
        ),
        (
            {"path": NB, "cell_id": "load", "anchor": {"start": 5, "end": 2}, "body": "x"},
            400,
            "invalid_anchor",
        ),
        ({"path": NB, "anchor": {"start": 0, "end": 1}, "body": "x"}, 400, "invalid_anchor"),
        ({"path": NB, "parent_id": other["id"], "body": "x"}, 400, "invalid_parent"),
        ({"path": NB, "parent_id": 10**9, "body": "x"}, 400, "invalid_parent"),
        ({"path": "acme/public/.secret.txt", "body": "x"}, 404, "not_found"),
        ({"path": "acme/nowhere/file.txt", "body": "x"}, 404, "not_found"),
        ({"path": "../etc/passwd", "body": "x"}, 404, "not_found"),
        ({"path": "acme/private", "body": "x"}, 404, "not_found"),  # not visible to vic
    ]
    (wsp_world.root / "acme/public/sub").mkdir()
    for body, code, reason in cases:
        reply = await comments.post("viewer", body)
        assert (reply.code, reply.reason) == (code, reason), (body, reply)
        assert reply.json["message"]
    text = await comments.ok_post(
        "viewer", path="acme/public/notes.txt", anchor={"start": 6, "end": 11}, body="ok"
    )
    assert text["quote"] == "world"
    listed = await comments.list("viewer", NB, state="closed")
    assert (listed.code, listed.reason) == (400, "invalid_query")
    missing = await comments.http.raw("viewer", "GET", BASE)
    assert (missing.code, missing.reason) == (400, "invalid_query")
    assert (await comments.patch("viewer", other["id"], {"body": "  "})).reason == "empty_body"
    both = await comments.patch("viewer", other["id"], {"body": "a", "resolved": True})
    assert (both.code, both.reason) == (400, "invalid_body")
    wrong = await comments.http.raw(
        "viewer", "GET", "api/workspace-perms/workspaces/acme/comments?mentions=you"
    )
    assert (wrong.code, wrong.reason) == (400, "invalid_query")
    assert len(await comments.threads("viewer", NB)) == 0  # nothing was stored on NB


# -- following the file ----------------------------------------------------------------------


async def test_an_editors_save_outdates_and_a_deleted_cell_orphans(
    comments: CommentApi, http: Http, wsp_world: World
) -> None:
    for cell in ("load", "plot"):
        await comments.ok_post("viewer", path=NB, cell_id=cell, body=f"on {cell}")
    changed = notebook({"load": CELLS["load"] + "\ndf.head()", "plot": CELLS["plot"]})
    assert (await save(http, "editor", NB, changed)).code == 200
    assert await states(comments, NB) == {"load": "outdated", "plot": "current"}
    back = notebook({"load": CELLS["load"].replace("\n", "\r\n"), "plot": CELLS["plot"]})
    assert (await save(http, "editor", NB, back)).code == 200
    assert await states(comments, NB) == {"load": "current", "plot": "current"}  # same hash
    assert audit(wsp_world, "comment.orphaned") == []
    without_plot = notebook({"load": CELLS["load"]})
    assert (await save(http, "editor", NB, without_plot)).code == 200
    assert await states(comments, NB) == {"load": "current", "plot": "orphaned"}
    assert audit(wsp_world, "comment.orphaned") == [("ed@acme.test", NB, {"count": 1})]


async def test_a_contributors_merge_save_reanchors(
    comments: CommentApi, http: Http, wsp_world: World
) -> None:
    await comments.ok_post("guest", path=NB, cell_id="params", body="try alpha = 2?")
    await comments.ok_post("guest", path=NB, cell_id="load", body="ok")
    opened = await http("contributor", "GET", f"api/contents/{NB}")
    assert opened.code == 200 and opened.json["writable"] is True  # saves are merged
    content = opened.json["content"]
    content["cells"][0]["source"] = "alpha = 2\nbeta = 'x'"
    assert (await save(http, "contributor", NB, content)).code == 200
    assert "alpha = 2" in (wsp_world.root / NB).read_text()
    assert await states(comments, NB) == {"params": "outdated", "load": "current"}
    content["cells"][1]["source"] = "print('edited code')"
    refused = await save(http, "contributor", NB, content)
    assert (refused.code, refused.reason) == (403, "merge_refused")
    assert await states(comments, NB) == {"params": "outdated", "load": "current"}


async def test_a_text_file_thread_outdates_when_its_quote_goes(
    comments: CommentApi, http: Http, wsp_world: World
) -> None:
    path = "acme/public/README.md"
    write(wsp_world.root, path, "# Title\n\nRun make.\n")
    start = "# Title\n\n".__len__()
    await comments.ok_post("viewer", path=path, anchor={"start": start, "end": start + 9}, body="?")
    body = {"type": "file", "format": "text", "content": "# Title\n\nRun tox.\n"}
    assert (await http("editor", "PUT", f"api/contents/{path}", body)).code == 200
    assert await states(comments, path) == {"Run make.": "outdated"}
    body["content"] = "Intro\r\n\r\nRun make.\r\n"
    assert (await http("editor", "PUT", f"api/contents/{path}", body)).code == 200
    assert await states(comments, path) == {"Run make.": "current"}


async def test_threads_follow_renames_and_moves(
    comments: CommentApi, http: Http, wsp_world: World
) -> None:
    thread = await comments.ok_post("viewer", path=NB, cell_id="load", body="keep me")
    write(wsp_world.root, "acme/public/data/raw.txt", "raw\n")
    folder_thread = await comments.ok_post("viewer", path="acme/public/data/raw.txt", body="raw?")

    async def rename(who: str, old: str, new: str) -> None:
        reply = await http(who, "PATCH", f"api/contents/{old}", {"path": new})
        assert reply.code == 200, reply

    await rename("editor", NB, "acme/public/renamed.ipynb")
    await rename("editor", "acme/public/data", "acme/public/inputs")
    assert await comments.threads("viewer", NB) == []
    assert [t["id"] for t in await comments.threads("viewer", "acme/public/renamed.ipynb")] == [
        thread["id"]
    ]
    moved = await comments.threads("viewer", "acme/public/inputs/raw.txt")
    assert [(t["id"], t["path"]) for t in moved] == [
        (folder_thread["id"], "acme/public/inputs/raw.txt")
    ]
    # a project folder's rename renames the project: its threads need no change
    await rename("editor", "acme/public", "acme/shared")
    found = await comments.threads("guest", "acme/shared/renamed.ipynb")
    assert [(t["id"], t["path"]) for t in found] == [(thread["id"], "acme/shared/renamed.ipynb")]
    # into another project: the thread moves with the file, to the new project's readers
    await rename("admin", "acme/shared/renamed.ipynb", "acme/locked/renamed.ipynb")
    assert (await comments.list("guest", "acme/locked/renamed.ipynb")).code == 404
    found = await comments.threads("viewer", "acme/locked/renamed.ipynb")
    assert [(t["id"], t["anchor_state"]) for t in found] == [(thread["id"], "current")]
    assert (await comments.patch("guest", thread["id"], {"resolved": True})).code == 404


async def test_deleting_a_file_or_folder_orphans_and_a_project_takes_its_comments(
    comments: CommentApi, http: Http, wsp_world: World
) -> None:
    await comments.ok_post("viewer", path=NB, cell_id="load", body="one")
    await comments.ok_post("viewer", path=NB, body="two")
    write(wsp_world.root, "acme/public/dir/a.txt", "a\n")
    await comments.ok_post("viewer", path="acme/public/dir/a.txt", body="three")
    assert (await http("editor", "DELETE", f"api/contents/{NB}")).code == 204
    kept = await comments.threads("viewer", NB)
    assert [t["anchor_state"] for t in kept] == ["orphaned", "orphaned"]
    assert (await http("editor", "DELETE", "api/contents/acme/public/dir")).code == 204
    assert [
        t["anchor_state"] for t in await comments.threads("viewer", "acme/public/dir/a.txt")
    ] == ["orphaned"]
    assert [(a, t, d) for a, t, d in audit(wsp_world, "comment.orphaned")] == [
        ("ed@acme.test", NB, {"count": 2}),
        ("ed@acme.test", "acme/public/dir", {"count": 1}),
    ]
    # a reply on an orphaned thread is still possible: the discussion is kept
    reply = await comments.ok_post("guest", path=NB, parent_id=kept[0]["id"], body="gone?")
    assert reply["anchor_state"] == "orphaned"
    with wsp_world.store.write("test") as w:
        w.delete_project("acme", "public")
    with wsp_world.store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(orm.Comment)) == 0
        assert connection.scalar(select(func.count()).select_from(orm.CommentMention)) == 0
    assert audit(wsp_world, "project.delete")[-1][2] == {"comments": 4}


# -- events ----------------------------------------------------------------------------------


async def test_comment_events_reach_only_readers_of_the_file(
    comments: CommentApi, wsp_world: World, jp_ws_fetch: Any
) -> None:
    write(wsp_world.root, "acme/private/plan.txt", "secret plan\n")
    streams = {
        who: await jp_ws_fetch("api", "events", "subscribe", headers=wsp_world.auth(who))
        for who in ("admin", "editor", "guest")
    }
    try:
        private = await comments.ok_post("editor", path="acme/private/plan.txt", body="shh")
        public = await comments.ok_post("editor", path=NB, cell_id="load", body="sentinel")
        seen: dict[str, list[dict[str, Any]]] = {}
        for who, ws in streams.items():
            seen[who] = []
            while True:
                raw = await asyncio.wait_for(ws.read_message(), SUBSCRIBE_TIMEOUT)
                assert raw is not None
                event = json.loads(raw)
                if event["schema_id"] != COMMENT_SCHEMA:
                    continue
                seen[who].append(event)
                if event.get("comment_id") == public["id"]:
                    break
    finally:
        for ws in streams.values():
            ws.close()
    ids = {who: [e["comment_id"] for e in events] for who, events in seen.items()}
    assert ids == {
        "admin": [public["id"]],  # a workspace Admin without a grant on the private project
        "editor": [private["id"], public["id"]],
        "guest": [public["id"]],
    }
    event = seen["guest"][0]
    assert (event["action"], event["path"], event["cell_id"], event["count"]) == (
        "posted",
        NB,
        "load",
        1,
    )
    assert "sentinel" not in json.dumps(seen)  # never the body


NOT_FOUND = (
    ("admin", 404, "not_found"),  # a private project, and no grant on it
    ("contributor", 404, "not_found"),
    ("viewer", 404, "not_found"),
    ("guest", 404, "not_found"),
    ("outsider", 404, "not_found"),
)
PRIVATE = "acme/private/notes.md"
ROUTES = [
    pytest.param(
        RouteCase("comments.list", "GET", "comments", NOT_FOUND, params={"path": PRIVATE}),
        id="a-private-projects-threads-are-404",
    ),
    pytest.param(
        RouteCase(
            "comments.create", "POST", "comments", NOT_FOUND, body={"path": PRIVATE, "body": "hi"}
        ),
        id="commenting-in-a-private-project-is-404",
    ),
    pytest.param(
        RouteCase(
            "comment.patch",
            "PATCH",
            "comments/999",
            (*NOT_FOUND, ("editor", 404, "not_found")),
            body={"body": "x"},
        ),
        id="an-unknown-comment-is-404-to-edit",
    ),
    pytest.param(
        RouteCase(
            "comment.delete", "DELETE", "comments/999", (*NOT_FOUND, ("editor", 404, "not_found"))
        ),
        id="an-unknown-comment-is-404-to-delete",
    ),
    pytest.param(
        RouteCase(
            "mentions.list",
            "GET",
            "workspaces/acme/comments",
            (("outsider", 404, "not_found"),),
            params={"mentions": "me"},
        ),
        id="mentions-are-for-members-and-guests",
    ),
]


@pytest.mark.parametrize("case", ROUTES)
async def test_route_refuses_who_may_not_use_it(api: Api, case: RouteCase) -> None:
    await check_refusals(api, case)
    assert api.audit("comment.posted") == []
