"""Property-based fuzzing of the whole REST API: no input makes the server answer 5xx.

A real server runs in a subprocess (hypothesis tests are synchronous, pytest-jupyter's
server lives in the test's event loop). For every operation of the table, hypothesis
draws a persona (or none), path parameters (existing names and hostile text) and a body
(schema-conforming, arbitrary JSON, or not JSON at all). Every answer must be below 500;
on the extension's own routes every 4xx must be ``{"message", "reason"}`` JSON, and
every answer must be documented for its operation in the OpenAPI document.

The run is derandomized (the same examples on every run) and bounded: ``MAX_EXAMPLES``
requests per operation, each with a timeout, on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from jupyter_workspace_perms.api.handlers.base import route
from jupyter_workspace_perms.api.operations import BASE_PATH, OPERATIONS, Operation
from jupyter_workspace_perms.api.schemas import ACCESS_NAMES, ROLE_NAMES, SCHEMAS
from jupyter_workspace_perms.errors import NotFound
from jupyter_workspace_perms.store import PolicyStore
from tests.helpers.servers import HOST, free_port, jupyter_env, server_args, started, tail

from .test_openapi import assert_matches_spec

MAX_EXAMPLES = 200  # per operation: ~3000 requests, ~40 s on 2 cores
REQUEST_TIMEOUT = 20.0
BUDGET = 240.0  # seconds for the whole fuzz: a slower machine fails clearly, never hangs

PEOPLE = {
    "admin": ("ada@acme.test", "google"),
    "editor": ("ed@acme.test", "google"),
    "viewer": ("vic@acme.test", "google"),
    "outsider": ("otto@else.test", "token"),
    "newcomer": ("new@acme.test", "google"),  # may join acme through its domain invite
}
PROJECTS = {"public": "full", "locked": "view", "private": "none"}


# -- the server -------------------------------------------------------------------------------


@dataclass
class Server:
    """A running server and what the fuzzer knows about its world."""

    base: str
    db_url: str
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)
    token_ids: set[int] = field(default_factory=set)  # the personas' own: never revoked
    spare_token_ids: list[int] = field(default_factory=list)
    deadline: float = 0.0
    sent: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log, lines)


def seed(store: PolicyStore, server: Server) -> None:
    """Workspace ``acme`` (admin, editor, viewer), an outsider, three projects, tokens."""
    with store.write("seed") as w:
        w.create_workspace("acme", *PEOPLE["admin"], name="Acme")
        for who in ("editor", "viewer", "outsider", "newcomer"):
            w.ensure_user(*PEOPLE[who])
        for who in ("editor", "viewer"):
            w.set_member("acme", PEOPLE[who][0], who)
        for name, access in PROJECTS.items():
            w.create_project("acme", name, access, creator=PEOPLE["editor"][0])
        w.set_collaborator("acme", "locked", PEOPLE["outsider"][0], "viewer")
    with store.write("seed") as w:
        for who, (email, _provider) in PEOPLE.items():
            token, secret = w.create_token(email, note="persona")
            server.tokens[who] = secret
            server.token_ids.add(token.id)
            spare, _ = w.create_token(email, note="spare")
            server.spare_token_ids.append(spare.id)


def restore(server: Server) -> None:
    """Put the seeded memberships, access levels and settings back (between operations).

    Written from this process, as the CLI would; the server notices within its refresh
    interval, so wait until it reports the new policy version.
    """
    store = PolicyStore(db_url=server.db_url).open()
    try:
        with store.write("fuzz-restore") as w:
            w.set_settings(
                "acme", domain_invites=True, enforced_sso_provider=None, viewers_can_execute=False
            )
            for who in ("editor", "viewer"):
                w.set_member("acme", PEOPLE[who][0], who)
            for who in ("outsider", "newcomer"):
                with contextlib.suppress(NotFound):
                    w.remove_member("acme", PEOPLE[who][0])
            for name, access in PROJECTS.items():
                w.set_project_access("acme", name, access)
        version = store.snapshot.version
    finally:
        store.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = send(server, "GET", BASE_PATH + "/me", "admin", None, None)
        if answer.code == 200 and json.loads(answer.body)["policy_version"] >= version:
            return
        time.sleep(0.05)
    pytest.fail(f"the server did not load policy version {version}\n{server.log_tail()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``python -m jupyter_server`` with the extension, on a seeded SQLite policy."""
    port = free_port()
    root = tmp_path_factory.mktemp("fuzz-root")
    home = tmp_path_factory.mktemp("fuzz-home")
    db_url = f"sqlite:///{home / 'policy.sqlite'}"
    for project in PROJECTS:
        (root / "acme" / project).mkdir(parents=True)
    found = Server(f"http://{HOST}:{port}", db_url, home / "server.log")
    store = PolicyStore(db_url=db_url).open()
    try:
        seed(store, found)
    finally:
        store.close()
    env = jupyter_env(home, {"WORKSPACE_PERMS_DB_URL": db_url})
    args = server_args(
        root,
        port,
        extra=[
            "--WorkspacePermsExtension.allow_workspace_creation=True",
            "--PolicyStore.refresh_interval=0.1",
        ],
    )
    with started(args, env, log=found.log) as running:
        running.wait_until(
            lambda: send(found, "GET", BASE_PATH + "/status", "admin", None, None).code == 200
        )
        found.sent.clear()
        found.deadline = time.monotonic() + BUDGET
        yield found
    print(f"\nfuzz requests sent: {sum(found.sent.values())}")
    for (op_id, code), n in sorted(found.statuses.items()):
        print(f"  {op_id:20} {code}: {n}")


# -- sending ----------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


@dataclass
class Answer:
    code: int
    body: bytes
    headers: Any


def send(
    server: Server,
    method: str,
    path: str,
    who: str | None,
    body: bytes | None,
    content_type: str | None,
) -> Answer:
    """One request to the server; ``who`` is a persona, ``"bogus"`` or None."""
    assert server.base.startswith(f"http://{HOST}:")
    headers = {}
    if who == "bogus":
        headers["Authorization"] = "token wsp_notarealtokenatall"
    elif who is not None:
        headers["Authorization"] = f"token {server.tokens[who]}"
    if content_type is not None:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(server.base + path, body, headers, method=method)
    try:
        with OPENER.open(request, timeout=REQUEST_TIMEOUT) as response:
            return Answer(response.status, response.read(), response.headers)
    except urllib.error.HTTPError as e:
        with e:
            return Answer(e.code, e.read(), e.headers)


# -- strategies -------------------------------------------------------------------------------

HOSTILE = [
    "",
    " ",
    ".",
    "..",
    "../..",
    "%2F",
    "%2e%2e",
    "%",
    "%zz",
    "/",
    "a/b",
    "\\",
    "\x00",
    "\t\n",
    "é",
    "😀",
    "ACME",
    " acme ",
    "acme/public",
    "x" * 5000,
    "null",
    "-1",
    "0",
    "1e9",
    "99999999999999999999999999",
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
HOSTILE_TEXT = st.one_of(st.sampled_from(HOSTILE), TEXT)
EMAILS = [email for email, _provider in PEOPLE.values()] + ["ADA@ACME.TEST", "x@acme.test"]


def mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``common`` four times out of five: enough requests get past the first checks.

    (``st.one_of(common, common, rare)`` would not do: it draws each distinct branch alike.)
    """
    return st.sampled_from([common] * 4 + [rare]).flatmap(lambda strategy: strategy)


PARAMS: dict[str, st.SearchStrategy[str]] = {
    "ws": mostly(st.sampled_from(["acme", "acme", "nope"]), HOSTILE_TEXT),
    "project": mostly(st.sampled_from([*PROJECTS, "nope"]), HOSTILE_TEXT),
    "user": mostly(st.sampled_from(EMAILS), st.one_of(st.emails(), HOSTILE_TEXT)),
    "integration": mostly(st.sampled_from(["dwh", "nope"]), HOSTILE_TEXT),
    # requests() adds the spare tokens' ids and never sends the personas' own
    "token_id": st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), HOSTILE_TEXT),
    "comment_id": st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str), HOSTILE_TEXT
    ),
    "request_id": st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str), HOSTILE_TEXT
    ),
}

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
NOT_JSON = st.one_of(
    st.sampled_from(
        [
            *(b"", b"{", b"[1,", b"\xff\xfe", b"\x00", b"NaN", b"{'a': 1}", b'{"a": 1e999}'),
            # nested deeper than Python recurses
            *(b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000),
        ]
    ),
    st.binary(max_size=300),
)
VALUES = st.one_of(
    st.sampled_from(
        [
            *ROLE_NAMES,
            *ACCESS_NAMES,
            *("2999-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00", "2000-01-01T00:00:00Z"),
            *("Project 1", "ws-1", "google", "github", "note"),
        ]
    ),
    JSON,
)


def schema_body(name: str) -> st.SearchStrategy[Any]:
    """Bodies valid for a request schema, and bodies with its field names but any values."""
    schema = SCHEMAS[name]
    properties = schema.get("properties", {})
    near = st.fixed_dictionaries({}, optional={key: VALUES for key in properties})
    return mostly(from_schema(schema), near)


@st.composite
def requests(draw: st.DrawFn, op: Operation, server: Server) -> tuple[Any, ...]:
    who = draw(mostly(st.sampled_from(list(PEOPLE)), st.sampled_from([None, "bogus"])))
    params = {}
    for name in re.findall(r"{(\w+)}", op.path):
        if name == "token_id":
            value = draw(st.one_of(st.sampled_from(server.spare_token_ids).map(str), PARAMS[name]))
            assume(not _is_persona_token(value, server))
        else:
            value = draw(PARAMS[name])
        params[name] = urllib.parse.quote(value, safe="")
    path = BASE_PATH + op.path.format(**params)
    body: bytes | None = None
    content_type: str | None = None
    if op.method in ("POST", "PUT", "PATCH"):
        kind = draw(mostly(st.just("schema"), st.sampled_from(["json", "bytes", "none"])))
        if kind == "schema" and op.request is not None:
            body = json.dumps(draw(schema_body(op.request))).encode()
            content_type = "application/json"
        elif kind in ("schema", "json"):
            body = json.dumps(draw(JSON)).encode()
            content_type = "application/json"
        elif kind == "bytes":
            body = draw(NOT_JSON)
            content_type = draw(st.sampled_from([None, "text/plain", "application/json"]))
        else:
            body = b""
    return who, path, body, content_type


def _is_persona_token(value: str, server: Server) -> bool:
    """Whether the handler would read ``value`` as one of the personas' own token ids."""
    try:
        return int(value) in server.token_ids
    except ValueError:
        return False


# -- the fuzz ---------------------------------------------------------------------------------


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.id for op in OPERATIONS])
def test_no_input_makes_the_server_fail(server: Server, op: Operation) -> None:
    restore(server)
    own_route = re.compile(route(op.path))
    template = BASE_PATH + op.path

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def fuzz(data: st.DataObject) -> None:
        who, path, body, content_type = data.draw(requests(op, server))
        if time.monotonic() > server.deadline:
            pytest.fail(f"the fuzz ran out of its {BUDGET:.0f} s budget")
        answer = send(server, op.method, path, who, body, content_type)
        server.sent[op.id] += 1
        server.statuses[op.id, answer.code] += 1
        where = f"{op.method} {path} as {who} with {body!r:.300}"
        assert answer.code < 500, (
            f"{where}: {answer.code} {answer.body[:1000]!r}\n{server.log_tail()}"
        )
        if own_route.fullmatch(path) is None:
            return  # an empty or odd parameter made it another route (e.g. a redirect)
        if 400 <= answer.code < 500:
            assert answer.headers.get("Content-Type", "").startswith("application/json"), where
            error = json.loads(answer.body)
            assert {"message", "reason"} <= set(error), (where, error)
        assert_matches_spec(op.method, template, answer)

    fuzz()


def test_the_server_logged_no_uncaught_exception(server: Server) -> None:
    """Refusals are logged briefly; a traceback in the log means a crash the status hid."""
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, server.log_tail(200)
    assert "Uncaught exception" not in log, server.log_tail(200)
