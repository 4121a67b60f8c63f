"""The ``--html`` report: one self-contained page with a timeline of every attempt.

The page needs no network (inline CSS and JS, a Content-Security-Policy that
allows nothing else to load) and opens from ``file://``. The run's data is
embedded once as JSON, escaped so no agent output can end the script element;
the page's script draws it with ``textContent`` only, never as markup, and draws
only the rows in view, so a run of thousands of agents still scrolls smoothly.
Every string comes from the redacted report and event log: nothing else is added.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentrun.errors import UsageError
from agentrun.events.records import Event
from agentrun.outputs.event_log import event_dict
from agentrun.outputs.html_assets import SCRIPT, STYLE, status_css
from agentrun.outputs.html_timeline import TIMED_EVENTS, build_rows, failures, span
from agentrun.outputs.json_report import render_report
from agentrun.outputs.text_summary import SYMBOLS
from agentrun.redact import Redactor
from agentrun.results import RunResult

_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
_SUMMARY_KEYS = (
    "paradigm", "pattern", "status", "reason", "exit_code", "duration_s", "winner",
    "rescued_by", "violation",
)  # fmt: skip


class TimelineRecorder:
    """An event sink keeping the few fields of the events the timeline reads, redacted."""

    def __init__(self, redact: Redactor) -> None:
        self._redact = redact
        self.events: list[dict[str, Any]] = []

    def handle(self, event: Event) -> None:
        """Keep a timed event's kind, time, instance and attempt fields."""
        if event.kind not in TIMED_EVENTS or event.case is not None:
            return
        data = event_dict(event)
        kept = {k: data[k] for k in ("event", "t", "instance", "attempt", "wait_s") if k in data}
        self.events.append(json.loads(self._redact(json.dumps(kept, ensure_ascii=False))))


def page_data(
    report: dict[str, Any], events: Sequence[Mapping[str, Any]] | None, deadline: float | None
) -> dict[str, Any]:
    """What the page's script draws: the summary, the rows, the failures and the details."""
    details, rows = build_rows(report, events)
    metrics = report.get("metrics") or {}
    return {
        "summary": {key: report.get(key) for key in _SUMMARY_KEYS},
        "tokens": metrics.get("tokens"),
        "counts": metrics.get("by_status") or {},
        "estimated": not events,
        "deadline": deadline,
        "span": span(rows, report, deadline),
        "symbols": {status.value: symbol for status, symbol in SYMBOLS.items()},
        "rows": rows,
        "failures": failures(rows, details),
        "details": details,
    }


def embed_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` left to end it."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def render_html(
    report: dict[str, Any],
    events: list[dict[str, Any]] | None = None,
    deadline: float | None = None,
) -> str:
    """The whole page for a report (and, when given, its events' times)."""
    data = embed_json(page_data(report, events, deadline))
    title = f"agentrun: {report.get('paradigm') or 'run'} ({report.get('status') or '?'})"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}{status_css()}</style>\n"
        "</head><body>\n"
        '<header><h1 id="title"></h1><p id="headline"></p></header>\n'
        '<section><h2>Timeline</h2><p id="legend" class="legend"></p>'
        '<div id="axis" class="axis"></div><div id="timeline" class="vlist"></div>'
        '<div id="detail" class="detail" hidden></div></section>\n'
        '<section><h2>Summary</h2><dl id="summary" class="summary"></dl></section>\n'
        '<section><h2 id="failures-title">Failures</h2><div id="failures"></div></section>\n'
        '<section><h2 id="agents-title">Agents</h2>'
        '<div id="agents" class="vlist"></div></section>\n'
        f'<script type="application/json" id="data">{data}</script>\n'
        f"<script>{SCRIPT}</script>\n</body></html>\n"
    )


def render_run_html(
    result: RunResult,
    redact: Redactor,
    events: list[dict[str, Any]] | None,
    deadline: float | None,
) -> str:
    """The page for a finished run, from its redacted report."""
    report = json.loads(render_report(result, redact))
    return render_html(report, events, deadline)


def load_report(path: Path) -> dict[str, Any]:
    """A ``--report`` JSON file.

    Raises:
        UsageError: it cannot be read or is not a run's report.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("agents"), list):
        raise UsageError(f"{path}: not a run's report (no agents list)")
    return data


def load_events(path: Path) -> list[dict[str, Any]]:
    """The timed events of a ``--events`` JSONL file (a dataset case's are left out).

    Raises:
        UsageError: it cannot be read or a line is not a JSON object.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    events = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}:{exc.colno}: not JSON: {exc.msg}") from None
        if not isinstance(event, dict):
            raise UsageError(f"{path}:{number}:1: not an event (a JSON object)")
        if event.get("event") in TIMED_EVENTS and event.get("case") is None:
            events.append(event)
    return events
