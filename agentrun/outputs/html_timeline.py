"""The HTML report's data: one timeline row per agent instance, built from a report.

A row's segments are ``[kind, start, end, attempt, status]`` with ``kind`` one of
``attempt``, ``queued`` (waiting for a provider slot) and ``backoff`` (the wait
before a retry). With the run's events the times are the events' ``t``; without
them they are laid out from the report's durations (pipeline stages one after
another, attempts back to back, a fallback after the instance it replaces) and the
page says they are estimated.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

PROBLEMS = frozenset({"failed", "violated", "timeout"})
"""Statuses listed among the failures when no fallback replaced the agent."""

TIMED_EVENTS = frozenset(
    {
        "agent_started",
        "attempt_started",
        "attempt_failed",
        "retrying",
        "queued",
        "slot_taken",
        "agent_finished",
        "fallback",
        "winner",
    }
)
"""The events the timeline reads; the others are not kept."""

Segment = list[Any]
Row = dict[str, Any]


def flatten_agents(agents: Iterable[Mapping[str, Any]]) -> Iterator[tuple[dict[str, Any], str]]:
    """Every instance once, fallbacks after the instance they stand in for.

    Yields:
        The agent's data without its nested fallbacks, and the parent instance ("" if none).
    """
    seen: set[str] = set()

    def visit(agent: Mapping[str, Any], parent: str) -> Iterator[tuple[dict[str, Any], str]]:
        instance = str(agent.get("instance") or agent.get("name") or "?")
        if instance in seen:
            return
        seen.add(instance)
        fallbacks = list(agent.get("fallbacks") or [])
        flat = {k: v for k, v in agent.items() if k != "fallbacks"}
        flat["fallbacks"] = [str(f.get("instance") or f.get("name")) for f in fallbacks]
        yield flat, parent
        for fallback in fallbacks:
            yield from visit(fallback, instance)

    for agent in agents:
        yield from visit(agent, "")


def build_rows(
    report: Mapping[str, Any], events: Sequence[Mapping[str, Any]] | None
) -> tuple[list[dict[str, Any]], list[Row]]:
    """The agents' details and one timeline row per instance."""
    details: list[dict[str, Any]] = []
    rows: list[Row] = []
    for agent, parent in flatten_agents(report.get("agents") or []):
        rows.append(
            {
                "i": agent.get("instance") or agent.get("name"),
                "r": agent.get("role") or "agent",
                "s": agent.get("status") or "pending",
                "p": parent or None,
                "g": agent.get("stage"),
                "d": len(details),
                "x": [],
            }
        )
        details.append(agent)
    if events:
        _segments_from_events(rows, details, events)
    else:
        _segments_from_durations(report, rows, details)
    for row in rows:
        if row["i"] == report.get("winner"):
            row["w"] = True
    return details, rows


def failures(rows: list[Row], details: list[dict[str, Any]]) -> list[int]:
    """Indices of the rows that failed and that no fallback replaced."""
    return [
        n
        for n, row in enumerate(rows)
        if row["s"] in PROBLEMS and not details[row["d"]].get("replaced_by")
    ]


def _attempt_status(agent: Mapping[str, Any], number: int) -> str:
    log = agent.get("attempt_log") or []
    if 0 < number <= len(log):
        return str(log[number - 1].get("status") or "failed")
    return str(agent.get("status") or "failed")


def _segments_from_events(
    rows: list[Row], details: list[dict[str, Any]], events: Sequence[Mapping[str, Any]]
) -> None:
    """Segments from the events' times; an attempt still open at the end closes there."""
    by_instance = {row["i"]: row for row in rows}
    open_attempt: dict[str, Segment] = {}
    open_queue: dict[str, Segment] = {}
    for event in events:
        row = by_instance.get(event.get("instance"))
        kind, t = event.get("event"), float(event.get("t") or 0.0)
        if row is None:
            continue
        instance, agent = row["i"], details[row["d"]]
        attempt = int(event.get("attempt") or 0)
        if kind == "agent_started":
            row["t0"] = t
        elif kind == "attempt_started":
            segment: Segment = ["attempt", t, t, attempt, _attempt_status(agent, attempt)]
            open_attempt[instance] = segment
            row["x"].append(segment)
        elif kind == "queued":
            open_queue[instance] = ["queued", t, t, attempt, "waiting"]
        elif kind == "slot_taken" and instance in open_queue:
            queue = open_queue.pop(instance)
            queue[2] = t
            row["x"].append(queue)
        elif kind == "retrying":
            wait = float(event.get("wait_s") or 0.0)
            row["x"].append(["backoff", t, t + wait, attempt, "retrying"])
        elif kind in ("attempt_failed", "agent_finished") and instance in open_attempt:
            open_attempt.pop(instance)[2] = t
        elif kind == "winner":
            row["w"] = True
    last = max((float(seg[2]) for row in rows for seg in row["x"]), default=0.0)
    for segment in open_attempt.values():
        segment[2] = max(float(segment[2]), last)


def _segments_from_durations(
    report: Mapping[str, Any], rows: list[Row], details: list[dict[str, Any]]
) -> None:
    """Segments laid out from durations alone: an estimate, marked as one."""
    stage_start: dict[str, float] = {}
    clock = 0.0
    for stage in report.get("stages") or []:
        stage_start[str(stage.get("name"))] = clock
        clock += float(stage.get("duration_s") or 0.0)
    ends: dict[str, float] = {}
    for row in rows:
        agent = details[row["d"]]
        if row["p"] is not None:
            start = ends.get(row["p"], 0.0)
        else:
            start = stage_start.get(str(row["g"]), 0.0)
        for n, attempt in enumerate(agent.get("attempt_log") or [], start=1):
            end = start + float(attempt.get("duration_s") or 0.0)
            row["x"].append(["attempt", start, end, n, str(attempt.get("status") or "failed")])
            start = end
        ends[row["i"]] = start


DEADLINE_REACH = 1.25
"""The axis stretches to show the deadline when it is at most this many times the run's
length; a deadline far beyond would squash every bar into a sliver, so it is named instead."""


def span(rows: list[Row], report: Mapping[str, Any], deadline: float | None) -> float:
    """The time axis' length: the run's duration or the last segment's end, and the
    deadline when it is near."""
    ends = [float(seg[2]) for row in rows for seg in row["x"]]
    longest = max([float(report.get("duration_s") or 0.0), *ends]) or 1.0
    if deadline is not None and deadline <= longest * DEADLINE_REACH:
        return max(longest, deadline)
    return longest
