"""The interrupt guard in real processes: signals at start-up, during a run, while writing,
and a second signal while the event loop is blocked."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROLOGUE = """
import asyncio, os, sys, time
from pathlib import Path
from agentrun.interrupts import guard
marks = Path(sys.argv[1])
def mark(text):
    with marks.open("a") as f:
        f.write(text + "\\n")
g = guard()
assert g.install()
"""


def _start(tmp_path: Path, body: str) -> tuple[subprocess.Popen[str], Path]:
    marks = tmp_path / "marks"
    script = tmp_path / "script.py"
    script.write_text(PROLOGUE + textwrap.dedent(body))
    process = subprocess.Popen(
        [sys.executable, str(script), str(marks)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, marks


def _wait_for(marks: Path, text: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if marks.exists() and text in marks.read_text().split():
            return
        if process.poll() is not None:
            pytest.fail(f"exited early: {process.communicate()[0]}")
        time.sleep(0.01)
    process.kill()
    pytest.fail(f"never reached {text!r}")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_outside_a_run_is_a_keyboard_interrupt(tmp_path: Path, signum: int) -> None:
    process, marks = _start(
        tmp_path,
        """
        try:
            mark("waiting")
            time.sleep(30)
        except KeyboardInterrupt:
            mark("interrupted")
            sys.exit(130)
        """,
    )
    _wait_for(marks, "waiting", process)
    process.send_signal(signum)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 130, out
    assert "interrupted" in marks.read_text()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_run_cancels_it_on_its_loop(tmp_path: Path, signum: int) -> None:
    process, marks = _start(
        tmp_path,
        """
        async def work():
            try:
                mark("running")
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                mark("cancelled")
                raise
        async def main():
            task = asyncio.current_task()
            with g.running(task):
                try:
                    await work()
                except asyncio.CancelledError:
                    mark("cleaned-up")
        asyncio.run(main())
        sys.exit(130)
        """,
    )
    _wait_for(marks, "running", process)
    process.send_signal(signum)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 130, out
    assert marks.read_text().split() == ["running", "cancelled", "cleaned-up"]
    assert "Traceback" not in out


def test_a_second_signal_ends_a_blocked_loop_after_the_emergency_handlers(tmp_path: Path) -> None:
    process, marks = _start(
        tmp_path,
        """
        async def spin():
            mark("spinning")
            while True:  # never yields: the loop is blocked
                pass
        async def main():
            with g.running(asyncio.current_task()), g.on_emergency(lambda: mark("emergency")):
                await spin()
        asyncio.run(main())
        """,
    )
    _wait_for(marks, "spinning", process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert process.poll() is None  # the first signal cannot reach a blocked loop
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 130, out
    assert marks.read_text().split() == ["spinning", "emergency"]
    assert "Traceback" not in out


def test_a_signal_while_writing_is_deferred_until_the_write_is_done(tmp_path: Path) -> None:
    process, marks = _start(
        tmp_path,
        """
        try:
            with g.protected():
                mark("writing")
                for _ in range(200):
                    time.sleep(0.005)
                mark("written")
        except KeyboardInterrupt:
            mark("interrupted")
            sys.exit(130)
        """,
    )
    _wait_for(marks, "writing", process)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 130, out
    assert marks.read_text().split() == ["writing", "written", "interrupted"]
