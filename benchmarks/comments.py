"""Benchmark comments: listing the threads of a big notebook, and what they add to a save.

Run from the repository root (see ``benchmarks/README.md`` for the targets)::

    python benchmarks/comments.py [--quick] [--json PATH] [--strict]

One notebook of ``--cells`` code cells (default 1,000) carries ``--comments`` comments
(default 5,000: four threads in five, one reply in five, a mention in one in ten), all
written through the store. Then

1. **listing**: the threads of the notebook as ``GET /api/workspace-perms/comments``
   answers them, timed in-process (the store's two queries and the model building, as a
   Viewer) and over HTTP against a real server (a fresh connection per request);
2. **save**: the same notebook saved through the real ``WorkspaceContentsManager``
   (stock save, re-anchoring included), once at a path that carries the comments and
   once at a path without any, interleaved in one run; each save edits one cell, so
   the threads of that cell become outdated (an ``UPDATE`` of a few rows), as in use.

Progress goes to stderr; the Markdown tables and ``TARGET``/``INFO`` lines go to stdout,
with the machine's load average.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nbformat
from sqlalchemy import insert

from benchmarks.common import Target, load_average, log, percentile
from benchmarks.http_overhead import HOST, Server, bench_server_args, wait_ready
from jupyter_workspace_perms.api.handlers.comments import thread_list_model
from jupyter_workspace_perms.notebook.anchors import quote_of, source_hash
from jupyter_workspace_perms.policy import Subject
from jupyter_workspace_perms.policy.comments import comment_rights
from jupyter_workspace_perms.server.contents import WorkspaceContentsManager
from jupyter_workspace_perms.store import PolicyStore, orm
from jupyter_workspace_perms.store.comments import Comments
from jupyter_workspace_perms.store.orm import utcnow
from tests.helpers.servers import free_port, jupyter_env, started

ADMIN, VIEWER = "owner@acme.example", "viewer@acme.example"
NOTEBOOK, PLAIN = "big.ipynb", "plain.ipynb"  # in acme/data: with and without comments
TARGET_LIST_P99_MS = 20.0
TARGET_SAVE_RATIO = 1.10


def make_notebook(cells: int) -> dict[str, Any]:
    """``cells`` code cells of a few lines each, with a small output, ids ``c0000``…"""
    nb = nbformat.v4.new_notebook()
    for n in range(cells):
        source = f"# step {n}\nvalue_{n} = compute({n}, window=30)\nvalue_{n}.describe()\n"
        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = f"c{n:04d}"
        cell["execution_count"] = n + 1
        cell["outputs"] = [nbformat.v4.new_output("stream", text=f"{n} rows\n")]
        nb.cells.append(cell)
    return json.loads(nbformat.writes(nb))


def seed(home: Path, notebook: dict[str, Any], comments: int) -> tuple[PolicyStore, str, int]:
    """The policy, the files and the comments; the store, the viewer's token, a project id."""
    root = home / "root" / "acme" / "data"
    root.mkdir(parents=True)
    text = json.dumps(notebook, indent=1)
    (root / NOTEBOOK).write_text(text)
    (root / PLAIN).write_text(text)
    store = PolicyStore(db_url=f"sqlite:///{home / 'policy.sqlite'}").open()
    with store.write("bench") as w:
        w.ensure_user(VIEWER, "token")
        w.create_workspace("acme", ADMIN, "token", name="Acme")
        w.set_member("acme", VIEWER, "viewer")
        w.create_project("acme", "data", "full", creator=ADMIN)
    with store.write("bench") as w:
        token = w.create_token(VIEWER, note="comments benchmark")[1]
    snap = store.snapshot
    project_id = snap.projects_by_name[(snap.workspaces_by_slug["acme"], "data")]
    cells = notebook["cells"]
    rows, mentions = [], []
    now = utcnow()
    thread_ids: list[int] = []
    for n in range(comments):
        reply = n % 5 == 4 and thread_ids
        cell = cells[(n * 7) % len(cells)]
        source = "".join(cell["source"])
        row = {
            "id": n + 1,
            "project_id": project_id,
            "path": NOTEBOOK,
            "parent_id": thread_ids[-1] if reply else None,
            "cell_id": cell["id"],
            "anchor_start": None if reply else 0,
            "anchor_end": None if reply else 6,
            "quote": "" if reply else quote_of(source, (0, 6)),
            "source_hash": "" if reply else source_hash(source),
            "anchor_state": "current",
            "author": (ADMIN, VIEWER)[n % 2],
            "body": f"Comment {n}: is **step {n % len(cells)}** right? " * 3,
            "created_at": now,
            "resolved": n % 11 == 0,
            "resolved_by": ADMIN if n % 11 == 0 else "",
        }
        rows.append(row)
        if not reply:
            thread_ids.append(n + 1)
        if n % 10 == 0:
            mentions.append({"comment_id": n + 1, "username": VIEWER})
    with store.engine.begin() as connection:
        connection.execute(insert(orm.Comment), rows)
        connection.execute(insert(orm.CommentMention), mentions)
    return store, token, project_id


def timed(work: Callable[[], Any], rounds: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock milliseconds of each of ``rounds`` calls, after one untimed call; with
    ``cpu``, this thread's CPU milliseconds of each call are appended to it."""
    work()
    samples = []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.thread_time()
        work()
        samples.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - start_cpu) * 1000)
    return samples


def list_in_process(store: PolicyStore, project_id: int, rounds: int) -> dict[str, Any]:
    comments = Comments(store=store)
    snap = store.snapshot
    viewer = snap.user_named(VIEWER)
    assert viewer is not None
    subject = Subject(viewer.id, "token")

    def listing() -> dict[str, Any]:
        rights = comment_rights(snap, subject, project_id, time.time())
        records, mentions = comments.of_file(project_id, NOTEBOOK)
        return thread_list_model(f"acme/data/{NOTEBOOK}", records, mentions, rights)

    model = listing()
    count = len(model["threads"]) + sum(len(t["replies"]) for t in model["threads"])
    query_ms = timed(lambda: comments.of_file(project_id, NOTEBOOK), rounds)
    records, mentions = comments.of_file(project_id, NOTEBOOK)
    rights = comment_rights(snap, subject, project_id, time.time())
    build_ms = timed(
        lambda: thread_list_model(f"acme/data/{NOTEBOOK}", records, mentions, rights), rounds
    )
    total_cpu_ms: list[float] = []
    total_ms = timed(listing, rounds, total_cpu_ms)
    json_ms = timed(lambda: json.dumps(model), max(rounds // 4, 5))
    return {
        "comments": count,
        "threads": len(model["threads"]),
        "total_ms": total_ms,
        "total_cpu_ms": total_cpu_ms,
        "query_ms": query_ms,
        "build_ms": build_ms,
        "json_ms": json_ms,
    }


def list_over_http(home: Path, token: str, rounds: int) -> list[float]:
    env = jupyter_env(home, {"WORKSPACE_PERMS_DB_URL": f"sqlite:///{home / 'policy.sqlite'}"})
    port = free_port()
    args = bench_server_args(home / "root", port, os.urandom(24).hex(), extension=True)
    path = "/api/workspace-perms/comments?" + urlencode({"path": f"acme/data/{NOTEBOOK}"})

    def get(server: Server) -> None:
        conn = http.client.HTTPConnection(HOST, server.port, timeout=120)
        try:
            conn.request("GET", path, headers={"Authorization": f"token {token}"})
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 200 or b'"threads"' not in body:
            raise RuntimeError(f"the listing answered {response.status}: {body[:200]!r}")

    with started(args, env, log=home / "server.log") as running:
        server = Server("extension", port, token, running)
        wait_ready(server)
        return timed(lambda: get(server), rounds)


async def saves(root: Path, store: PolicyStore, notebook: dict[str, Any], rounds: int) -> Any:
    """Interleaved saves through the real contents manager: with and without comments."""
    manager = WorkspaceContentsManager(root_dir=str(root))
    manager.comments = Comments(store=store)
    seconds: dict[str, list[float]] = {NOTEBOOK: [], PLAIN: []}
    cpu: dict[str, list[float]] = {NOTEBOOK: [], PLAIN: []}  # the process's, all threads
    cells = len(notebook["cells"])
    for n in range(rounds + 1):
        edited = copy.deepcopy(notebook)
        cell = edited["cells"][(n * 35) % cells]  # a cell that carries threads
        cell["source"] = "".join(cell["source"]) + f"# edit {n}\n"
        model = {"type": "notebook", "format": "json", "content": edited}
        order = (NOTEBOOK, PLAIN) if n % 2 == 0 else (PLAIN, NOTEBOOK)
        for name in order:
            sent = copy.deepcopy(model)
            start, start_cpu = time.perf_counter(), time.process_time()
            await manager.save(sent, f"acme/data/{name}")
            if n:  # the first round warms up
                seconds[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
    return seconds, cpu


def outdated(store: PolicyStore) -> int:
    with store.engine.connect() as connection:
        return len(
            connection.execute(
                orm.Comment.__table__.select().where(orm.Comment.anchor_state == "outdated")
            ).all()
        )


def pair_ratios(mine: list[float], theirs: list[float]) -> list[float]:
    """``mine[n] / theirs[n]``: each round's two saves ran back to back."""
    return [a / b for a, b in zip(mine, theirs, strict=True) if b > 0]


class Report:
    """The tables, the targets and the JSON of one run.

    Targets are judged on CPU time (this thread's for the listing, the process's for
    the saves, whose re-anchoring runs in a worker thread): on a shared machine wall
    clock also measures other people's work. Wall-clock figures are printed beside them.
    """

    def __init__(
        self,
        args: argparse.Namespace,
        local: dict[str, Any],
        remote: list[float],
        save: dict[str, list[float]],
        save_cpu: dict[str, list[float]],
        stale: int,
    ) -> None:
        self.args, self.local, self.remote, self.stale = args, local, remote, stale
        self.wall = {k: [x * 1000 for x in v] for k, v in save.items()}
        self.cpu = {k: [x * 1000 for x in v] for k, v in save_cpu.items()}
        self.cpu_ratio = statistics.median(pair_ratios(self.cpu[NOTEBOOK], self.cpu[PLAIN]))
        self.wall_ratio = statistics.median(pair_ratios(self.wall[NOTEBOOK], self.wall[PLAIN]))

    @staticmethod
    def row(name: str, samples: list[float]) -> str:
        return (
            f"| {name} | {len(samples)} | {percentile(samples, 50):.2f} | "
            f"{percentile(samples, 99):.2f} |"
        )

    def print(self) -> list[Target]:
        local, row, count = self.local, self.row, self.args.comments
        p99_cpu = percentile(local["total_cpu_ms"], 99)
        p99_wall = percentile(local["total_ms"], 99)
        targets = [
            Target(
                f"listing {local['comments']} comments in-process p99 "
                f"≤ {TARGET_LIST_P99_MS:.0f} ms (CPU time)",
                "PASS" if p99_cpu <= TARGET_LIST_P99_MS else "FAIL",
                f"{p99_cpu:.2f} ms",
            ),
            Target(
                f"save with/without comments ≤ {TARGET_SAVE_RATIO:.2f} (CPU time)",
                "PASS" if self.cpu_ratio <= TARGET_SAVE_RATIO else "FAIL",
                f"{self.cpu_ratio:.3f}",
            ),
        ]
        print(
            f"## Comments: {self.args.cells} cells, {local['comments']} comments, "
            f"{local['threads']} threads\n"
        )
        print("| listing | rounds | p50 ms | p99 ms |\n|---|---:|---:|---:|")
        print(row("in-process: queries + models (Viewer), CPU time", local["total_cpu_ms"]))
        print(row("in-process: queries + models (Viewer), wall clock", local["total_ms"]))
        print(row("in-process: the two queries", local["query_ms"]))
        print(row("in-process: the models", local["build_ms"]))
        print(row("in-process: json.dumps of the answer", local["json_ms"]))
        print(row("HTTP GET (fresh connection)", self.remote))
        print("\n| save | rounds | p50 ms | p99 ms |\n|---|---:|---:|---:|")
        print(row(f"with {count} comments, CPU time", self.cpu[NOTEBOOK]))
        print(row("without comments, CPU time", self.cpu[PLAIN]))
        print(row(f"with {count} comments, wall clock", self.wall[NOTEBOOK]))
        print(row("without comments, wall clock", self.wall[PLAIN]))
        print()
        for target in targets:
            print(f"TARGET {target.name}: {target.status} ({target.measured})")
        print(
            f"INFO wall clock: listing p99 {p99_wall:.2f} ms, save with/without "
            f"{self.wall_ratio:.3f} (median of per-round ratios)"
        )
        print(f"INFO threads outdated by the last edit: {self.stale}")
        print(f"INFO load average {load_average()} on {os.cpu_count()} cores")
        return targets

    def data(self, targets: list[Target]) -> dict[str, Any]:
        return {
            "listing": {**self.local, "http_ms": self.remote},
            "save_ms": {
                "with": self.wall[NOTEBOOK],
                "without": self.wall[PLAIN],
                "with_cpu": self.cpu[NOTEBOOK],
                "without_cpu": self.cpu[PLAIN],
                "cpu_ratio": self.cpu_ratio,
                "wall_ratio": self.wall_ratio,
            },
            "targets": [t.__dict__ for t in targets],
            "outdated": self.stale,
            "load_average": load_average(),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few rounds (smoke test)")
    parser.add_argument("--cells", type=int, default=1_000)
    parser.add_argument("--comments", type=int, default=5_000)
    parser.add_argument("--json", type=Path, help="also write every number here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    list_rounds, http_rounds, save_rounds = (20, 10, 4) if args.quick else (300, 100, 30)
    notebook = make_notebook(args.cells)
    with tempfile.TemporaryDirectory(prefix="wsperms-comments-bench-") as tmp:
        home = Path(tmp)
        log(f"seeding {args.cells} cells, {args.comments} comments")
        store, token, project_id = seed(home, notebook, args.comments)
        log("listing in-process")
        local = list_in_process(store, project_id, list_rounds)
        log("listing over HTTP")
        remote = list_over_http(home, token, http_rounds)
        log("saving")
        save, save_cpu = asyncio.run(saves(home / "root", store, notebook, save_rounds))
        stale = outdated(store)
        store.close()
    report = Report(args, local, remote, save, save_cpu, stale)
    targets = report.print()
    if args.json is not None:
        args.json.write_text(json.dumps(report.data(targets), indent=1))
    failed = any(t.status == "FAIL" for t in targets)
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
