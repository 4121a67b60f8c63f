"""The final summary of a run, and the status vocabulary every display shares.

Each status has a distinct symbol, so colour is never the only signal, and a
colour from the Okabe-Ito palette, which stays distinguishable with the common
colour-vision deficiencies (blue and orange carry pass and fail, never red and
green alone).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from agentrun.durations import format_duration
from agentrun.results import AgentResult, AgentStatus, RunResult, RunStatus

SYMBOLS = {
    AgentStatus.PENDING: "·",
    AgentStatus.WAITING: "⧗",
    AgentStatus.RUNNING: "…",
    AgentStatus.RETRYING: "↻",
    AgentStatus.PASSED: "✓",
    AgentStatus.FAILED: "✗",
    AgentStatus.VIOLATED: "!",
    AgentStatus.TIMEOUT: "⏱",
    AgentStatus.CANCELLED: "⊘",
    AgentStatus.SKIPPED: "-",
}
"""One distinct symbol per status, so statuses never depend on colour alone."""

STYLES = {
    AgentStatus.PENDING: "grey50",
    AgentStatus.WAITING: "grey62",
    AgentStatus.RUNNING: "#56B4E9",
    AgentStatus.RETRYING: "#CC79A7",
    AgentStatus.PASSED: "bold #0072B2",
    AgentStatus.FAILED: "bold #E69F00",
    AgentStatus.VIOLATED: "bold #D55E00",
    AgentStatus.TIMEOUT: "bold #F0E442",
    AgentStatus.CANCELLED: "grey62",
    AgentStatus.SKIPPED: "grey50",
}
"""Rich styles per status (Okabe-Ito colours: blue passes, orange and vermillion fail)."""

RUN_STYLES = {
    RunStatus.PASSED: STYLES[AgentStatus.PASSED],
    RunStatus.FAILED: STYLES[AgentStatus.VIOLATED],
    RunStatus.INTERRUPTED: STYLES[AgentStatus.CANCELLED],
}

PROBLEM_STATUSES = frozenset({AgentStatus.FAILED, AgentStatus.VIOLATED, AgentStatus.TIMEOUT})
"""Statuses worth a line of their own in a summary when no fallback replaced the agent."""

MAX_ROWS = 40
"""Above this many agents the summary lists only the notable ones."""

SLOWEST = 3
"""How many of the slowest agents a summary names."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` on one line with every control character escaped (``\\n``, ``\\x1b``, ...).

    Agent outputs and error messages can hold anything, including escape
    sequences that would move the cursor or recolour a terminal; logs must stay
    one line per event and free of control codes.
    """
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": " "}
    return named.get(char) or f"\\x{ord(char):02x}"


def status_counts(agents: Iterable[AgentResult]) -> Counter[AgentStatus]:
    """How many agents ended in each status."""
    return Counter(a.status for a in agents)


def counts_text(counts: Counter[AgentStatus], total: int) -> str:
    """``3 passed, 1 violated (of 4)`` in the order of the status enum."""
    parts = ", ".join(f"{counts[s]} {s.value}" for s in AgentStatus if counts[s])
    return f"{parts} (of {total})"


def slowest(agents: Iterable[AgentResult], count: int = SLOWEST) -> list[AgentResult]:
    """The ``count`` agents that took longest, among those that made an attempt."""
    ran = [a for a in agents if a.attempts]
    return sorted(ran, key=lambda a: a.duration_s, reverse=True)[:count]


def problems(agents: Iterable[AgentResult]) -> list[AgentResult]:
    """Agents that failed, broke an imperative or timed out, and that no fallback replaced."""
    return [a for a in agents if a.status in PROBLEM_STATUSES and not a.succeeded]


def headline(result: RunResult) -> str:
    """``name (pattern): PASSED in 1.2s — winner: x``."""
    return (
        f"{result.paradigm} ({result.pattern}): {result.status.value.upper()} "
        f"in {format_duration(result.duration_s)}"
        + (f" — winner: {result.winner}" if result.winner else "")
        + (f" — rescued by: {result.rescued_by}" if result.rescued_by else "")
    )


def tokens_text(result: RunResult) -> str | None:
    """``1234`` or ``1234, $0.0012``; ``None`` when no provider reported usage."""
    if result.usage is None:
        return None
    cost = f", ${result.usage.cost_usd:.4f}" if result.usage.cost_usd is not None else ""
    return f"{result.usage.total_tokens}{cost}"


def summary_lines(result: RunResult, report_path: str | None = None) -> list[str]:
    """The summary: outcome, one row per agent (or the notable ones), counts, failures."""
    lines = [headline(result)]
    if result.reason and result.status is not RunStatus.PASSED:
        lines.append(f"  reason: {result.reason}")
    agents = list(result.agents)
    shown = agents if len(agents) <= MAX_ROWS else [a for a in agents if not a.succeeded][:MAX_ROWS]
    width = max((len(a.instance) for a in shown), default=0)
    for agent in shown:
        lines.append("  " + agent_row(agent, width))
    if len(shown) < len(agents):
        lines.append(f"  … {len(agents) - len(shown)} more agents not listed")
    lines.append("  agents: " + counts_text(status_counts(agents), len(agents)))
    if len(agents) > SLOWEST:
        names = ", ".join(f"{a.instance} {format_duration(a.duration_s)}" for a in slowest(agents))
        if names:
            lines.append(f"  slowest: {names}")
    tokens = tokens_text(result)
    if tokens is not None:
        lines.append(f"  tokens: {tokens}")
    if report_path:
        lines.append(f"  report: {report_path}")
    return [printable(line) for line in lines]


def agent_row(agent: AgentResult, width: int) -> str:
    """One agent: symbol, name, status, attempts, time, and what replaced it or went wrong."""
    row = (
        f"{SYMBOLS[agent.status]} {agent.instance:<{width}}  {agent.status.value:<9} "
        f"{len(agent.attempts)} att  {format_duration(agent.duration_s):>7}"
    )
    if agent.replaced_by:
        row += f"  → replaced by {agent.replaced_by}"
    if agent.error and agent.status is not AgentStatus.PASSED:
        row += f"  {agent.error}"
    return printable(row)
