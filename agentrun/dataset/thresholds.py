"""Thresholds of a dataset run and the exit code they give.

0: every threshold holds (without any: every case passed). 1: one does not and a
broken imperative was involved (or the latency or cost bound was exceeded).
3: only errors and timeouts are to blame. 130: interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentrun.dataset.aggregate import Aggregate
from agentrun.durations import format_duration


@dataclass(frozen=True, slots=True)
class Limits:
    """What the run must reach."""

    pass_rate: float | None = None
    p95_latency: float | None = None
    cost: float | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """One threshold against the run's figure."""

    name: str
    limit: float
    actual: float | None
    held: bool

    def describe(self) -> str:
        """``pass_rate 0.91 < 0.95`` and the like."""
        shown = {"p95_latency": format_duration}.get(self.name, lambda v: f"{v:g}")
        actual = "n/a" if self.actual is None else shown(self.actual)
        sign = ("≤" if self.name != "pass_rate" else "≥") if self.held else "✗"
        return f"{self.name} {actual} {sign} {shown(self.limit)}"


def judge(agg: Aggregate, limits: Limits) -> list[Verdict]:
    """Every threshold set, against the run (pass rate 1.0 when none is)."""
    verdicts = []
    rate = limits.pass_rate
    if rate is None and limits.p95_latency is None and limits.cost is None:
        rate = 1.0
    if rate is not None:
        actual = agg.pass_rate
        verdicts.append(Verdict("pass_rate", rate, actual, actual is not None and actual >= rate))
    if limits.p95_latency is not None:
        summary = agg.summary()["latency_s"]
        p95 = summary["p95"]
        held = p95 is None or p95 <= limits.p95_latency
        verdicts.append(Verdict("p95_latency", limits.p95_latency, p95, held))
    if limits.cost is not None:
        verdicts.append(Verdict("cost", limits.cost, agg.cost, agg.cost <= limits.cost))
    return verdicts


def exit_code(agg: Aggregate, verdicts: list[Verdict], interrupted: bool) -> int:
    """The process exit code of a dataset run."""
    if interrupted:
        return 130
    broken = [v for v in verdicts if not v.held]
    if not broken:
        return 0
    only_rate = all(v.name == "pass_rate" for v in broken)
    if only_rate and agg.counts["failed"] == 0:
        return 3
    return 1


def verdicts_json(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    """The thresholds as the report holds them."""
    return [
        {"name": v.name, "limit": v.limit, "actual": v.actual, "held": v.held} for v in verdicts
    ]
