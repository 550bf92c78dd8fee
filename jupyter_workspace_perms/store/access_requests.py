"""Access requests in the policy database: asking, merging, deciding.

A request is not policy: creating or merging one neither bumps the policy version nor
reloads the snapshot. Deciding one happens inside a policy transaction
(:meth:`~.store.PolicyStore.write`), so an approval's grant and the request's new
status are committed together or not at all. Every step is an audit row
(``access_request.created|merged|approved|denied``) naming the role and the project,
never the requester's message: those are their words, not a record of what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..errors import Conflict, NotFound, StoreUnavailable
from . import orm
from .orm import utcnow
from .store import PolicyStore
from .writer import PolicyWriter

ACCESS_REQUEST_SCHEMA_PATH = Path(__file__).parent / "events" / "access_request.yaml"
ACCESS_REQUEST_SCHEMA_ID = "https://events.jupyter.org/jupyter_workspace_perms/access_request/v1"
PENDING, APPROVED, DENIED = "pending", "approved", "denied"
STATUSES = (PENDING, APPROVED, DENIED)


@dataclass(frozen=True)
class RequestInfo:
    """One access request as stored."""

    id: int
    workspace_id: int
    project_id: int | None
    user_id: int
    role: str
    message: str
    status: str
    created_at: datetime
    updated_at: datetime
    decided_by: str | None
    decided_at: datetime | None

    def event(self, action: str, actor: str, requester: str) -> dict[str, Any]:
        """The ``jupyter_events`` payload (``events/access_request.yaml``); no message."""
        return {
            "action": action,
            "request_id": self.id,
            "workspace_id": self.workspace_id,
            "project_id": self.project_id,
            "username": requester,
            "role": self.role,
            "status": self.status,
            "actor": actor,
        }


def _info(row: orm.AccessRequest) -> RequestInfo:
    return RequestInfo(
        id=row.id,
        workspace_id=row.workspace_id,
        project_id=row.project_id,
        user_id=row.user_id,
        role=row.role,
        message=row.message,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        decided_by=row.decided_by or None,
        decided_at=row.decided_at,
    )


def _audit(
    session: Session, actor: str, action: str, row: orm.AccessRequest, target: str, **more: Any
) -> None:
    details = {"request_id": row.id, "role": row.role, "project_id": row.project_id, **more}
    session.add(
        orm.AuditEvent(
            actor=actor,
            action=f"access_request.{action}",
            workspace_id=row.workspace_id,
            target=target,
            details=details,
        )
    )


class AccessRequests:
    """Reads and writes access requests through the policy store's engine."""

    def __init__(self, store: PolicyStore) -> None:
        self.store = store

    def ask(
        self,
        workspace_id: int,
        project_id: int | None,
        user_id: int,
        role: str,
        message: str,
        actor: str,
        target: str,
    ) -> tuple[RequestInfo, bool]:
        """A new pending request, or the user's pending one for the same place with this
        role and message (merged: True). ``target`` names the place in the audit row.

        Two requests sent at once may both find nothing pending; the database keeps one
        pending request per person and place, so the second insert fails and is merged
        on the second try.
        """
        for attempt in range(2):
            try:
                return self._merge_or_add(
                    workspace_id, project_id, user_id, role, message, actor, target
                )
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _merge_or_add(self, *args: Any) -> tuple[RequestInfo, bool]:
        workspace_id, project_id, user_id, role, message, actor, target = args
        try:
            with Session(self.store.engine) as session, session.begin():
                query = select(orm.AccessRequest).where(
                    orm.AccessRequest.workspace_id == workspace_id,
                    orm.AccessRequest.user_id == user_id,
                    orm.AccessRequest.status == PENDING,
                    orm.AccessRequest.project_id.is_(None)
                    if project_id is None
                    else orm.AccessRequest.project_id == project_id,
                )
                row = session.scalars(query.with_for_update().limit(1)).first()
                merged, before = row is not None, None if row is None else row.role
                if row is None:
                    row = orm.AccessRequest(
                        workspace_id=workspace_id,
                        project_id=project_id,
                        user_id=user_id,
                        status=PENDING,
                        decided_by="",
                    )
                    session.add(row)
                row.role, row.message, row.updated_at = role, message, utcnow()
                session.flush()
                if merged:
                    _audit(session, actor, "merged", row, target, previous_role=before)
                else:
                    _audit(session, actor, "created", row, target)
                return _info(row), merged
        except OperationalError as e:
            raise StoreUnavailable(f"the policy database is unavailable: {e.orig}") from e

    def of_workspace(self, workspace_id: int, status: str | None = None) -> list[RequestInfo]:
        """The workspace's requests (of one status), oldest first."""
        query = select(orm.AccessRequest).where(orm.AccessRequest.workspace_id == workspace_id)
        if status is not None:
            query = query.where(orm.AccessRequest.status == status)
        try:
            with Session(self.store.engine) as session:
                return [_info(r) for r in session.scalars(query.order_by(orm.AccessRequest.id))]
        except OperationalError as e:
            raise StoreUnavailable(f"the policy database is unavailable: {e.orig}") from e

    def get(self, workspace_id: int, request_id: int) -> RequestInfo:
        """One request of the workspace, or :class:`NotFound`."""
        try:
            with Session(self.store.engine) as session:
                row = session.get(orm.AccessRequest, request_id) if 0 < request_id < 2**63 else None
        except OperationalError as e:
            raise StoreUnavailable(f"the policy database is unavailable: {e.orig}") from e
        if row is None or row.workspace_id != workspace_id:
            raise NotFound("not found (or not visible to you)", "not_found")
        return _info(row)


def decide(
    writer: PolicyWriter, request_id: int, status: str, target: str, role: str
) -> orm.AccessRequest:
    """Mark a pending request ``status`` inside ``writer``'s transaction (the caller then
    makes the grant there too); :class:`Conflict` when it is no longer pending, or no
    longer asks for ``role``, the role the decider was shown and the guards approved
    (the requester merged a new request in meanwhile)."""
    session = writer.session
    row = session.scalars(
        select(orm.AccessRequest).where(orm.AccessRequest.id == request_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("not found (or not visible to you)", "not_found")
    if row.status != PENDING:
        raise Conflict(
            f"this request was already {row.status} by {row.decided_by or 'someone'}",
            "request_not_pending",
        )
    if row.role != role:
        raise Conflict(
            f"the request changed while you decided: it now asks for {row.role}, not "
            f"{role}; look at it again",
            "request_changed",
        )
    row.status, row.decided_by, row.decided_at = status, writer.actor, utcnow()
    row.updated_at = row.decided_at
    session.flush()
    _audit(session, writer.actor, status, row, target)
    return row


def info_of(row: orm.AccessRequest) -> RequestInfo:
    """A stored row as :class:`RequestInfo`."""
    return _info(row)
