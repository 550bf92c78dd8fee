"""Every route of the extension declares its (action, resource), and enforces it."""

from __future__ import annotations

import json
from typing import Any

from jupyter_workspace_perms.api.handlers import default_handlers
from jupyter_workspace_perms.api.handlers.base import route
from jupyter_workspace_perms.api.operations import BASE_PATH, OPERATIONS
from jupyter_workspace_perms.server.authz.authorizer import RESOURCE_PREFIX

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def labelled_methods() -> list[tuple[str, str, tuple[str, str] | None]]:
    found = []
    for pattern, handler, *_ in default_handlers:
        for method in HTTP_METHODS:
            impl = handler.__dict__.get(method)
            if impl is not None:
                op = getattr(impl, "__workspace_perms_operation__", None)
                found.append((pattern, method, None if op is None else (op.action, op.resource)))
    return found


def test_every_method_of_every_route_is_labelled() -> None:
    methods = labelled_methods()
    assert methods, "no routes found"
    for pattern, method, label in methods:
        assert label is not None, f"{method.upper()} {pattern} has no @requires label"
        action, resource = label
        assert action in ("read", "write", "execute"), (pattern, method)
        assert resource.startswith(RESOURCE_PREFIX), (pattern, method)
        expected = "read" if method == "get" else "write"
        assert action == expected, f"{method.upper()} {pattern} is labelled {action}"


def test_every_operation_is_served_and_every_route_is_an_operation() -> None:
    served = set()
    for pattern, handler, *_ in default_handlers:
        for method in HTTP_METHODS:
            impl = handler.__dict__.get(method)
            if impl is not None:
                op = impl.__workspace_perms_operation__
                assert route(op.path) == pattern and op.method == method.upper(), op.id
                served.add(op.id)
    assert served == {op.id for op in OPERATIONS}


def example_path(op_path: str) -> list[str]:
    path = (BASE_PATH + op_path).format(
        ws="acme",
        project="public",
        user="x@y.test",
        token_id=1,
        integration="dwh",
        comment_id=1,
        request_id=1,
    )
    return path.removeprefix("/").split("/")


async def test_every_route_refuses_a_request_without_identity(wsp_fetch: Any) -> None:
    for op in OPERATIONS:
        pattern, method = op.path, op.method.lower()
        path = example_path(op.path)
        body = json.dumps({}) if method in ("post", "put", "patch") else None
        r = await wsp_fetch(None, *path, method=method.upper(), body=body)
        assert r.code == 401, f"{method.upper()} {pattern}: {r.code}"
        assert json.loads(r.body)["reason"] == "no_identity"
