"""The benchmark scripts run end to end and print their figures (no timing asserts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def run_bench(script: str, *args: str, timeout: float = 55) -> str:
    """Run ``bench/SCRIPT`` with ``args``; its standard output once it exited 0."""
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_bench_core_prints_every_figure(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    out = run_bench(
        "bench_core.py", "--n", "50", "--repeat", "1", "--latency", "0.01", "--json", str(figures)
    )
    for line in (
        "N = 50 agents",
        "bare TaskGroup (asyncio.run)",
        "agentrun load+compile",
        "agentrun run (asyncio.run+execute)",
        "agentrun api.run (total)",
        "ratio agentrun/bare, CPU per agent:",
        "ratio agentrun/bare, wall time:",
        "peak RSS MiB",
        "targets at N = 10,000",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    # The targets are stated for 10,000 agents: with 50 they are skipped, not judged.
    assert "SKIP" in out
    assert "FAIL" not in out
    data = json.loads(figures.read_text(encoding="utf-8"))
    rows = data["results"]["50"]["rows"]
    assert set(rows) >= {"bare", "load_compile", "run", "api"}
    assert rows["api"]["cpu_us_per_agent"]["median"] > 0


@pytest.mark.slow
def test_bench_http_prints_every_figure(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    out = run_bench(
        "bench_http.py",
        *("--n1", "20", "--n2", "40", "--concurrency", "5", "--latency", "0.01"),
        *("--repeat", "1", "--json", str(figures)),
    )
    for line in (
        "N = 20 calls, concurrency 5",
        "N = 40 calls, no concurrency limit",
        "aiohttp floor (ClientSession)",
        "agentrun run (execute, openai)",
        "httpx.AsyncClient [reference]",
        "agentrun load+compile (apart)",
        "ratio agentrun/floor: CPU per call",
        "ratio httpx/floor: CPU per call",
        "CPU us/call median [min-max]",
        "peak in flight",
        "targets (medians):",
        "agentrun CPU per call at 20/5 <= 1.5x the aiohttp floor",
        "agentrun CPU per call flat with N: its ratio to the floor at 40 unlimited <= 1.3x its ratio at 20/5",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    # What the server saw is not timing: every call arrived, and the limit held.
    assert "PASS  server completed every call of every run, 20 calls, concurrency 5" in out
    assert "PASS  server completed every call of every run, 40 calls, no concurrency limit" in out
    assert "PASS  server peak in flight <= 5 in every limited run" in out
    # The httpx reference runs unlimited only with --slow.
    assert out.count("httpx.AsyncClient [reference]") == 1

    data = json.loads(figures.read_text(encoding="utf-8"))
    limited = data["results"]["limited"]
    assert set(limited["rows"]) == {"floor", "agentrun", "httpx"}
    assert set(data["results"]["unlimited"]["rows"]) == {"floor", "agentrun"}
    assert limited["rows"]["agentrun"]["server_completed"]["median"] == 20
    assert limited["rows"]["agentrun"]["cpu_us_per_call"]["median"] > 0
    assert {target["key"] for target in data["targets"]} >= {"cpu_vs_floor", "cpu_flat_with_n"}


@pytest.mark.slow
def test_bench_batch_prints_every_figure(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    out = run_bench(
        "bench_batch.py", "--n", "64", "--repeat", "1", "--latency", "0.01", "--json", str(figures)
    )
    assert "64 items, max_size 32, max_concurrency 8" in out
    summary = json.loads(figures.read_text())
    # What the server saw is not timing: two full batches, or one request per item.
    assert summary["batched"]["requests"]["median"] == 2
    assert summary["no-batch"]["requests"]["median"] == 64
    assert summary["plain"]["requests"]["median"] == 64


def test_bench_dataset_prints_every_figure(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    out = run_bench(
        "bench_dataset.py",
        *("--n", "40", "--rss-n", "60", "--repeat", "1", "--latency", "0.001"),
        *("--case-concurrency", "4", "--json", str(figures)),
    )
    for line in (
        "N = 40 cases",
        "N = 60 cases (memory)",
        "CPU us/case median [min-max]",
        "peak RSS MiB median [min-max]",
        "ratio agentrun/bare, CPU per case:",
        "agentrun without its startup (the startup row):",
        "targets (medians; RSS: the largest repeat):",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    # The targets are stated for 10,000 and 100,000 cases: skipped here, not judged.
    assert out.count("SKIP") == 2
    data = json.loads(figures.read_text(encoding="utf-8"))
    rows = data["results"]["40"]["rows"]
    assert rows["agentrun"]["cpu_us_per_case"]["median"] > 0
    assert rows["bare"]["peak_rss_mib"]["median"] > 0
    assert data["config"]["case_concurrency"] == 4
