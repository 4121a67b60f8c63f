"""SIGINT and SIGTERM at seeded random moments of a real `agentrun run`.

Start-up, loading, running and report writing are all hit. Every trial must end
with exit 130 (or, for a signal that lands after the run is over, the run's own
exit code), never show a traceback, leave a report that parses whenever one was
written, and leave no child process behind.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_llm_server import FakeLLMServer
from proc_utils import is_running

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SEED = 20261129
LONG_TRIALS = 40
END_TRIALS = 12
PARALLEL = 4

SLEEPER = (
    "import os, subprocess, sys, time\n"
    "child = subprocess.Popen(['sleep', '60'])\n"
    "open(sys.argv[1], 'a').write(f'{os.getpid()} {child.pid}\\n')\n"
    "time.sleep(60)\n"
)
MODULE = "import time\n\ndef slow(prompt):\n    time.sleep(5)\n    return 'late'\n"


@dataclass(frozen=True)
class Trial:
    """One signal at one moment to one run."""

    number: int
    paradigm: Path
    delay: float
    signum: int | None
    """``None``: no signal (a baseline run)."""


@dataclass(frozen=True)
class Outcome:
    trial: Trial
    code: int
    output: str
    report: Path
    pids: list[int]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0, reply="hello") as srv:
        yield srv


def _long_paradigm(folder: Path, server: FakeLLMServer) -> Path:
    (folder / "slowmod.py").write_text(MODULE)
    path = folder / "long.yaml"
    command = json.dumps([sys.executable, "-c", SLEEPER, "{{ vars.pids }}"])
    path.write_text(
        textwrap.dedent(
            f"""
            pattern: independent
            vars: {{pids: placeholder}}
            providers:
              llm: {{type: openai, base_url: "{server.openai_url}", api_key: "sk-storm", model: "m;latency=8"}}
            agents:
              one: {{provider: command, command: {command}, timeout: 1m}}
              two: {{provider: command, command: {command}, timeout: 1m}}
              py: {{callable: "slowmod:slow", timeout: 1m}}
              talk: {{provider: llm, timeout: 1m}}
              quick: {{provider: mock, output: done}}
            """
        )
    )
    return path


def _wide_paradigm(folder: Path) -> Path:
    path = folder / "wide.yaml"
    agents = "".join(f"  a{i}: {{output: 'out {i} ' , latency: 300ms}}\n" for i in range(1500))
    path.write_text("pattern: independent\nagents:\n" + agents)
    return path


def _run(trial: Trial, folder: Path) -> Outcome:
    work = folder / f"trial{trial.number}"
    work.mkdir()
    report = work / "report.json"
    pids = work / "pids"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentrun",
            "run",
            str(trial.paradigm),
            "--report",
            str(report),
            "--var",
            f"pids={pids}",
            "--display",
            "plain",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_for_handlers(process)
    time.sleep(trial.delay)
    if trial.signum is not None and process.poll() is None:
        process.send_signal(trial.signum)
    output, _ = process.communicate(timeout=60)
    found = (
        [int(p) for line in pids.read_text().splitlines() for p in line.split()]
        if pids.exists()
        else []
    )
    return Outcome(trial, process.returncode, output, report, found)


def _wait_for_handlers(process: subprocess.Popen[Any]) -> None:
    """Wait until agentrun's own code runs: the interpreter's start-up before it cannot
    be helped, and agentrun catches SIGTERM first thing (seen in /proc's SigCgt mask)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
        except OSError:
            return
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.002)


def _time_to_run(paradigm: Path, folder: Path) -> float:
    """Seconds from agentrun's handlers being installed to both command agents running."""
    folder.mkdir()
    pids = folder / "pids"
    process = subprocess.Popen(
        [sys.executable, "-m", "agentrun", "run", str(paradigm), "--var", f"pids={pids}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_handlers(process)
        began = time.monotonic()
        while time.monotonic() - began < 60:
            if pids.exists() and len(pids.read_text().splitlines()) == 2:
                return time.monotonic() - began
            time.sleep(0.01)
        pytest.fail("the probe run never started its agents")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def _trials(paradigm: Path, count: int, low: float, high: float, first: int) -> list[Trial]:
    rng = random.Random(SEED + first)
    return [
        Trial(
            first + i, paradigm, rng.uniform(low, high), rng.choice([signal.SIGINT, signal.SIGTERM])
        )
        for i in range(count)
    ]


def _check(outcome: Outcome, allowed: set[int]) -> None:
    where = f"trial {outcome.trial}: exit {outcome.code}\n{outcome.output[-2000:]}"
    assert outcome.code in allowed, where
    assert "Traceback" not in outcome.output, where
    if outcome.report.exists() and outcome.report.stat().st_size:
        data = json.loads(outcome.report.read_text())
        assert data["exit_code"] == outcome.code or outcome.code == 130, where
    deadline = time.monotonic() + 3
    while any(is_running(pid) for pid in outcome.pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in outcome.pids if is_running(pid)], where


def test_signals_at_random_moments_of_a_long_run(tmp_path: Path, server: FakeLLMServer) -> None:
    paradigm = _long_paradigm(tmp_path, server)
    # Start-up takes longer on a loaded machine: the moments span what it takes here
    # to get from agentrun's first line to agents running, and as long again.
    with ThreadPoolExecutor(PARALLEL) as pool:  # measured as the trials will run: side by side
        reach = max(pool.map(lambda n: _time_to_run(paradigm, tmp_path / f"probe{n}"), range(4)))
    trials = _trials(paradigm, LONG_TRIALS, 0.0, 2 * reach, first=0)
    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(pool.map(lambda t: _run(t, tmp_path), trials))
    for outcome in outcomes:
        _check(outcome, {130})
    # the storm hit runs that had started: their reports are there and say so
    started = [o for o in outcomes if o.report.exists()]
    assert started, "no trial reached the run"
    for outcome in started:
        assert json.loads(outcome.report.read_text())["status"] == "interrupted"


def test_signals_around_the_end_of_a_run_and_its_report(tmp_path: Path) -> None:
    paradigm = _wide_paradigm(tmp_path)
    began = time.monotonic()
    baseline = _run(Trial(-1, paradigm, 0, None), tmp_path)
    took = time.monotonic() - began
    assert baseline.code == 0, baseline.output
    trials = _trials(paradigm, END_TRIALS, took * 0.6, took * 1.1, first=1000)
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda t: _run(t, tmp_path), trials))
    for outcome in outcomes:
        _check(outcome, {0, 130})
