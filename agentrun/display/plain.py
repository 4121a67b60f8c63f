"""Plain display: one line per meaningful event, no control codes; readable in a CI log.

Every line starts with the seconds since the run started, then the agent
instance, so ``grep theorist`` or ``grep ' violated'`` picks a story out of a log.
Control characters in outputs and errors are escaped (``\\x1b``), so a log never
holds an ESC byte.
"""

from __future__ import annotations

import json
from typing import TextIO

from agentrun.callables import located
from agentrun.durations import format_duration
from agentrun.events.records import (
    AgentFinished,
    AgentStarted,
    AttemptFailed,
    CheckDecided,
    Event,
    FallbackStarted,
    LimitChanged,
    Queued,
    Retrying,
    RunFinished,
    RunStarted,
    SlotTaken,
    StageFinished,
    StageStarted,
    WinnerChosen,
)
from agentrun.outputs.text_summary import SYMBOLS, printable, summary_lines
from agentrun.redact import Redactor
from agentrun.results import AgentResult


class PlainDisplay:
    """Writes ``[  1.234s] instance  word  detail`` lines, then the final summary."""

    def __init__(
        self,
        stream: TextIO,
        redact: Redactor,
        report_path: str | None = None,
        *,
        show_output: bool = False,
    ) -> None:
        self._stream = stream
        self._redact = redact
        self._report_path = report_path
        self._show_output = show_output

    def handle(self, event: Event) -> None:
        """Print the event's line, if it has one."""
        if isinstance(event, RunFinished):
            self._write(summary_lines(event.result, self._report_path))
            return
        text = describe(event)
        if text is not None:
            self._write([f"[{event.t:8.3f}s] {text}"])
        if self._show_output and isinstance(event, AgentFinished):
            shown = output_line(event.result)
            if shown is not None:
                self._write([f"[{event.t:8.3f}s] {shown}"])

    def close(self) -> None:
        """Nothing to release: every line is already written."""

    def _write(self, lines: list[str]) -> None:
        text = "\n".join(printable(self._redact(line)) for line in lines)
        self._stream.write(text + "\n")
        self._stream.flush()


OUTPUT_LIMIT = 200
"""Characters of an output shown by ``--show-output``."""


def output_line(result: AgentResult) -> str | None:
    """``instance  output: "..."`` (or the rejected ``reply``), quoted and cut short."""
    text, label = result.output, "output"
    if text is None:
        text, label = result.raw_output, "rejected reply"
    if text is None:
        return None
    shown = text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT] + "…"
    more = f" ({len(text)} characters)" if len(text) > OUTPUT_LIMIT else ""
    return f"{result.instance}  {label}: {json.dumps(shown, ensure_ascii=False)}{more}"


def waiting_for(event: Queued) -> str:
    """What a queued attempt waits for, in words."""
    if event.reason == "max_concurrency":
        return "a run-wide slot (max_concurrency)"
    if event.reason == "rate_limit":
        return f"the rate limit of provider {event.provider}"
    return f"a slot of provider {event.provider}"


def describe(event: Event) -> str | None:
    """The text of one event for logs, or ``None`` for events not worth a line."""
    match event:
        case RunStarted():
            count = len(event.agents)
            noun = "agent" if count == 1 else "agents"
            return f"run {event.paradigm} ({event.pattern}): {count} {noun}"
        case StageStarted():
            return f"stage {event.stage} started: {', '.join(event.agents)}"
        case StageFinished():
            return f"stage {event.stage} {event.status.value} ({format_duration(event.duration_s)})"
        case AgentStarted():
            via = f" for {event.parent}" if event.parent else ""
            return f"{event.instance}  started ({event.role}{via})"
        case CheckDecided():
            check = event.check
            if check.error:  # the check broke: where, not a verdict
                where = located(check.traceback, check.message.removeprefix("raised "))
                return f"{event.instance}  check ! {check.name} could not run: {where}"
            mark = "✓" if check.passed else "✗"
            note = f": {check.message}" if check.message else ""
            return f"{event.instance}  check {mark} {check.name}{note}"
        case AttemptFailed():
            return f"{event.instance}  attempt {event.attempt} {event.status.value}: {event.error}"
        case Retrying():
            wait = format_duration(event.wait_s)
            return f"{event.instance}  retrying: attempt {event.attempt} in {wait}"
        case FallbackStarted():
            return f"{event.instance}  falling back on {event.fallback}"
        case WinnerChosen():
            return f"{event.instance}  WINNER; cancelling the other racers"
        case Queued():
            return f"{event.instance}  queued for {waiting_for(event)}"
        case SlotTaken():
            return f"{event.instance}  got its slot after {format_duration(event.waited_s)}"
        case LimitChanged():
            limit = "unlimited" if event.limit is None else str(event.limit)
            return f"provider {event.provider}: concurrency limit now {limit}"
        case AgentFinished(result=result):
            symbol = SYMBOLS[result.status]
            detail = f" → replaced by {result.replaced_by}" if result.replaced_by else ""
            if result.error and not result.replaced_by and result.status.value != "passed":
                detail = f": {result.error}"
            took = format_duration(result.duration_s)
            return f"{result.instance}  {symbol} {result.status.value} ({took}){detail}"
        case _:
            return None
