"""The OpenAPI document is valid, is what the server serves, and describes live responses.

Every operation of the table is called at least once with a persona that succeeds, and
with callers or inputs that fail (401, 400, 403, 404, 409); every answer's status must be
documented for its operation and its body must validate against the documented schema.
An operation without cases here fails :func:`test_every_operation_has_cases`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import nbformat
import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from jupyter_workspace_perms.api.openapi import document, document_yaml
from jupyter_workspace_perms.api.operations import BASE_PATH, BY_ID, OPERATIONS
from jupyter_workspace_perms.store.access_requests import AccessRequests
from jupyter_workspace_perms.store.comments import NewComment
from tests.helpers.api import in_seconds

DOC_URI = "urn:jupyter-workspace-perms:openapi"
NEWCOMER = "new@acme.test"  # verified, in the owner's domain, not a member of acme
FREEMAIL = "pat@gmail.com"  # owns workspace gmail: no domain invites for a public provider


# -- the document -----------------------------------------------------------------------------


@cache
def spec() -> dict[str, Any]:
    return document()


@cache
def registry() -> Registry[Any]:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    return Registry().with_resource(DOC_URI, resource)


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def walk(node: Any, where: str = "#") -> Iterator[tuple[str, Any]]:
    """Every (location, value) in a JSON document."""
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{where}/{i}")


def test_the_document_is_valid_openapi_3_1() -> None:
    errors = [str(e.message) for e in OpenAPIV31SpecValidator(spec()).iter_errors()]
    assert errors == []
    assert spec()["openapi"].startswith("3.1")


def test_every_ref_resolves() -> None:
    resolver = registry().resolver(base_uri=DOC_URI)
    refs = [
        (where, node["$ref"])
        for where, node in walk(spec())
        if isinstance(node, dict) and isinstance(node.get("$ref"), str)
    ]
    assert refs, "no $ref found"
    for where, target in refs:
        assert target.startswith("#/components/schemas/"), where
        resolved = resolver.lookup(target).contents
        assert isinstance(resolved, dict) and resolved, (where, target)


def test_operation_ids_are_unique_and_match_the_table() -> None:
    ids = [
        operation["operationId"]
        for item in spec()["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert set(ids) == set(BY_ID)


# -- matching responses to the document -------------------------------------------------------


@cache
def templates() -> list[tuple[re.Pattern[str], str]]:
    """(regex, template) for every documented path."""
    found = []
    for template in spec()["paths"]:
        pattern = re.escape(template)
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", pattern)
        found.append((re.compile(pattern + "$"), template))
    return found


def template_of(path: str) -> str:
    """The documented path template a concrete (percent-encoded) path belongs to."""
    path = path.split("?", 1)[0]
    matches = [template for regex, template in templates() if regex.match(path)]
    assert len(matches) == 1, (path, matches)
    return matches[0]


def assert_matches_spec(method: str, path_template: str, response: Any) -> str:
    """Assert a response is documented for its operation; returns the operationId.

    ``response`` has ``code``, ``body`` (bytes) and ``headers`` (tornado's HTTPResponse,
    or anything shaped like it).
    """
    operation = spec()["paths"][path_template][method.lower()]
    responses = operation["responses"]
    code = str(response.code)
    assert code in responses, (
        f"{method} {path_template} answered {code}, documented: {sorted(responses)}; "
        f"body: {response.body[:500]!r}"
    )
    content = responses[code].get("content")
    if content is None:
        assert not response.body, f"{method} {path_template} {code}: expected no body"
        return str(operation["operationId"])
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    assert media_type in content, (method, path_template, code, media_type)
    if media_type == "application/json":
        body = json.loads(response.body)
    elif media_type == "application/x-ndjson":  # JSON lines: each line is one schema'd item
        lines = response.body.decode("utf-8").splitlines()
        assert lines, f"{method} {path_template} {code}: no lines"
        body = json.loads(lines[0])
        for line in lines[1:]:
            json.loads(line)
    else:
        body = response.body.decode("utf-8")
    location = _pointer("paths", path_template, method.lower(), "responses", code, "content")
    location += "/" + media_type.replace("/", "~1") + "/schema"
    validator = Draft202012Validator(
        {"$ref": DOC_URI + location}, registry=registry(), format_checker=FormatChecker()
    )
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)
    ]
    assert errors == [], f"{method} {path_template} {code}: {errors}\n{json.dumps(body)[:2000]}"
    return str(operation["operationId"])


# -- live calls -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One request: who sends it, to which path parameters, with what; what must come back."""

    who: str | None
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    status: int = 200
    raw: bytes | None = None  # a body that is not JSON
    settings: dict[str, Any] = field(default_factory=dict)  # server settings during the call
    query: dict[str, str] = field(default_factory=dict)  # query parameters


ACME = {"ws": "acme"}
PUBLIC = {"ws": "acme", "project": "public"}
FUTURE = "2999-01-01T00:00:00Z"
PAST = "2000-01-01T00:00:00Z"
CREATION_ON = {"workspace_perms_allow_workspace_creation": True}
SPEC_NB = "acme/public/spec.ipynb"  # cell "c1"; vic's comment on it is {comment}
ON_NB = {"path": SPEC_NB}
COMMENT = {"comment_id": "{comment}"}

CASES: dict[str, list[Case]] = {
    "me.get": [Case("admin"), Case("guest"), Case("newcomer"), Case(None, status=401)],
    "workspaces.list": [Case("admin"), Case("guest"), Case("outsider"), Case(None, status=401)],
    "workspaces.create": [
        Case(
            "outsider",
            body={"slug": "newco", "name": "New Co"},
            status=201,
            settings=CREATION_ON,
        ),
        Case("admin", body={"slug": "acme"}, status=409, settings=CREATION_ON),
        Case("admin", body={"slug": "../up"}, status=400),
        Case("admin", body={"slug": "fine", "owner": "me"}, status=400),
        Case("admin", raw=b"{not json", status=400),
        Case(
            "admin",
            body={"slug": "closed"},
            status=403,
            settings={"workspace_perms_allow_workspace_creation": False},  # the default
        ),
        Case(None, body={"slug": "anon"}, status=401),
    ],
    "workspace.get": [
        Case("admin", ACME),
        Case("viewer", ACME),
        Case("guest", ACME, status=403),
        Case("outsider", ACME, status=404),
        Case("admin", {"ws": "nope"}, status=404),
        Case(None, ACME, status=401),
    ],
    "workspace.patch": [
        Case("admin", ACME, {"viewers_can_execute": True}),
        Case("admin", ACME, {"enforced_sso_provider": "google"}),
        Case("admin", ACME, {"enforced_sso_provider": None, "domain_invites": False}),
        Case("admin", ACME, {"enforced_sso_provider": "github"}, status=409),
        Case("freemail", {"ws": "gmail"}, {"domain_invites": True}, status=409),
        Case("admin", ACME, {}, status=400),
        Case("admin", ACME, {"colour": "red"}, status=400),
        Case("viewer", ACME, {"viewers_can_execute": True}, status=403),
        Case("outsider", ACME, {"viewers_can_execute": True}, status=404),
        Case(None, ACME, {"viewers_can_execute": True}, status=401),
    ],
    "members.list": [
        Case("admin", ACME),
        Case("guest", ACME, status=403),
        Case("outsider", ACME, status=404),
        Case(None, ACME, status=401),
    ],
    "member.put": [
        Case("admin", {**ACME, "user": "vic@acme.test"}, {"role": "editor"}),
        Case("admin", {**ACME, "user": "Someone.New@Acme.test"}, {"role": "viewer"}),
        Case("admin", {**ACME, "user": "ada@acme.test"}, {"role": "viewer"}, status=409),
        Case("admin", {**ACME, "user": "vic@acme.test"}, {"role": "boss"}, status=400),
        Case("admin", {**ACME, "user": "not-an-email"}, {"role": "viewer"}, status=400),
        Case("viewer", {**ACME, "user": "ed@acme.test"}, {"role": "viewer"}, status=403),
        Case("outsider", {**ACME, "user": "ed@acme.test"}, {"role": "viewer"}, status=404),
        Case(None, {**ACME, "user": "ed@acme.test"}, {"role": "viewer"}, status=401),
    ],
    "member.delete": [
        Case("admin", {**ACME, "user": "cora@acme.test"}, status=204),
        Case("admin", {**ACME, "user": "cora@acme.test"}, status=404),
        Case("admin", {**ACME, "user": "ada@acme.test"}, status=409),
        Case("viewer", {**ACME, "user": "ed@acme.test"}, status=403),
        Case("outsider", {**ACME, "user": "ed@acme.test"}, status=404),
        Case(None, {**ACME, "user": "ed@acme.test"}, status=401),
    ],
    "workspace.join": [
        Case("newcomer", ACME, status=201),
        Case("newcomer", ACME, status=409),
        Case("outsider", ACME, status=404),
        Case("newcomer", {"ws": "nope"}, status=404),
        Case(None, ACME, status=401),
    ],
    "projects.list": [
        Case("admin", ACME),
        Case("viewer", ACME),
        Case("guest", ACME, status=403),
        Case("outsider", ACME, status=404),
        Case(None, ACME, status=401),
    ],
    "projects.create": [
        Case("editor", ACME, {"name": "New Project (2)", "access": "view"}, status=201),
        Case("admin", ACME, {"name": "public"}, status=409),
        Case("admin", ACME, {"name": ".hidden"}, status=400),
        Case("admin", ACME, {"name": ""}, status=400),
        Case("viewer", ACME, {"name": "mine"}, status=403),
        Case("outsider", ACME, {"name": "mine"}, status=404),
        Case(None, ACME, {"name": "mine"}, status=401),
    ],
    "project.get": [
        Case("admin", PUBLIC),
        Case("guest", PUBLIC),
        Case("editor", {**ACME, "project": "private"}),
        Case("admin", {**ACME, "project": "private"}, status=403),
        Case("viewer", {**ACME, "project": "private"}, status=404),
        Case("admin", {**ACME, "project": "missing"}, status=404),
        Case(None, PUBLIC, status=401),
    ],
    "project.patch": [
        Case("admin", PUBLIC, {"access": "view"}),
        Case("editor", {**ACME, "project": "private"}, {"access": "full"}),
        Case("admin", PUBLIC, {"access": "secret"}, status=400),
        Case("viewer", PUBLIC, {"access": "none"}, status=403),
        Case("outsider", PUBLIC, {"access": "none"}, status=404),
        Case(None, PUBLIC, {"access": "none"}, status=401),
    ],
    "collaborator.put": [
        Case(
            "admin", {**PUBLIC, "user": "gus@gmail.test"}, {"role": "editor", "expires_at": FUTURE}
        ),
        Case("admin", {**PUBLIC, "user": "stranger@else.test"}, {"role": "viewer"}),
        Case(
            "admin",
            {**PUBLIC, "user": "gus@gmail.test"},
            {"role": "viewer", "expires_at": PAST},
            status=400,
        ),
        Case(
            "admin",
            {**PUBLIC, "user": "gus@gmail.test"},
            {"role": "viewer", "expires_at": "soon"},
            status=400,
        ),
        Case("viewer", {**PUBLIC, "user": "gus@gmail.test"}, {"role": "viewer"}, status=403),
        Case("outsider", {**PUBLIC, "user": "gus@gmail.test"}, {"role": "viewer"}, status=404),
        Case(None, {**PUBLIC, "user": "gus@gmail.test"}, {"role": "viewer"}, status=401),
    ],
    "collaborator.delete": [
        Case("admin", {**PUBLIC, "user": "gus@gmail.test"}, status=204),
        Case("admin", {**PUBLIC, "user": "gus@gmail.test"}, status=404),
        Case("viewer", {**PUBLIC, "user": "ed@acme.test"}, status=403),
        Case("outsider", {**PUBLIC, "user": "ed@acme.test"}, status=404),
        Case(None, {**PUBLIC, "user": "ed@acme.test"}, status=401),
    ],
    "project.duplicate": [
        Case("editor", PUBLIC, {"to_workspace": "acme"}, status=201),
        Case("guest", PUBLIC, {"to_workspace": "gmail"}, status=404),
        Case("viewer", PUBLIC, {"to_workspace": "acme"}, status=403),
        Case("viewer", {**ACME, "project": "private"}, {"to_workspace": "acme"}, status=404),
        Case("editor", PUBLIC, {"to_workspace": "acme", "name": "locked"}, status=409),
        Case("editor", PUBLIC, {"to_workspace": "acme", "name": ".hidden"}, status=400),
        Case("editor", PUBLIC, {"name": "copy"}, status=400),
        Case(None, PUBLIC, {"to_workspace": "acme"}, status=401),
    ],
    "integrations.list": [
        Case("viewer", ACME),
        Case("guest", ACME, status=403),
        Case("outsider", ACME, status=404),
        Case(None, ACME, status=401),
    ],
    "integrations.create": [
        Case("admin", ACME, {"name": "crm", "variables": {"API_KEY": "k"}}, status=201),
        Case("admin", ACME, {"name": "dwh"}, status=409),
        Case("admin", ACME, {"name": "x", "variables": {"HOME": "/"}}, status=400),
        Case("admin", ACME, {"name": "bad name"}, status=400),
        Case("editor", ACME, {"name": "crm2"}, status=403),
        Case("outsider", ACME, {"name": "crm3"}, status=404),
        Case(None, ACME, {"name": "crm4"}, status=401),
    ],
    "integration.patch": [
        Case("admin", {**ACME, "integration": "dwh"}, {"variables": {"DB_USER": "u"}}),
        Case("admin", {**ACME, "integration": "dwh"}, {"name": "warehouse"}),
        Case("admin", {**ACME, "integration": "dwh"}, {"name": "again"}, status=404),
        Case("admin", {**ACME, "integration": "warehouse"}, {}, status=400),
        Case("viewer", {**ACME, "integration": "warehouse"}, {"name": "v"}, status=403),
        Case(None, {**ACME, "integration": "warehouse"}, {"name": "v"}, status=401),
    ],
    "integration.delete": [
        Case("editor", {**ACME, "integration": "dwh"}, status=403),
        Case("admin", {**ACME, "integration": "dwh"}, status=204),
        Case("admin", {**ACME, "integration": "dwh"}, status=404),
        Case(None, {**ACME, "integration": "dwh"}, status=401),
    ],
    "project_integrations.list": [
        Case("guest", PUBLIC),
        Case("viewer", {**ACME, "project": "private"}, status=404),
        Case(None, PUBLIC, status=401),
    ],
    "project_integration.put": [
        Case("editor", {**PUBLIC, "integration": "dwh"}),
        Case("editor", {**PUBLIC, "integration": "dwh"}),  # again: still connected
        Case("editor", {**PUBLIC, "integration": "nope"}, status=404),
        Case("contributor", {**PUBLIC, "integration": "dwh"}, status=403),
        Case("outsider", {**PUBLIC, "integration": "dwh"}, status=404),
        Case(None, {**PUBLIC, "integration": "dwh"}, status=401),
    ],
    "project_integration.delete": [
        Case("editor", {**PUBLIC, "integration": "dwh"}),
        Case("editor", {**PUBLIC, "integration": "dwh"}, status=404),  # not connected now
        Case("viewer", {**PUBLIC, "integration": "dwh"}, status=403),
        Case(None, {**PUBLIC, "integration": "dwh"}, status=401),
    ],
    "access_requests.list": [
        Case("viewer", ACME),
        Case("admin", ACME),
        Case("guest", ACME),
        Case("outsider", ACME, status=404),
        Case(None, ACME, status=401),
    ],
    "access_requests.create": [
        Case(
            "contributor",
            ACME,
            {"project": "public", "role": "editor", "message": "hi"},
            status=201,
        ),
        Case("guest", ACME, {"role": "viewer"}, status=201),
        Case("viewer", ACME, {"project": "public", "role": "viewer"}, status=409),
        Case("viewer", ACME, {"project": "private", "role": "editor"}, status=404),
        Case("viewer", ACME, {"role": "boss"}, status=400),
        Case(None, ACME, {"role": "editor"}, status=401),
    ],
    "access_request.patch": [
        Case("viewer", {**ACME, "request_id": "{request}"}, {"status": "denied"}, status=403),
        Case("contributor", {**ACME, "request_id": "{request}"}, {"status": "denied"}, status=404),
        Case("admin", {**ACME, "request_id": "{request}"}, {"status": "maybe"}, status=400),
        Case("admin", {**ACME, "request_id": "{request}"}, {"status": "approved"}),
        Case("admin", {**ACME, "request_id": "{request}"}, {"status": "denied"}, status=409),
        Case(None, {**ACME, "request_id": "{request}"}, {"status": "denied"}, status=401),
    ],
    "audit.export": [
        Case("admin", ACME),
        Case("editor", ACME, status=403),
        Case("outsider", ACME, status=404),
        Case(None, ACME, status=401),
    ],
    "comments.list": [
        Case("viewer", query=ON_NB),
        Case("guest", query={**ON_NB, "cell_id": "c1", "state": "open"}),
        Case("viewer", query={**ON_NB, "state": "closed"}, status=400),
        Case("viewer", query={"path": "acme/public"}, status=400),
        Case("outsider", query=ON_NB, status=404),
        Case("admin", query={"path": "acme/private/x.txt"}, status=404),
        Case(None, query=ON_NB, status=401),
    ],
    "comments.create": [
        Case("guest", body={**ON_NB, "cell_id": "c1", "body": "hi @ed@acme.test"}, status=201),
        Case("viewer", body={**ON_NB, "body": "   "}, status=400),
        Case("viewer", body={**ON_NB, "cell_id": "nope", "body": "x"}, status=400),
        Case("viewer", body={**ON_NB, "body": "x", "quote": "forged"}, status=400),
        Case("outsider", body={**ON_NB, "body": "x"}, status=404),
        Case(None, body={**ON_NB, "body": "x"}, status=401),
    ],
    "comment.patch": [
        Case("viewer", COMMENT, {"body": "edited"}),
        Case("editor", COMMENT, {"resolved": True}),
        Case("guest", COMMENT, {"body": "mine"}, status=403),
        Case("viewer", COMMENT, {}, status=400),
        Case("outsider", COMMENT, {"body": "mine"}, status=404),
        Case(None, COMMENT, {"body": "mine"}, status=401),
    ],
    "comment.delete": [
        Case("guest", COMMENT, status=403),
        Case("viewer", COMMENT, status=204),
        Case("viewer", COMMENT, status=404),
        Case("viewer", {"comment_id": "x1"}, status=404),
        Case(None, COMMENT, status=401),
    ],
    "mentions.list": [
        Case("editor", ACME, query={"mentions": "me"}),
        Case("guest", ACME, query={"mentions": "me"}),
        Case("editor", ACME, query={"mentions": "you"}, status=400),
        Case("outsider", ACME, query={"mentions": "me"}, status=404),
        Case(None, ACME, query={"mentions": "me"}, status=401),
    ],
    "tokens.list": [Case("admin"), Case("outsider"), Case(None, status=401)],
    "tokens.create": [
        Case("viewer", body={}, status=201),
        Case("admin", body={"note": "ci", "expires_at": in_seconds(86400)}, status=201),
        Case("admin", body={"expires_at": FUTURE}, status=400),  # beyond the maximum lifetime
        Case("admin", body={"expires_at": PAST}, status=400),
        Case("admin", body={"secret": "mine"}, status=400),
        Case("admin", raw=b"\xff\xfe", status=400),
        Case("admin", raw=b"[" * 100_000 + b"]" * 100_000, status=400),  # was 500 (recursion)
        # past year 9999 in UTC: was 500 (overflow)
        Case("admin", body={"expires_at": "9999-12-31T23:59:59-12:00"}, status=400),
        Case(None, body={}, status=401),
    ],
    "token.delete": [
        Case("admin", {"token_id": "{spare}"}, status=204),
        Case("admin", {"token_id": "{spare}"}, status=204),  # revoking twice is harmless
        Case("viewer", {"token_id": "{spare}"}, status=404),
        Case("admin", {"token_id": "not-a-number"}, status=404),
        Case("admin", {"token_id": "999999"}, status=404),
        Case("admin", {"token_id": str(2**63)}, status=404),  # was 500 (SQLite overflow)
        Case(None, {"token_id": "{spare}"}, status=401),
    ],
    "status.get": [Case("admin"), Case("viewer"), Case("outsider"), Case(None, status=401)],
    "spec.get": [Case("outsider"), Case(None, status=401)],
}


def test_every_operation_has_cases() -> None:
    assert set(CASES) == set(BY_ID), "add cases for new operations (and drop removed ones)"
    for op_id, cases in CASES.items():
        statuses = {c.status for c in cases}
        assert BY_ID[op_id].status in statuses, f"{op_id}: no successful call"
        assert 401 in statuses, f"{op_id}: no call without identity"
        if BY_ID[op_id].request:
            assert 400 in statuses, f"{op_id}: no invalid body"
    every_status = {c.status for cases in CASES.values() for c in cases}
    assert {400, 401, 403, 404, 409} <= every_status


@pytest.fixture
def spec_world(wsp_world: Any, jp_serverapp: Any) -> dict[str, str]:
    """The sample world plus personas ``newcomer`` (may join acme) and ``freemail`` (owns
    workspace ``gmail``), and a spare token of the admin's.

    Returns the values of ``{placeholders}`` in path parameters.
    """
    store = jp_serverapp.web_app.settings["workspace_perms_store"]
    with store.write("test") as w:
        w.set_settings("acme", domain_invites=True)
        w.ensure_user(NEWCOMER, "google")
        w.create_workspace("gmail", FREEMAIL, "google")
        spare, _secret = w.create_token("ada@acme.test", note="spare")
        spare_id = spare.id
    with store.write("test") as w:
        wsp_world.tokens["newcomer"] = w.create_token(NEWCOMER)[1]
        wsp_world.tokens["freemail"] = w.create_token(FREEMAIL)[1]
    integrations = jp_serverapp.web_app.settings["workspace_perms_integrations"]
    acme = store.snapshot.workspaces_by_slug["acme"]
    integrations.create(acme, "dwh", {"DB_PASSWORD": "secret"}, "ada@acme.test")
    public = store.snapshot.projects_by_name[(acme, "public")]
    integrations.connect(acme, public, "dwh", "ed@acme.test")
    vic = store.snapshot.users_by_name["vic@acme.test"]
    request, _merged = AccessRequests(store).ask(
        acme, public, vic, "editor", "", "vic@acme.test", "acme/public:vic@acme.test"
    )
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("print(1)"))
    nb.cells[0]["id"] = "c1"
    (wsp_world.root / SPEC_NB).write_text(nbformat.writes(nb))
    comments = jp_serverapp.web_app.settings["workspace_perms_comments"]
    comment = comments.post(
        NewComment(public, acme, "spec.ipynb", SPEC_NB, "vic@acme.test", "@ed@acme.test?", ())
    )
    return {"spare": str(spare_id), "request": str(request.id), "comment": str(comment.id)}


@pytest.mark.parametrize("op_id", [op.id for op in OPERATIONS])
async def test_live_responses_match_the_spec(
    op_id: str, spec_world: dict[str, str], wsp_fetch: Any, jp_serverapp: Any
) -> None:
    op = BY_ID[op_id]
    assert op_id in CASES, f"no cases for {op_id}: add some to CASES"
    settings = jp_serverapp.web_app.settings
    exercised = set()
    for case in CASES[op_id]:
        params = {k: v.format(**spec_world) for k, v in case.params.items()}
        path = (BASE_PATH + op.path).format(**params)
        body: bytes | None = case.raw
        if body is None and op.method in ("POST", "PUT", "PATCH"):
            body = json.dumps(case.body if case.body is not None else {}).encode()
        saved = {key: settings.get(key) for key in case.settings}
        settings.update(case.settings)
        try:
            response = await wsp_fetch(
                case.who,
                *path.removeprefix("/").split("/"),
                method=op.method,
                body=body,
                params=case.query or None,
            )
        finally:
            settings.update(saved)
        assert response.code == case.status, f"{case}: {response.code} {response.body[:500]!r}"
        exercised.add(assert_matches_spec(op.method, template_of(path), response))
    assert exercised == {op_id}


async def test_the_served_spec_is_the_generated_document(wsp_fetch: Any) -> None:
    response = await wsp_fetch("viewer", "api", "workspace-perms", "spec.yaml")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/yaml")
    text = response.body.decode("utf-8")
    assert text == document_yaml()
    assert yaml.safe_load(text) == spec()
