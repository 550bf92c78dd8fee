"""Smoke tests of ``benchmarks/``: each runs and reports, whatever the numbers are.

Timing is never asserted here (a busy CI machine would make that flaky); the full run
and its targets are for people, see ``benchmarks/README.md``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.chromium import CHROMIUM
from tests.helpers.missing import missing

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


@pytest.mark.server
def test_kernel_hook_benchmark_quick_run_reports(tmp_path: Path) -> None:
    """The merge-save section starts a server, checks the merge is in charge, and reports."""
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/kernel_hook.py",
            "--quick",
            "--only",
            "merge_save",
            "--megabytes",
            "0.2",
            "--cells",
            "40",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "| save | median s | min s | max s | server CPU s |" in done.stdout
    assert "| Contributor, merge |" in done.stdout
    line = next((ln for ln in done.stdout.splitlines() if "TARGET merge-save" in ln), None)
    assert line is not None and ("PASS" in line or "FAIL" in line), done.stdout
    assert "an edited cell is refused (403 merge_refused)" in done.stdout
    results = json.loads(out.read_text())["sections"]["merge_save"]
    assert len(results["data"]["rounds"]) == 2
    assert all(r["editor"]["seconds"] > 0 for r in results["data"]["rounds"])


@pytest.mark.server
def test_kernel_hook_filter_and_round_trip_quick_run_reports(tmp_path: Path) -> None:
    """The filter section times every message; the round trip starts three servers with
    kernels, checks that only the hook refuses an edited cell, and reports."""
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/kernel_hook.py",
            "--quick",
            "--only",
            "filter,round_trip",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "| message | sender | median µs | p99 µs | over the stock connection, µs |" in lines
    for row in (
        "| v1 execute_request, saved cell | Contributor |",
        "| v1 execute_request | Editor |",
        "| legacy JSON execute_request, saved cell | Contributor |",
        "| v1 execute_request, edited cell (refused) | Contributor |",
        "| v1 comm_msg (a widget update) | Contributor |",
        "| v1 execute_request, stock connection (no filter) | anyone |",
    ):
        assert any(ln.startswith(row) for ln in lines), f"missing {row!r} in:\n{done.stdout}"
    assert (
        "| server | sender | median ms | p99 ms | round trips | server CPU ms per trip |" in lines
    )
    for title in ("the hook", "no hook", "no extension"):
        assert any(ln.startswith("| ") and f"({title})" in ln for ln in lines), title
    for target in ("filter v1 contributor execute_request median", "round trip with/without"):
        line = next((ln for ln in lines if f"TARGET {target}" in ln), None)
        assert line is not None, f"missing {target!r} in:\n{done.stdout}"
        assert "PASS" in line or "FAIL" in line, line
    assert "the hook refuses the contributor's edited cell" in done.stdout
    sections = json.loads(out.read_text())["sections"]
    assert set(sections["filter"]["data"]["us"]) == {
        "v1_contributor",
        "v1_editor",
        "legacy_contributor",
        "v1_refused",
        "v1_comm_msg",
        "v1_stock",
    }
    rounds = sections["round_trip"]["data"]["sides"]
    assert {key: len(r) for key, r in rounds.items()} == {"hook": 2, "no_hook": 2, "stock": 2}
    assert all(len(r["ms"]) == 20 for side in rounds.values() for r in side)


@pytest.mark.server
def test_sandbox_benchmark_quick_run_reports(tmp_path: Path) -> None:
    """Two servers, the kernel sandbox required in one and off in the other: the checks find
    only the sandboxed kernel confined, and the report has every figure and both targets."""
    if shutil.which("bwrap") is None:
        missing("bubblewrap is not installed (apt-get install bubblewrap)")
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/sandbox.py", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(ln.startswith("| side | starts | median ms | p90 ms |") for ln in lines)
    assert any(ln.startswith("| side | round trips | median ms | p99 ms |") for ln in lines)
    for side in ("sandboxed (bubblewrap, ipc)", "plain (mode off, tcp)"):
        assert any(ln.startswith(f"| {side} | 2 |") for ln in lines), done.stdout
        assert any(ln.startswith(f"| {side} | 40 |") for ln in lines), done.stdout
    for target in ("kernel start sandboxed/plain", "execute round trip sandboxed/plain"):
        line = next((ln for ln in lines if f"TARGET {target}" in ln), None)
        assert line is not None, f"missing {target!r} in:\n{done.stdout}"
        assert "PASS" in line or "FAIL" in line, line
    assert "INFO sandboxed: transport ipc" in done.stdout
    assert "INFO plain: transport tcp" in done.stdout
    assert "load average" in done.stdout
    results = json.loads(out.read_text())
    figures = results["figures"]
    for side in ("sandboxed", "plain"):
        assert figures["start_ms"][side]["starts"] == 2
        assert figures["start_ms"][side]["median"] > 0
        assert figures["round_trip_ms"][side]["trips"] == 40
        assert 0 < figures["round_trip_ms"][side]["median"] <= figures["round_trip_ms"][side]["p99"]
        assert len(results["starts"][side]) == 2
        assert len(results["round_trips_ms"][side]) == 40
    assert figures["start_ms"]["ratio"] > 0 and figures["round_trip_ms"]["ratio"] > 0
    assert [t["name"].split(" ≤ ")[0] for t in results["targets"]] == [
        "kernel start sandboxed/plain",
        "execute round trip sandboxed/plain",
    ]
    assert all(t["status"] in ("PASS", "FAIL") for t in results["targets"])


@pytest.mark.server
def test_lab_load_benchmark_quick_run_reports(tmp_path: Path) -> None:
    """Two JupyterLab servers, with and without the extension, each loaded twice in Chromium:
    exits 0 and prints the table, the target line and the bundle's size."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        missing("Chromium is not installed (apt-get install chromium)")
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/lab_load.py", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = "| side | rounds | median s | p90 s | min s | max s | requests | transferred kB "
    assert any(ln.startswith(header) for ln in lines), done.stdout
    for side in ("stock", "extension (Contributor)"):
        assert any(ln.startswith(f"| {side} | 2 |") for ln in lines), done.stdout
    line = next((ln for ln in lines if "TARGET lab load extension/stock" in ln), None)
    assert line is not None and ("PASS" in line or "FAIL" in line), done.stdout
    assert any("INFO lab extension bundle" in ln and "largest chunk" in ln for ln in lines)
    assert "load average" in done.stdout
    rounds = json.loads(out.read_text())["rounds"]
    assert sorted(r["side"] for r in rounds) == ["extension", "extension", "stock", "stock"]
    assert all(r["marks"]["done"] > 0 for r in rounds)


@pytest.mark.server
def test_denials_benchmark_quick_run_reports(tmp_path: Path) -> None:
    """Two servers, denial recording on in one and off in the other: both workloads are
    refused as expected, only the recording server writes denied rows, and the report
    has both tables, the load average and the target line."""
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/denials.py", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert (
        "| workload | recording | requests | median µs | p99 µs | server CPU µs/request |" in lines
    )
    for workload in ("one person", "many people"):
        for side in ("on", "off"):
            assert any(ln.startswith(f"| {workload} | {side} | 200 |") for ln in lines), done.stdout
    line = next((ln for ln in lines if "TARGET denial recording on/off" in ln), None)
    assert line is not None and ("PASS" in line or "FAIL" in line), done.stdout
    assert "load average" in done.stdout
    results = json.loads(out.read_text())
    assert results["denied_rows"]["off"] == 0 and results["denied_rows"]["on"] > 0
    for found in results["workloads"].values():
        assert len(found["ratios"]) == 2 and found["median_ratio"] > 0


@pytest.mark.server
def test_comments_benchmark_quick_run_reports(tmp_path: Path) -> None:
    """A small notebook with its comments: the listing (in-process and over a real server)
    and the interleaved saves report every row, both targets and the machine's load."""
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/comments.py",
            "--quick",
            "--cells",
            "100",
            "--comments",
            "500",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "| listing | rounds | p50 ms | p99 ms |" in lines
    for row in (
        "| in-process: queries + models (Viewer), CPU time | 20 |",
        "| in-process: queries + models (Viewer), wall clock | 20 |",
        "| HTTP GET (fresh connection) | 10 |",
        "| with 500 comments, CPU time | 4 |",
        "| without comments, wall clock | 4 |",
    ):
        assert any(ln.startswith(row) for ln in lines), f"missing {row!r} in:\n{done.stdout}"
    for target in ("listing 500 comments in-process p99", "save with/without comments"):
        line = next((ln for ln in lines if f"TARGET {target}" in ln), None)
        assert line is not None, f"missing {target!r} in:\n{done.stdout}"
        assert "PASS" in line or "FAIL" in line, line
    assert "load average" in done.stdout
    results = json.loads(out.read_text())
    assert results["listing"]["comments"] == 500
    assert len(results["save_ms"]["with"]) == len(results["save_ms"]["without_cpu"]) == 4
    assert results["save_ms"]["cpu_ratio"] > 0 and results["save_ms"]["wall_ratio"] > 0
    assert results["outdated"] > 0  # the edited cells' threads were re-anchored


@pytest.mark.server
def test_rtc_benchmark_quick_run_reports(tmp_path: Path) -> None:
    """A quick run starts a stock and a guarded collaboration server, exits 0 and reports
    CPU per update, latency to the other client, the machine's load and the target."""
    if importlib.util.find_spec("jupyter_server_ydoc") is None:
        missing("jupyter-collaboration (the test extra) is needed for this benchmark")
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/rtc.py", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "| server | edits | server CPU µs per update | p50 ms | p99 ms |" in done.stdout
    lines = done.stdout.splitlines()
    for server in ("stock", "guarded"):
        assert any(ln.startswith(f"| {server} | 200 |") for ln in lines), done.stdout
    target = next((ln for ln in lines if "TARGET server CPU per update" in ln), "")
    assert "PASS" in target or "FAIL" in target, done.stdout
    assert "INFO machine load" in done.stdout
    assert json.loads(out.read_text())["rows"]["guarded"]["edits"] == 200
