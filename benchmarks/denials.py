"""Benchmark what recording denials costs: refused requests over HTTP, with the denial
recorder on and off.

Run from the repository root (see ``benchmarks/README.md``)::

    python benchmarks/denials.py [--quick] [--requests 2000] [--pairs 5] [--json PATH] [--strict]

It starts two ``jupyter server`` processes with the extension, side by side on 127.0.0.1,
each on its own SQLite policy database holding the same world; they differ only in
``DenialRecorder.enabled``. Two workloads of refused requests, each a pair of rounds per
repetition (on and off back to back, the order alternating, so a busy moment of the
machine falls on both):

``one person``   an outsider asks for a project folder again and again (404 ``not_found``):
                 one (user, reason) key, so after ``DenialRecorder.limit`` rows a denial is
                 only counted;
``many people``  50 members without write access save a file in turn (403
                 ``role_too_low``): 50 keys, so every round writes up to 50 times the limit in rows.

Requests are sent one at a time over one keep-alive connection per person (latency, not
throughput). Reported: median and p99 latency per side, the server's CPU time per request,
the median of the per-pair ratios on/off, and the machine's load average. After the runs
the recording server's database must hold ``denied`` rows and the other's none.

Progress goes to stderr; the Markdown tables and the target line go to stdout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import Target, cpu_seconds, load_average, log, percentile
from tests.helpers.servers import HOST, Running, free_port, jupyter_env, server_args, started

SIDES = ("on", "off")
OWNER = "owner@acme.example"
OUTSIDER = "outsider@else.example"
MEMBERS = 50
TARGET_RATIO = 1.10
STARTUP_TIMEOUT_S = 60.0


def seed(db_url: str) -> dict[str, str]:
    """acme with project ``data``, ``MEMBERS`` viewers and an outsider; their tokens."""
    from jupyter_workspace_perms.store import PolicyStore

    store = PolicyStore(db_url=db_url).open()
    tokens: dict[str, str] = {}
    try:
        with store.write("bench") as w:
            w.create_workspace("acme", OWNER, "token")
            w.create_project("acme", "data", "full", creator=OWNER)
            w.ensure_user(OUTSIDER, "token")
            for i in range(MEMBERS):
                w.ensure_user(f"viewer{i}@acme.example", "token")
                w.set_member("acme", f"viewer{i}@acme.example", "viewer")
        with store.write("bench") as w:
            tokens[OUTSIDER] = w.create_token(OUTSIDER)[1]
            for i in range(MEMBERS):
                tokens[f"viewer{i}"] = w.create_token(f"viewer{i}@acme.example")[1]
    finally:
        store.close()
    return tokens


@dataclass
class Server:
    """A running server and its database."""

    side: str
    port: int
    db_url: str
    running: Running
    connections: dict[str, http.client.HTTPConnection] = field(default_factory=dict)

    def request(self, token: str, method: str, path: str, body: bytes | None = None) -> int:
        """One request on the caller's keep-alive connection; the status."""
        conn = self.connections.get(token)
        if conn is None:
            conn = self.connections[token] = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return int(response.status)

    def close(self) -> None:
        for conn in self.connections.values():
            conn.close()


def start(stack: ExitStack, workdir: Path, side: str, limit: int) -> Server:
    home = workdir / side
    root = home / "root"
    (root / "acme" / "data").mkdir(parents=True)
    db_url = f"sqlite:///{home / 'policy.sqlite'}"
    tokens_file = home / "tokens.json"
    tokens_file.write_text(json.dumps(seed(db_url)))
    port = free_port()
    args = server_args(
        root,
        port,
        extra=[
            "--ServerApp.jpserver_extensions=jupyter_server_terminals=False",
            f"--DenialRecorder.enabled={side == 'on'}",
            f"--DenialRecorder.limit={limit}",
            "--KernelSandbox.mode=off",
        ],
    )
    env = jupyter_env(home, {"WORKSPACE_PERMS_DB_URL": db_url})
    running = stack.enter_context(started(args, env, log=home / "server.log"))
    server = Server(side, port, db_url, running)
    stack.callback(server.close)
    return server


def wait_ready(server: Server, token: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.running.process.poll() is not None:
            raise RuntimeError(f"the {server.side} server exited:\n{server.running.log_tail()}")
        try:
            if server.request(token, "GET", "/api/workspace-perms/me") == 200:
                return
        except OSError:
            server.connections.clear()
        time.sleep(0.2)
    raise RuntimeError(f"the {server.side} server did not answer:\n{server.running.log_tail()}")


def one_round(server: Server, tokens: dict[str, str], workload: str, n: int) -> list[float]:
    """``n`` refused requests; each one's latency in µs."""
    times: list[float] = []
    body = json.dumps({"type": "file", "format": "text", "content": "x"}).encode()
    for i in range(n):
        if workload == "one person":
            token, method, path, data, expected = (
                tokens[OUTSIDER],
                "GET",
                "/api/contents/acme/data",
                None,
                404,
            )
        else:
            token = tokens[f"viewer{i % MEMBERS}"]
            method, path, data, expected = "PUT", "/api/contents/acme/data/x.txt", body, 403
        t0 = time.perf_counter_ns()
        status = server.request(token, method, path, data)
        times.append((time.perf_counter_ns() - t0) / 1000)
        if status != expected:
            raise RuntimeError(f"{server.side}: {method} {path} answered {status}, not {expected}")
    return times


def denied_rows(db_url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from jupyter_workspace_perms.store import orm

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            query = select(func.count()).where(orm.AuditEvent.action.like("denied%"))
            return int(connection.scalar(query) or 0)
    finally:
        engine.dispose()


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"workloads": {}, "load_average_before": load_average()}
    with tempfile.TemporaryDirectory(prefix="wsperms-bench-denials-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        servers = {side: start(stack, workdir, side, args.limit) for side in SIDES}
        tokens = {side: json.loads((workdir / side / "tokens.json").read_text()) for side in SIDES}
        for side, server in servers.items():
            wait_ready(server, tokens[side][OUTSIDER])
        log("both servers are up")
        for workload in ("one person", "many people"):
            samples: dict[str, list[float]] = {side: [] for side in SIDES}
            cpu: dict[str, float] = dict.fromkeys(SIDES, 0.0)
            ratios = []
            for pair in range(args.pairs):
                order = SIDES if pair % 2 == 0 else tuple(reversed(SIDES))
                medians = {}
                for side in order:
                    pid = servers[side].running.process.pid
                    before = cpu_seconds(pid)
                    times = one_round(servers[side], tokens[side], workload, args.requests)
                    cpu[side] += cpu_seconds(pid) - before
                    samples[side] += times
                    medians[side] = statistics.median(times)
                ratios.append(medians["on"] / medians["off"])
                log(f"{workload} pair {pair + 1}: on/off {ratios[-1]:.3f}")
            total = args.requests * args.pairs
            results["workloads"][workload] = {
                side: {
                    "requests": total,
                    "median_us": statistics.median(samples[side]),
                    "p99_us": percentile(samples[side], 99),
                    "cpu_us_per_request": cpu[side] / total * 1e6,
                }
                for side in SIDES
            } | {"ratios": ratios, "median_ratio": statistics.median(ratios)}
        time.sleep(1.5)  # the recorder's rows are written with the next audit flush
        results["denied_rows"] = {side: denied_rows(servers[side].db_url) for side in SIDES}
    results["load_average_after"] = load_average()
    return results


def report(results: dict[str, Any]) -> list[Target]:
    print("| workload | recording | requests | median µs | p99 µs | server CPU µs/request |")
    print("|---|---|---:|---:|---:|---:|")
    for workload, found in results["workloads"].items():
        for side in SIDES:
            r = found[side]
            print(
                f"| {workload} | {side} | {r['requests']} | {r['median_us']:.0f} | "
                f"{r['p99_us']:.0f} | {r['cpu_us_per_request']:.0f} |"
            )
    print()
    print("| workload | median ratio on/off | per-pair ratios |")
    print("|---|---:|---|")
    for workload, found in results["workloads"].items():
        spread = ", ".join(f"{x:.3f}" for x in found["ratios"])
        print(f"| {workload} | {found['median_ratio']:.3f} | {spread} |")
    print()
    rows = results["denied_rows"]
    print(f"INFO denied rows written: recording on {rows['on']}, off {rows['off']}")
    print(
        f"INFO load average (1/5/15 min): before {results['load_average_before']}, "
        f"after {results['load_average_after']}"
    )
    worst = max(found["median_ratio"] for found in results["workloads"].values())
    status = "PASS" if worst <= TARGET_RATIO else "FAIL"
    target = Target(f"denial recording on/off ≤ {TARGET_RATIO:.2f}", status, f"{worst:.3f}")
    print(f"TARGET {target.name}: {target.status} (worst median ratio {target.measured})")
    return [target]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 requests, 2 pairs")
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--pairs", type=int, default=5, help="on/off pairs per workload")
    parser.add_argument("--limit", type=int, default=20, help="DenialRecorder.limit")
    parser.add_argument("--json", type=Path, help="also write every number here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target fails")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.pairs = 100, 2
    results = run(args)
    targets = report(results)
    if results["denied_rows"]["on"] == 0 or results["denied_rows"]["off"] != 0:
        log(f"sanity check failed: denied rows {results['denied_rows']}")
        return 1
    if args.json is not None:
        results["targets"] = [t.__dict__ for t in targets]
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if args.strict and any(t.status == "FAIL" for t in targets) else 0


if __name__ == "__main__":
    raise SystemExit(main())
