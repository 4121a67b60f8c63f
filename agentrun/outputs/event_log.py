"""The ``--events`` JSONL log: one JSON object per event, written as it happens."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any, TextIO

from agentrun.events.records import AgentFinished, Event, RunFinished
from agentrun.outputs.json_report import agent_dict, check_dict
from agentrun.redact import Redactor
from agentrun.results import CheckResult

ENVELOPE = frozenset({"run", "case"})


def event_dict(event: Event) -> dict[str, Any]:
    """An event as JSON-ready data: ``{"event": kind, "t": seconds, ...fields}``.

    The envelope (``run`` and ``case``) is written only for a run of a dataset case,
    so a single run's log stays as it always was.
    """
    data: dict[str, Any] = {"event": event.kind}
    if event.case is not None:
        data.update(run=event.run, case=event.case)
    if isinstance(event, AgentFinished):
        data["t"] = round(event.t, 6)
        data.update(agent_dict(event.result))
        return data
    if isinstance(event, RunFinished):
        result = event.result
        data.update(
            t=round(event.t, 6),
            paradigm=result.paradigm,
            status=result.status.value,
            exit_code=result.exit_code,
            duration_s=round(result.duration_s, 6),
            winner=result.winner,
            reason=result.reason,
        )
        return data
    for field in fields(event):
        if field.name in ENVELOPE:
            continue
        value = getattr(event, field.name)
        if isinstance(value, float):
            value = round(value, 6)
        elif isinstance(value, CheckResult):
            value = check_dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        data[field.name] = value
    return data


class EventLog:
    """An event sink writing each event as one line of JSON, flushed at once so an
    interrupted or killed run keeps everything up to its last event."""

    def __init__(self, stream: TextIO, redact: Redactor) -> None:
        self._stream = stream
        self._redact = redact
        self.error: str | None = None
        """Why writing stopped (a full disk, a reader gone), if it did: the run goes on."""

    def handle(self, event: Event) -> None:
        """Write one event."""
        if self.error is not None:
            return
        line = json.dumps(event_dict(event), ensure_ascii=False, default=str)
        try:
            self._stream.write(self._redact(line) + "\n")
            self._stream.flush()
        except OSError as exc:
            self.error = exc.strerror or str(exc)
