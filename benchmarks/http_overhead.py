"""Benchmark the HTTP overhead of the extension: stock ``jupyter server`` against the same
server with ``jupyter_workspace_perms`` enabled, on the same files, under concurrent load.

Run from the repository root (see ``benchmarks/README.md`` for the targets)::

    python benchmarks/http_overhead.py [--quick] [--aa] [--concurrency 8] [--json PATH] [--strict]

It starts two servers side by side on 127.0.0.1, with identical root folders and the
same options, except that one has the extension disabled (and is called with the stock
server token) and the other has it enabled with a seeded policy (and is called with a
personal access token of a workspace Editor). Then, for each workload

1. GET a ~1 MB notebook through ``/api/contents``,
2. list a folder of 1,000 files through ``/api/contents``,
3. PUT (save) a ~100 kB notebook through ``/api/contents``,

it runs pairs of rounds (stock and extension back to back, order alternating) from one
client *process* that keeps its connections open (a minimal keep-alive HTTP/1.1 client on
asyncio streams, far cheaper than the server). The targets judge the median of the
per-pair ratios; ``--aa`` runs the extension off in both servers to show the noise floor.

Progress goes to stderr; the Markdown tables and target lines go to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import Target, cpu_seconds, load_average, log, percentile
from tests.helpers.servers import (
    HOST,
    Running,
    free_port,
    jupyter_env,
    server_args,
    started,
)

SEED = 20261127
SERVERS = ("stock", "extension")
ADMIN = "owner@acme.example"
EDITOR = "editor@acme.example"
PROJECT = "acme/data"
BIG_NOTEBOOK_BYTES = 1_000_000
PUT_NOTEBOOK_BYTES = 100_000
MANY_FILES = 1_000
OUTSIDE_FILE = "README.md"  # a file directly in root_dir: listed by stock, hidden by ours
STARTUP_TIMEOUT_S = 90.0

TARGET_THROUGHPUT_RATIO = 0.95  # extension / stock requests per second, at least
TARGET_P99_RATIO = 1.10  # extension / stock p99 latency, at most


# -- the files -------------------------------------------------------------------------


def _notebook(rng: random.Random, target_bytes: int, prefix: str) -> dict[str, Any]:
    """A valid nbformat 4.5 notebook of about ``target_bytes``: code cells with text output."""
    from jupyter_workspace_perms.demo.world import python_notebook

    words = ["alpha", "beta", "gamma", "delta", "sigma", "omega", "theta", "kappa", "lambda"]
    cells: list[dict[str, Any]] = []
    size = 0
    while size < target_bytes:
        n = len(cells)
        lines = [
            " ".join(rng.choice(words) for _ in range(8)) + f" {rng.random():.6f}\n"
            for _ in range(60)
        ]
        source = f"# cell {n}\nvalues = [x ** 2 for x in range({n})]\nprint(values[-3:])\n"
        cells.append(
            {
                "cell_type": "code",
                "id": f"{prefix}-{n:05d}",
                "metadata": {},
                "execution_count": n + 1,
                "source": source,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": lines}],
            }
        )
        size += len(source) + sum(map(len, lines)) + 200
    return python_notebook(cells)


@dataclass(frozen=True)
class Files:
    """What every root folder holds (the same bytes for both servers)."""

    big: str  # the ~1 MB notebook, serialized as on disk
    put_body: bytes  # the PUT request body: a contents model holding a notebook
    put_bytes: int  # the size of that notebook on disk

    @classmethod
    def generate(cls) -> Files:
        """Both notebooks, from a fixed seed."""
        rng = random.Random(SEED)
        big = json.dumps(_notebook(rng, BIG_NOTEBOOK_BYTES, "big"), indent=1) + "\n"
        small = _notebook(rng, PUT_NOTEBOOK_BYTES, "put")
        body = {"type": "notebook", "format": "json", "content": small}
        return cls(big, json.dumps(body).encode(), len(json.dumps(small, indent=1)))


def build_root(root: Path, files: Files, writers: int) -> None:
    """``acme/data/big.ipynb``, ``acme/data/many/`` (1,000 files) and the PUT targets."""
    project = root / PROJECT
    (project / "many").mkdir(parents=True)
    (project / "put").mkdir()
    (project / "big.ipynb").write_text(files.big, encoding="utf-8")
    (root / OUTSIDE_FILE).write_text("# Benchmark root\n", encoding="utf-8")
    for i in range(MANY_FILES):
        (project / "many" / f"file-{i:04d}.txt").write_text(f"row {i}\n" * 12, encoding="utf-8")
    notebook = json.loads(files.put_body)["content"]
    for i in range(writers):  # one file per client connection: saves never race
        text = json.dumps(notebook, indent=1) + "\n"
        (project / "put" / f"w{i:02d}.ipynb").write_text(text, encoding="utf-8")


def seed_policy(db_url: str) -> str:
    """Workspace ``acme`` with project ``data`` and an Editor; returns the Editor's token."""
    from jupyter_workspace_perms.store import PolicyStore

    store = PolicyStore(db_url=db_url).open()
    try:
        with store.write("bench") as w:
            w.ensure_user(ADMIN, "token")
            w.ensure_user(EDITOR, "token")
            w.create_workspace("acme", ADMIN, "token", name="Acme")
            w.set_member("acme", EDITOR, "editor")
            w.create_project("acme", "data", "full", creator=ADMIN)
        with store.write("bench") as w:
            _, secret = w.create_token(EDITOR, note="http benchmark")
    finally:
        store.close()
    return secret


# -- the servers -----------------------------------------------------------------------


@dataclass
class Server:
    """A running ``jupyter server`` subprocess and how to call it."""

    name: str
    port: int
    token: str
    running: Running

    @property
    def process(self) -> subprocess.Popen[Any]:
        """The server's process (the leader of its own process group)."""
        return self.running.process

    @property
    def base(self) -> str:
        """The server's URL."""
        return f"http://{HOST}:{self.port}"

    @property
    def home(self) -> Path:
        """The folder holding the server's root, Jupyter folders and log."""
        assert self.running.log is not None
        return self.running.log.parent

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log, for error messages."""
        return self.running.log_tail(lines)


def other_extensions() -> list[str]:
    """Every other server extension enabled on this machine: both servers run without them.

    Found the way ``ServerApp.find_server_extensions`` finds them (``jupyter_server_config``
    files on the Jupyter config path), so the only difference is ours.
    """
    from jupyter_core.paths import jupyter_config_path
    from jupyter_server.extension.config import ExtensionConfigManager

    found: Any = ExtensionConfigManager(read_config_path=jupyter_config_path())
    return sorted(set(found.get_jpserver_extensions()) - {"jupyter_workspace_perms"})


def contents_managers() -> str:
    """Which contents manager each server runs (checked, and printed in the report)."""
    from jupyter_server.serverapp import ServerApp

    from jupyter_workspace_perms.server.contents import WorkspaceContentsManager

    stock = ServerApp.contents_manager_class.default_value
    if not issubclass(WorkspaceContentsManager, stock):
        raise RuntimeError(f"WorkspaceContentsManager does not extend the stock {stock}")
    return (
        f"contents managers: stock {stock.__name__} (jupyter_server's default), extension "
        f"{WorkspaceContentsManager.__name__}, a subclass of it"
    )


def bench_server_args(root: Path, port: int, stock_token: str, extension: bool) -> list[str]:
    """The command line; the two servers differ only in whether our extension is on."""
    return server_args(
        root,
        port,
        extension=extension,
        extra=[
            f"--IdentityProvider.token={stock_token}",
            *(f"--ServerApp.jpserver_extensions={name}=False" for name in other_extensions()),
        ],
    )


def start_server(
    stack: ExitStack,
    name: str,
    home: Path,
    files: Files,
    extension: bool,
    db_url: str,
    token: str,
    extra: Sequence[str],
) -> Server:
    """Start one server on its own copy of the files and its own Jupyter directories; it is
    stopped (its whole process group) when ``stack`` closes."""
    root = home / "root"
    build_root(root, files, WRITERS_MAX)
    stock_token = secrets.token_hex(24)
    env = jupyter_env(home, {"WORKSPACE_PERMS_DB_URL": db_url})
    port = free_port()
    args = [*bench_server_args(root, port, stock_token, extension), *extra]
    running = stack.enter_context(started(args, env, log=home / "server.log"))
    return Server(name, port, token if extension else stock_token, running)


def http(
    server: Server,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    token: str | None = None,
) -> tuple[int, bytes]:
    """One plain request (setup and sanity checks only, never timed)."""
    headers = {"Authorization": f"token {token or server.token}"}
    request = urllib.request.Request(server.base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as e:
        return int(e.code), bytes(e.read())


def wait_ready(server: Server) -> None:
    """Wait until ``/api/status`` answers the server's credentials."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the {server.name} server exited:\n{server.log_tail()}")
        try:
            if http(server, "/api/status")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the {server.name} server did not answer:\n{server.log_tail()}")


@contextmanager
def running_servers(
    workdir: Path,
    files: Files,
    extension_args: Sequence[str],
    aa: bool = False,
    instances: int = 1,
) -> Iterator[list[dict[str, Server]]]:
    """``instances`` stock/extension pairs of servers, started side by side and stopped
    afterwards whatever happens.

    With ``aa`` the extension is off in all of them (an A/A run: the noise floor).
    """
    db_url = f"sqlite:///{workdir / 'policy.sqlite'}"
    token = seed_policy(db_url)
    with ExitStack() as stack:
        pairs: list[dict[str, Server]] = []
        for i in range(instances):
            pair: dict[str, Server] = {}
            for name in SERVERS:
                extension = name == "extension" and not aa
                extra = extension_args if extension else ()
                home = workdir / f"{name}-{i + 1}"
                server = start_server(stack, name, home, files, extension, db_url, token, extra)
                pair[name] = server
            pairs.append(pair)
        for pair in pairs:
            for server in pair.values():
                wait_ready(server)
        log(f"{2 * instances} servers are up")
        yield pairs


def sanity_checks(servers: dict[str, Server], files: Files, aa: bool) -> list[str]:
    """Both servers answer every workload alike; the extension is on in one only."""
    stock, ext = servers["stock"], servers["extension"]
    me = "/api/workspace-perms/me"
    if aa:
        if http(stock, me)[0] != 404 or http(ext, me)[0] != 404:
            raise RuntimeError("the extension must be off in both servers of an A/A run")
        notes = ["A/A run: the extension is OFF in both servers, so every ratio is noise"]
        return notes + _check_workloads(servers, files)
    return _check_extension(stock, ext) + _check_workloads(servers, files)


def _check_extension(stock: Server, ext: Server) -> list[str]:
    notes = []
    me = "/api/workspace-perms/me"
    if http(stock, me)[0] != 404 or http(ext, me)[0] != 200:
        raise RuntimeError("the extension must be off in the stock server and on in the other")
    refused, _ = http(ext, "/api/status", token=stock.token)
    if refused != 403:
        raise RuntimeError(f"the extension server accepted the stock token: {refused}")
    notes.append("extension off in stock (its API answers 404) and on in the other")
    for server, listed in ((stock, True), (ext, False)):
        status, body = http(server, "/api/contents?content=1")
        names = {e["name"] for e in json.loads(body)["content"]} if status == 200 else set()
        if (OUTSIDE_FILE in names) != listed:
            raise RuntimeError(
                f"{server.name}: {OUTSIDE_FILE} in root_dir should be "
                f"{'listed' if listed else 'hidden (is WorkspaceContentsManager installed?)'}"
            )
    notes.append(
        f"{contents_managers()}: the extension server hides {OUTSIDE_FILE} in root_dir, "
        "so its contents manager is in charge"
    )
    return notes


def _check_workloads(servers: dict[str, Server], files: Files) -> list[str]:
    counts = []
    for server in servers.values():
        status, body = http(server, f"/api/contents/{PROJECT}/many?content=1")
        listing = json.loads(body)["content"] if status == 200 else []
        status_big, big = http(server, f"/api/contents/{PROJECT}/big.ipynb?content=1")
        status_put, _ = http(
            server, f"/api/contents/{PROJECT}/put/w00.ipynb", "PUT", files.put_body
        )
        if (status, status_big, status_put) != (200, 200, 200):
            raise RuntimeError(
                f"{server.name}: setup requests answered {status}/{status_big}/{status_put}"
            )
        counts.append((len(listing), len(big)))
    if counts[0][0] != counts[1][0] or counts[0][0] != MANY_FILES:
        raise RuntimeError(f"the listings differ: {counts}")
    return [
        f"both list {MANY_FILES:,} entries; GET big.ipynb returns "
        f"{counts[0][1] / 1e6:.2f} MB (stock) / {counts[1][1] / 1e6:.2f} MB (extension)"
    ]


# -- the client (its own process, so it never competes with the server's event loop) -----


@dataclass(frozen=True)
class Workload:
    """One kind of request."""

    key: str
    title: str
    method: str
    path: Callable[[int], str]  # the URL path for client connection i
    expect: int


WORKLOADS = (
    Workload(
        "get_1mb", "GET 1 MB notebook", "GET", lambda i: f"{PROJECT}/big.ipynb?content=1", 200
    ),
    Workload("list_1000", "list 1,000 files", "GET", lambda i: f"{PROJECT}/many?content=1", 200),
    Workload(
        "put_nb", "PUT 100 kB notebook", "PUT", lambda i: f"{PROJECT}/put/w{i:02d}.ipynb", 200
    ),
)
WRITERS_MAX = 64  # PUT target files created per root (the most client connections)
WARMUP = 2  # untimed requests per server and workload before the first round

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _exchange(conn: Connection, request: bytes) -> int:
    """Send one request and read its whole response; returns the status."""
    reader, writer = conn
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length, chunked = -1, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    elif length >= 0:
        await reader.readexactly(length)
    else:
        raise ConnectionError("a response without length would close the connection")
    return status


class LoadClient:
    """Keep-alive connections to each server; runs one timed round per command."""

    def __init__(self) -> None:
        self.pools: dict[int, list[Connection]] = {}
        self.bodies: dict[str, bytes] = {}

    async def connections(self, port: int, n: int) -> list[Connection]:
        """``n`` open connections to ``port``, opened once and reused by every round."""
        pool = self.pools.setdefault(port, [])
        while len(pool) < n:
            pool.append(await asyncio.open_connection(HOST, port))
        return pool[:n]

    def request(self, spec: dict[str, Any], i: int) -> bytes:
        """The bytes of connection ``i``'s request."""
        body = b""
        if spec["body_path"]:
            if spec["body_path"] not in self.bodies:
                self.bodies[spec["body_path"]] = Path(spec["body_path"]).read_bytes()
            body = self.bodies[spec["body_path"]]
        head = (
            f"{spec['method']} /api/contents/{spec['paths'][i]} HTTP/1.1\r\n"
            f"Host: {HOST}:{spec['port']}\r\n"
            f"Authorization: token {spec['token']}\r\n"
            "Accept: application/json\r\n"
        )
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        return (head + "\r\n").encode() + body

    async def round(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Keep ``concurrency`` requests in flight until the request or time limit.

        Requests still in flight at the time limit finish and count: the server stays
        busy until the last one, so requests/s is completed requests over that time.
        """
        n = spec["concurrency"]
        conns = await self.connections(spec["port"], n)
        requests = [self.request(spec, i) for i in range(n)]
        latencies: list[float] = []
        errors: list[int] = []
        remaining = spec["requests"]
        server_cpu, client_cpu = cpu_seconds(spec["server_pid"]), time.process_time()
        start = time.perf_counter()
        deadline = start + spec["seconds"]

        async def run(i: int) -> None:
            nonlocal remaining
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                sent = time.perf_counter()
                status = await _exchange(conns[i], requests[i])
                latencies.append(time.perf_counter() - sent)
                if status != spec["expect"]:
                    errors.append(status)

        await asyncio.gather(*(run(i) for i in range(n)))
        wall = time.perf_counter() - start
        server_cpu = cpu_seconds(spec["server_pid"]) - server_cpu
        client_cpu = time.process_time() - client_cpu
        return {
            "requests": len(latencies),
            "errors": len(errors),
            "error_statuses": sorted(set(errors)),
            "seconds": wall,
            "rps": len(latencies) / wall,
            "p50_ms": 1000 * percentile(latencies, 50),
            "p99_ms": 1000 * percentile(latencies, 99),
            "latencies_ms": [round(1000 * x, 3) for x in latencies],
            "server_cpu_ms_per_request": 1000 * server_cpu / len(latencies),
            "server_cpu_pct": 100 * server_cpu / wall,
            "client_cpu_pct": 100 * client_cpu / wall,
        }


def client_main() -> int:
    """The client process: one JSON round spec per stdin line, one JSON result per line."""
    loop = asyncio.new_event_loop()
    client = LoadClient()
    for line in sys.stdin:
        result = loop.run_until_complete(client.round(json.loads(line)))
        print(json.dumps(result), flush=True)
    for conn in (c for pool in client.pools.values() for c in pool):
        conn[1].close()
    loop.close()
    return 0


class ClientProcess:
    """The parent's handle on the client process."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--client"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Send one round and wait for its result."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(spec) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the client process died (see its traceback above)")
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        """End the client process."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


# -- running the rounds ----------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Pairs of rounds and their lengths: the full run and the ``--quick`` smoke run."""

    pairs: int  # rounds per server and workload; stock and extension alternate
    seconds: float  # the time limit of one round (in-flight requests then finish)
    requests: int  # the request limit of one round
    instances: int  # server processes per side; pair i runs on instance i % instances
    concurrency: int

    @classmethod
    def choose(cls, quick: bool, concurrency: int | None) -> Settings:
        """2 pairs of 0.2 s rounds on 4 connections and one server per side for a smoke
        run; 12 pairs of 1 s rounds on 8 connections over 3 servers per side otherwise."""
        if quick:
            return cls(2, 0.2, 500, 1, concurrency or 4)
        return cls(12, 1.0, 5_000, 3, concurrency or 8)


@dataclass
class Measured:
    """One workload: the rounds of each server, in pairs (round i of both ran back to back)."""

    workload: Workload
    stock: list[dict[str, Any]] = field(default_factory=list)
    extension: list[dict[str, Any]] = field(default_factory=list)

    def rounds(self, server: str) -> list[dict[str, Any]]:
        """The rounds of one server."""
        return self.stock if server == "stock" else self.extension

    def median(self, server: str, key: str) -> float:
        """The median over one server's rounds of a per-round number."""
        return float(statistics.median(r[key] for r in self.rounds(server)))

    def pair_ratios(self, key: str) -> list[float]:
        """Extension over stock of a per-round number, for each back-to-back pair."""
        return [e[key] / s[key] for s, e in zip(self.stock, self.extension, strict=True)]

    def ratio(self, key: str) -> float:
        """The median of the pair ratios: what the throughput target judges."""
        return float(statistics.median(self.pair_ratios(key)))

    def pooled_p99(self, server: str) -> float:
        """The p99 over every request of every round of one server.

        A round has few requests (about 30 GETs of the big notebook), so its own p99 is
        nearly its maximum; pooling the interleaved rounds gives the tail enough samples.
        """
        return percentile([x for r in self.rounds(server) for x in r["latencies_ms"]], 99)

    def p99_ratio(self) -> float:
        """Extension over stock of the pooled p99: what the latency target judges."""
        return self.pooled_p99("extension") / self.pooled_p99("stock")

    @property
    def errors(self) -> int:
        """Unexpected statuses over all rounds of both servers."""
        return sum(int(r["errors"]) for r in self.stock + self.extension)

    def to_json(self) -> dict[str, Any]:
        """Every round, for the JSON file."""
        return {"workload": self.workload.key, "stock": self.stock, "extension": self.extension}


def round_spec(
    server: Server,
    workload: Workload,
    settings: Settings,
    body_path: Path,
    seconds: float,
    requests: int,
) -> dict[str, Any]:
    """What the client process needs for one round."""
    return {
        "port": server.port,
        "token": server.token,
        "method": workload.method,
        "paths": [workload.path(i) for i in range(settings.concurrency)],
        "body_path": str(body_path) if workload.method == "PUT" else "",
        "expect": workload.expect,
        "concurrency": settings.concurrency,
        "requests": requests,
        "seconds": seconds,
        "server_pid": server.process.pid,
    }


def run_all(
    settings: Settings,
    extension_args: Sequence[str],
    aa: bool = False,
    workloads: Sequence[Workload] = WORKLOADS,
) -> tuple[list[Measured], dict[str, Any]]:
    """Start both servers and the client, check them, then run every round interleaved."""
    started = time.perf_counter()
    files = Files.generate()
    measured = [Measured(w) for w in workloads]
    with (
        tempfile.TemporaryDirectory(prefix="wsperms-http-bench-") as tmp,
        running_servers(Path(tmp), files, extension_args, aa, settings.instances) as pairs,
    ):
        log(f"setup took {time.perf_counter() - started:.1f} s")
        notes = [note for servers in pairs for note in sanity_checks(servers, files, aa)]
        notes = list(dict.fromkeys(notes))  # the same notes from every instance
        body_path = Path(tmp) / "put-body.json"
        body_path.write_bytes(files.put_body)
        client = ClientProcess()
        try:
            for server in (s for servers in pairs for s in servers.values()):
                for workload in workloads:  # untimed: connections, caches, lazy imports
                    spec = round_spec(server, workload, settings, body_path, 60.0, WARMUP)
                    client.run(spec)
            log(f"{settings.pairs} pairs x {len(workloads)} workloads")
            for p in range(settings.pairs):
                servers = pairs[p % len(pairs)]  # process-level luck averages out
                order = SERVERS if p % 2 == 0 else SERVERS[::-1]  # ABBA: drift hits both alike
                for m in measured:
                    for name in order:
                        spec = round_spec(
                            servers[name],
                            m.workload,
                            settings,
                            body_path,
                            settings.seconds,
                            settings.requests,
                        )
                        result = {"instance": p % len(pairs) + 1, **client.run(spec)}
                        m.rounds(name).append(result)
                        _log_round(p, m.workload, name, result)
        finally:
            client.close()
    context = {
        "notes": notes,
        "big_bytes": len(files.big.encode()),
        "put_bytes": files.put_bytes,
        "seconds": time.perf_counter() - started,
    }
    return measured, context


def _log_round(pair: int, workload: Workload, server: str, result: dict[str, Any]) -> None:
    log(
        f"pair {pair + 1} {workload.key:9s} {server:9s}#{result['instance']} "
        f"{result['rps']:7.1f} req/s "
        f"p50 {result['p50_ms']:7.1f} ms p99 {result['p99_ms']:7.1f} ms "
        f"server CPU {result['server_cpu_pct']:3.0f}% client CPU {result['client_cpu_pct']:3.0f}%"
    )


# -- report ----------------------------------------------------------------------------


def _spread(values: list[float]) -> str:
    return f"pairs {min(values):.2f}..{max(values):.2f}"


def all_targets(results: list[Measured]) -> list[Target]:
    """Throughput and p99 ratios of every workload (any error fails both)."""
    targets = []
    for m in results:
        title = m.workload.title
        suffix = f", {m.errors} unexpected statuses" if m.errors else ""
        rps, p99 = m.ratio("rps"), m.p99_ratio()
        targets += [
            Target(
                f"{title} throughput extension/stock ≥ {TARGET_THROUGHPUT_RATIO}",
                "PASS" if rps >= TARGET_THROUGHPUT_RATIO and not m.errors else "FAIL",
                f"median pair ratio {rps:.3f}, {_spread(m.pair_ratios('rps'))}; "
                f"{m.median('extension', 'rps'):.1f} vs {m.median('stock', 'rps'):.1f} req/s"
                + suffix,
            ),
            Target(
                f"{title} p99 extension/stock ≤ {TARGET_P99_RATIO}",
                "PASS" if p99 <= TARGET_P99_RATIO and not m.errors else "FAIL",
                f"pooled ratio {p99:.3f}, per-pair {_spread(m.pair_ratios('p99_ms'))}; "
                f"{m.pooled_p99('extension'):.1f} vs {m.pooled_p99('stock'):.1f} ms" + suffix,
            ),
        ]
    return targets


def main_table(results: list[Measured]) -> str:
    """One row per workload and server: medians over the rounds (p99: over all requests)."""
    lines = [
        "| workload | server | req/s | p50 ms | p99 ms | requests/round | server CPU ms/req "
        "| server CPU % | client CPU % | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        for server in SERVERS:
            rounds = m.rounds(server)
            cells = [
                f"{m.median(server, 'rps'):.1f}",
                f"{m.median(server, 'p50_ms'):.1f}",
                f"{m.pooled_p99(server):.1f}",
                f"{m.median(server, 'requests'):.0f}",
                f"{m.median(server, 'server_cpu_ms_per_request'):.2f}",
                f"{m.median(server, 'server_cpu_pct'):.0f}",
                f"{m.median(server, 'client_cpu_pct'):.0f}",
                str(sum(int(r["errors"]) for r in rounds)),
            ]
            lines.append(f"| {m.workload.title} | {server} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratio_table(results: list[Measured]) -> str:
    """Extension over stock per workload: medians of the back-to-back pair ratios
    (p99: the ratio of the pooled p99s)."""
    lines = [
        "| workload | throughput ratio | p99 ratio | p50 ratio | server CPU/req ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in results:
        ratios = [
            m.ratio("rps"),
            m.p99_ratio(),
            m.ratio("p50_ms"),
            m.ratio("server_cpu_ms_per_request"),
        ]
        lines.append(f"| {m.workload.title} | " + " | ".join(f"{r:.3f}" for r in ratios) + " |")
    return "\n".join(lines)


def print_report(
    results: list[Measured], targets: list[Target], machine: dict[str, Any], context: dict[str, Any]
) -> None:
    """The Markdown report on stdout."""
    s = machine["settings"]
    print("## HTTP overhead: stock jupyter server vs. the extension\n")
    print(main_table(results))
    print(
        f"\nMedians of {s['pairs']} rounds per side and workload, rotating over "
        f"{s['instances']} server process(es) per side. Each round keeps "
        f"{s['concurrency']} requests in flight on keep-alive connections from one client "
        f"process for {s['seconds']:g} s (at most {s['requests']:,} requests), then lets "
        f"them finish. big.ipynb {context['big_bytes'] / 1e6:.2f} MB, PUT notebook "
        f"{context['put_bytes'] / 1e3:.0f} kB. Server CPU = the server process (all threads) "
        "over the round; client CPU = the client process.\n"
    )
    print("### Extension / stock (median of the ratios of back-to-back round pairs)\n")
    print(ratio_table(results))
    print("\n### Targets\n")
    for target in targets:
        print(f"- TARGET {target.name}: {target.status} ({target.measured})")
    print(
        f"- INFO cores {machine['cores']}, load average (1/5/15 min) before "
        f"{machine['load_before']}, after {machine['load_after']} "
        f"(a busy machine inflates every number); run took {context['seconds']:.0f} s"
    )
    for note in context["notes"]:
        print(f"- INFO {note}")


def write_json(
    path: Path,
    results: list[Measured],
    targets: list[Target],
    machine: dict[str, Any],
    context: dict[str, Any],
) -> None:
    """Machine-readable results, every round included."""
    payload = {
        "python": sys.version.split()[0],
        "machine": machine,
        "context": context,
        "results": [m.to_json() for m in results],
        "ratios": {
            m.workload.key: {k: m.pair_ratios(k) for k in ("rps", "p50_ms", "p99_ms")}
            for m in results
        },
        "targets": [asdict(t) for t in targets],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")


# -- command line ----------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options; ``--client`` is internal (the client process)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short rounds, for a smoke run")
    parser.add_argument(
        "--concurrency",
        type=int,
        help="requests in flight per round (default: 8, 4 with --quick)",
    )
    parser.add_argument(
        "--extension-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="an extra command-line option for the extension server only (repeatable), "
        "e.g. to compare a contents manager subclass",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(w.key for w in WORKLOADS),
        help="comma-separated workloads to run (default: %(default)s)",
    )
    parser.add_argument("--pairs", type=int, help="pairs of rounds (default: 12, 2 with --quick)")
    parser.add_argument(
        "--seconds", type=float, help="time limit of a round (default: 1, 0.2 with --quick)"
    )
    parser.add_argument(
        "--requests", type=int, help="request limit of a round (default: 5000, 500 with --quick)"
    )
    parser.add_argument(
        "--instances",
        type=int,
        help="server processes per side; pairs of rounds rotate over them "
        "(default: 3, 1 with --quick)",
    )
    parser.add_argument(
        "--aa",
        action="store_true",
        help="A/A run: the extension off in both servers, to see this machine's noise floor",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.concurrency is not None and not 1 <= args.concurrency <= WRITERS_MAX:
        parser.error(f"--concurrency must be between 1 and {WRITERS_MAX}")
    for name in ("instances", "pairs", "requests"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.seconds is not None and args.seconds <= 0:
        parser.error("--seconds must be positive")
    by_key = {w.key: w for w in WORKLOADS}
    keys = [k.strip() for k in args.workloads.split(",") if k.strip()]
    unknown = [k for k in keys if k not in by_key]
    if unknown or not keys:
        parser.error(f"--workloads takes some of {', '.join(by_key)}, not {args.workloads!r}")
    args.workloads = [by_key[k] for k in keys]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run every workload, print the report, and exit 1 on a failed target only with --strict."""
    args = parse_args(argv)
    if args.client:
        return client_main()
    settings = Settings.choose(args.quick, args.concurrency)
    overrides = {
        name: getattr(args, name)
        for name in ("instances", "pairs", "seconds", "requests")
        if getattr(args, name) is not None
    }
    settings = replace(settings, **overrides)
    machine: dict[str, Any] = {
        "cores": os.cpu_count(),
        "settings": asdict(settings),
        "load_before": load_average(),
    }
    results, context = run_all(settings, args.extension_arg, args.aa, args.workloads)
    machine["load_after"] = load_average()
    targets = all_targets(results)
    print_report(results, targets, machine, context)
    if args.json:
        write_json(args.json, results, targets, machine, context)
    failed = any(t.status == "FAIL" for t in targets)
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
