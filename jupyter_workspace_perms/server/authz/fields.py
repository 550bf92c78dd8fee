"""What Jupyter's session, kernel and contents handlers read from a request, and the body
shapes the Authorizer accepts for sessions and kernels.

The Authorizer decides a request before Jupyter's handler runs, from the targets
:mod:`.targets` finds in it. A field the handler reads but the Authorizer does
not look at is a hole: jupyter_server's session handlers read the legacy
``notebook.path`` and ``notebook.name`` keys and use them instead of ``path``
(issue #10, item 1). :data:`HANDLER_FIELDS` therefore lists, for each handler
method, every body field (dotted: ``kernel.id``) and query argument (``?type``)
it reads, with how the Authorizer treats it; ``tests/server/test_body_fields.py``
reads the installed jupyter_server's source and fails when a handler reads a
field this table does not list (a jupyter_server upgrade), and sends every
``path`` and ``kernel`` field pointing where the user may not go.

:data:`MANAGER_FIELDS` lists what the contents manager reads of a body that the
contents handler passes on whole (``hands_to``).

Kinds of field:

``path``    a path the handler acts on: located by the one canonicalizer and decided;
``kernel``  a kernel id: must name a running kernel the user may run code in;
``refused`` refused whenever present (400);
``value``   neither: a name, a type, content. Session and kernel bodies are checked
            for their JSON type (:func:`json_object`, :func:`string_field`), so a
            wrong type is a 400 instead of a 500 from Jupyter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from tornado import web

PATH = "path"
KERNEL = "kernel"
REFUSED = "refused"
VALUE = "value"


@dataclass(frozen=True)
class Field:
    """One field a handler reads: its kind and how the Authorizer treats it."""

    kind: str
    handling: str


@dataclass(frozen=True)
class HandlerFields:
    """Everything one handler method reads from a request."""

    fields: Mapping[str, Field]  # "kernel.id" in the body, "?type" in the query
    hands_to: frozenset[str] = frozenset()  # manager methods given the whole body


def _fields(fields: dict[str, Field], hands_to: tuple[str, ...] = ()) -> HandlerFields:
    return HandlerFields(MappingProxyType(fields), frozenset(hands_to))


NONE = _fields({})
LEGACY = Field(REFUSED, "the legacy notebook key: refused (400 legacy_notebook_key)")
SESSION_PATH = Field(
    PATH,
    "project:execute on its project (a string, inside a project, no hidden segment); "
    "one project per session",
)
SESSION_KERNEL_ID = Field(
    KERNEL,
    "a running kernel of the same project where the user may run code (else 404/403); "
    "it wins over kernel.name",
)
SESSION_NAME = Field(VALUE, "the session's name (string or null)")
SESSION_TYPE = Field(VALUE, "the session's type (string or null)")
SESSION_KERNEL = Field(VALUE, "an object (or absent)")

_SESSIONS = "jupyter_server.services.sessions.handlers"
_KERNELS = "jupyter_server.services.kernels.handlers"
_WEBSOCKET = "jupyter_server.services.kernels.websocket"
_CONTENTS = "jupyter_server.services.contents.handlers"

# (module, class, method) -> what it reads
HANDLER_FIELDS: Mapping[tuple[str, str, str], HandlerFields] = MappingProxyType(
    {
        (_SESSIONS, "SessionRootHandler", "get"): NONE,
        (_SESSIONS, "SessionRootHandler", "post"): _fields(
            {
                "notebook": LEGACY,
                "notebook.name": LEGACY,
                "notebook.path": LEGACY,
                "path": Field(
                    PATH,
                    SESSION_PATH.handling + "; a session already at this exact path is returned "
                    "as it is, so project:execute on its kernel's project too",
                ),
                "type": SESSION_TYPE,
                "name": SESSION_NAME,
                "kernel": SESSION_KERNEL,
                "kernel.id": SESSION_KERNEL_ID,
                "kernel.name": Field(VALUE, "a kernelspec name; the new kernel starts at path"),
            }
        ),
        (_SESSIONS, "SessionHandler", "get"): NONE,
        (_SESSIONS, "SessionHandler", "patch"): _fields(
            {
                "notebook": LEGACY,
                "notebook.path": LEGACY,
                "path": Field(PATH, SESSION_PATH.handling + "; null refused"),
                "type": SESSION_TYPE,
                "name": SESSION_NAME,
                "kernel": SESSION_KERNEL,
                "kernel.id": Field(
                    KERNEL,
                    SESSION_KERNEL_ID.handling + "; replacing the kernel shuts the old one down, "
                    "which needs the shutdown rule on it",
                ),
                "kernel.name": Field(
                    VALUE,
                    "a kernelspec name: a new kernel starts at the session's OLD path, so "
                    "project:execute there, and the old kernel is shut down (shutdown rule)",
                ),
            }
        ),
        (_SESSIONS, "SessionHandler", "delete"): NONE,
        (_KERNELS, "MainKernelHandler", "get"): NONE,
        (_KERNELS, "MainKernelHandler", "post"): _fields(
            {
                "name": Field(VALUE, "a kernelspec name (string or null)"),
                "path": Field(PATH, "project:execute on the project of the kernel's folder"),
                "kernel_id": Field(
                    KERNEL,
                    "only a running kernel of the same project where the user may run code "
                    "(Jupyter then returns it); never a new kernel at a chosen id",
                ),
            }
        ),
        (_KERNELS, "KernelHandler", "get"): NONE,
        (_KERNELS, "KernelHandler", "delete"): NONE,
        (_KERNELS, "KernelActionHandler", "post"): NONE,
        (_WEBSOCKET, "KernelWebsocketHandler", "get"): NONE,
        (_WEBSOCKET, "KernelWebsocketHandler", "pre_get"): _fields(
            {"?session_id": Field(VALUE, "bound to the first user who uses it on the kernel")}
        ),
        (_CONTENTS, "ContentsHandler", "get"): _fields(
            {
                "?type": Field(VALUE, "a model type"),
                "?format": Field(VALUE, "text or base64"),
                "?content": Field(VALUE, "0 or 1"),
                "?hash": Field(VALUE, "0 or 1"),
            }
        ),
        (_CONTENTS, "ContentsHandler", "put"): _fields(
            {
                "copy_from": Field(VALUE, "refused by Jupyter (400) on PUT"),
                "path": Field(VALUE, "only Jupyter's hidden-path check reads it; never a target"),
                "type": Field(VALUE, "directory makes a new path a folder (mkdir)"),
                "chunk": Field(VALUE, "chunked saves; the URL path decides"),
            },
            hands_to=("new", "save"),
        ),
        (_CONTENTS, "ContentsHandler", "post"): _fields(
            {
                "copy_from": Field(PATH, "the copy's source: read on it (see targets.contents)"),
                "ext": Field(
                    PATH,
                    "joined to the new file's name by Jupyter: only a plain extension "
                    "(400 invalid_ext), and the new path is checked again when it is saved",
                ),
                "type": Field(VALUE, "directory makes the new entry a folder (mkdir)"),
            }
        ),
        (_CONTENTS, "ContentsHandler", "patch"): _fields(
            {
                "path": Field(
                    PATH, "the rename target: create (or mkdir) there, remove at the URL"
                ),
            },
            hands_to=("update",),
        ),
        (_CONTENTS, "ContentsHandler", "delete"): NONE,
        (_CONTENTS, "CheckpointsHandler", "get"): NONE,
        (_CONTENTS, "CheckpointsHandler", "post"): NONE,
        (_CONTENTS, "ModifyCheckpointsHandler", "post"): NONE,
        (_CONTENTS, "ModifyCheckpointsHandler", "delete"): NONE,
        (_CONTENTS, "TrustNotebooksHandler", "post"): NONE,
        # redirects to /api/contents, where the request is decided
        **{
            (_CONTENTS, "NotebooksRedirectHandler", verb): NONE
            for verb in ("get", "put", "patch", "post", "delete")
        },
    }
)

# contents manager method -> what jupyter_server's managers read of the body passed to it
MANAGER_FIELDS: Mapping[str, HandlerFields] = MappingProxyType(
    {
        "save": _fields(
            {
                "type": Field(VALUE, "file, notebook or directory"),
                "content": Field(VALUE, "what is saved at the URL path"),
                "format": Field(VALUE, "text, base64 or json"),
                "chunk": Field(VALUE, "chunk number of a large file, saved at the URL path"),
                "message": Field(VALUE, "echoed back in the reply"),
            },
            hands_to=("save", "pre_save_hook()"),
        ),
        "new": _fields(
            {
                "type": Field(VALUE, "file, notebook or directory"),
                "content": Field(VALUE, "what is saved at the URL path"),
            },
        ),
        "update": _fields(
            {
                "path": Field(PATH, "the rename target (see ContentsHandler.patch)"),
            }
        ),
    }
)


# -- body shapes ----------------------------------------------------------------------------


def bad_request(message: str, reason: str) -> web.HTTPError:
    """A 400 with a reason, raised before any policy question (it tells nothing)."""
    return web.HTTPError(400, message, reason=reason)


def json_object(handler: Any, required: bool) -> dict[str, Any] | None:
    """The JSON body as the handler will read it: an object, or None when there is
    none (refused when ``required``). Anything else is refused: Jupyter would fail
    on it with a 500, or read it in ways nobody checked."""
    model = handler.get_json_body() if handler.request.body else None
    if model is None and not required:
        return None
    if not isinstance(model, dict):
        raise bad_request("the body must be a JSON object", "bad_body")
    return model


def string_field(model: Mapping[str, Any], key: str, what: str, reason: str) -> str | None:
    """``model[key]`` when it is a string or null (or absent); else a 400 naming it."""
    value = model.get(key)
    if value is None or isinstance(value, str):
        return value
    raise bad_request(f"{what} must be a string", reason)


def object_field(model: Mapping[str, Any], key: str, what: str, reason: str) -> Mapping[str, Any]:
    """``model[key]`` when it is an object (``{}`` when absent); else a 400."""
    value = model.get(key, {})
    if not isinstance(value, dict):
        raise bad_request(f"{what} must be a JSON object", reason)
    return value


def refuse_legacy_notebook(model: Mapping[str, Any]) -> None:
    """Refuse the legacy ``notebook`` key of session bodies.

    jupyter_server still reads ``notebook.name`` and ``notebook.path`` and uses them
    instead of ``path``; JupyterLab never sends the key, so refusing it closes the
    disagreement for good rather than deciding which key wins.
    """
    if "notebook" in model:
        raise bad_request(
            "the legacy 'notebook' key is not accepted: send 'path' (and 'type')",
            "legacy_notebook_key",
        )
