"""Smoke tests of ``benchmarks/``: each runs and reports, whatever the numbers are.

Timing is never asserted here (a busy CI machine would make that flaky); the full run
and its targets are for people, see ``benchmarks/README.md``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TARGETS = (
    "TARGET check_project median flat",
    "TARGET check_workspace median flat",
    "TARGET reload 100000 grants",
    "TARGET snapshot memory at 100000 grants",
)


def test_policy_benchmark_quick_run_reports(tmp_path: Path) -> None:
    """A quick run of the smallest size exits 0 and prints the table and every target line."""
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k != "WORKSPACE_PERMS_BENCH_PG_URL"}
    done = subprocess.run(
        [sys.executable, "benchmarks/policy.py", "--quick", "--sizes", "100", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    header = "| size | grants | members | projects | decision median µs | p99 µs | reload s |"
    assert header in done.stdout
    assert "| 100 | 100 | 100 | 100 |" in done.stdout
    for target in TARGETS:
        line = next((ln for ln in done.stdout.splitlines() if target in ln), None)
        assert line is not None, f"missing {target!r} in:\n{done.stdout}"
        assert any(status in line for status in ("PASS", "FAIL", "SKIP")), line
    results = json.loads(out.read_text())
    assert [r["store"]["size"] for r in results["results"]] == [100]


HTTP_WORKLOADS = ("GET 1 MB notebook", "list 1,000 files", "PUT 100 kB notebook")


@pytest.mark.server
def test_http_overhead_benchmark_quick_run_reports(tmp_path: Path) -> None:
    """A quick run starts both servers, exits 0 and prints the tables and every target line."""
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/http_overhead.py", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    header = "| workload | server | req/s | p50 ms | p99 ms |"
    assert header in done.stdout
    assert "| throughput ratio | p99 ratio |" in done.stdout
    lines = done.stdout.splitlines()
    for workload in HTTP_WORKLOADS:
        for server in ("stock", "extension"):
            assert any(ln.startswith(f"| {workload} | {server} |") for ln in lines), workload
        for target in ("throughput extension/stock", "p99 extension/stock"):
            line = next((ln for ln in lines if f"TARGET {workload} {target}" in ln), None)
            assert line is not None, f"missing {workload} {target} in:\n{done.stdout}"
            assert "PASS" in line or "FAIL" in line, line
    assert "INFO cores" in done.stdout
    assert "load average" in done.stdout
    results = json.loads(out.read_text())
    assert [r["workload"] for r in results["results"]] == ["get_1mb", "list_1000", "put_nb"]
    for result in results["results"]:
        assert len(result["stock"]) == len(result["extension"]) == 2
        assert all(r["errors"] == 0 for r in result["stock"] + result["extension"])
