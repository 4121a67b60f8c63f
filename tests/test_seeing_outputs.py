"""JUnit agrees with the exit code, shows what was rejected; the plain display can
show outputs; a check that breaks reads as an error everywhere."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from conftest import Ran
from test_junit import cases, check_structure, outcome, run_junit

from agentrun.outputs.junit import render_junit
from agentrun.redact import Redactor
from agentrun.results import AgentResult, AgentStatus, RunResult, RunStatus

COUNTS = ("tests", "failures", "errors", "skipped")


def _counts(root: ET.Element) -> dict[str, str | None]:
    return {k: root.get(k) for k in COUNTS}


def test_a_won_race_has_no_failures_in_junit(
    write_paradigm: Callable[..., Path], tmp_path: Path
) -> None:
    root = run_junit(
        write_paradigm,
        tmp_path,
        """
        pattern: competitive
        imperatives:
          right: {equals: "42"}
        agents:
          wrong: {provider: mock, output: "41", imperatives: [right]}
          crashed: {provider: mock, error: "solver crashed"}
          right: {provider: mock, latency: 50ms, output: "42", imperatives: [right]}
          slow: {provider: mock, hang: true}
        """,
    )
    assert _counts(root) == {"tests": "4", "failures": "0", "errors": "0", "skipped": "3"}
    found = cases(root)
    assert outcome(found["right"]) is None
    assert outcome(found["wrong"]) == (
        "skipped",
        "lost the race: its answer was rejected (right: expected '42', got '41')",
    )
    assert outcome(found["crashed"]) == ("skipped", "lost the race: failed: solver crashed")
    assert outcome(found["slow"]) == ("skipped", "cancelled")
    assert "41" in (found["wrong"].findtext("system-err") or "")


def test_an_interrupted_run_is_an_error_in_junit() -> None:
    racer = AgentResult("a", "a", None, AgentStatus.CANCELLED, 0.2, error="cancelled")  # type: ignore[arg-type]
    result = RunResult("p", "independent", RunStatus.INTERRUPTED, 0.5, (racer,), reason="x")
    root = check_structure(render_junit(result, Redactor()))
    assert _counts(root)["errors"] == "1"
    found = cases(root)
    assert outcome(found["a"]) == ("skipped", "cancelled")
    error = found["interrupted"].find("error")
    assert error is not None and error.get("type") == "interrupted"
    assert "exit 130" in (error.get("message") or "")
    empty = RunResult("p", "independent", RunStatus.INTERRUPTED, 0.1, ())
    assert _counts(check_structure(render_junit(empty, Redactor())))["errors"] == "1"


def test_a_failure_body_shows_the_broken_check_and_the_output(
    write_paradigm: Callable[..., Path], tmp_path: Path
) -> None:
    root = run_junit(
        write_paradigm,
        tmp_path,
        """
        pattern: independent
        imperatives:
          short: {max_length: 3}
        agents:
          long: {provider: mock, output: "far too long", imperatives: [short]}
        """,
    )
    body = cases(root)["long"].findtext("failure") or ""
    assert "short broken: 12 characters, at most 3 allowed" in body
    assert "output: far too long" in body


def test_a_broken_check_is_an_error_in_junit_and_the_displays(
    write_paradigm: Callable[..., Path], tmp_path: Path, run_paradigm: Callable[..., Ran]
) -> None:
    (tmp_path / "checks_raising.py").write_text(
        "def broken(output):\n    raise ValueError('cannot judge this')\n"
    )
    text = """
        pattern: independent
        imperatives:
          missing: {python: "checks_raising:broken"}
        agents:
          a: {provider: mock, output: fine, imperatives: [missing]}
        """
    root = run_junit(write_paradigm, tmp_path, text)
    assert _counts(root) == {"tests": "1", "failures": "0", "errors": "1", "skipped": "0"}
    error = cases(root)["a"].find("error")
    assert error is not None and error.get("type") == "failed"
    assert (error.get("message") or "").startswith("missing could not run: ")
    assert "ValueError: cannot judge this" in (error.get("message") or "")
    assert "missing could not run" in (error.text or "")
    ran = run_paradigm(text)
    assert "a  check ! missing could not run: " in ran.out
    assert "ValueError: cannot judge this" in ran.out


def test_show_output_prints_each_output_escaped_on_one_line(
    run_paradigm: Callable[..., Ran],
) -> None:
    text = """
        pattern: independent
        require: any
        imperatives:
          calm: {not_contains: "!"}
        agents:
          two_lines: {provider: mock, output: "first\\nsecond \\u001b[31m"}
          shouty: {provider: mock, output: "no!", imperatives: [calm]}
          long: {provider: mock, output: "{{ 'y' * 300 }}"}
        """
    shown = run_paradigm(text, show_output=True).out.splitlines()
    assert any(line.endswith('two_lines  output: "first\\nsecond \\u001b[31m"') for line in shown)
    assert any(line.endswith('shouty  rejected reply: "no!"') for line in shown)
    assert any(line.endswith(f'long  output: "{"y" * 200}…" (300 characters)') for line in shown)
    assert "output:" not in run_paradigm(text).out


def test_the_flag_reaches_the_plain_display(write_paradigm: Callable[..., Path]) -> None:
    path = write_paradigm("pattern: independent\nagents: {a: {provider: mock, output: hi}}\n")
    for flag in ("--show-output", "-v"):
        done = subprocess.run(
            [sys.executable, "-m", "agentrun", "run", str(path), "--display", "plain", flag],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert '] a  output: "hi"' in done.stdout
