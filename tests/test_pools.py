"""Pools of python class instances: bounded, reused and reset, replaced, closed on every exit."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Ran

WORKER = """
import asyncio, threading, time
from pathlib import Path

BUILDS = threading.Lock()  # warm pools build in parallel threads


class Worker:
    def __init__(self, marks, delay=0.0, broken_builds=0):
        self.marks = Path(marks)
        builds = self.marks.with_suffix(".builds")
        with BUILDS:
            attempts = int(builds.read_text()) if builds.exists() else 0
            builds.write_text(str(attempts + 1))
        if attempts < broken_builds:
            raise RuntimeError("no model loaded")
        self.delay = delay
        self.mark("built")

    def mark(self, what):
        with self.marks.open("a") as out:
            out.write(f"{what} {id(self)}\\n")

    def __call__(self, prompt, context):
        self.mark("enter")
        time.sleep(self.delay)
        self.mark("leave")
        if prompt == "boom":
            raise ValueError("this instance broke")
        return f"{prompt} by {id(self)} at {context['settings']['temperature']}"

    def reset(self):
        self.mark("reset")

    def close(self):
        self.mark("close")


class AsyncWorker(Worker):
    async def __call__(self, prompt, context):
        self.mark("enter")
        await asyncio.sleep(self.delay)
        self.mark("leave")
        return prompt

    async def reset(self):
        self.mark("reset")

    async def aclose(self):
        self.mark("close")


def plain(prompt):
    return prompt
"""


def _module(tmp_path: Path) -> str:
    """A fresh module name per test: modules stay imported across in-process runs."""
    name = f"pooled_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(WORKER)
    return name


def _marks(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [(what, who) for what, who in (line.split() for line in path.read_text().splitlines())]


def _count(marks: list[tuple[str, str]], what: str) -> int:
    return sum(1 for kind, _ in marks if kind == what)


def _peak(marks: list[tuple[str, str]]) -> int:
    busy = peak = 0
    for what, _ in marks:
        busy += {"enter": 1, "leave": -1}.get(what, 0)
        peak = max(peak, busy)
    return peak


def _paradigm(module: str, marks: Path, agents: str, pool: str, init: str = "") -> str:
    lines = [
        "pattern: independent",
        "input: x",
        "providers:",
        "  local:",
        "    type: python",
        f"    callable: {module}:Worker",
        f"    init: {{marks: {json.dumps(str(marks))}{init}}}",
        f"    pool: {pool}",
        "defaults: {provider: local, timeout: 20s, retries: 0, temperature: 0.5}",
        "agents:",
        *(f"  {line}" for line in agents.splitlines()),
    ]
    return "\n".join(lines) + "\n"


def test_size_bounds_concurrency_and_instances_are_reused_and_reset(
    run_paradigm: Callable[..., Ran], tmp_path: Path
) -> None:
    module, marks = _module(tmp_path), tmp_path / "marks"
    agents = "".join(f"a{i}: {{prompt: p{i}}}\n" for i in range(6))
    ran = run_paradigm(_paradigm(module, marks, agents, "{size: 2}", ", delay: 0.15"))
    assert set(ran.statuses().values()) == {"passed"}, ran.out
    seen = _marks(marks)
    assert _peak(seen) == 2
    assert _count(seen, "built") == 2
    assert _count(seen, "enter") == 6
    assert _count(seen, "reset") == 6
    assert _count(seen, "close") == 2
    # Six outputs from two instances, and the agent's settings reached the class.
    owners = {ran.agent(f"a{i}").output.split(" by ")[1] for i in range(6)}  # type: ignore[union-attr]
    assert len(owners) == 2
    assert ran.agent("a0").output.endswith(" at 0.5")  # type: ignore[union-attr]


def test_a_broken_instance_is_discarded_closed_and_replaced(
    run_paradigm: Callable[..., Ran], tmp_path: Path
) -> None:
    module, marks = _module(tmp_path), tmp_path / "marks"
    agents = "bad: {prompt: boom}\ngood: {prompt: fine}\n"
    ran = run_paradigm(_paradigm(module, marks, agents, "{size: 1}"))
    assert ran.statuses() == {"bad": "failed", "good": "passed"}
    assert "ValueError: this instance broke" in (ran.agent("bad").error or "")
    seen = _marks(marks)
    assert _count(seen, "built") == 2  # the broken one was not lent again
    assert _count(seen, "reset") == 1  # only the clean use is reset
    assert _count(seen, "close") == 2
    broken = next(who for what, who in seen if what == "enter")
    assert ("close", broken) in seen


def test_max_uses_recycles_instances(run_paradigm: Callable[..., Ran], tmp_path: Path) -> None:
    module, marks = _module(tmp_path), tmp_path / "marks"
    agents = "".join(f"a{i}: {{prompt: p{i}}}\n" for i in range(5))
    ran = run_paradigm(_paradigm(module, marks, agents, "{size: 1, max_uses: 2}"))
    assert set(ran.statuses().values()) == {"passed"}
    seen = _marks(marks)
    assert _count(seen, "built") == 3  # 2 + 2 + 1 calls
    assert _count(seen, "close") == 3
    assert _peak(seen) == 1


def test_warm_builds_every_instance_at_the_first_call(
    run_paradigm: Callable[..., Ran], tmp_path: Path
) -> None:
    module, marks = _module(tmp_path), tmp_path / "marks"
    ran = run_paradigm(_paradigm(module, marks, "one: {prompt: p}\n", "{size: 3, warm: true}"))
    assert ran.statuses() == {"one": "passed"}
    seen = _marks(marks)
    assert (_count(seen, "built"), _count(seen, "enter"), _count(seen, "close")) == (3, 1, 3)


def test_a_failing_constructor_is_a_clean_retryable_error(
    run_paradigm: Callable[..., Ran], tmp_path: Path
) -> None:
    module, marks = _module(tmp_path), tmp_path / "marks"
    text = _paradigm(module, marks, "a: {prompt: p}\n", "{size: 1}", ", broken_builds: 1")
    ran = run_paradigm(text.replace("retries: 0", "retries: 1"))
    assert ran.statuses() == {"a": "passed"}  # the pool stayed usable for the retry
    # Located at the constructor's line, like any error raised by user code.
    line = next(n for n, text in enumerate(WORKER.splitlines(), 1) if "RuntimeError" in text)
    message = f"{module}.py:{line}: could not build {module}:Worker: RuntimeError: no model loaded"
    assert (ran.agent("a").attempts[0].error or "").endswith(message)
    ran = run_paradigm(
        _paradigm(module, marks, "a: {prompt: p}\n", "{size: 1}", ", broken_builds: 9")
    )
    assert ran.statuses() == {"a": "failed"}
    assert (ran.agent("a").error or "").endswith(message)
    assert "Traceback" not in ran.out


def test_async_instances_are_awaited_reset_and_closed(
    run_paradigm: Callable[..., Ran], tmp_path: Path
) -> None:
    module, marks = _module(tmp_path), tmp_path / "marks"
    text = _paradigm(module, marks, "a: {prompt: p}\nb: {prompt: q}\n", "{size: 1}")
    ran = run_paradigm(text.replace(":Worker", ":AsyncWorker"))
    assert ran.agent("b").output == "q"
    seen = _marks(marks)
    assert (_count(seen, "built"), _count(seen, "reset"), _count(seen, "close")) == (1, 2, 1)


def test_init_with_a_function_is_an_error(run_paradigm: Callable[..., Ran], tmp_path: Path) -> None:
    module, marks = _module(tmp_path), tmp_path / "marks"
    text = _paradigm(module, marks, "a: {prompt: p}\n", "{size: 1}")
    ran = run_paradigm(text.replace(":Worker", ":plain").replace("retries: 0", "retries: 3"))
    assert (
        ran.agent("a").error
        == f"`init` and `pool` need a class, but '{module}:plain' is a function"
    )
    assert len(ran.agent("a").attempts) == 1  # not retried: the same import fails the same way


@pytest.mark.slow
def test_sigint_closes_every_instance(tmp_path: Path) -> None:
    module, marks = _module(tmp_path), tmp_path / "marks"
    agents = "".join(f"a{i}: {{prompt: p{i}}}\n" for i in range(4))
    paradigm = tmp_path / "pooled.yaml"
    paradigm.write_text(_paradigm(module, marks, agents, "{size: 2}", ", delay: 60"))
    report = tmp_path / "report.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "agentrun", "run", str(paradigm), "--report", str(report)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while _count(_marks(marks), "enter") < 2:
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the instances never started: {process.communicate()[0]}")
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 130, output
    assert "Traceback" not in output
    seen = _marks(marks)
    assert _count(seen, "built") == 2
    built = {who for what, who in seen if what == "built"}
    assert {who for what, who in seen if what == "close"} == built
    assert json.loads(report.read_text())["status"] == "interrupted"


def test_a_timed_out_call_discards_its_instance(
    run_paradigm: Callable[..., Ran], tmp_path: Path
) -> None:
    module, marks = _module(tmp_path), tmp_path / "marks"
    text = _paradigm(
        module, marks, "slow: {prompt: p, timeout: 300ms}\n", "{size: 1}", ", delay: 1"
    )
    ran = run_paradigm(text)
    assert ran.statuses() == {"slow": "timeout"}
    seen = _marks(marks)
    # Abandoned in its thread, not reset, and closed while the call still ran.
    assert (_count(seen, "built"), _count(seen, "reset"), _count(seen, "close")) == (1, 0, 1)
    assert _count(seen, "leave") == 0  # the run did not wait for the abandoned call
