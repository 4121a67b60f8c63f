"""``agentrun compare BASE NEW``: what changed between two dataset runs.

Results files give case by case regressions (passed before, not now), fixes, new and
missing cases; reports (or results files) give the pass-rate, latency and cost deltas.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentrun.dataset.aggregate import Aggregate
from agentrun.dataset.records import PASSED
from agentrun.dataset.results_file import FORMAT, read_results
from agentrun.errors import UsageError

FORMATS = ("table", "json", "markdown")
LISTED = 20
"""Case ids listed per kind of change in a table (JSON lists them all)."""


@dataclass
class RunSide:
    """One side of a comparison: its summary and, from a results file, each case's status."""

    path: str
    summary: dict[str, Any]
    cases: dict[str, str] | None = None
    """Case id → passed (every repeat passed) or the first other status; ``None`` for a report."""


@dataclass
class Comparison:
    """The changes between two runs."""

    regressions: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    deltas: dict[str, dict[str, float | None]] = field(default_factory=dict)
    case_level: bool = False


def load_side(path: str) -> RunSide:
    """Read a results file or a dataset report.

    Raises:
        UsageError: the file is neither.
    """
    try:
        with Path(path).open(encoding="utf-8") as handle:
            first = handle.readline()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if f'"{FORMAT}"' in first:
        _, records = read_results(path)
        return _from_records(path, records)
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError:
        report = None
    if not isinstance(report, dict) or report.get("kind") != "dataset":
        raise UsageError(f"{path}: neither a results file nor a dataset report")
    return RunSide(path, report["summary"])


def compare(base: RunSide, new: RunSide) -> Comparison:
    """Regressions, fixes, new and missing cases, and the figures' deltas."""
    result = Comparison()
    if base.cases is not None and new.cases is not None:
        result.case_level = True
        for case_id, status in new.cases.items():
            before = base.cases.get(case_id)
            if before is None:
                result.new.append(case_id)
            elif before == PASSED and status != PASSED:
                result.regressions.append(case_id)
            elif before != PASSED and status == PASSED:
                result.fixes.append(case_id)
        result.missing = [case_id for case_id in base.cases if case_id not in new.cases]
    for name, pick in _FIGURES.items():
        old, now = pick(base.summary), pick(new.summary)
        delta = None if old is None or now is None else round(now - old, 6)
        result.deltas[name] = {"base": old, "new": now, "delta": delta}
    return result


def render(result: Comparison, output_format: str) -> str:
    """The comparison as a terminal table, JSON or Markdown."""
    if output_format == "json":
        return json.dumps(result.__dict__, indent=2) + "\n"
    markdown = output_format == "markdown"
    lines = ["| figure | base | new | delta |", "| --- | --- | --- | --- |"] if markdown else []
    for name, row in result.deltas.items():
        cells = [_fmt(row["base"]), _fmt(row["new"]), _fmt(row["delta"], signed=True)]
        lines.append(
            f"| {name} | {' | '.join(cells)} |"
            if markdown
            else f"{name:<14} " + " ".join(f"{c:>12}" for c in cells)
        )
    if not result.case_level:
        lines.append("(case-level changes need results files on both sides)")
    for kind in ("regressions", "fixes", "new", "missing"):
        ids: list[str] = getattr(result, kind)
        if result.case_level:
            shown = ", ".join(ids[:LISTED]) + (
                f", ... ({len(ids) - LISTED} more)" if len(ids) > LISTED else ""
            )
            lines.append(
                f"{'- ' if markdown else ''}{kind}: {len(ids)}" + (f" ({shown})" if ids else "")
            )
    return "\n".join(lines) + "\n"


def _from_records(path: str, records: Iterable[Mapping[str, Any]]) -> RunSide:
    agg = Aggregate()
    latest: dict[tuple[str, int], Mapping[str, Any]] = {}
    for record in records:
        latest[(str(record.get("id")), int(record.get("repeat") or 0))] = record
    cases: dict[str, str] = {}
    for (case_id, _), record in latest.items():
        agg.add(record)
        status = str(record.get("status"))
        if cases.get(case_id, PASSED) == PASSED:
            cases[case_id] = status
    return RunSide(path, agg.summary(), cases)


_FIGURES: dict[str, Callable[[dict[str, Any]], float | None]] = {
    "pass_rate": lambda s: s.get("pass_rate"),
    "latency_p50_s": lambda s: s["latency_s"].get("p50"),
    "latency_p95_s": lambda s: s["latency_s"].get("p95"),
    "cost_usd": lambda s: s["usage"].get("cost_usd"),
    "cases": lambda s: s["cases"].get("total"),
}


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.4g}" if signed else f"{value:.4g}"
