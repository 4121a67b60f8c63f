"""The GitHub Actions step summary: a Markdown section appended when GITHUB_STEP_SUMMARY is set."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from agentrun import api
from agentrun.outputs.step_summary import MAX_ROWS, render_step_summary
from agentrun.redact import Redactor
from agentrun.results import AgentResult, AgentStatus, RunResult, RunStatus, StageResult

PARADIGM = """
name: gate
pattern: pipeline
defaults: {provider: mock}
imperatives:
  polite: {not_contains: "|rude|"}
agents:
  writer: {output: "a |rude| <b>reply</b>", imperatives: [polite]}
  editor: {output: "fine"}
stages:
  - {name: write, agents: [writer]}
  - {name: edit, agents: [editor]}
"""


def test_appended_after_a_run(write_paradigm: Callable[..., Path], tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    options = api.RunOptions(display="quiet", report=str(tmp_path / "r.json"))
    result = api.run(write_paradigm(PARADIGM), options, stdout=io.StringIO(), env=env)
    assert result.exit_code == 1
    text = summary.read_text()
    assert text.startswith("# earlier step\n### ❌ agentrun: gate (pipeline) failed in ")
    lines = text.splitlines()
    assert "**Stages:** write ✗ failed → edit - skipped  " in lines
    assert "| agent | status | attempts | time | note |" in lines
    writer = next(line for line in lines if line.startswith("| writer |"))
    # The pipes and the HTML of the agent's output cannot break the table.
    assert writer.count(" | ") == 4
    assert "\\|rude\\|" in writer
    assert "<b>" not in text
    assert any(line.startswith("| editor | - skipped | 0 |") for line in lines)
    assert [line for line in lines if line][-1].startswith(
        "1 violated, 1 skipped (of 2) · report `"
    )
    # A second run appends a second section.
    api.run(write_paradigm(PARADIGM), options, stdout=io.StringIO(), env=env)
    assert summary.read_text().count("### ❌ agentrun: gate") == 2


def test_unwritable_summary_only_warns(write_paradigm: Callable[..., Path], tmp_path: Path) -> None:
    err = io.StringIO()
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "missing" / "dir" / "summary.md")}
    path = write_paradigm("pattern: independent\nagents: {a: {provider: mock}}\n")
    result = api.run(
        path, api.RunOptions(display="quiet"), stdout=io.StringIO(), stderr=err, env=env
    )
    assert result.exit_code == 0
    assert err.getvalue().startswith("agentrun: warning: cannot write GITHUB_STEP_SUMMARY")


def test_not_written_without_the_variable(
    write_paradigm: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_paradigm("pattern: independent\nagents: {a: {provider: mock}}\n")
    api.run(path, api.RunOptions(display="quiet"), stdout=io.StringIO(), env={})
    assert list(tmp_path.iterdir()) == [path]


def test_big_runs_list_problems_first_and_stop() -> None:
    agents = [
        AgentResult(f"a{i}", f"a{i}", None, AgentStatus.PASSED, 0.1) for i in range(MAX_ROWS + 50)
    ]
    agents[120] = AgentResult("bad", "bad", None, AgentStatus.FAILED, 0.2, error="secret-1 leaked")
    result = RunResult(
        "big",
        "independent",
        RunStatus.FAILED,
        3.0,
        tuple(agents),
        reason="1 failed",
        stages=(StageResult("s", AgentStatus.FAILED),),
    )
    text = render_step_summary(result, Redactor(["secret-1"]))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[1].startswith("| bad | ✗ failed | 0 | 200ms | *** leaked |")
    assert len(rows) == 1 + MAX_ROWS + 1
    assert rows[-1] == "| … | 50 more agents, all passed | | | |"
    assert "**Reason:** 1 failed  " in text
    assert "secret-1" not in text


def test_passed_and_interrupted_titles() -> None:
    ok = RunResult("p", "competitive", RunStatus.PASSED, 1.0, (), winner="w")
    assert render_step_summary(ok, Redactor()).startswith("### ✅ agentrun: p (competitive) passed")
    assert "**Winner:** w  " in render_step_summary(ok, Redactor())
    stopped = RunResult("p", "independent", RunStatus.INTERRUPTED, 1.0, (), reason="interrupted")
    assert render_step_summary(stopped, Redactor()).startswith(
        "### ⏹️ agentrun: p (independent) interrupted"
    )
