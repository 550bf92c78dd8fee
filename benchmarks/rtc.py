"""Benchmark what the guarded collaboration room costs an Editor's typing.

Run from the repository root (targets in ``benchmarks/README.md``)::

    python benchmarks/rtc.py [--quick] [--edits N] [--cells N] [--json PATH] [--strict]

Two ``jupyter server`` processes with jupyter-collaboration serve the same
notebook (``--cells`` code cells): one stock (jupyter_server_ydoc's own room
handler), one with this extension (its guarded room handler, every message judged
against the sender). On each, an Editor's client sends ``--edits`` single-character
edits, one at a time, and a second client in the same room (a Viewer on ours)
waits for each; the servers take turns in rounds of ``BATCH`` edits, so both see
the same machine load. Reported per server: server CPU per update (``/proc``,
user + system, over all rounds) and the latency from sending an edit to the other
client receiving it (p50, p99). The target is on the ratio of CPU per update,
guarded / stock: the median of the per-round ratios (each round of one server next to
the same round of the other), with the ratio over all rounds printed beside it.
Saves are off on both (``document_save_delay`` of an hour), so what is measured is
the room, not the disk.

Exit code 0 unless ``--strict`` is given and the target fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import cpu_seconds, load_average, log, percentile
from tests.helpers.servers import (
    HOST,
    Running,
    free_port,
    jupyter_env,
    server_args,
    started,
)

ADMIN = "owner@acme.example"
EDITOR = "editor@acme.example"
VIEWER = "viewer@acme.example"
NOTEBOOK = "acme/data/big.ipynb"
BATCH = 100
TARGET_CPU_RATIO = 1.10  # guarded / stock server CPU per update, at most
STARTUP_TIMEOUT_S = 90.0
SERVERS = ("stock", "guarded")


def seed_policy(db_url: str) -> dict[str, str]:
    """Workspace ``acme``, project ``data``, an Editor and a Viewer; their tokens."""
    from jupyter_workspace_perms.store import PolicyStore

    store = PolicyStore(db_url=db_url).open()
    tokens = {}
    try:
        with store.write("bench") as w:
            for who in (ADMIN, EDITOR, VIEWER):
                w.ensure_user(who, "token")
            w.create_workspace("acme", ADMIN, "token", name="Acme")
            w.set_member("acme", EDITOR, "editor")
            w.set_member("acme", VIEWER, "viewer")
            w.create_project("acme", "data", "full", creator=ADMIN)
        with store.write("bench") as w:
            for who in (EDITOR, VIEWER):
                tokens[who] = w.create_token(who, note="rtc benchmark")[1]
    finally:
        store.close()
    return tokens


def write_notebook(root: Path, cells: int) -> None:
    """A notebook of ``cells`` code cells, each with a few lines and a small output."""
    import nbformat

    made = []
    for i in range(cells):
        cell = nbformat.v4.new_code_cell(
            f"# cell {i}\nvalues = list(range({i}))\ntotal = sum(values)\nprint(total)\n",
            id=f"cell-{i}",
        )
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{i}\n" * 20)]
        cell.execution_count = i + 1
        made.append(cell)
    path = root / NOTEBOOK
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=made)))


@dataclass
class Server:
    """A running server: its port, the two clients' tokens, its process."""

    name: str
    port: int
    editor: str
    observer: str
    running: Running
    cpu: float = 0.0
    edits: int = 0
    latencies: list[float] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)  # CPU seconds of each round

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One JSON request as the Editor."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://{HOST}:{self.port}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.editor}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")


def start(
    stack: ExitStack, workdir: Path, name: str, db_url: str, tokens: dict[str, str]
) -> Server:
    """One server on its own copy of the notebook and its own Jupyter folders."""
    home = workdir / name
    root = home / "root"
    guarded = name == "guarded"
    stock_token = secrets.token_hex(24)
    port = free_port()
    extra = [
        f"--IdentityProvider.token={stock_token}",
        "--ServerApp.jpserver_extensions=jupyter_server_fileid=True",
        "--ServerApp.jpserver_extensions=jupyter_server_ydoc=True",
        "--YDocExtension.document_save_delay=3600",
        f"--SQLiteYStore.db_path={home / 'ystore.db'}",
        f"--BaseFileIdManager.db_path={home / 'file_id.db'}",
    ]
    args = server_args(root, port, extension=guarded, extra=extra)
    env = jupyter_env(home, {"WORKSPACE_PERMS_DB_URL": db_url})
    running = stack.enter_context(started(args, env, log=home / "server.log"))
    editor = tokens[EDITOR] if guarded else stock_token
    observer = tokens[VIEWER] if guarded else stock_token
    return Server(name, port, editor, observer, running)


def wait_ready(server: Server, cells: int, root: Path) -> None:
    """Until the server answers; the notebook is written into its root first."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.running.process.poll() is not None:
            raise RuntimeError(f"the {server.name} server exited:\n{server.running.log_tail()}")
        try:
            server.request("GET", "/api/status")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the {server.name} server did not answer:\n{server.running.log_tail()}")


class Client:
    """A pycrdt client of a room (see ``tests/helpers/rtc.py`` for the protocol)."""

    def __init__(self, ws: Any) -> None:
        from pycrdt import Doc

        self.ws = ws
        self.doc: Any = Doc()
        self.updates = 0

    @classmethod
    async def join(cls, server: Server, token: str, room: str) -> Client:
        from pycrdt import create_sync_message
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = f"ws://{HOST}:{server.port}/api/collaboration/room/{room}"
        headers = {"Authorization": f"token {token}"}
        client = cls(await websocket_connect(HTTPRequest(url, headers=headers)))
        client.ws.write_message(create_sync_message(client.doc), binary=True)
        while not await client.receive():
            pass
        return client

    async def receive(self) -> bool:
        """Apply one message; True when it was the server's answer or an update."""
        from pycrdt import handle_sync_message

        message = await self.ws.read_message()
        if message is None:
            raise RuntimeError(f"a room socket closed: {self.ws.close_reason}")
        if message[0] != 0:
            return False
        reply = handle_sync_message(message[1:], self.doc)
        if reply is not None:
            self.ws.write_message(reply, binary=True)
        self.updates += message[1] == 2
        return bool(message[1] in (1, 2))


async def open_room(server: Server) -> tuple[Client, Client]:
    """The Editor's and the other client's sockets to the notebook's room."""
    session = await asyncio.to_thread(
        server.request,
        "PUT",
        f"/api/collaboration/session/{NOTEBOOK}",
        {"format": "json", "type": "notebook"},
    )
    room = f"json:notebook:{session['fileId']}?sessionId={session['sessionId']}"
    return await Client.join(server, server.editor, room), await Client.join(
        server, server.observer, room
    )


async def drain(client: Client) -> None:
    """Keep reading the Editor's socket (the room echoes each update back)."""
    while True:
        await client.receive()


async def one_round(server: Server, editor: Client, observer: Client, start: int) -> None:
    """``BATCH`` edits, each waited for by the observer; the server's CPU meanwhile."""
    from pycrdt import Array, create_update_message

    cells = editor.doc.get("cells", type=Array)
    pid = server.running.process.pid
    before = cpu_seconds(pid)
    for i in range(start, start + BATCH):
        cell = cells[i % len(cells)]
        state = editor.doc.get_state()
        source = cell["source"]
        source.insert(len(source), "x")
        message = create_update_message(editor.doc.get_update(state))
        seen = observer.updates
        sent = time.perf_counter()
        editor.ws.write_message(message, binary=True)
        while observer.updates == seen:
            await observer.receive()
        server.latencies.append(time.perf_counter() - sent)
    spent = cpu_seconds(pid) - before
    server.cpu += spent
    server.rounds.append(spent)
    server.edits += BATCH


async def run(servers: list[Server], edits: int) -> None:
    rooms = {s.name: await open_room(s) for s in servers}
    drains = [asyncio.create_task(drain(editor)) for editor, _ in rooms.values()]
    try:
        for r in range(max(1, edits // BATCH)):
            order = servers if r % 2 == 0 else servers[::-1]
            for server in order:
                editor, observer = rooms[server.name]
                await one_round(server, editor, observer, r * BATCH)
            log(f"round {r + 1}: {', '.join(f'{s.name} {s.edits}' for s in servers)}")
    finally:
        for task in drains:
            task.cancel()
        for editor, observer in rooms.values():
            editor.ws.close()
            observer.ws.close()


def report(servers: list[Server], args: argparse.Namespace) -> dict[str, Any]:
    print(f"INFO machine load (1/5/15 min): {load_average()}; cores: {os.cpu_count()}")
    print(f"INFO notebook: {args.cells} code cells; edits per server: {servers[0].edits}")
    print("| server | edits | server CPU µs per update | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    rows = {}
    for s in servers:
        per_update = s.cpu / s.edits * 1e6
        p50, p99 = percentile(s.latencies, 50) * 1e3, percentile(s.latencies, 99) * 1e3
        rows[s.name] = {"edits": s.edits, "cpu_us": per_update, "p50_ms": p50, "p99_ms": p99}
        print(f"| {s.name} | {s.edits} | {per_update:.0f} | {p50:.2f} | {p99:.2f} |")
    pooled = rows["guarded"]["cpu_us"] / rows["stock"]["cpu_us"]
    # each round of one server is next to the same round of the other: the median of
    # those pairs' ratios resists the load spikes of a shared machine
    guarded, stock = servers[SERVERS.index("guarded")], servers[SERVERS.index("stock")]
    pairs = [g / s for g, s in zip(guarded.rounds, stock.rounds, strict=True) if s > 0]
    ratio = statistics.median(pairs) if pairs else pooled
    status = "PASS" if ratio <= TARGET_CPU_RATIO else "FAIL"
    print(
        f"TARGET server CPU per update guarded/stock <= {TARGET_CPU_RATIO:.2f}: "
        f"{status} ({ratio:.3f}, median of {len(pairs)} round pairs)"
    )
    print(f"INFO server CPU per update guarded/stock over all rounds: {pooled:.3f}")
    p99 = rows["guarded"]["p99_ms"] / rows["stock"]["p99_ms"]
    print(f"INFO p99 latency to the other client guarded/stock: {p99:.3f}")
    return {
        "rows": rows,
        "cpu_ratio": ratio,
        "cpu_ratio_pooled": pooled,
        "status": status,
        "load": load_average(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 edits, 40 cells")
    parser.add_argument("--edits", type=int, default=2000)
    parser.add_argument("--cells", type=int, default=400)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.edits, args.cells = 200, 40
    with tempfile.TemporaryDirectory(prefix="wsp-rtc-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'policy.sqlite'}"
        tokens = seed_policy(db_url)
        servers = []
        for name in SERVERS:
            write_notebook(workdir / name / "root", args.cells)
            servers.append(start(stack, workdir, name, db_url, tokens))
        for server in servers:
            wait_ready(server, args.cells, workdir / server.name / "root")
        log("both servers are up")
        asyncio.run(run(servers, args.edits))
        result = report(servers, args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 1 if args.strict and result["status"] == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
