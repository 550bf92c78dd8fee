"""Every route of the extension declares its (action, resource), and enforces it."""

from __future__ import annotations

import json
from typing import Any

from jupyter_workspace_perms.server.handlers import default_handlers
from jupyter_workspace_perms.server.handlers.base import RESOURCE_PREFIX

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def labelled_methods() -> list[tuple[str, str, tuple[str, str] | None]]:
    found = []
    for pattern, handler, *_ in default_handlers:
        for method in HTTP_METHODS:
            impl = handler.__dict__.get(method)
            if impl is not None:
                found.append((pattern, method, getattr(impl, "__workspace_perms_auth__", None)))
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


async def test_every_route_refuses_a_request_without_identity(wsp_fetch: Any) -> None:
    for pattern, method, _label in labelled_methods():
        path = pattern.removeprefix("/").split("/")
        body = json.dumps({}) if method in ("post", "put", "patch") else None
        r = await wsp_fetch(None, *path, method=method.upper(), body=body)
        assert r.code == 401, f"{method.upper()} {pattern}: {r.code}"
        assert json.loads(r.body)["reason"] == "no_identity"
