"""Smoke test of ``benchmarks/policy.py``: it runs and reports, whatever the numbers are.

Timing is never asserted here (a busy CI machine would make that flaky); the full run
and its targets are for people, see ``benchmarks/README.md``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
