"""The final summary of a run, as plain text lines (shared by the plain and quiet displays)."""

from __future__ import annotations

from collections import Counter

from agentrun.durations import format_duration
from agentrun.results import AgentResult, AgentStatus, RunResult

SYMBOLS = {
    AgentStatus.PENDING: "·",
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

MAX_ROWS = 40
"""Above this many agents the summary lists only the notable ones."""


def summary_lines(result: RunResult, report_path: str | None = None) -> list[str]:
    """The summary: outcome, one row per agent (or the notable ones), counts, failures."""
    lines = [
        f"{result.paradigm} ({result.pattern}): {result.status.value.upper()} "
        f"in {format_duration(result.duration_s)}"
        + (f" — winner: {result.winner}" if result.winner else "")
        + (f" — rescued by: {result.rescued_by}" if result.rescued_by else "")
    ]
    if result.reason and result.status.value != "passed":
        lines.append(f"  reason: {result.reason}")
    agents = list(result.agents)
    shown = agents if len(agents) <= MAX_ROWS else [a for a in agents if not a.succeeded][:MAX_ROWS]
    width = max((len(a.instance) for a in shown), default=0)
    for agent in shown:
        lines.append("  " + agent_row(agent, width))
    if len(shown) < len(agents):
        lines.append(f"  … {len(agents) - len(shown)} more agents not listed")
    counts = Counter(a.status for a in agents)
    lines.append(
        "  agents: "
        + ", ".join(f"{counts[s]} {s.value}" for s in AgentStatus if counts[s])
        + f" (of {len(agents)})"
    )
    ran = [a for a in agents if a.attempts]
    if len(ran) > 3:
        slowest = sorted(ran, key=lambda a: a.duration_s, reverse=True)[:3]
        lines.append(
            "  slowest: "
            + ", ".join(f"{a.instance} {format_duration(a.duration_s)}" for a in slowest)
        )
    if result.usage is not None:
        cost = f", ${result.usage.cost_usd:.4f}" if result.usage.cost_usd is not None else ""
        lines.append(f"  tokens: {result.usage.total_tokens}{cost}")
    if report_path:
        lines.append(f"  report: {report_path}")
    return lines


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
    return row
