"""Shared by the REST API rule tests (``tests/test_api_*.py``).

- :class:`Api`: one request as one person against the real server, answering
  ``(code, JSON body)``; plus the server's own :class:`PolicyStore` to read the
  policy version, make extra people and read the audit log;
- :class:`RouteCase` / :func:`check_refusals`: a route's refusals, each with its
  status and ``reason``, proving that nothing changed;
- :class:`BodyCase` / :func:`check_bad_bodies`: a route's 400s for bodies that are
  not JSON, not an object, carry unknown fields or wrong enum values.

Assertions here are not rewritten by pytest, so each carries its own message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from jupyter_workspace_perms.store import PolicyStore, orm
from tests.helpers.world import World

NO_BODY = object()


@dataclass
class Reply:
    """An answer: status code and parsed JSON body (None when empty)."""

    code: int
    body: Any

    @property
    def reason(self) -> Any:
        """The error body's machine-readable reason."""
        return self.body.get("reason") if isinstance(self.body, dict) else None

    def __repr__(self) -> str:
        return f"Reply({self.code}, {self.body!r})"


@dataclass
class Api:
    """Requests to ``/api/workspace-perms/…`` as the world's people, and the server's store."""

    fetch: Callable[..., Any]
    world: World
    store: PolicyStore

    async def __call__(
        self,
        who: str | None,
        method: str,
        path: str,
        body: Any = NO_BODY,
        params: dict[str, str] | None = None,
    ) -> Reply:
        """``await api("admin", "GET", "workspaces/acme")``; ``body`` is JSON-encoded unless str;
        ``params`` make the query string."""
        kwargs: dict[str, Any] = {"method": method}
        if params:
            kwargs["params"] = params
        if body is not NO_BODY:
            kwargs["body"] = body if isinstance(body, str) else json.dumps(body)
        elif method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = ""
        parts = ["api", "workspace-perms", *path.strip("/").split("/")]
        r = await self.fetch(who, *parts, **kwargs)
        return Reply(r.code, json.loads(r.body) if r.body else None)

    async def ok(self, who: str | None, method: str, path: str, body: Any = NO_BODY) -> Any:
        """The JSON body of a request that must succeed (2xx)."""
        reply = await self(who, method, path, body)
        assert 200 <= reply.code < 300, f"{who} {method} {path}: {reply!r}"
        return reply.body

    def version(self) -> int:
        """The policy version stored in the database."""
        return int(self.store.status()["policy_version"])

    def person(self, email: str, provider: str = "google", *, verified: bool = True) -> str:
        """A new user with a token signed in with ``provider``; returns who to fetch as."""
        with self.store.write("test") as w:
            w.ensure_user(email, provider, email_verified=verified)
        return self.token(email, provider, email)

    def token(self, email: str, provider: str, as_: str) -> str:
        """Another token for an existing user, signed in with ``provider``; fetch as ``as_``."""
        with self.store.write("test") as w:
            self.world.tokens[as_] = w.create_token(email, provider)[1]
        return as_

    def workspace(self, slug: str, owner: str, provider: str = "google") -> str:
        """A workspace owned by ``owner`` (with a token); returns who to fetch as."""
        with self.store.write("test") as w:
            w.create_workspace(slug, owner, provider)
        return self.person(owner, provider)

    def audit(self, action: str) -> list[tuple[str, str, dict[str, Any]]]:
        """``(actor, target, details)`` of each audit event with ``action``, oldest first."""
        event = orm.AuditEvent
        query = (
            select(event.actor, event.target, event.details)
            .where(event.action == action)
            .order_by(event.id)
        )
        with self.store.engine.connect() as connection:
            return [(a, t, d) for a, t, d in connection.execute(query)]


def in_seconds(seconds: float) -> str:
    """An ISO 8601 UTC timestamp ``seconds`` from now."""
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


# -- refusal tables -------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteCase:
    """One route and who it refuses: ``(who, status, reason)``; no-identity is always 401."""

    op: str
    method: str
    path: str
    refusals: tuple[tuple[str, int, str], ...]
    body: Any = NO_BODY
    params: dict[str, str] | None = None  # the query string


async def check_refusals(api: Api, case: RouteCase) -> None:
    """Each refusal answers its status and reason, and the policy version does not move."""
    before = api.version()
    seen = [await api(None, case.method, case.path, case.body, case.params)]
    assert (seen[0].code, seen[0].reason) == (401, "no_identity"), f"no identity: {seen[0]!r}"
    for who, code, reason in case.refusals:
        reply = await api(who, case.method, case.path, case.body, case.params)
        assert (reply.code, reply.reason) == (code, reason), f"{who}: {reply!r}"
        assert reply.body["message"], f"{who}: refusal without a message"
    assert api.version() == before, f"a refused {case.method} {case.path} changed the policy"


@dataclass(frozen=True)
class BodyCase:
    """A route with a body, a caller allowed to use it, and bodies it must refuse with 400."""

    op: str
    method: str
    path: str
    who: str
    bad: tuple[Any, ...] = field(default_factory=tuple)  # dicts violating this route's schema


NOT_JSON = "{not json"


async def check_bad_bodies(api: Api, case: BodyCase) -> None:
    """Bodies that are not JSON, not an object, or break the schema: 400, and nothing changes."""
    before = api.version()
    expected = [(NOT_JSON, "invalid_json"), ("", "invalid_body"), ("[]", "invalid_body")]
    expected += [(bad, "invalid_body") for bad in case.bad]
    for body, reason in expected:
        reply = await api(case.who, case.method, case.path, body)
        assert (reply.code, reply.reason) == (400, reason), f"{body!r}: {reply!r}"
    assert api.version() == before, f"a refused {case.method} {case.path} changed the policy"
