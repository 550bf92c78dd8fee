"""Who may do what with a comment: pure, like :mod:`.decisions`.

Reading comments is reading the project (``project:read``); posting and replying is
``project:comment``, which every role holds, guests with a grant included. What one
person may do with one comment depends on whether they wrote it:

- **edit** the body: its author only, still holding ``project:comment`` (a moderator
  who rewrote someone's words would put them in that person's mouth);
- **resolve or reopen** a thread: its author, or anyone with ``project:write`` (the
  people who change the file are the ones who settle what a thread asked for);
- **delete**: its author, or anyone with ``project:share`` (project admins, and
  workspace Admins where they hold admin on the project).

Someone who may not read the project gets the read decision back (``visible`` says
whether they may know the project exists), so callers answer 404 without a hint.
A page listing thousands of comments asks :func:`comment_rights` once and then
:meth:`CommentRights.can` per comment: a few dictionary lookups, no decision objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from .decisions import Decision, check_project
from .facts import PolicySnapshot, Subject

READ = "project:read"
COMMENT = "project:comment"
WRITE = "project:write"
SHARE = "project:share"

# Codes these rules refuse with (besides the decision codes of :mod:`.decisions`).
COMMENT_CODES: dict[str, str] = {
    "not_comment_author": "only the author of a comment may edit it",
    "resolve_needs_write": "resolving someone else's thread needs write access to the project",
    "delete_needs_share": "deleting someone else's comment needs the project admin role",
}


@dataclass(frozen=True, slots=True)
class CommentRights:
    """One person's standing on the comments of one project, decided once."""

    username: str | None
    read: Decision
    comment: Decision
    write: Decision
    share: Decision

    def post(self) -> Decision:
        """Start a thread or reply."""
        return self.comment if self.read.allowed else self.read

    def edit(self, author: str) -> Decision:
        """Change the body of a comment written by ``author``."""
        if not self.read.allowed or not self.comment.allowed:
            return self.post()
        if author == self.username:
            return self.comment
        return self._refuse(
            self.comment,
            "not_comment_author",
            f"only {author} may edit this comment; reply instead",
        )

    def resolve(self, author: str) -> Decision:
        """Resolve or reopen a thread started by ``author``."""
        if not self.read.allowed:
            return self.read
        if author == self.username and self.comment.allowed:
            return self.comment
        if self.write.allowed:
            return self.write
        return self._refuse(
            self.write,
            "resolve_needs_write",
            f"resolving a thread {author} started needs {WRITE} on {self.write.target}; "
            "reply to ask them or an editor to resolve it",
        )

    def delete(self, author: str) -> Decision:
        """Delete a comment written by ``author`` (a thread's first comment: the thread)."""
        if not self.read.allowed:
            return self.read
        if author == self.username and self.comment.allowed:
            return self.comment
        if self.share.allowed:
            return self.share
        return self._refuse(
            self.share,
            "delete_needs_share",
            f"deleting a comment by {author} needs {SHARE} on {self.share.target} "
            "(a project admin)",
        )

    def can(self, author: str) -> tuple[bool, bool, bool]:
        """``(edit, resolve, delete)`` for a comment by ``author``; the same answers as
        the methods above, without building decisions (listings call it per comment)."""
        if not self.read.allowed:
            return False, False, False
        own = author == self.username and self.comment.allowed
        return own, own or self.write.allowed, own or self.share.allowed

    @staticmethod
    def _refuse(base: Decision, code: str, note: str) -> Decision:
        if code not in COMMENT_CODES:  # every refusal code is listed, so the UI knows it
            raise KeyError(f"comment code {code!r} is missing from COMMENT_CODES")
        return Decision(
            False,
            base.permission,
            code,
            base.role,
            True,
            base.source,
            base.workspace,
            base.project,
            note=note,
        )


def comment_rights(
    snap: PolicySnapshot, subject: Subject, project_id: int, now: float
) -> CommentRights:
    """What ``subject`` may do with the comments of a project at time ``now``."""
    user = snap.users.get(subject.user_id)
    return CommentRights(
        None if user is None else user.username,
        check_project(snap, subject, project_id, READ, now),
        check_project(snap, subject, project_id, COMMENT, now),
        check_project(snap, subject, project_id, WRITE, now),
        check_project(snap, subject, project_id, SHARE, now),
    )


def can_edit_comment(
    snap: PolicySnapshot, subject: Subject, project_id: int, author: str, now: float
) -> Decision:
    """May ``subject`` edit a comment by ``author`` in a project?"""
    return comment_rights(snap, subject, project_id, now).edit(author)


def can_resolve_comment(
    snap: PolicySnapshot, subject: Subject, project_id: int, author: str, now: float
) -> Decision:
    """May ``subject`` resolve or reopen a thread started by ``author``?"""
    return comment_rights(snap, subject, project_id, now).resolve(author)


def can_delete_comment(
    snap: PolicySnapshot, subject: Subject, project_id: int, author: str, now: float
) -> Decision:
    """May ``subject`` delete a comment by ``author``?"""
    return comment_rights(snap, subject, project_id, now).delete(author)
