"""A Markdown section for the GitHub Actions job summary (``$GITHUB_STEP_SUMMARY``).

GitHub renders the file a step appends to on the run's summary page. The
section holds a title with the outcome, the stages of a pipeline, a table
``agent | status | attempts | time | note`` and the reason the run failed. Long
runs list their problems first and stop at :data:`MAX_ROWS` rows, since the
summary file is capped in size. Every cell is escaped so an agent's output
cannot break the table or inject HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agentrun.durations import format_duration
from agentrun.outputs.text_summary import (
    SYMBOLS,
    counts_text,
    printable,
    status_counts,
    tokens_text,
)
from agentrun.redact import Redactor
from agentrun.results import AgentResult, AgentStatus, RunResult, RunStatus

STEP_SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"
MAX_ROWS = 100
"""Agents listed in the table at most."""
MAX_NOTE = 200
"""Characters of a note kept in a cell."""

TITLE_MARKS = {RunStatus.PASSED: "✅", RunStatus.FAILED: "❌", RunStatus.INTERRUPTED: "⏹️"}


def render_step_summary(result: RunResult, redact: Redactor, report_path: str | None = None) -> str:
    """The Markdown section of one run, every secret masked."""

    def cell(text: str) -> str:
        return _escape(redact(text))

    lines = [
        f"### {TITLE_MARKS[result.status]} agentrun: {cell(result.paradigm)} "
        f"({result.pattern}) {result.status.value} in {format_duration(result.duration_s)}",
        "",
    ]
    if result.winner:
        lines.append(f"**Winner:** {cell(result.winner)}  ")
    if result.rescued_by:
        lines.append(f"**Rescued by:** {cell(result.rescued_by)}  ")
    if result.reason and result.status is not RunStatus.PASSED:
        lines.append(f"**Reason:** {cell(result.reason)}  ")
    if result.stages:
        stages = " → ".join(
            f"{cell(s.name)} {SYMBOLS[s.status]} {s.status.value}" for s in result.stages
        )
        lines.append(f"**Stages:** {stages}  ")
    if lines[-1]:
        lines.append("")
    agents = list(result.agents)
    shown = agents
    if len(agents) > MAX_ROWS:
        # Problems first: they are what a reader of a failed job is looking for.
        shown = sorted(agents, key=lambda a: a.succeeded)[:MAX_ROWS]
    lines += ["| agent | status | attempts | time | note |", "| --- | --- | ---: | ---: | --- |"]
    lines += [_row(agent, cell) for agent in shown]
    if len(shown) < len(agents):
        lines.append(f"| … | {len(agents) - len(shown)} more agents, all passed | | | |")
    lines.append("")
    footer = counts_text(status_counts(agents), len(agents))
    tokens = tokens_text(result)
    if tokens is not None:
        footer += f" · tokens {tokens}"
    if report_path:
        footer += f" · report `{cell(report_path)}`"
    lines += [footer, ""]
    return "\n".join(lines)


def append_step_summary(
    path: Path, result: RunResult, redact: Redactor, report_path: str | None = None
) -> None:
    """Append the run's section to the summary file ``path``.

    Raises:
        OSError: the file cannot be written.
    """
    with path.open("a", encoding="utf-8") as stream:
        stream.write(render_step_summary(result, redact, report_path) + "\n")


def _row(agent: AgentResult, cell: Callable[[str], str]) -> str:
    status = f"{SYMBOLS[agent.status]} {agent.status.value}"
    return (
        f"| {cell(agent.instance)} | {status} | {len(agent.attempts)} "
        f"| {format_duration(agent.duration_s)} | {cell(_note(agent))} |"
    )


def _note(agent: AgentResult) -> str:
    if agent.replaced_by:
        return f"replaced by {agent.replaced_by}"
    if agent.error and agent.status is not AgentStatus.PASSED:
        return agent.error
    return ""


def _escape(text: str) -> str:
    """One table cell: no newline, no pipe, no HTML; at most :data:`MAX_NOTE` characters."""
    text = printable(" ".join(text.split()))
    if len(text) > MAX_NOTE:
        text = text[: MAX_NOTE - 1] + "…"
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        text = text.replace(raw, safe)
    return text.replace("`", "'")
