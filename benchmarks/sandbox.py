"""Benchmark what the kernel sandbox costs: a kernel's start until it answers, and a
trivial cell's round trip, with bubblewrap and without, in one run.

Run from the repository root (see ``benchmarks/README.md`` for the targets)::

    python benchmarks/sandbox.py [--quick] [--starts 30] [--trips 2000] [--json PATH] [--strict]

It starts two servers side by side on 127.0.0.1, each on its own root holding project
``acme/data`` with a notebook, with the extension on and the same options except
``--KernelSandbox.mode``: ``required`` (every kernel runs in bubblewrap and talks to the
server over unix sockets, ``ipc`` transport) and ``off`` (the same kernel, unconfined, on
loopback TCP). Both are called with a workspace Editor's personal access token. Then,
the two sides strictly alternating (sandboxed, plain, sandboxed, plain, ...):

1. **kernel start**: ``POST /api/sessions`` for the notebook, the kernel websocket, and a
   ``kernel_info_request`` on it, until its ``kernel_info_reply`` and the kernel's idle
   status have both arrived: what JupyterLab waits for before it shows the kernel as
   ready. The session is deleted (and its kernel shut down) afterwards, untimed;
2. **execute round trip**: on one kernel per side, an ``execute_request`` of ``1+1`` over
   the websocket until its ``execute_reply`` (the idle status that follows is awaited,
   untimed, before the next request).

Why: the sandbox must not make kernels noticeably slower to start or to answer. Its
costs are bubblewrap's namespaces and mounts at start, and unix sockets instead of TCP
on every message. The targets judge the ratios of the medians, sandboxed / plain.

Progress goes to stderr; the Markdown tables and ``TARGET``/``INFO`` lines go to stdout.
The exit code is 0 unless ``--strict`` is given and a target fails.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import Target, cpu_seconds, load_average, log, percentile
from benchmarks.http_overhead import Server, bench_server_args, wait_ready
from benchmarks.kernel_hook import (
    HOOK_CELL,
    HOOK_CODE,
    KernelClient,
    KernelSide,
    execute_content,
    execute_metadata,
    hook_notebook,
    seed_policy,
)
from tests.helpers.servers import free_port, jupyter_env, started

PROJECT = "acme/data"
NOTEBOOK = "bench.ipynb"
NOTEBOOK_CELLS = 20  # a small notebook; the Editor's messages do not read it
MODES = {"sandboxed": "required", "plain": "off"}  # side -> --KernelSandbox.mode
SIDE_TITLES = {
    "sandboxed": "sandboxed (bubblewrap, ipc)",
    "plain": "plain (mode off, tcp)",
}
TARGET_START_RATIO = 1.10  # sandboxed / plain median start until ready, at most
TARGET_TRIP_RATIO = 1.02  # sandboxed / plain median execute round trip, at most
TIMEOUT_S = 120.0
# jupyter_server's "nudge" sends kernel_info_requests every 0.5 s until iopub carries a
# message; a start whose reply came this long after the websocket opened waited for a retry
NUDGE_RETRY_MS = 400.0

# what the checks run in each kernel: its pid (a PID namespace of its own makes it small),
# its transport, and whether it sees the server's policy database
PROBE = """import json as _j, os as _os
from ipykernel.connect import get_connection_info as _info
_j.dumps({{"pid": _os.getpid(), "transport": _info(unpack=True)["transport"],
          "sees_policy": _os.path.exists({db!r})}})"""


@dataclass
class SandboxSide(KernelSide):
    """One server, the kernel its client talks to now, and what was measured."""

    mode: str = ""
    session_id: str = ""
    starts: list[dict[str, float]] = field(default_factory=list)
    trips: list[float] = field(default_factory=list)  # ms to the execute_reply
    idles: list[float] = field(default_factory=list)  # ms to the idle status after it
    cpu: dict[str, float] = field(default_factory=dict)  # server and kernel, per trip

    @property
    def db(self) -> Path:
        """The server's policy database, which its kernels must not see when confined."""
        return self.server.home / "policy.sqlite"


@dataclass(frozen=True)
class Answer:
    """One request's answer: when it was sent, replied to and followed by the idle
    status (``time.perf_counter``), the reply's content and the iopub results."""

    sent: float
    replied: float
    idle: float
    reply: dict[str, Any]
    results: list[dict[str, Any]]


class SandboxClient(KernelClient):
    """The kernel hook benchmark's v1 websocket client, for any request with a reply."""

    async def ask(
        self, msg_type: str, content: dict[str, Any], metadata: dict[str, Any] | None = None
    ) -> Answer:
        """Send ``msg_type`` on shell; wait for its reply and the idle status after it."""
        return await asyncio.wait_for(self._ask(msg_type, content, metadata or {}), TIMEOUT_S)

    async def _ask(
        self, msg_type: str, content: dict[str, Any], metadata: dict[str, Any]
    ) -> Answer:
        from jupyter_server.services.kernels.connection.base import (
            deserialize_msg_from_ws_v1,
            serialize_msg_to_ws_v1,
        )

        reply_type = msg_type.replace("_request", "_reply")
        msg = self.session.msg(msg_type, content=content, metadata=metadata)
        msg_id = msg["header"]["msg_id"]
        frame = serialize_msg_to_ws_v1(msg, "shell", self.session.pack)  # type: ignore[no-untyped-call]
        reply: dict[str, Any] | None = None
        results: list[dict[str, Any]] = []
        replied = idle = 0.0
        sent = time.perf_counter()
        await self.ws.write_message(frame, binary=True)
        while reply is None or not idle:
            raw = await self.ws.read_message()
            now = time.perf_counter()
            self._ack_now()
            if raw is None:
                raise RuntimeError(f"{self.side.key}: the kernel socket closed")
            channel, parts = deserialize_msg_from_ws_v1(raw)  # type: ignore[no-untyped-call]
            if json.loads(parts[1]).get("msg_id") != msg_id:
                continue
            kind = json.loads(parts[0])["msg_type"]
            if channel == "shell" and kind == reply_type:
                reply, replied = json.loads(parts[3]), now
            elif channel == "iopub" and kind in ("execute_result", "error"):
                results.append(json.loads(parts[3]))
            elif channel == "iopub" and kind == "status" and not idle:
                idle = now if json.loads(parts[3]).get("execution_state") == "idle" else 0.0
        return Answer(sent, replied, idle, reply, results)


# -- the servers ---------------------------------------------------------------------------


def start_side(stack: ExitStack, home: Path, key: str) -> SandboxSide:
    """Start one server on its own root holding the notebook, not waited for; it is stopped
    (its whole process group) when ``stack`` closes."""
    root = home / "root"
    (root / PROJECT).mkdir(parents=True)
    text = json.dumps(hook_notebook(NOTEBOOK_CELLS), indent=1) + "\n"
    (root / PROJECT / NOTEBOOK).write_text(text, encoding="utf-8")
    db_url = f"sqlite:///{home / 'policy.sqlite'}"
    token = seed_policy(db_url)["editor"]
    env = jupyter_env(home, {"WORKSPACE_PERMS_DB_URL": db_url})
    port = free_port()
    args = [
        *bench_server_args(root, port, secrets.token_hex(24), extension=True),
        f"--KernelSandbox.mode={MODES[key]}",
    ]
    running = stack.enter_context(started(args, env, log=home / "server.log"))
    server = Server(key, port, token, running)
    return SandboxSide(key, SIDE_TITLES[key], "Editor", server, token, mode=MODES[key])


async def call(side: SandboxSide, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One REST call with the Editor's token; (status, parsed JSON body or None)."""
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    request = HTTPRequest(
        f"{side.server.base}{path}",
        method=method,
        body=None if body is None else json.dumps(body),
        headers={"Authorization": f"token {side.token}"},
        request_timeout=TIMEOUT_S,
    )
    response = await AsyncHTTPClient().fetch(request, raise_error=False)
    return response.code, json.loads(response.body) if response.body else None


async def start_kernel(side: SandboxSide) -> tuple[SandboxClient, dict[str, float]]:
    """Start the notebook's kernel as JupyterLab does, until it answers; the client and
    the ms from the POST to each step."""
    body = {
        "path": f"{PROJECT}/{NOTEBOOK}",
        "type": "notebook",
        "name": NOTEBOOK,
        "kernel": {"name": "python3"},
    }
    began = time.perf_counter()
    status, model = await call(side, "POST", "/api/sessions", body)
    posted = time.perf_counter()
    if status != 201:
        raise RuntimeError(f"{side.key}: POST /api/sessions answered {status}: {model}")
    side.kernel_id, side.session_id = model["kernel"]["id"], model["id"]
    client = SandboxClient(side)
    await client.open()  # the server answers once the kernel replied to its kernel_info
    opened = time.perf_counter()
    answer = await client.ask("kernel_info_request", {})
    if answer.reply.get("status") != "ok":
        raise RuntimeError(f"{side.key}: kernel_info answered {answer.reply}")
    steps = {
        "post_ms": posted - began,
        "open_ms": opened - began,
        "reply_ms": answer.replied - began,
        "idle_ms": answer.idle - began,
        "ready_ms": max(answer.replied, answer.idle) - began,
    }
    return client, {k: 1000 * v for k, v in steps.items()}


async def stop_kernel(side: SandboxSide, client: SandboxClient) -> None:
    """Close the socket and delete the session, which shuts its kernel down (waited for)."""
    client.close()
    status, _ = await call(side, "DELETE", f"/api/sessions/{side.session_id}")
    if status != 204:
        raise RuntimeError(f"{side.key}: DELETE of the session answered {status}")
    side.kernel_id = side.session_id = ""


def kernel_pid(kernel_id: str) -> int | None:
    """The kernel's own process (not bubblewrap's), found by its connection file."""
    needle = f"kernel-{kernel_id}.json".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(needle in arg for arg in argv) and os.path.basename(argv[0]) != b"bwrap":
            return int(entry)
    return None


# -- checks --------------------------------------------------------------------------------


async def check_side(side: SandboxSide, client: SandboxClient) -> str:
    """The kernel is confined on the sandboxed side only, and ``1+1`` answers 2."""
    answer = await client.ask("execute_request", execute_content(PROBE.format(db=str(side.db))))
    text = answer.results[0].get("data", {}).get("text/plain", "") if answer.results else ""
    if answer.reply.get("status") != "ok" or not text:
        raise RuntimeError(f"{side.key}: the probe answered {answer.reply} {answer.results}")
    seen = json.loads(ast.literal_eval(text))
    confined = side.key == "sandboxed"
    expected = {"transport": "ipc" if confined else "tcp", "sees_policy": not confined}
    if {k: seen[k] for k in expected} != expected or (seen["pid"] < 10) != confined:
        raise RuntimeError(
            f"{side.key}: the kernel should{'' if confined else ' not'} be "
            f"confined, it reports {seen}"
        )
    answer = await client.ask(
        "execute_request", execute_content(HOOK_CODE), execute_metadata(HOOK_CELL)
    )
    data = answer.results[0].get("data", {}) if answer.results else {}
    if answer.reply.get("status") != "ok" or data.get("text/plain") != "2":
        raise RuntimeError(f"{side.key}: {HOOK_CODE} answered {answer.reply} {answer.results}")
    return (
        f"{side.key}: transport {seen['transport']}, pid {seen['pid']} inside the kernel, "
        f"the policy database {'visible' if seen['sees_policy'] else 'hidden'}"
    )


# -- the measurement -----------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Starts and round trips per side: the full run and the ``--quick`` smoke run."""

    starts: int  # timed kernel starts per side
    trips: int  # timed round trips per side
    warmup: int  # untimed round trips per side first

    @classmethod
    def choose(cls, args: argparse.Namespace) -> Settings:
        """30 starts and 2,000 round trips per side; ``--quick``: 2 starts and 40 trips."""
        quick = cls(2, 40, 5) if args.quick else cls(30, 2_000, 50)
        return cls(args.starts or quick.starts, args.trips or quick.trips, quick.warmup)


async def measure(sides: list[SandboxSide], settings: Settings) -> list[str]:
    """Checks, then the starts and the round trips, the sides strictly alternating."""
    notes = []
    for side in sides:  # untimed first start per side: checks, imports, the disk cache
        client, _ = await start_kernel(side)
        try:
            notes.append(await check_side(side, client))
        finally:
            await stop_kernel(side, client)
    log("checks passed: the sandboxed kernel is confined, the plain one is not")
    for n in range(settings.starts):
        for side in sides:
            client, steps = await start_kernel(side)
            await stop_kernel(side, client)
            side.starts.append(steps)
        log(
            f"start {n + 1}/{settings.starts}: "
            + ", ".join(f"{s.key} {s.starts[-1]['ready_ms']:.0f} ms" for s in sides)
        )
    clients = {}
    try:
        for side in sides:
            clients[side.key] = (await start_kernel(side))[0]
        await round_trips(sides, clients, settings)
    finally:
        for side in sides:
            if side.key in clients:
                await stop_kernel(side, clients[side.key])
    return notes


async def round_trips(
    sides: list[SandboxSide], clients: dict[str, SandboxClient], settings: Settings
) -> None:
    """``1+1`` to its reply, one round trip per side in turn."""
    content, metadata = execute_content(HOOK_CODE), execute_metadata(HOOK_CELL)
    for side in sides:
        for _ in range(settings.warmup):  # untimed: lazy imports, the kernel's history
            await clients[side.key].ask("execute_request", content, metadata)
    pids = {side.key: kernel_pid(side.kernel_id) for side in sides}
    cpu = {side.key: (cpu_seconds(side.server.process.pid), _cpu(pids[side.key])) for side in sides}
    for n in range(settings.trips):
        for side in sides:
            answer = await clients[side.key].ask("execute_request", content, metadata)
            if answer.reply.get("status") != "ok":
                reply = answer.reply
                raise RuntimeError(
                    f"{side.key}: {HOOK_CODE} answered {reply.get('status')} "
                    f"{reply.get('ename')} {reply.get('evalue')!r} after {len(side.trips)} trips"
                )
            side.trips.append(1000 * (answer.replied - answer.sent))
            side.idles.append(1000 * (answer.idle - answer.sent))
        if (n + 1) % max(1, settings.trips // 4) == 0:
            log(
                f"round trips {n + 1}/{settings.trips}: "
                + ", ".join(f"{s.key} {statistics.median(s.trips):.2f} ms" for s in sides)
            )
    for side in sides:
        server, kernel = cpu[side.key]
        side.cpu = {
            "server_ms": 1000 * (cpu_seconds(side.server.process.pid) - server) / settings.trips,
            "kernel_ms": 1000 * (_cpu(pids[side.key]) - kernel) / settings.trips,
        }


def _cpu(pid: int | None) -> float:
    return float("nan") if pid is None else cpu_seconds(pid)


# -- the report ----------------------------------------------------------------------------


def figures(sides: list[SandboxSide]) -> dict[str, Any]:
    """The numbers the tables and targets show."""
    by_key = {side.key: side for side in sides}
    start: dict[str, Any] = {}
    trip: dict[str, Any] = {}
    for side in sides:
        ready = [s["ready_ms"] for s in side.starts]
        prompt = [s["ready_ms"] for s in side.starts if not _retried(s)]
        start[side.key] = {
            "starts": len(ready),
            "median": statistics.median(ready),
            "p90": percentile(ready, 90),
            "min": min(ready),
            "max": max(ready),
            **{
                f"{step}_median": statistics.median(s[f"{step}_ms"] for s in side.starts)
                for step in ("post", "open", "reply")
            },
            "nudge_retries": len(ready) - len(prompt),
            "median_without_retries": statistics.median(prompt) if prompt else float("nan"),
        }
        trip[side.key] = {
            "trips": len(side.trips),
            "median": statistics.median(side.trips),
            "p99": percentile(side.trips, 99),
            "idle_median": statistics.median(side.idles),
            "server_cpu_ms": side.cpu.get("server_ms", float("nan")),
            "kernel_cpu_ms": side.cpu.get("kernel_ms", float("nan")),
        }
    s, p = by_key["sandboxed"], by_key["plain"]
    pairs = [a["ready_ms"] / b["ready_ms"] for a, b in zip(s.starts, p.starts, strict=True)]
    start["ratio"] = start["sandboxed"]["median"] / start["plain"]["median"]
    start["pair_ratios"] = pairs
    trip["ratio"] = trip["sandboxed"]["median"] / trip["plain"]["median"]
    trip["p99_ratio"] = trip["sandboxed"]["p99"] / trip["plain"]["p99"]
    return {"start_ms": start, "round_trip_ms": trip}


def _retried(start: dict[str, float]) -> bool:
    """Whether a start waited for a second nudge of jupyter_server (see NUDGE_RETRY_MS)."""
    return start["reply_ms"] - start["open_ms"] >= NUDGE_RETRY_MS


def nudge_note(found: dict[str, Any]) -> str:
    """How many starts waited for jupyter_server's second nudge, and the medians without."""
    s, p = found["start_ms"]["sandboxed"], found["start_ms"]["plain"]
    ratio = s["median_without_retries"] / p["median_without_retries"]
    return (
        f"starts that waited for jupyter_server's second nudge (the reply ≥ {NUDGE_RETRY_MS:.0f} "
        "ms after the websocket opened: the server re-sends kernel_info_request every 0.5 s "
        "until the new iopub socket carries a message, and now and then it misses the first "
        f"one): sandboxed {s['nudge_retries']} of {s['starts']}, plain {p['nudge_retries']} "
        f"of {p['starts']}; medians without them {s['median_without_retries']:.0f} ms vs "
        f"{p['median_without_retries']:.0f} ms (ratio {ratio:.3f})"
    )


def targets(found: dict[str, Any]) -> list[Target]:
    """Both targets, judged on the ratios of the medians."""
    start, trip = found["start_ms"], found["round_trip_ms"]
    pairs = start["pair_ratios"]
    return [
        Target(
            f"kernel start sandboxed/plain ≤ {TARGET_START_RATIO:.2f}",
            "PASS" if start["ratio"] <= TARGET_START_RATIO else "FAIL",
            f"ratio of medians {start['ratio']:.3f}; {start['sandboxed']['median']:.0f} ms vs "
            f"{start['plain']['median']:.0f} ms; pairs {min(pairs):.2f}..{max(pairs):.2f}",
        ),
        Target(
            f"execute round trip sandboxed/plain ≤ {TARGET_TRIP_RATIO:.2f}",
            "PASS" if trip["ratio"] <= TARGET_TRIP_RATIO else "FAIL",
            f"ratio of medians {trip['ratio']:.3f}; {trip['sandboxed']['median']:.2f} ms vs "
            f"{trip['plain']['median']:.2f} ms; p99 {trip['sandboxed']['p99']:.2f} ms vs "
            f"{trip['plain']['p99']:.2f} ms (ratio {trip['p99_ratio']:.3f})",
        ),
    ]


def start_table(found: dict[str, Any]) -> str:
    """Kernel starts: one row per side and the ratio."""
    start = found["start_ms"]
    lines = [
        "| side | starts | median ms | p90 ms | min ms | max ms | POST answered ms "
        "| websocket open ms | kernel_info reply ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, title in SIDE_TITLES.items():
        f = start[key]
        lines.append(
            f"| {title} | {f['starts']} | {f['median']:.0f} | {f['p90']:.0f} | {f['min']:.0f} "
            f"| {f['max']:.0f} | {f['post_median']:.0f} | {f['open_median']:.0f} "
            f"| {f['reply_median']:.0f} |"
        )
    ratios = [start["sandboxed"][k] / start["plain"][k] for k in ("median", "p90")]
    steps = [
        start["sandboxed"][f"{k}_median"] / start["plain"][f"{k}_median"]
        for k in ("post", "open", "reply")
    ]
    lines.append(
        f"| sandboxed / plain | | {ratios[0]:.3f} | {ratios[1]:.3f} | | | "
        + " | ".join(f"{r:.3f}" for r in steps)
        + " |"
    )
    return "\n".join(lines)


def trip_table(found: dict[str, Any]) -> str:
    """Round trips: one row per side and the ratio."""
    trip = found["round_trip_ms"]
    lines = [
        "| side | round trips | median ms | p99 ms | to idle, median ms "
        "| server CPU ms per trip | kernel CPU ms per trip |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, title in SIDE_TITLES.items():
        f = trip[key]
        lines.append(
            f"| {title} | {f['trips']:,} | {f['median']:.3f} | {f['p99']:.3f} "
            f"| {f['idle_median']:.3f} | {f['server_cpu_ms']:.3f} | {f['kernel_cpu_ms']:.3f} |"
        )
    s, p = trip["sandboxed"], trip["plain"]
    lines.append(
        f"| sandboxed / plain | | {trip['ratio']:.3f} | {trip['p99_ratio']:.3f} "
        f"| {s['idle_median'] / p['idle_median']:.3f} "
        f"| {s['server_cpu_ms'] / p['server_cpu_ms']:.3f} "
        f"| {s['kernel_cpu_ms'] / p['kernel_cpu_ms']:.3f} |"
    )
    return "\n".join(lines)


def bwrap_version() -> str:
    """``bwrap --version``, or why not."""
    program = shutil.which("bwrap")
    if program is None:
        return "bwrap is not installed"
    done = subprocess.run([program, "--version"], capture_output=True, text=True, check=False)
    return f"{program} ({done.stdout.strip() or done.stderr.strip()})"


def print_report(
    found: dict[str, Any], judged: list[Target], machine: dict[str, Any], notes: list[str]
) -> None:
    """The Markdown report on stdout."""
    s = machine["settings"]
    print("## Kernel sandbox: bubblewrap against plain kernels\n")
    print("### Kernel start until it answers\n")
    print(start_table(found))
    print(
        f"\n{s['starts']} starts per side, the sides strictly alternating. Each is timed from "
        "`POST /api/sessions` to the kernel's `kernel_info_reply` and idle status on a new "
        "websocket (the columns give the median time from the POST to each step); the "
        "session is deleted, untimed, before the other side's start.\n"
    )
    print(f"### Execute round trip (`{HOOK_CODE}`)\n")
    print(trip_table(found))
    print(
        f"\n{s['trips']:,} round trips per side on one kernel each, alternating one by one, "
        f"after {s['warmup']} untimed ones: `execute_request` to its `execute_reply` over the "
        "v1 websocket protocol. CPU: the server process and the kernel's own process (all "
        "threads, from `/proc`) over all round trips, per trip.\n"
    )
    print("### Targets\n")
    for target in judged:
        print(f"- TARGET {target.name}: {target.status} ({target.measured})")
    print(
        f"- INFO cores {machine['cores']}, load average (1/5/15 min) before "
        f"{machine['load_before']}, after {machine['load_after']} "
        f"(a busy machine inflates every number); run took {machine['seconds']:.0f} s"
    )
    for note in notes:
        print(f"- INFO {note}")


# -- command line --------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few starts and trips: a smoke run")
    parser.add_argument("--starts", type=int, help="kernel starts per side (default 30)")
    parser.add_argument("--trips", type=int, help="round trips per side (default 2000)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    for name in ("starts", "trips"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def run(settings: Settings) -> tuple[list[SandboxSide], list[str]]:
    """Both servers side by side, measured, and stopped whatever happens."""
    with tempfile.TemporaryDirectory(prefix="wsperms-sbx-") as tmp, ExitStack() as stack:
        # short paths: a kernel's unix sockets live in its server's runtime folder
        sides = [start_side(stack, Path(tmp) / key, key) for key in MODES]
        for side in sides:
            wait_ready(side.server)
        log(f"{len(sides)} servers are up")
        notes = asyncio.run(measure(sides, settings))
    return sides, notes


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the report, and exit 1 on a failed target only with --strict."""
    args = parse_args(argv)
    settings = Settings.choose(args)
    began = time.perf_counter()
    machine: dict[str, Any] = {
        "cores": os.cpu_count(),
        "settings": asdict(settings),
        "load_before": load_average(),
    }
    sides, checks = run(settings)
    machine["load_after"] = load_average()
    machine["seconds"] = time.perf_counter() - began
    found = figures(sides)
    judged = targets(found)
    notes = [
        f"both servers run the extension, signed in as the Editor; they differ only in "
        f"--KernelSandbox.mode ({MODES['sandboxed']} / {MODES['plain']}); {bwrap_version()}",
        *checks,
        nudge_note(found),
        "the client acknowledges every frame at once (TCP_QUICKACK), as in kernel_hook.py's "
        "round trip: without it Linux's delayed ACKs add up to 40 ms to a reply",
    ]
    print_report(found, judged, machine, notes)
    if args.json:
        payload = {
            "python": sys.version.split()[0],
            "machine": machine,
            "figures": found,
            "starts": {side.key: side.starts for side in sides},
            "round_trips_ms": {side.key: side.trips for side in sides},
            "targets": [asdict(t) for t in judged],
            "notes": notes,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    failed = any(t.status == "FAIL" for t in judged)
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
