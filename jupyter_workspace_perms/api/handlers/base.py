"""What every REST handler of the extension shares: identity, labels, checks, JSON errors.

A handler method is bound to one row of the operation table with :func:`api`.
Before the method runs, the decorator

1. answers 401 without an identity (saying how to get one);
2. asks the server's Authorizer for the row's (action, resource) label, like any
   Jupyter route;
3. resolves ``{ws}`` and ``{project}`` and checks the row's permission on them
   with the policy core: 404 when the caller may not know the object exists,
   403 with the reason otherwise;
4. parses the JSON body and validates it against the row's schema (400).

Handlers then only do their work. The label is recorded on the method so a
test can walk every route and prove it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from jsonschema import Draft202012Validator, FormatChecker
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import ensure_async
from tornado import web

from ...errors import Conflict, Forbidden, InvalidInput, NotFound, WorkspacePermsError
from ...identity.provider import WorkspaceUser
from ...paths import served_root
from ...policy import (
    Decision,
    PolicySnapshot,
    ProjectFacts,
    WorkspaceFacts,
    check_project,
    check_workspace,
)
from ...server.authz.authorizer import RESOURCE_PREFIX
from ...store import PolicyStore, PolicyWriter
from ..operations import BY_ID, Operation
from ..schemas import SCHEMAS

NO_IDENTITY = (
    "no identity: send a personal access token as 'Authorization: token …' "
    "(create one with `jupyter workspace-perms token create EMAIL`); "
    "the server's own token is not accepted"
)
# Decision codes that mean "against the rules" (409) rather than "not yours to do" (403).
CONFLICT_CODES = frozenset(
    {
        "owner_protected",
        "already_member",
        "sso_provider_mismatch",
        "would_block_owner",
        "domain_invites_unavailable",
    }
)

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
T = TypeVar("T")


@dataclass
class Call:
    """What the decorator resolved for one request."""

    user: WorkspaceUser
    snap: PolicySnapshot
    now: float
    args: dict[str, str]
    workspace: WorkspaceFacts | None = None
    project: ProjectFacts | None = None
    decision: Decision | None = None
    body: dict[str, Any] = field(default_factory=dict)


def refusal(decision: Decision) -> WorkspacePermsError:
    """The error for a denied decision: 404 if invisible, 409 for rule conflicts, else 403."""
    if not decision.visible:
        return NotFound("not found (or not visible to you)", "not_found")
    if decision.code in CONFLICT_CODES:
        return Conflict(decision.reason, decision.code)
    return Forbidden(decision.reason, decision.code)


def api(operation_id: str) -> Callable[[F], F]:
    """Bind a handler method to a row of the operation table (see the module docstring)."""
    op = BY_ID[operation_id]
    if not op.resource.startswith(RESOURCE_PREFIX):
        raise ValueError(f"extension resources start with {RESOURCE_PREFIX!r}")

    def decorate(method: F) -> F:
        @functools.wraps(method)
        async def wrapper(self: WorkspacePermsHandler, **path_args: str) -> Any:
            user = self.current_user
            if not isinstance(user, WorkspaceUser):
                raise web.HTTPError(401, NO_IDENTITY, reason="no_identity")
            allowed = await ensure_async(
                self.authorizer.is_authorized(self, user, op.action, op.resource)
            )
            if not allowed:
                raise Forbidden(f"{op.action} on {op.resource} is not allowed")
            call = self.resolve(op, user, path_args)
            return await method(self, call)

        wrapper.__workspace_perms_operation__ = op  # type: ignore[attr-defined]
        # Jupyter Server would answer a missing identity with a bare 403 before we run;
        # this wrapper answers it itself, with a 401 that says what to do.
        setattr(wrapper, "__allow_unauthenticated", True)
        return cast(F, wrapper)

    return decorate


def _unencodable(body: Any) -> str | None:
    """Where ``body`` holds a string that no database stores, or None: one UTF-8 cannot
    encode (JSON allows lone surrogates) or with a NUL character (PostgreSQL refuses
    it in text). A loop, not recursion: the body may be nested as deep as the parser
    allowed. Never names the value (it may be a secret)."""
    stack: list[tuple[str, Any]] = [("", body)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str) and not _encodes(value):
            return where or "body"
        if isinstance(value, dict):
            for key, item in value.items():
                if not _encodes(key):
                    return where or "body"
                stack.append((f"{where}/{key}".lstrip("/"), item))
        elif isinstance(value, list):
            stack.extend((f"{where}/{n}".lstrip("/"), item) for n, item in enumerate(value))
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\0" not in text


def _expected(error: Any) -> str:
    """What the schema wanted, never the value sent: bodies carry secrets (integration
    values), and this message reaches the answer and the log."""
    rule, wanted = error.validator, error.validator_value
    if rule == "additionalProperties" and wanted is False:
        return "unknown field (" + str(error.message).partition("(")[2].rstrip(")") + ")"
    if rule == "required":
        return str(error.message)  # names the missing field, holds no value
    if rule in ("type", "enum", "const", "format", "pattern", "minLength", "maxLength"):
        return f"must match {rule} {wanted!r}"
    return f"does not match the schema ({rule})"


class WorkspacePermsHandler(APIHandler):
    """Base of the extension's JSON API handlers."""

    @property
    def store(self) -> PolicyStore:
        """The policy store the extension opened."""
        return cast(PolicyStore, self.settings["workspace_perms_store"])

    @property
    def root_dir(self) -> str:
        """The folder the server serves (workspaces are folders directly in it)."""
        return served_root(self.settings)

    def check_xsrf_cookie(self) -> None:
        """Skip the XSRF check for requests without identity: @api refuses them with 401.

        XSRF protects cookie-authenticated users; a request that carries no
        identity can change nothing, and deserves the 401 that says what to do.
        """
        if hasattr(self, "_jupyter_current_user") and self._jupyter_current_user is None:
            return
        super().check_xsrf_cookie()

    # -- resolution and checks ---------------------------------------------------------

    def resolve(self, op: Operation, user: WorkspaceUser, args: dict[str, str]) -> Call:
        """Targets, the permission check and the body of one request."""
        call = Call(user, self.store.snapshot, time.time(), args)
        if op.target is not None:
            self._resolve_target(op, call)
        if op.request is not None:
            call.body = self.json_body(op.request)
        return call

    def _resolve_target(self, op: Operation, call: Call) -> None:
        snap = call.snap
        ws_id = snap.workspaces_by_slug.get(call.args["ws"])
        if ws_id is None:
            raise NotFound("not found (or not visible to you)", "not_found")
        call.workspace = snap.workspaces[ws_id]
        if op.target == "project":
            project_id = snap.projects_by_name.get((ws_id, call.args["project"]))
            if project_id is None:
                raise NotFound("not found (or not visible to you)", "not_found")
            call.project = snap.projects[project_id]
        if op.permission is None:
            return
        if call.project is not None:
            decision = check_project(
                snap, call.user.subject, call.project.id, op.permission, call.now
            )
        else:
            decision = check_workspace(snap, call.user.subject, ws_id, op.permission, call.now)
        if not decision.allowed:
            raise refusal(decision)
        call.decision = decision

    def json_body(self, schema_name: str) -> dict[str, Any]:
        """The request body, parsed and validated; 400 saying what is wrong."""
        try:
            body = json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):  # nested deeper than Python
            raise InvalidInput("the body is not valid JSON", "invalid_json") from None
        validator = Draft202012Validator(SCHEMAS[schema_name], format_checker=FormatChecker())
        error = next(iter(validator.iter_errors(body)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "body"
            raise InvalidInput(f"{where}: {_expected(error)}", "invalid_body")
        bad = _unencodable(body)
        if bad is not None:
            raise InvalidInput(
                f"{bad}: text with a NUL character or a lone surrogate, which cannot be stored",
                "invalid_body",
            )
        return cast(dict[str, Any], body)

    # -- writing -----------------------------------------------------------------------

    async def off_loop(self, work: Callable[[], T]) -> T:
        """``work`` (database, file or decryption work) in a worker thread, so the server
        keeps answering meanwhile."""
        return await asyncio.get_running_loop().run_in_executor(None, work)

    async def change(self, work: Callable[[PolicyWriter], Any], user: WorkspaceUser) -> Any:
        """Run ``work`` in one policy transaction, off the event loop; returns its result.

        Reloading a large policy after the commit takes a while: a worker
        thread keeps the server answering meanwhile.
        """

        def run() -> Any:
            with self.store.write(user.username) as writer:
                return work(writer)

        return await asyncio.get_running_loop().run_in_executor(None, run)

    # -- output ------------------------------------------------------------------------

    def write_json(self, model: Any, status: int = 200) -> None:
        """Answer with a JSON body."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(model))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Our own errors become ``{"message", "reason"}`` with their status code."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, WorkspacePermsError):
            self._record_denial(exc)
            self.set_status(exc.status)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": exc.message, "reason": exc.reason}))
            return
        super().write_error(status_code, **kwargs)

    def _record_denial(self, exc: WorkspacePermsError) -> None:
        """A refusal (403, 404) of a signed-in caller goes to the denial recorder, with
        the workspace of the route when it names a known one."""
        recorder = self.settings.get("workspace_perms_denials")
        user = getattr(self, "_jupyter_current_user", None)
        if recorder is None or exc.status not in (403, 404) or not isinstance(user, WorkspaceUser):
            return
        slug = (self.path_kwargs or {}).get("ws")
        ws_id = None if slug is None else self.store.snapshot.workspaces_by_slug.get(slug)
        recorder.record(
            user.username,
            exc.reason,
            ws_id,
            self.request.path,
            self.request.method or "",
            exc.status,
        )

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Refusals are expected: log them briefly, not as crashes."""
        if isinstance(value, WorkspacePermsError):
            self.log.info("refused %s %s: %s", self.request.method, self.request.path, value)
            return
        super().log_exception(typ, value, tb)


def route(path: str) -> str:
    """The tornado pattern for an operation path: ``{name}`` becomes a named group."""
    from ..operations import BASE_PATH

    pattern = BASE_PATH + path.replace(".", r"\.")
    for name in ("ws", "project", "user", "token_id", "integration", "comment_id", "request_id"):
        pattern = pattern.replace("{" + name + "}", f"(?P<{name}>[^/]+)")
    return pattern
