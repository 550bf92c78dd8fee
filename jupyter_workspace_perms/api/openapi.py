"""The OpenAPI 3.1 document of the REST API, generated from the operation table.

Served at ``/api/workspace-perms/spec.yaml`` and written to ``docs/openapi.yaml``
by ``python -m jupyter_workspace_perms.generate``.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .._version import __version__
from ..policy.permissions import PERMISSIONS
from .operations import BASE_PATH, OPERATIONS, Operation
from .schemas import SCHEMAS, ref

ERRORS = {
    400: "Bad input: malformed JSON, unknown fields, invalid values.",
    401: "No identity: send `Authorization: token …` with a personal access token.",
    403: "You may see this, but not do this; `reason` says why.",
    404: "Not found, or not visible to you.",
    409: "Well formed, but against the workspace rules; `reason` names the rule.",
    413: "Too large: more files or bytes than a copy may hold; nothing was written.",
}
# operations that copy files, and so may answer 413
COPIES = frozenset({"project.duplicate"})
# operations whose target is named in the query or by an id: the handler decides, with
# 400 for a bad query, 403 and 404 like any target
QUERY_TARGETS = frozenset({"comments.list", "comments.create", "comment.patch", "mentions.list"})
_STRING = {"type": "string"}
#: query parameters: operation id -> (name, required, schema, description)
QUERY_PARAMETERS: dict[str, list[tuple[str, bool, dict[str, Any], str]]] = {
    "comments.list": [
        ("path", True, _STRING, "The file: `WORKSPACE/PROJECT/FILE`."),
        ("cell_id", False, _STRING, "Only the threads of this notebook cell."),
        (
            "state",
            False,
            {"type": "string", "enum": ["open", "resolved", "all"], "default": "all"},
            "Open or resolved threads only.",
        ),
    ],
    "mentions.list": [
        ("mentions", True, {"type": "string", "enum": ["me"]}, "Comments mentioning you."),
    ],
}

DESCRIPTION = """\
Team workspaces with roles and per-project access, enforced by the Jupyter server.

Every operation needs a personal access token (`Authorization: token wsp_…`);
the server's own token is not accepted. Errors are JSON `{"message", "reason"}`.
Operations on a workspace or project first check the listed permission on it:
objects you may not know about answer 404, visible ones you may not change 403.
"""


def _path_params(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", path)
    ]


def _query_params(op: Operation) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "query", "required": required, "schema": schema, "description": text}
        for name, required, schema, text in QUERY_PARAMETERS.get(op.id, ())
    ]


def _error_codes(op: Operation) -> list[int]:
    codes = [401]
    if op.request:
        codes.append(400)
    if op.target or op.permission or op.method == "DELETE" or op.id == "workspace.join":
        codes += [403, 404]
    if op.id in QUERY_TARGETS:
        codes += [400, 403, 404]
    if op.id == "workspaces.create":
        codes.append(403)  # creation turned off (allow_workspace_creation)
    if op.action == "write":
        codes.append(409)
    if op.id in COPIES:
        codes.append(413)
    return sorted(set(codes))


def _description(op: Operation) -> str:
    parts = [f"Jupyter authorization label: `({op.action}, {op.resource})`."]
    if op.permission:
        target = "{ws}/{project}" if op.target == "project" else "{ws}"
        parts.append(
            f"Needs `{op.permission}` on `{target}`: {PERMISSIONS[op.permission].description}"
        )
    if op.decided_by:
        parts.append(f"Decided by: {op.decided_by}.")
    return "\n\n".join(parts)


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if op.id == "spec.get":
        responses["200"] = {
            "description": "The OpenAPI document.",
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    elif op.id == "audit.export":
        responses["200"] = {
            "description": "One event per line (JSON lines), or CSV with a header row; the "
            "`details` column of CSV holds JSON.",
            "content": {
                "application/x-ndjson": {"schema": ref("AuditEvent")},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    elif op.response is None:
        responses[str(op.status)] = {"description": "Done."}
    else:
        responses[str(op.status)] = {
            "description": op.summary,
            "content": {"application/json": {"schema": ref(op.response)}},
        }
    for code in _error_codes(op):
        responses[str(code)] = {
            "description": ERRORS[code],
            "content": {"application/json": {"schema": ref("Error")}},
        }
    spec: dict[str, Any] = {
        "operationId": op.id,
        "summary": op.summary,
        "description": _description(op),
        "tags": [op.thing],
        "parameters": _path_params(op.path) + _query_params(op),
        "responses": responses,
        "x-jupyter-authorization": {"action": op.action, "resource": op.resource},
    }
    if op.permission:
        spec["x-permission"] = op.permission
    if op.request:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(op.request)}},
        }
    return spec


def document() -> dict[str, Any]:
    """The OpenAPI document as a dict."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(BASE_PATH + op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jupyter-workspace-perms",
            "version": __version__,
            "description": DESCRIPTION,
        },
        "security": [{"token": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`token wsp_…`: a personal access token.",
                }
            },
        },
    }


def document_yaml() -> str:
    """The OpenAPI document as YAML text."""
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)
