"""Shared by the enforcement tests (``tests/test_enforce_*.py``, ``tests/test_attacks.py``).

- :class:`Http`: one request to the real server as one of the world's people, with the
  URL path sent exactly as given (so tests can send raw encodings such as ``%2e%2e``);
- :func:`notebook` / :func:`put_file`: small request bodies;
- :func:`plant`: files written through the filesystem (as a kernel would);
- :func:`start_session`: a real kernel started through ``POST /api/sessions``.

Assertions here are not rewritten by pytest, so each carries its own message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nbformat

from tests.helpers.world import World

SECRET = "TOP-SECRET-4f1c"


@dataclass
class Reply:
    """An answer: status code and raw body."""

    code: int
    raw: bytes
    location: str = ""  # the Location header of a redirect

    @property
    def json(self) -> Any:
        """The parsed JSON body (None when empty or not JSON)."""
        try:
            return json.loads(self.raw) if self.raw else None
        except ValueError:
            return None

    @property
    def reason(self) -> Any:
        """The error's machine-readable reason: from the JSON body of API routes, or from
        the ``<h1>403 : reason</h1>`` of the HTML error page of the other routes."""
        body = self.json
        if isinstance(body, dict):
            return body.get("reason")
        found = re.search(rb"<h1>\d+ : ([^<]*)</h1>", self.raw)
        return found.group(1).decode().strip() if found else None

    def __repr__(self) -> str:
        if self.raw.lstrip().startswith(b"<"):
            return f"Reply({self.code}, HTML, reason={self.reason!r})"
        return f"Reply({self.code}, {self.raw[:300]!r})"


@dataclass
class Http:
    """Requests to the test server as the world's people."""

    client: Any  # pytest-jupyter's http_server_client
    base_url: str  # jp_base_url, e.g. "/a%40b/"
    world: World

    async def raw(
        self,
        who: str | None,
        method: str,
        url_path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """``url_path`` (after the base URL) is sent as is: no escaping, no normalizing."""
        all_headers = dict(headers or {})
        all_headers.update(self.world.auth(who) if who is not None else {"Authorization": ""})
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = ""
        r = await self.client.fetch(
            self.base_url + url_path.lstrip("/"),
            method=method,
            body=body,
            headers=all_headers,
            raise_error=False,
            follow_redirects=False,
            request_timeout=60,
        )
        return Reply(r.code, r.body or b"", r.headers.get("Location", ""))

    async def __call__(
        self, who: str | None, method: str, path: str, body: Any = None, **kw: Any
    ) -> Reply:
        """``path`` is a plain path (``api/contents/acme/public/a b.txt``), escaped here."""
        return await self.raw(who, method, quote(path, safe="/"), body, **kw)

    async def get(self, who: str | None, path: str) -> Reply:
        return await self(who, "GET", path)

    async def ok(self, who: str | None, method: str, path: str, body: Any = None) -> Any:
        """The JSON body of a request that must succeed (2xx)."""
        reply = await self(who, method, path, body)
        assert 200 <= reply.code < 300, f"{who} {method} {path}: {reply!r}"
        return reply.json


def notebook(source: str = "print('hello')") -> dict[str, Any]:
    """A small valid notebook (nbformat 4) with one code cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(source))
    return dict(nb)


def notebook_text(source: str = "print('hello')") -> str:
    """:func:`notebook`, as stored on disk."""
    return json.dumps(notebook(source))


def put_file(content: str) -> dict[str, Any]:
    """A ``PUT /api/contents`` body that saves a text file."""
    return {"type": "file", "format": "text", "content": content}


def plant(root: Path, path: str, text: str) -> Path:
    """Write a file through the filesystem (not the server), parents included."""
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def tree(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (hidden checkpoints included) with its text."""
    return {
        str(p.relative_to(folder)): p.read_text(errors="replace")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


async def start_session(http: Http, who: str, path: str) -> dict[str, Any]:
    """Start a real ``python3`` kernel for the notebook at ``path``; the session model."""
    body = {"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}}
    reply = await http(who, "POST", "api/sessions", body)
    assert reply.code == 201, f"{who} could not start a session at {path}: {reply!r}"
    return dict(reply.json)
