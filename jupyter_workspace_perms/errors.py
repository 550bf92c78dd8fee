"""Errors that carry what went wrong for people and the HTTP status for handlers.

The CLI prints ``message`` on one line and exits non-zero; the REST API answers
``{"message": ..., "reason": ...}`` with ``status``. No error path grants access.
"""

from __future__ import annotations


class WorkspacePermsError(Exception):
    """Base class: a refused operation, with a status code and a short reason code."""

    status = 400
    reason = "invalid"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class InvalidInput(WorkspacePermsError):
    """The request itself is malformed: an unknown role, a bad slug, a bad date."""


class NotFound(WorkspacePermsError):
    """The named object does not exist (or must not be known to exist)."""

    status = 404
    reason = "not_found"


class Conflict(WorkspacePermsError):
    """The request is well formed but breaks a rule (e.g. demoting the owner)."""

    status = 409
    reason = "conflict"


class StoreUnavailable(WorkspacePermsError):
    """The policy store cannot be reached: changes are refused, the last snapshot still rules."""

    status = 503
    reason = "store_unavailable"


class SchemaOutdated(WorkspacePermsError):
    """The database schema is older (or newer) than this version of the package."""

    status = 500
    reason = "schema_outdated"


class Forbidden(WorkspacePermsError):
    """The caller may see the object but not do this (``reason`` says which rule)."""

    status = 403
    reason = "forbidden"
