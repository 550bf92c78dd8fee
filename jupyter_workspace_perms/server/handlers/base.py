"""What every REST handler of the extension shares: identity, labels, JSON errors.

Each handler method declares the (action, resource) it needs with
:func:`requires`; the label is recorded on the method so a test can walk every
route and prove it, and the check goes through the server's Authorizer like
any Jupyter route.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import ensure_async
from tornado import web

from ...errors import WorkspacePermsError
from ...identity.provider import WorkspaceUser
from ...policy import PolicySnapshot
from ...store import PolicyStore

RESOURCE_PREFIX = "jupyter_workspace_perms:"
NO_IDENTITY = (
    "no identity: send a personal access token as 'Authorization: token …' "
    "(create one with `jupyter workspace-perms token create EMAIL`); "
    "the server's own token is not accepted"
)

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def requires(action: str, resource: str) -> Callable[[F], F]:
    """Label a handler method with its (action, resource) and enforce it.

    No identity answers 401; a refusal by the Authorizer answers 403.
    """
    if not resource.startswith(RESOURCE_PREFIX):
        raise ValueError(f"extension resources start with {RESOURCE_PREFIX!r}")

    def decorate(method: F) -> F:
        @functools.wraps(method)
        async def wrapper(self: WorkspacePermsHandler, *args: Any, **kwargs: Any) -> Any:
            user = self.current_user
            if not isinstance(user, WorkspaceUser):
                raise web.HTTPError(401, NO_IDENTITY, reason="no_identity")
            allowed = await ensure_async(
                self.authorizer.is_authorized(self, user, action, resource)
            )
            if not allowed:
                raise web.HTTPError(
                    403, f"{action} on {resource} is not allowed", reason="forbidden"
                )
            return await method(self, *args, **kwargs)

        wrapper.__workspace_perms_auth__ = (action, resource)  # type: ignore[attr-defined]
        # Jupyter Server would answer a missing identity with a bare 403 before we run;
        # this wrapper answers it itself, with a 401 that says what to do.
        setattr(wrapper, "__allow_unauthenticated", True)
        return cast(F, wrapper)

    return decorate


class WorkspacePermsHandler(APIHandler):
    """Base of the extension's JSON API handlers."""

    @property
    def store(self) -> PolicyStore:
        """The policy store the extension opened."""
        return cast(PolicyStore, self.settings["workspace_perms_store"])

    @property
    def snapshot(self) -> PolicySnapshot:
        """The policy this request decides from (one snapshot for the whole request)."""
        cached = getattr(self, "_wsp_snapshot", None)
        if cached is None:
            cached = self._wsp_snapshot = self.store.snapshot
        return cast(PolicySnapshot, cached)

    @property
    def workspace_user(self) -> WorkspaceUser:
        """The signed-in user (handlers run only after :func:`requires` checked it)."""
        return cast(WorkspaceUser, self.current_user)

    def write_json(self, model: Any, status: int = 200) -> None:
        """Answer with a JSON body."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(model))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Our own errors become ``{"message", "reason"}`` with their status code."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, WorkspacePermsError):
            self.set_status(exc.status)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": exc.message, "reason": exc.reason}))
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Refusals are expected: log them briefly, not as crashes."""
        if isinstance(value, WorkspacePermsError):
            self.log.info("refused %s %s: %s", self.request.method, self.request.path, value)
            return
        super().log_exception(typ, value, tb)
