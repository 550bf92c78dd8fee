"""Comments on project files and notebook cells (docs/comments.md).

Paths name files as JupyterLab does (``WS/PROJECT/FILE``) and go through the one
canonicalizer; the project of the path decides. Whoever may not read the project gets
404 with no count and no hint, for a path and for a comment id alike: a private
project's comments stay invisible to workspace Admins without a grant, as its files do.

The server computes what a thread quotes and the hash it is anchored to from the file
on disk, never from the client, and answers, per comment, what the caller may do with
it (``can``): the page only shows it. Bodies are Markdown stored verbatim; the server
never renders them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import InvalidInput, NotFound, WorkspacePermsError
from ...gc_pause import collector_paused
from ...notebook.anchors import quote_of, source_hash
from ...notebook.cells import normalize
from ...paths import Level, Location, PathRefused, locate_in
from ...policy import (
    Decision,
    PolicySnapshot,
    ProjectFacts,
    Subject,
    WorkspaceFacts,
    check_project,
    check_workspace,
)
from ...policy.comments import CommentRights, comment_rights
from ...server.authz.access import decide_location
from ...store.comments import (
    FIELD,
    CommentRecord,
    Comments,
    NewComment,
    iso,
)
from .base import Call, WorkspacePermsHandler, api, refusal, route

STATES = ("open", "resolved", "all")
MAX_TEXT_BYTES = 32 * 1024 * 1024  # larger text files take threads without a quote
MAX_NOTEBOOK_BYTES = 256 * 1024 * 1024  # notebooks carry outputs: read larger ones too
# ``@name`` or ``@name@domain.tld`` (usernames are often email addresses), not inside a word
MENTION = re.compile(
    r"(?<![\w@.])@([A-Za-z0-9_.+%-]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})?)"
)


def hidden() -> NotFound:
    """The answer for what the caller may not know exists (a fresh error each time)."""
    return NotFound("not found (or not visible to you)", "not_found")


@dataclass(frozen=True)
class Place:
    """A file inside a project, as a comment names it."""

    path: str  # WS/PROJECT/FILE, canonical
    inner: str  # the path inside the project
    workspace: WorkspaceFacts
    project: ProjectFacts


def hidden_refusal(decision: Decision) -> WorkspacePermsError:
    """404 where the caller may not know the project, or it is private (as file routes
    answer), else 403 with the reason (a member signed in with the wrong provider)."""
    if not decision.visible or decision.code == "private":
        return hidden()
    return refusal(decision)


def mentioned(
    snap: PolicySnapshot, body: str, project_id: int, now: float, poster: Subject
) -> tuple[str, ...]:
    """The people a body mentions who may read the project; any other ``@name`` stays
    text, and nothing tells the poster whether such a person exists.

    A poster who may not list the workspace's members (a guest) mentions only the
    project's collaborators, whom the project's page shows them: the answer's
    ``mentions`` would otherwise tell them who is a member (``@ceo@acme.test``)."""
    ws_id = snap.projects[project_id].workspace_id
    members_known = check_workspace(snap, poster, ws_id, "workspace:read", now).allowed
    found: list[str] = []
    for match in MENTION.finditer(body):
        token = match.group(1)
        for candidate in (token, token.rstrip(".,;:!?-")):
            user = snap.user_named(candidate)
            if user is None:
                continue
            if not members_known and (project_id, user.id) not in snap.grants:
                break  # as if nobody had that name
            subject_read = _reads(snap, user.id, user.login_provider, project_id, now)
            if subject_read and user.username not in found:
                found.append(user.username)
            break
    return tuple(found)


def _reads(snap: PolicySnapshot, user_id: int, provider: str, project_id: int, now: float) -> bool:
    return check_project(snap, Subject(user_id, provider), project_id, "project:read", now).allowed


def read_source(os_path: str, cell_id: str | None) -> tuple[str | None, bool]:
    """The normalized source a new thread anchors to (a cell's, or a text file's; None
    for a notebook as a whole or a binary file) and whether the file is a notebook.

    400 ``no_such_file`` when there is no such file, ``no_such_cell`` when the notebook
    has no cell with that id (or the file is no notebook)."""
    if not os.path.isfile(os_path):
        raise InvalidInput("there is no such file", "no_such_file")
    notebook = os_path.endswith(".ipynb")
    if os.path.getsize(os_path) > (MAX_NOTEBOOK_BYTES if notebook else MAX_TEXT_BYTES):
        if cell_id is not None:
            raise InvalidInput("the file is too large to anchor to a cell", "no_such_cell")
        return None, notebook
    with open(os_path, "rb") as f:
        raw = f.read()
    if not notebook:
        if cell_id is not None:
            raise InvalidInput("only notebooks have cells", "no_such_cell")
        try:
            return normalize(raw.decode("utf-8")), False
        except UnicodeDecodeError:
            return None, False
    if cell_id is None:
        return None, True
    try:
        cells = json.loads(raw).get("cells")
    except (ValueError, AttributeError, RecursionError):  # not JSON, no object, too deep
        cells = None
    for cell in cells if isinstance(cells, list) else ():
        if isinstance(cell, dict) and cell.get("id") == cell_id:
            source = cell.get("source") or ""
            if isinstance(source, list) and all(isinstance(line, str) for line in source):
                return normalize(source), True
            if isinstance(source, str):
                return normalize(source), True
            break  # a cell whose source is no text: nothing to anchor to
    raise InvalidInput(f"the notebook has no cell with id {cell_id!r}", "no_such_cell")


def storable(text: str) -> str:
    """``text`` with each lone surrogate (JSON allows them in a notebook on disk, no
    database stores them) replaced by ``?``: one code point for one, offsets unchanged."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def check_anchor(anchor: Any, source: str | None) -> tuple[int, int] | None:
    """``(start, end)`` within ``source``, or 400 ``invalid_anchor``."""
    if anchor is None:
        return None
    if source is None:
        raise InvalidInput(
            "a range anchors to a cell of a notebook or to a text file", "invalid_anchor"
        )
    start, end = int(anchor["start"]), int(anchor["end"])  # JSON Schema's integers: 2.0 too
    if start > end or end > len(source):
        raise InvalidInput(
            f"the range {start}..{end} is not within the {len(source)} characters of the "
            "saved source (start ≤ end ≤ length): the file changed since you selected; "
            "reload it and select the text again",
            "invalid_anchor",
        )
    return start, end


def comment_model(
    record: CommentRecord,
    root: CommentRecord,
    path: str,
    mentions: Sequence[str],
    can: tuple[bool, bool, bool],
) -> dict[str, Any]:
    """A comment as the API answers it; a reply shows its thread's anchor and state."""
    anchored = root.anchor_start is not None
    return {
        "id": record.id,
        "thread_id": root.id,
        "parent_id": record.parent_id,
        "path": path,
        "cell_id": root.cell_id,
        "anchor": {"start": root.anchor_start, "end": root.anchor_end} if anchored else None,
        "quote": root.quote,
        "anchor_state": root.anchor_state,
        "author": record.author,
        "body": record.body,
        "created_at": record.created_at,
        "edited_at": record.edited_at,
        "resolved": root.resolved,
        "resolved_by": root.resolved_by or None,
        "resolved_at": root.resolved_at,
        "mentions": list(mentions),
        "can": {"edit": can[0], "resolve": can[1], "delete": can[2]},
    }


_F = FIELD
ID, PARENT, CELL, START, END = (
    _F["id"],
    _F["parent_id"],
    _F["cell_id"],
    _F["anchor_start"],
    _F["anchor_end"],
)
QUOTE, STATE, AUTHOR, BODY = _F["quote"], _F["anchor_state"], _F["author"], _F["body"]
CREATED, EDITED, RESOLVED = _F["created_at"], _F["edited_at"], _F["resolved"]
RESOLVED_BY, RESOLVED_AT = _F["resolved_by"], _F["resolved_at"]
# the eight possible ``can`` answers, shared by every comment that has them
_CANS = {
    (e, r, d): {"edit": e, "resolve": r, "delete": d}
    for e in (False, True)
    for r in (False, True)
    for d in (False, True)
}


def thread_list_model(
    path: str,
    rows: Sequence[Sequence[Any]],
    mentions: dict[int, list[str]],
    rights: CommentRights,
    state: str = "all",
) -> dict[str, Any]:
    """The threads of a file, oldest first, each with its replies, from the rows of
    :meth:`~...store.comments.Comments.of_file`: one pass, no query, the caller's rights
    decided once per author. The cycle collector is paused meanwhile: thousands of
    acyclic dicts would otherwise start full collections over the server's heap."""
    with collector_paused():
        return _thread_list(path, rows, mentions, rights, state)


def _thread_list(
    path: str,
    rows: Sequence[Sequence[Any]],
    mentions: dict[int, list[str]],
    rights: CommentRights,
    state: str,
) -> dict[str, Any]:
    threads: dict[int, dict[str, Any]] = {}
    roots: dict[int, Sequence[Any]] = {}
    by_author: dict[str, tuple[bool, bool, bool]] = {}
    none: list[str] = []
    for row in rows:
        author = row[AUTHOR]
        can = by_author.get(author)
        if can is None:
            can = by_author[author] = rights.can(author)
        parent = row[PARENT]
        if parent is None:
            if state != "all" and bool(row[RESOLVED]) != (state == "resolved"):
                continue
            roots[row[ID]] = row
            model = _listed(row, row, path, mentions.get(row[ID], none), _CANS[can])
            model["replies"] = []
            threads[row[ID]] = model
            continue
        root = roots.get(parent)
        if root is None:
            continue  # its thread was filtered out
        thread = threads[parent]
        can = (can[0], thread["can"]["resolve"], can[2])
        thread["replies"].append(_listed(row, root, path, mentions.get(row[ID], none), _CANS[can]))
    return {"path": path, "threads": list(threads.values()), "can_comment": rights.post().allowed}


def _listed(
    row: Sequence[Any], root: Sequence[Any], path: str, mentions: list[str], can: dict[str, bool]
) -> dict[str, Any]:
    """:func:`comment_model` for a raw row (see :func:`thread_list_model`)."""
    start = root[START]
    return {
        "id": row[ID],
        "thread_id": root[ID],
        "parent_id": row[PARENT],
        "path": path,
        "cell_id": root[CELL],
        "anchor": None if start is None else {"start": start, "end": root[END]},
        "quote": root[QUOTE],
        "anchor_state": root[STATE],
        "author": row[AUTHOR],
        "body": row[BODY],
        "created_at": iso(row[CREATED]),
        "edited_at": iso(row[EDITED]),
        "resolved": bool(root[RESOLVED]),
        "resolved_by": root[RESOLVED_BY] or None,
        "resolved_at": iso(root[RESOLVED_AT]),
        "mentions": mentions,
        "can": can,
    }


class CommentsBase(WorkspacePermsHandler):
    """What the comment routes share: the store of comments, places, rights."""

    @property
    def comments(self) -> Comments:
        found = self.settings["workspace_perms_comments"]
        assert isinstance(found, Comments)
        return found

    def place_of(self, call: Call, raw: str) -> Place:
        """The file ``raw`` names inside a project, or the error to answer."""
        snap = call.snap
        try:
            loc = locate_in(snap, self.root_dir, raw)
        except PathRefused:
            raise hidden() from None
        manager = self.settings.get("contents_manager")
        if not getattr(manager, "allow_hidden", False) and any(
            part.startswith(".") for part in loc.path.split("/")
        ):
            raise hidden()  # as the contents routes answer for hidden files
        if loc.level is not Level.project_file:
            self._not_a_project_file(call, loc)
        assert loc.workspace is not None and loc.project is not None
        ws_id = snap.workspaces_by_slug[loc.workspace]
        project = snap.projects[snap.projects_by_name[(ws_id, loc.project)]]
        inner = loc.path.split("/", 2)[2]
        return Place(loc.path, inner, snap.workspaces[ws_id], project)

    def _not_a_project_file(self, call: Call, loc: Location) -> None:
        """400 where the caller may read the place (a folder, a workspace file), else 404
        like the file routes, so the answer tells nothing about what they may not see.

        A workspace file that does not exist is 404 too: ``acme/secret`` names a private
        project's folder (404, not readable) or nothing (readable as a workspace file):
        answering 400 for the latter would tell which private project names exist."""
        readable = loc.level in (Level.root, Level.workspace, Level.workspace_file, Level.project)
        if loc.level is Level.workspace_file and not os.path.lexists(
            os.path.join(self.root_dir, *loc.path.split("/"))
        ):
            readable = False
        if readable and decide_location(call.snap, call.user.subject, loc, "read", call.now):
            raise InvalidInput(
                "comments are on files inside a project: WORKSPACE/PROJECT/FILE",
                "not_a_project_file",
            )
        raise hidden()

    def rights(self, call: Call, project_id: int) -> CommentRights:
        """The caller's rights on the project's comments, now."""
        return comment_rights(call.snap, call.user.subject, project_id, call.now)

    async def comment(self, call: Call) -> tuple[CommentRecord, Place, CommentRights]:
        """The comment of ``{comment_id}``: 404 unless it exists in a project the caller
        may read (ids that are not numbers included)."""
        raw = call.args["comment_id"]
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
            raise hidden()
        record = await self.off_loop(lambda: self.comments.get(int(raw)))
        project = None if record is None else call.snap.projects.get(record.project_id)
        if record is None or project is None:
            raise hidden()
        rights = self.rights(call, project.id)
        if not rights.read.allowed:
            raise hidden()
        workspace = call.snap.workspaces[project.workspace_id]
        path = f"{workspace.slug}/{project.name}/{record.path}"
        return record, Place(path, record.path, workspace, project), rights

    async def root_of(self, record: CommentRecord) -> CommentRecord:
        """The first comment of the thread of ``record``."""
        if record.parent_id is None:
            return record
        root = await self.off_loop(lambda: self.comments.get(record.thread_id))
        if root is None:
            raise hidden()
        return root

    async def answer(
        self, record: CommentRecord, place: Place, rights: CommentRights, status: int = 200
    ) -> None:
        """Answer with one comment as the caller sees it now."""
        root = await self.root_of(record)
        mentions = await self.off_loop(lambda: self.comments.mentions_of(record.id))
        edit, _, delete = rights.can(record.author)
        can = (edit, rights.can(root.author)[1], delete)
        self.write_json(comment_model(record, root, place.path, mentions, can), status)

    def emit(self, call: Call, action: str, place: Place, record: CommentRecord) -> None:
        self.comments.emit(
            action,
            call.user.username,
            place.workspace.id,
            place.project.id,
            place.path,
            record,
        )


def _body(text: str) -> str:
    if not text.strip():
        raise InvalidInput("a comment needs some text", "empty_body")
    return text


class CommentsHandler(CommentsBase):
    """``/comments``."""

    @api("comments.list")
    async def get(self, call: Call) -> None:
        """The threads of a file, each with its replies."""
        raw = self.get_query_argument("path", "")
        state = self.get_query_argument("state", "all")
        cell_id = self.get_query_argument("cell_id", None)
        if not raw:
            raise InvalidInput("name a file: ?path=WORKSPACE/PROJECT/FILE", "invalid_query")
        if state not in STATES:
            raise InvalidInput(f"state is one of {', '.join(STATES)}", "invalid_query")
        place = self.place_of(call, raw)
        rights = self.rights(call, place.project.id)
        if not rights.read.allowed:
            raise hidden_refusal(rights.read)
        project_id, inner = place.project.id, place.inner
        records, mentions = await self.off_loop(
            lambda: self.comments.of_file(project_id, inner, cell_id or None)
        )
        self.write_json(thread_list_model(place.path, records, mentions, rights, state))

    @api("comments.create")
    async def post(self, call: Call) -> None:
        """Start a thread or reply to one."""
        body = call.body
        text = _body(body["body"])
        place = self.place_of(call, body["path"])
        rights = self.rights(call, place.project.id)
        decision = rights.post()
        if not decision.allowed:
            raise hidden_refusal(decision)
        if "parent_id" in body:
            new = await self._reply(call, place, body, text)
        else:
            new = await self._thread(call, place, body, text)
        record = await self.off_loop(lambda: self.comments.post(new))
        self.emit(call, "posted", place, record)
        await self.answer(record, place, rights, 201)

    async def _thread(
        self, call: Call, place: Place, body: dict[str, Any], text: str
    ) -> NewComment:
        cell_id = body.get("cell_id")
        os_path = os.path.join(self.root_dir, *place.path.split("/"))
        source, _ = await self.off_loop(lambda: read_source(os_path, cell_id))
        anchor = check_anchor(body.get("anchor"), source)
        return _new_comment(
            call,
            place,
            text,
            cell_id=cell_id,
            anchor=anchor,
            quote="" if source is None else storable(quote_of(source, anchor)),
            source_hash="" if source is None else source_hash(source),
        )

    async def _reply(self, call: Call, place: Place, body: dict[str, Any], text: str) -> NewComment:
        parent_id = int(body["parent_id"])  # JSON Schema's integers: 2.0 too
        parent = None
        if 0 < parent_id < 2**63:  # beyond 64 bits no database holds it (nor takes it)
            parent = await self.off_loop(lambda: self.comments.get(parent_id))
        if parent is None or (parent.project_id, parent.path) != (place.project.id, place.inner):
            raise InvalidInput("parent_id is not a thread of this file", "invalid_parent")
        root = await self.root_of(parent)  # a reply to a reply joins the thread
        if body.get("cell_id") not in (None, root.cell_id):
            raise InvalidInput("parent_id is a thread of another cell", "invalid_parent")
        if body.get("anchor") is not None:
            raise InvalidInput("a reply is anchored by its thread", "invalid_anchor")
        return _new_comment(
            call,
            place,
            text,
            parent_id=root.id,
            cell_id=root.cell_id,
        )


class CommentHandler(CommentsBase):
    """``/comments/{comment_id}``."""

    @api("comment.patch")
    async def patch(self, call: Call) -> None:
        """Edit the body (its author) or resolve and reopen the thread."""
        record, place, rights = await self.comment(call)
        ws, target, actor = place.workspace.id, place.path, call.user.username
        if "body" in call.body:
            decision = rights.edit(record.author)
            if not decision.allowed:
                raise hidden_refusal(decision)
            text = _body(call.body["body"])
            mentions = mentioned(call.snap, text, place.project.id, call.now, call.user.subject)
            changed = await self.off_loop(
                lambda: self.comments.edit(record, text, mentions, actor, ws, target)
            )
            action = "edited"
        else:
            record = await self.root_of(record)
            decision = rights.resolve(record.author)
            if not decision.allowed:
                raise hidden_refusal(decision)
            resolved = bool(call.body["resolved"])
            root = record
            changed = await self.off_loop(
                lambda: self.comments.resolve(root, resolved, actor, ws, target)
            )
            action = "resolved" if resolved else "reopened"
        if changed is None:
            raise hidden()  # deleted meanwhile
        self.emit(call, action, place, changed)
        await self.answer(changed, place, rights)

    @api("comment.delete")
    async def delete(self, call: Call) -> None:
        """Delete a comment; a thread's first comment takes its replies along."""
        record, place, rights = await self.comment(call)
        decision = rights.delete(record.author)
        if not decision.allowed:
            raise hidden_refusal(decision)
        ws, target, actor = place.workspace.id, place.path, call.user.username
        gone = await self.off_loop(lambda: self.comments.delete(record, actor, ws, target))
        if not gone:
            raise hidden()
        self.emit(call, "deleted", place, record)
        self.set_status(204)
        self.finish()


class MentionsHandler(CommentsBase):
    """``/workspaces/{ws}/comments?mentions=me``."""

    @api("mentions.list")
    async def get(self, call: Call) -> None:
        """Comments mentioning the caller, in the workspace's projects they may read now."""
        if self.get_query_argument("mentions", "") != "me":
            raise InvalidInput("only ?mentions=me is supported", "invalid_query")
        ws = call.workspace
        assert ws is not None
        snap, subject, now = call.snap, call.user.subject, call.now
        rights = {
            project_id: self.rights(call, project_id)
            for project_id in snap.projects_of.get(ws.id, ())
        }
        readable = [pid for pid, r in rights.items() if r.read.allowed]
        if not readable:
            member = check_workspace(snap, subject, ws.id, "workspace:read", now)
            if not member.visible:
                raise hidden()
        username = call.user.username
        records, mentions = await self.off_loop(
            lambda: self.comments.mentioning(username, readable)
        )
        wanted = {r.parent_id for r in records if r.parent_id is not None}
        roots = await self.off_loop(lambda: self.comments.roots(wanted)) if wanted else {}
        models = []
        for record in records:
            root = record if record.parent_id is None else roots.get(record.parent_id)
            if root is None:
                continue
            project = snap.projects[record.project_id]
            path = f"{ws.slug}/{project.name}/{record.path}"
            r = rights[record.project_id]
            edit, _, delete = r.can(record.author)
            can = (edit, r.can(root.author)[1], delete)
            models.append(comment_model(record, root, path, mentions.get(record.id, []), can))
        self.write_json({"comments": models})


default_handlers = [
    (route("/comments"), CommentsHandler),
    (route("/comments/{comment_id}"), CommentHandler),
    (route("/workspaces/{ws}/comments"), MentionsHandler),
]


def _new_comment(call: Call, place: Place, text: str, **anchor: Any) -> NewComment:
    """A comment by the caller on ``place``: a thread's anchor or a reply's parent in
    ``anchor``."""
    mentions = mentioned(call.snap, text, place.project.id, call.now, call.user.subject)
    return NewComment(
        project_id=place.project.id,
        workspace_id=place.workspace.id,
        path=place.inner,
        target=place.path,
        author=call.user.username,
        body=text,
        mentions=mentions,
        **anchor,
    )
