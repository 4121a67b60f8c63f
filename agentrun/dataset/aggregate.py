"""The aggregate of a dataset run, summed record by record with flat memory.

It keeps counts, durations (8 bytes each, for exact percentiles), per-case pass
counts (for flaky cases) and the most frequent failure reasons with a few example
case ids: never a case's output or detail.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentrun.dataset.records import ERRORED, FAILED, INTERRUPTED, PASSED

MAX_REASONS = 2000
"""Distinct failure reasons counted; later new ones are counted as ``(other reasons)``."""
EXAMPLES = 3
"""Example case ids kept per failure reason."""
TOP_REASONS = 10


def percentile(values: array[float], share: float) -> float | None:
    """The nearest-rank percentile of ``values`` (``share`` in 0..1); ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass
class _Tally:
    runs: int = 0
    passed: int = 0
    durations: array[float] = field(default_factory=lambda: array("d"))
    tokens: int = 0
    cost: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "passed": self.passed,
            "pass_rate": _rate(self.passed, self.runs),
            "latency_s": latencies(self.durations),
            "tokens": self.tokens,
            "cost_usd": round(self.cost, 6),
        }


def latencies(durations: array[float]) -> dict[str, float | None]:
    """p50, p95 and p99 of some durations, in seconds."""
    return {
        name: None if (value := percentile(durations, share)) is None else round(value, 6)
        for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))
    }


class Aggregate:
    """Sums case records into the figures of the dataset report."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.cases = _Tally()
        self.agents: dict[str, _Tally] = {}
        self.imperatives: dict[str, list[int]] = {}
        self._by_case: dict[str, list[int]] = {}
        self.reasons: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost = 0.0
        self.cache: Counter[str] = Counter()
        self.saved_cost = 0.0

    @property
    def done(self) -> int:
        """Finished cases (and repeats), interrupted ones not counted."""
        return self.cases.runs

    @property
    def pass_rate(self) -> float | None:
        """Passed over finished cases."""
        return _rate(self.cases.passed, self.cases.runs)

    def add(self, record: Mapping[str, Any]) -> None:
        """Sum one case record (as the results file holds it)."""
        status = record.get("status", ERRORED)
        self.counts[status] += 1
        if status == INTERRUPTED:
            return
        self.cases.runs += 1
        self.cases.passed += status == PASSED
        self.cases.durations.append(float(record.get("duration_s") or 0.0))
        marks = self._by_case.setdefault(str(record.get("id")), [0, 0])
        marks[0] += status == PASSED
        marks[1] += 1
        usage = record.get("usage") or {}
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)
        self.cost += float(usage.get("cost_usd") or 0.0)
        for key, value in (record.get("cache") or {}).items():
            if key == "saved_usd":
                self.saved_cost += float(value)
            else:
                self.cache[key] += int(value)
        for agent in record.get("agents") or ():
            self._agent(agent)
        if status in (FAILED, ERRORED):
            for reason in _reasons(record):
                self._reason(reason, str(record.get("id")))

    def _agent(self, agent: Mapping[str, Any]) -> None:
        tally = self.agents.setdefault(str(agent.get("name")), _Tally())
        tally.runs += 1
        tally.passed += bool(agent.get("succeeded"))
        tally.durations.append(float(agent.get("duration_s") or 0.0))
        usage = agent.get("usage") or {}
        tally.tokens += int(usage.get("prompt_tokens") or 0) + int(
            usage.get("completion_tokens") or 0
        )
        tally.cost += float(usage.get("cost_usd") or 0.0)
        for name, passed in (agent.get("checks") or {}).items():
            marks = self.imperatives.setdefault(name, [0, 0])
            marks[0] += bool(passed)
            marks[1] += 1

    def _reason(self, reason: str, case_id: str) -> None:
        if reason not in self.reasons and len(self.reasons) >= MAX_REASONS:
            reason = "(other reasons)"
        self.reasons[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < EXAMPLES and case_id not in examples:
            examples.append(case_id)

    def flaky(self) -> list[dict[str, Any]]:
        """Cases that both passed and failed across repeats, least reliable first."""
        found = [
            {"id": case_id, "passed": passed, "runs": runs, "pass_rate": _rate(passed, runs)}
            for case_id, (passed, runs) in self._by_case.items()
            if 0 < passed < runs
        ]
        return sorted(found, key=lambda item: (item["pass_rate"], item["id"]))

    def summary(self) -> dict[str, Any]:
        """The aggregate as the report's JSON."""
        return {
            "cases": {
                "total": sum(self.counts.values()),
                "passed": self.counts[PASSED],
                "failed": self.counts[FAILED],
                "errored": self.counts[ERRORED],
                "interrupted": self.counts[INTERRUPTED],
                "distinct": len(self._by_case),
            },
            "pass_rate": self.pass_rate,
            "latency_s": latencies(self.cases.durations),
            "agents": {name: tally.summary() for name, tally in sorted(self.agents.items())},
            "imperatives": {
                name: {"checked": runs, "passed": passed, "pass_rate": _rate(passed, runs)}
                for name, (passed, runs) in sorted(self.imperatives.items())
            },
            "flaky": self.flaky(),
            "failure_reasons": [
                {"reason": reason, "count": count, "examples": self.examples[reason]}
                for reason, count in self.reasons.most_common(TOP_REASONS)
            ],
            "usage": {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "cost_usd": round(self.cost, 6),
            },
            "cache": {**dict(self.cache), "saved_usd": round(self.saved_cost, 6)},
        }


def _reasons(record: Mapping[str, Any]) -> Iterable[str]:
    """What made a case fail: each broken imperative, else each agent's error kind."""
    found = False
    for agent in record.get("agents") or ():
        if agent.get("succeeded") or agent.get("role") not in ("agent", None):
            continue
        for violation in agent.get("violations") or ():
            found = True
            yield f"{agent.get('name')}: broke {violation.split(':', 1)[0]}"
        if not agent.get("violations") and agent.get("error"):
            found = True
            yield f"{agent.get('name')}: {_kind_of(str(agent['error']))}"
    if not found:
        yield str(record.get("reason") or record.get("status"))


def _kind_of(error: str) -> str:
    """An error without its case-specific tail: ``timeout of 2s exceeded`` stays whole,
    ``HTTP 500: <server text>`` keeps its first part."""
    head = error.split(": ", 2)
    return ": ".join(head[:2])[:120]


def _rate(passed: int, runs: int) -> float | None:
    return None if runs == 0 else round(passed / runs, 6)
