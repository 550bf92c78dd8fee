"""JSON Schemas (2020-12, as used by OpenAPI 3.1) of request and response bodies.

Request bodies refuse unknown fields (``additionalProperties: false``): a typo
must be an error, never an ignored setting.
"""

from __future__ import annotations

from typing import Any

from ..policy.permissions import PERMISSIONS, ProjectAccess, Role

Schema = dict[str, Any]

ROLE_NAMES = [r.name for r in Role]
ACCESS_NAMES = [a.value for a in ProjectAccess]
PROJECT_PERMISSIONS = [p for p, d in PERMISSIONS.items() if d.scope == "project"]
WORKSPACE_PERMISSIONS = [p for p, d in PERMISSIONS.items() if d.scope == "workspace"]


def ref(name: str) -> Schema:
    """A reference to a named schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """A closed object: these properties and no others."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": sorted(required),
        "additionalProperties": False,
    }


STRING: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
INT: Schema = {"type": "integer"}
TIMESTAMP: Schema = {"type": "string", "format": "date-time"}
ROLE: Schema = {"type": "string", "enum": ROLE_NAMES}
INTEGRATION_NAME: Schema = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"}
VARIABLE_VALUE: Schema = {"type": "string", "maxLength": 65536}
ACCESS: Schema = {"type": "string", "enum": ACCESS_NAMES}
# where a project role comes from (policy.decisions.RoleResolution.source, when it has a role)
ROLE_SOURCE: Schema = {"type": "string", "enum": ["membership", "grant", "membership+grant"]}
SLUG: Schema = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"}
PROJECT_NAME: Schema = {"type": "string", "minLength": 1, "maxLength": 127}
PROVIDER: Schema = {"type": "string", "minLength": 1, "maxLength": 64}
# a comment's Markdown, stored verbatim and never rendered by the server (docs/comments.md)
COMMENT_MAX_CHARS = 10_000
COMMENT_BODY: Schema = {"type": "string", "minLength": 1, "maxLength": COMMENT_MAX_CHARS}
CELL_ID: Schema = {"type": "string", "minLength": 1, "maxLength": 64}
FILE_PATH: Schema = {"type": "string", "minLength": 1, "maxLength": 4096}
ANCHOR_STATE: Schema = {"type": "string", "enum": ["current", "outdated", "orphaned"]}
REQUEST_STATUS: Schema = {"type": "string", "enum": ["pending", "approved", "denied"]}
ACCESS_REQUEST_MESSAGE_MAX_CHARS = 2_000


def _permissions(names: list[str]) -> Schema:
    return {"type": "array", "items": {"type": "string", "enum": names}}


_WORKSPACE_SUMMARY: dict[str, Schema] = {
    "slug": STRING,
    "name": STRING,
    "role": nullable(ROLE),
    "owner": BOOL,
    "guest": BOOL,
    "sso_blocked": BOOL,
    "enforced_sso_provider": nullable(STRING),
    "permissions": _permissions(WORKSPACE_PERMISSIONS),
}
_ANCHOR: Schema = obj(
    {"start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 0}}
)
_COMMENT: dict[str, Schema] = {
    "id": INT,
    "thread_id": INT,  # the thread's first comment (its own id for a first comment)
    "parent_id": nullable(INT),
    "path": STRING,  # WS/PROJECT/FILE, where the thread is now
    "cell_id": nullable(STRING),
    "anchor": nullable(_ANCHOR),
    "quote": STRING,
    "anchor_state": ANCHOR_STATE,
    "author": STRING,
    "body": STRING,
    "created_at": TIMESTAMP,
    "edited_at": nullable(TIMESTAMP),
    "resolved": BOOL,
    "resolved_by": nullable(STRING),
    "resolved_at": nullable(TIMESTAMP),
    "mentions": {"type": "array", "items": STRING},
    # what the caller may do with it now (the server decides; the front end shows)
    "can": obj({"edit": BOOL, "resolve": BOOL, "delete": BOOL}),
}
_TOKEN: dict[str, Schema] = {
    "id": INT,
    "prefix": STRING,
    "note": STRING,
    "login_provider": STRING,
    "created_at": TIMESTAMP,
    "expires_at": nullable(TIMESTAMP),
    "revoked": BOOL,
}

SCHEMAS: dict[str, Schema] = {
    "Error": obj({"message": STRING, "reason": nullable(STRING)}, {"traceback": STRING}),
    "Identity": obj(
        {
            "username": STRING,
            "display_name": STRING,
            "email": STRING,
            "email_verified": BOOL,
            "login_provider": STRING,
        }
    ),
    "ProjectSummary": obj(
        {
            "name": STRING,
            "access": ACCESS,
            "role": nullable(ROLE),
            "source": nullable(ROLE_SOURCE),
            "grant_expires_at": nullable(TIMESTAMP),
            "name_only": BOOL,
            "creator": nullable(STRING),
            "permissions": _permissions(PROJECT_PERMISSIONS),
        }
    ),
    "Collaborator": obj(
        {"username": STRING, "role": ROLE, "expires_at": nullable(TIMESTAMP), "guest": BOOL}
    ),
    "Project": obj(
        {
            "name": STRING,
            "workspace": STRING,
            "access": ACCESS,
            "role": nullable(ROLE),
            "source": nullable(ROLE_SOURCE),
            "grant_expires_at": nullable(TIMESTAMP),
            "name_only": BOOL,
            "creator": nullable(STRING),
            "permissions": _permissions(PROJECT_PERMISSIONS),
            "collaborators": {"type": "array", "items": ref("Collaborator")},
        }
    ),
    "WorkspaceSummary": obj(_WORKSPACE_SUMMARY),
    "MeWorkspace": obj(
        {
            **_WORKSPACE_SUMMARY,
            "projects": {"type": "array", "items": ref("ProjectSummary")},
        }
    ),
    "Joinable": obj({"slug": STRING, "name": STRING, "invite_domain": STRING, "role": ROLE}),
    "Me": obj(
        {
            "identity": ref("Identity"),
            "workspaces": {"type": "array", "items": ref("MeWorkspace")},
            "joinable": {"type": "array", "items": ref("Joinable")},
            "policy_version": INT,
        }
    ),
    "WorkspaceCreate": obj({"slug": SLUG}, {"name": {"type": "string", "maxLength": 255}}),
    "Workspace": obj(
        {
            "slug": STRING,
            "name": STRING,
            "owner": STRING,
            "role": nullable(ROLE),
            "permissions": _permissions(WORKSPACE_PERMISSIONS),
            "domain_invites": BOOL,
            "enforced_sso_provider": nullable(STRING),
            "viewers_can_execute": BOOL,
            "invite_domain": nullable(STRING),
            "domain_invites_available": BOOL,
            "domain_invites_reason": nullable(STRING),
            "domain_invites_message": nullable(STRING),
            "sso_provider_offer": STRING,
            "sso_offer_would_block": {"type": "array", "items": STRING},
        }
    ),
    "WorkspacePatch": {
        **obj(
            {},
            {
                "domain_invites": BOOL,
                "enforced_sso_provider": nullable(PROVIDER),
                "viewers_can_execute": BOOL,
            },
        ),
        "minProperties": 1,
    },
    "Member": obj(
        {
            "username": STRING,
            "email": STRING,
            "display_name": STRING,
            "login_provider": STRING,
            "role": nullable(ROLE),
            "owner": BOOL,
            "guest": BOOL,
            "sso_blocked": BOOL,
            "projects": {
                "type": "array",
                "items": obj({"name": STRING, "role": ROLE, "expires_at": nullable(TIMESTAMP)}),
            },
        }
    ),
    "MemberList": obj({"members": {"type": "array", "items": ref("Member")}}),
    "MemberPut": obj({"role": ROLE}, {"only_new": BOOL}),
    "ProjectCreate": obj({"name": PROJECT_NAME}, {"access": ACCESS}),
    "ProjectList": obj({"projects": {"type": "array", "items": ref("ProjectSummary")}}),
    "ProjectPatch": obj({"access": ACCESS}),
    "CollaboratorPut": obj({"role": ROLE}, {"expires_at": nullable(TIMESTAMP)}),
    "ProjectDuplicate": obj({"to_workspace": SLUG}, {"name": PROJECT_NAME}),
    # one kind of thing a duplicate did not carry: how many, which paths (at most 100,
    # relative to the project folder) or a sentence
    "LeftBehind": obj(
        {
            "what": {
                "type": "string",
                "enum": [
                    "collaborators",
                    "project access",
                    "hidden files",
                    "checkpoints",
                    "environment files",
                    "symlinks",
                    "special files",
                    "integration connections",
                    "installed packages",
                ],
            }
        },
        {"count": INT, "paths": {"type": "array", "items": STRING}, "note": STRING},
    ),
    "ProjectDuplicated": obj(
        {
            "project": ref("Project"),
            "copied": obj({"files": INT, "folders": INT, "bytes": INT}),
            "left_behind": {"type": "array", "items": ref("LeftBehind")},
        }
    ),
    "WorkspaceList": obj({"workspaces": {"type": "array", "items": ref("WorkspaceSummary")}}),
    "TokenCreate": obj(
        {}, {"note": {"type": "string", "maxLength": 255}, "expires_at": nullable(TIMESTAMP)}
    ),
    "Token": obj(_TOKEN),
    "TokenCreated": obj({**_TOKEN, "token": STRING}),
    "TokenList": obj(
        {"tokens": {"type": "array", "items": ref("Token")}, "latest_expiry": TIMESTAMP}
    ),
    "IntegrationVariable": obj({"name": STRING, "set_by": nullable(STRING), "set_at": TIMESTAMP}),
    "Integration": obj(
        {
            "name": STRING,
            "created_by": nullable(STRING),
            "created_at": TIMESTAMP,
            "variables": {"type": "array", "items": ref("IntegrationVariable")},
            "projects": {"type": "array", "items": STRING},
        }
    ),
    "IntegrationList": obj({"integrations": {"type": "array", "items": ref("Integration")}}),
    "IntegrationCreate": obj(
        {"name": INTEGRATION_NAME},
        {"variables": {"type": "object", "additionalProperties": VARIABLE_VALUE}},
    ),
    "IntegrationPatch": {
        **obj(
            {},
            {
                "name": INTEGRATION_NAME,
                "variables": {
                    "type": "object",
                    "additionalProperties": nullable(VARIABLE_VALUE),
                    "minProperties": 1,
                },
            },
        ),
        "minProperties": 1,
    },
    "Connection": obj(
        {
            "name": STRING,
            "variables": {"type": "array", "items": STRING},
            "connected_by": nullable(STRING),
            "connected_at": TIMESTAMP,
        }
    ),
    "ConnectionList": obj(
        {"integrations": {"type": "array", "items": ref("Connection")}, "message": STRING}
    ),
    "Connected": obj(
        {
            "integration": STRING,
            "project": STRING,
            "connected": BOOL,
            "running_kernels": INT,
            "message": STRING,
        }
    ),
    "Comment": obj(_COMMENT),
    "CommentThread": obj({**_COMMENT, "replies": {"type": "array", "items": ref("Comment")}}),
    "CommentThreadList": obj(
        {
            "path": STRING,
            "threads": {"type": "array", "items": ref("CommentThread")},
            "can_comment": BOOL,
        }
    ),
    "CommentCreate": obj(
        {"path": FILE_PATH, "body": COMMENT_BODY},
        {"cell_id": CELL_ID, "anchor": _ANCHOR, "parent_id": INT},
    ),
    "CommentPatch": {
        **obj({}, {"body": COMMENT_BODY, "resolved": BOOL}),
        "minProperties": 1,
        "maxProperties": 1,
    },
    "MentionList": obj({"comments": {"type": "array", "items": ref("Comment")}}),
    "AccessRequestCreate": obj(
        {"role": ROLE},
        {
            "project": PROJECT_NAME,
            "message": {"type": "string", "maxLength": ACCESS_REQUEST_MESSAGE_MAX_CHARS},
        },
    ),
    "AccessRequest": obj(
        {
            "id": INT,
            "workspace": STRING,
            "project": nullable(STRING),
            "username": STRING,
            "role": ROLE,
            "current_role": nullable(ROLE),
            "message": STRING,
            "status": REQUEST_STATUS,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "decided_by": nullable(STRING),
            "decided_at": nullable(TIMESTAMP),
            "can_decide": BOOL,
        },
        {"merged": BOOL},
    ),
    "AccessRequestList": obj({"requests": {"type": "array", "items": ref("AccessRequest")}}),
    "AccessRequestDecide": obj({"status": {"type": "string", "enum": ["approved", "denied"]}}),
    "AuditEvent": obj(
        {
            "id": INT,
            "at": TIMESTAMP,
            "actor": STRING,
            "action": STRING,
            "workspace": STRING,
            "target": STRING,
            "details": {"type": "object"},
        }
    ),
    "Status": obj(
        {
            "version": STRING,
            "policy_version": INT,
            "store": obj({"backend": STRING}, {"db_url": STRING, "schema": nullable(STRING)}),
            "isolation": obj(
                {
                    "kernels": {"type": "string", "enum": ["bubblewrap", "none"]},
                    "confined": BOOL,
                    "mode": {"type": "string", "enum": ["required", "auto", "off"]},
                    "configured_mode": {
                        "type": "string",
                        "enum": ["required", "auto", "off", "default"],
                    },
                    "network": {"type": "string", "enum": ["shared", "none"]},
                    "message": STRING,
                },
                {
                    "self_test": nullable(
                        obj({"working": BOOL, "detail": STRING, "seconds": {"type": "number"}})
                    )
                },
            ),
            "details": BOOL,
        }
    ),
}
