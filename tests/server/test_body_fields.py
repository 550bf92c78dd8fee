"""The table of what Jupyter's handlers read (``server/authz/fields.py``) against the
installed jupyter_server, and an attack through every path and kernel field in it.

The table is compared with the handlers' source, read as a program: from
``self.get_json_body()`` it follows the body through variables (``kernel =
model.get("kernel", {})``), ``if``/``try`` branches and the handler's own helper
methods, and collects every key read (``model["x"]``, ``model.get("x")``,
``"x" in model``, ``setdefault``) and every ``get_argument``/``get_query_argument``.
A jupyter_server upgrade whose handler reads a new key, or a new handler method,
fails here until the table (and the Authorizer) say how it is treated.

The attacks send each ``path``, ``kernel`` and ``refused`` field of the table pointing
into a private project of ``acme`` the attacker cannot see (``acme/hr``) and into
another workspace (``beta/secret``), each with a running kernel there, and expect a
refusal that changes nothing.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from jupyter_workspace_perms.server.authz.fields import (
    HANDLER_FIELDS,
    KERNEL,
    MANAGER_FIELDS,
    PATH,
    REFUSED,
)
from jupyter_workspace_perms.server.contents import WorkspaceContentsManager
from tests.helpers.http import Http, Reply, plant, start_session, tree
from tests.helpers.world import World

HANDLER_MODULES = (
    "jupyter_server.services.sessions.handlers",
    "jupyter_server.services.kernels.handlers",
    "jupyter_server.services.contents.handlers",
)
VERBS = {"get", "head", "post", "put", "patch", "delete", "options"}
ARGUMENT_GETTERS = {
    "get_argument",
    "get_arguments",
    "get_query_argument",
    "get_query_arguments",
    "get_body_argument",
    "get_body_arguments",
}
KEY_METHODS = {"get", "setdefault", "pop"}

# -- reading a method's source ----------------------------------------------------------

Env = dict[str, str]  # variable -> the dotted body field it holds ("" is the whole body)


@dataclass
class Reads:
    """What a method reads: body fields, query arguments, and the methods of other
    objects it passes the whole body to."""

    body: set[str] = field(default_factory=set)
    query: set[str] = field(default_factory=set)
    hands_to: set[str] = field(default_factory=set)

    @property
    def fields(self) -> set[str]:
        return self.body | {f"?{q}" for q in self.query}


class Reader:
    """Follows the body through one method's statements."""

    def __init__(self, cls: type, found: Reads, depth: int) -> None:
        self.cls, self.found, self.depth = cls, found, depth

    def resolve(self, node: ast.expr, env: Env) -> str | None:
        """The body field an expression holds, if it holds one."""
        if isinstance(node, ast.Name):
            return env.get(node.id)
        key: ast.expr | None = None
        base: ast.expr | None = None
        if isinstance(node, ast.Subscript):
            key, base = node.slice, node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in KEY_METHODS
            and node.args
        ):
            key, base = node.args[0], node.func.value
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and base is not None:
            prefix = self.resolve(base, env)
            if prefix is not None:
                return f"{prefix}.{key.value}" if prefix else key.value
        return None

    def scan(self, node: ast.AST, env: Env) -> None:
        """Record every read in an expression (or a simple statement)."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Load):
                self.record(self.resolve(sub, env))
            elif isinstance(sub, ast.Compare) and isinstance(sub.left, ast.Constant):
                for op, right in zip(sub.ops, sub.comparators, strict=True):
                    prefix = self.resolve(right, env)
                    if isinstance(op, (ast.In, ast.NotIn)) and prefix is not None:
                        key = str(sub.left.value)
                        self.record(f"{prefix}.{key}" if prefix else key)
            elif isinstance(sub, ast.Call):
                self.call(sub, env)

    def record(self, path: str | None) -> None:
        if path:
            self.found.body.add(path)

    def call(self, call: ast.Call, env: Env) -> None:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ARGUMENT_GETTERS and call.args and isinstance(call.args[0], ast.Constant):
            self.found.query.add(str(call.args[0].value))
            return
        if isinstance(func, ast.Attribute) and name in KEY_METHODS:
            self.record(self.resolve(call, env))
            return
        args = [*call.args, *(k.value for k in call.keywords)]
        if not any(isinstance(a, ast.Name) and env.get(a.id) == "" for a in args):
            return
        on_self = isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "self"
        helper = getattr(self.cls, name, None) if on_self else None
        if inspect.isfunction(helper) and self.depth < 5:
            params = list(inspect.signature(helper).parameters)[1:]
            inner: Env = {}
            for param, arg in zip(params, call.args, strict=False):
                if isinstance(arg, ast.Name) and arg.id in env:
                    inner[param] = env[arg.id]
            for kw in call.keywords:
                if kw.arg and isinstance(kw.value, ast.Name) and kw.value.id in env:
                    inner[kw.arg] = env[kw.value.id]
            read_function(helper, self.cls, inner, self.found, self.depth + 1)
        else:
            self.found.hands_to.add(name if isinstance(func, ast.Attribute) else f"{name}()")

    def run(self, stmts: list[ast.stmt], env: Env) -> Env:
        for stmt in stmts:
            env = self.stmt(stmt, env)
        return env

    def stmt(self, stmt: ast.stmt, env: Env) -> Env:
        if isinstance(stmt, ast.If):
            self.scan(stmt.test, env)
            return merge(self.run(stmt.body, dict(env)), self.run(stmt.orelse, dict(env)))
        if isinstance(stmt, ast.Try):
            body = self.run(stmt.body, dict(env))
            after = merge(body, self.run(stmt.orelse, dict(body)))
            for handler in stmt.handlers:
                after = merge(after, self.run(handler.body, dict(env)))
            return self.run(stmt.finalbody, after)
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            self.scan(stmt.test if isinstance(stmt, ast.While) else stmt.iter, env)
            return merge(env, self.run([*stmt.body, *stmt.orelse], dict(env)))
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self.scan(item.context_expr, env)
            return self.run(stmt.body, env)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            value = stmt.value
            self.scan(value, env)
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            env = dict(env)
            for target in targets:
                if not isinstance(target, ast.Name):
                    self.scan(target, env)
                    continue
                source = "" if is_body(value) else self.resolve(value, env)
                if source is None:
                    env.pop(target.id, None)  # the name now holds something else
                else:
                    env[target.id] = source
            return env
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return env
        self.scan(stmt, env)
        return env


def is_body(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get_json_body"
    )


def merge(a: Env, b: Env) -> Env:
    """After two branches: a name holds the body if it does in either."""
    return {**b, **a}


def read_function(func: Any, cls: type, env: Env, found: Reads, depth: int = 0) -> Reads:
    tree_ = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(func))))
    function = tree_.body[0]
    assert isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
    Reader(cls, found, depth).run(function.body, env)
    return found


def handler_classes() -> dict[tuple[str, str], type]:
    """Every handler class the session, kernel and contents services register."""
    found = {}
    for module_name in HANDLER_MODULES:
        for _pattern, cls in importlib.import_module(module_name).default_handlers:
            found[(cls.__module__, cls.__name__)] = cls
    return found


def handler_methods() -> dict[tuple[str, str, str], Reads]:
    """What each HTTP method (and any other method reading the request) of those reads."""
    found = {}
    for (module, name), cls in handler_classes().items():
        for method, func in vars(cls).items():
            if not inspect.isfunction(func) or method.startswith("__"):
                continue
            reads = read_function(func, cls, {}, Reads())
            if method in VERBS or reads.fields:
                found[(module, name, method)] = reads
    return found


# -- the table against the source -------------------------------------------------------


def test_the_reader_finds_what_the_handlers_are_known_to_read() -> None:
    """The reader itself, on reads the issue and docs/design.md name (so a broken
    reader cannot make the comparison below pass by finding nothing)."""
    found = handler_methods()
    post = found[("jupyter_server.services.sessions.handlers", "SessionRootHandler", "post")]
    assert {"notebook.name", "notebook.path", "kernel.id", "kernel.name"} <= post.body
    put = found[("jupyter_server.services.contents.handlers", "ContentsHandler", "put")]
    assert "chunk" in put.body and put.hands_to == {"new", "save"}
    get = found[("jupyter_server.services.contents.handlers", "ContentsHandler", "get")]
    assert get.query == {"type", "format", "content", "hash"}


def test_the_table_lists_every_field_the_installed_handlers_read() -> None:
    found = handler_methods()
    assert set(found) == set(HANDLER_FIELDS), "handler methods missing from or extra in the table"
    for key, reads in found.items():
        row = HANDLER_FIELDS[key]
        assert reads.fields == set(row.fields), key
        assert reads.hands_to == set(row.hands_to), key


def test_the_table_lists_what_the_contents_manager_reads_of_a_body() -> None:
    """Every jupyter_server class our contents manager builds on, for each method the
    contents handler passes a whole body to."""
    passed = {m for row in HANDLER_FIELDS.values() for m in row.hands_to}
    assert passed == set(MANAGER_FIELDS)
    for method, row in MANAGER_FIELDS.items():
        reads = Reads()
        for cls in WorkspaceContentsManager.__mro__:
            func = vars(cls).get(method)
            if func is not None and cls.__module__.startswith("jupyter_server."):
                params = list(inspect.signature(func).parameters)
                read_function(func, cls, {params[1]: ""}, reads)
        assert reads.fields == set(row.fields), method
        assert reads.hands_to == set(row.hands_to), method


# -- attacks through every path and kernel field -----------------------------------------

TARGETS = ("acme/hr", "beta/secret")  # a private project nobody here sees; another workspace


@dataclass
class Attack:
    """Requests sending one field at ``target``; their expected refusal."""

    who: str
    send: Callable[[Http, str, dict[str, str]], Awaitable[list[Reply]]]
    code: int
    reason: str


async def one(http: Http, who: str, method: str, url: str, body: Any) -> list[Reply]:
    return [await http(who, method, url, body)]


def session_body(path: str, **extra: Any) -> dict[str, Any]:
    return {"path": path, "type": "notebook", "name": "x.ipynb", **extra}


NEW = "acme/public/x.ipynb"
S = "jupyter_server.services.sessions.handlers"
K = "jupyter_server.services.kernels.handlers"
C = "jupyter_server.services.contents.handlers"
ATTACKS: dict[tuple[tuple[str, str, str], str], Attack] = {
    ((S, "SessionRootHandler", "post"), "path"): Attack(
        "contributor",
        lambda h, t, o: one(h, "contributor", "POST", "api/sessions", session_body(f"{t}/x.ipynb")),
        404,
        "not_found",
    ),
    ((S, "SessionRootHandler", "post"), "kernel.id"): Attack(
        "contributor",
        lambda h, t, o: one(
            h, "contributor", "POST", "api/sessions", session_body(NEW, kernel={"id": o[t]})
        ),
        404,
        "not_found",
    ),
    **{
        ((S, "SessionRootHandler", "post"), legacy): Attack(
            "contributor",
            lambda h, t, o, key=key: one(
                h,
                "contributor",
                "POST",
                "api/sessions",
                session_body(NEW, notebook={key: f"{t}/x.ipynb"}, kernel={"id": o["own"]}),
            ),
            400,
            "legacy_notebook_key",
        )
        for legacy, key in (
            ("notebook", "path"),
            ("notebook.path", "path"),
            ("notebook.name", "name"),
        )
    },
    ((S, "SessionHandler", "patch"), "path"): Attack(
        "contributor",
        lambda h, t, o: one(h, "contributor", "PATCH", o["session"], {"path": f"{t}/x.ipynb"}),
        404,
        "not_found",
    ),
    ((S, "SessionHandler", "patch"), "kernel.id"): Attack(
        "contributor",
        lambda h, t, o: one(h, "contributor", "PATCH", o["session"], {"kernel": {"id": o[t]}}),
        404,
        "not_found",
    ),
    **{
        ((S, "SessionHandler", "patch"), legacy): Attack(
            "contributor",
            lambda h, t, o: one(
                h, "contributor", "PATCH", o["session"], {"notebook": {"path": f"{t}/x.ipynb"}}
            ),
            400,
            "legacy_notebook_key",
        )
        for legacy in ("notebook", "notebook.path")
    },
    ((K, "MainKernelHandler", "post"), "path"): Attack(
        "contributor",
        lambda h, t, o: one(
            h, "contributor", "POST", "api/kernels", {"name": "python3", "path": t}
        ),
        404,
        "not_found",
    ),
    ((K, "MainKernelHandler", "post"), "kernel_id"): Attack(
        "contributor",
        lambda h, t, o: one(
            h, "contributor", "POST", "api/kernels", {"path": "acme/public", "kernel_id": o[t]}
        ),
        404,
        "not_found",
    ),
    ((C, "ContentsHandler", "post"), "copy_from"): Attack(
        "editor",
        lambda h, t, o: one(
            h, "editor", "POST", "api/contents/acme/public", {"copy_from": f"{t}/secret.txt"}
        ),
        404,
        "not_found",
    ),
    ((C, "ContentsHandler", "post"), "ext"): Attack(
        "editor",
        lambda h, t, o: one(
            h,
            "editor",
            "POST",
            "api/contents/acme/public",
            {"type": "file", "ext": f"/../../../{t}/evil.txt"},
        ),
        400,
        "invalid_ext",
    ),
    ((C, "ContentsHandler", "patch"), "path"): Attack(
        "editor",
        lambda h, t, o: one(
            h, "editor", "PATCH", "api/contents/acme/public/mine.txt", {"path": f"{t}/mine.txt"}
        ),
        404,
        "not_found",
    ),
}


def test_every_path_and_kernel_field_has_an_attack() -> None:
    risky = {
        (key, name)
        for key, row in HANDLER_FIELDS.items()
        for name, f in row.fields.items()
        if f.kind in (PATH, KERNEL, REFUSED)
    }
    assert risky == set(ATTACKS)
    # what the manager reads of a body it is handed: a path only in a rename
    assert {
        (method, name)
        for method, row in MANAGER_FIELDS.items()
        for name, f in row.fields.items()
        if f.kind in (PATH, KERNEL, REFUSED)
    } == {("update", "path")}


async def test_every_path_and_kernel_field_pointing_elsewhere_is_refused(
    http: Http, wsp_world: World, jp_serverapp: Any
) -> None:
    # the server's own store: the next request sees the change
    with jp_serverapp.web_app.settings["workspace_perms_store"].write("test") as w:
        w.create_project("acme", "hr", "none", creator="ada@acme.test")
        w.create_workspace("beta", "otto@else.test", "token", name="Beta")
        w.create_project("beta", "secret", "full", creator="otto@else.test")
    for target in TARGETS:
        plant(wsp_world.root, f"{target}/secret.txt", "TOP-SECRET")
    plant(wsp_world.root, "acme/public/mine.txt", "mine")
    objects = {
        "acme/hr": (await start_session(http, "admin", "acme/hr/hr.ipynb"))["kernel"]["id"],
        "beta/secret": (await start_session(http, "outsider", "beta/secret/s.ipynb"))["kernel"][
            "id"
        ],
    }
    own = await start_session(http, "contributor", "acme/public/own.ipynb")
    objects.update(own=own["kernel"]["id"], session=f"api/sessions/{own['id']}")
    sm, km = jp_serverapp.session_manager, jp_serverapp.kernel_manager
    sessions = sorted((s["id"], s["path"], s["kernel"]["id"]) for s in await sm.list_sessions())
    kernels = sorted(km.list_kernel_ids())
    files = tree(wsp_world.root)

    failures = []
    for (key, name), attack in ATTACKS.items():
        for target in TARGETS:
            for reply in await attack.send(http, target, objects):
                if (reply.code, reply.reason) != (attack.code, attack.reason):
                    failures.append(f"{key[1]}.{key[2]} {name} -> {target}: {reply!r}")
    assert failures == []
    after = sorted((s["id"], s["path"], s["kernel"]["id"]) for s in await sm.list_sessions())
    assert after == sessions
    assert sorted(km.list_kernel_ids()) == kernels
    assert tree(wsp_world.root) == files
