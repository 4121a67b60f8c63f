"""The final summary of a dataset run, as plain text lines (the display styles nothing)."""

from __future__ import annotations

from typing import Any

from agentrun.dataset.thresholds import Verdict
from agentrun.durations import format_duration


def summary_lines(
    summary: dict[str, Any], verdicts: list[Verdict], report: str | None
) -> list[str]:
    """What is printed once a dataset run ends."""
    cases = summary["cases"]
    rate = summary["pass_rate"]
    shown_rate = "n/a" if rate is None else f"{rate:.1%}"
    lines = [
        f"cases: {cases['passed']} passed, {cases['failed']} failed, {cases['errored']} errored"
        + (f", {cases['interrupted']} interrupted" if cases["interrupted"] else "")
        + f" of {cases['total']} (pass rate {shown_rate})"
    ]
    latency = summary["latency_s"]
    if latency["p50"] is not None:
        lines.append(
            "latency: "
            + " ".join(f"{k} {format_duration(v)}" for k, v in latency.items() if v is not None)
        )
    usage = summary["usage"]
    tokens = usage["prompt_tokens"] + usage["completion_tokens"]
    if tokens or usage["cost_usd"]:
        lines.append(f"tokens: {tokens:,}; cost: ${usage['cost_usd']:.4f}")
    cache = summary["cache"]
    if cache.get("hits") or cache.get("misses"):
        lines.append(
            f"cache: {cache.get('hits', 0)} hits, {cache.get('misses', 0)} misses"
            f" (saved ${cache.get('saved_usd', 0.0):.4f})"
        )
    flaky = summary["flaky"]
    if flaky:
        listed = ", ".join(f"{item['id']} {item['pass_rate']:.0%}" for item in flaky[:5])
        lines.append(f"flaky: {len(flaky)} {'case' if len(flaky) == 1 else 'cases'} ({listed})")
    for item in summary["failure_reasons"][:5]:
        lines.append(f"  {item['count']}× {item['reason']}  e.g. {', '.join(item['examples'])}")
    for verdict in verdicts:
        lines.append(f"threshold {'ok' if verdict.held else 'FAILED'}: {verdict.describe()}")
    if report:
        lines.append(f"report: {report}")
    return lines
