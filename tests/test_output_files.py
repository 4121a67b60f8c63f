"""Output files: checked up front, written atomically, failures reported per file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

PASSING = "pattern: independent\nagents:\n  a: {output: hello}\n"
VIOLATED = (
    "pattern: independent\nimperatives:\n  has_absent: {contains: absent}\n"
    "agents:\n  a: {output: hello, imperatives: [has_absent]}\n"
)


def agentrun(paradigm: Path, *flags: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentrun", "run", str(paradigm), "--display", "plain", *flags],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=paradigm.parent,
    )


@pytest.fixture
def paradigm(tmp_path: Path) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(PASSING)
    return path


@pytest.mark.parametrize(("text", "code"), [(PASSING, 3), (VIOLATED, 3)])
def test_a_failed_write_is_one_line_and_the_other_outputs_are_written(
    tmp_path: Path, text: str, code: int
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    ran = agentrun(path, "--report", "/dev/full", "--junit", "j.xml", "--events", "e.jsonl")
    assert ran.returncode == code
    errors = [line for line in ran.stderr.splitlines() if line.startswith("agentrun: error")]
    assert errors == ["agentrun: error: cannot write /dev/full: No space left on device"]
    assert ET.parse(tmp_path / "j.xml").getroot().tag == "testsuites"
    assert (
        json.loads((tmp_path / "e.jsonl").read_text().splitlines()[-1])["event"] == "run_finished"
    )


def test_a_failing_event_log_does_not_stop_the_run(paradigm: Path) -> None:
    ran = agentrun(paradigm, "--events", "/dev/full", "--report", "r.json")
    assert ran.returncode == 3
    assert "agentrun: error: cannot write /dev/full: No space left on device" in ran.stderr
    assert json.loads((paradigm.parent / "r.json").read_text())["status"] == "passed"


def test_reports_are_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "slow.yaml"
    path.write_text("pattern: independent\nagents:\n  s: {command: [sleep, '30']}\n")
    report = tmp_path / "r.json"
    report.write_text('{"previous": true}\n')
    runner = subprocess.Popen(
        [sys.executable, "-m", "agentrun", "run", str(path), "--report", str(report)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # the run is under way; the old report must still be whole
    assert report.read_text() == '{"previous": true}\n'
    runner.send_signal(signal.SIGKILL)
    runner.wait(10)
    assert report.read_text() == '{"previous": true}\n'


def test_a_new_report_is_complete_with_the_usual_mode_and_no_leftovers(paradigm: Path) -> None:
    ran = agentrun(paradigm, "--report", "out/r.json")
    assert ran.returncode == 0
    report = paradigm.parent / "out" / "r.json"
    assert json.loads(report.read_text())["status"] == "passed"
    umask = os.umask(0)
    os.umask(umask)
    assert report.stat().st_mode & 0o777 == 0o666 & ~umask
    assert os.listdir(report.parent) == ["r.json"]


@pytest.mark.parametrize("flag", ["--junit", "--events", "--report"])
def test_each_output_may_go_to_stdout_alone(paradigm: Path, flag: str) -> None:
    ran = agentrun(paradigm, flag, "-")
    assert ran.returncode == 0
    if flag == "--junit":
        assert ET.fromstring(ran.stdout).tag == "testsuites"
    elif flag == "--events":
        events = [json.loads(line) for line in ran.stdout.splitlines()]
        assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    else:
        assert json.loads(ran.stdout)["status"] == "passed"
    assert "a" in ran.stderr  # the display moved to stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--report", "-", "--junit", "-"],
            "only one output may go to standard output (-): --report, --junit",
        ),
        (["--report", "p.yaml"], "--report p.yaml would overwrite the paradigm file"),
        (["--junit", "./p.yaml"], "--junit ./p.yaml would overwrite the paradigm file"),
        (["--report", "x.json", "--events", "x.json"], "--report and --events both write x.json"),
    ],
)
def test_clashing_outputs_are_refused_up_front(
    paradigm: Path, flags: list[str], message: str
) -> None:
    ran = agentrun(paradigm, *flags)
    assert ran.returncode == 2
    assert ran.stderr == f"agentrun: error: {message}\n"
    assert ran.stdout == ""
    assert paradigm.read_text() == PASSING
    assert not (paradigm.parent / "x.json").exists()


def test_a_fifo_without_reader_does_not_block(paradigm: Path) -> None:
    fifo = paradigm.parent / "fifo"
    os.mkfifo(fifo)
    ran = agentrun(paradigm, "--report", str(fifo), timeout=20)
    assert ran.returncode == 3
    assert f"agentrun: error: cannot write {fifo}: no process is reading this FIFO" in ran.stderr
    ran = agentrun(paradigm, "--events", str(fifo), timeout=20)
    assert ran.returncode == 2
    assert ran.stderr == f"agentrun: error: cannot write {fifo}: no process is reading this FIFO\n"


def test_a_fifo_with_a_reader_gets_the_report(paradigm: Path) -> None:
    fifo = paradigm.parent / "fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    try:
        ran = agentrun(paradigm, "--report", str(fifo), timeout=20)
    finally:
        if reader.is_alive():  # unblock the reader if the run never opened the FIFO
            with open(fifo, "w"):
                pass
        reader.join(10)
    assert ran.returncode == 0
    assert json.loads(received[0])["status"] == "passed"
