"""Rich renderables of the live view, built from :class:`RunState` only when redrawn.

Up to :data:`agentrun.outputs.text_summary.MAX_ROWS` agents (fewer on a short
terminal) the view is a table with one row per agent, grouped by stage. Above
that it summarises: counts by status, the agents running longest, the latest
problems and the slowest agents, so ten thousand agents cost no more to draw
than forty.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from agentrun.display.plain import waiting_for
from agentrun.display.sheet import Sheet
from agentrun.display.state import RESCUE_GROUP, AgentRow, RunState
from agentrun.durations import format_duration
from agentrun.outputs.text_summary import (
    MAX_ROWS,
    RUN_STYLES,
    STYLES,
    SYMBOLS,
    problems,
    slowest,
    status_counts,
    tokens_text,
)
from agentrun.results import AgentStatus, CheckResult, RunResult, RunStatus

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SPINNER_FPS = 10.0
PROBLEMS_SHOWN = 10
"""Problems listed in the final summary."""
HEADER_LINES = 6
"""Lines around the agent table (header, counts, table head, margins)."""
WINNER = "★ winner"
WARNING_STYLE = STYLES[AgentStatus.TIMEOUT]


@dataclass(frozen=True, slots=True)
class ViewOptions:
    """How to draw one frame."""

    now: float
    """Seconds since the run started."""
    height: int
    """Terminal lines available."""
    final: bool = False
    """The frame left on screen after the run: every agent when they fit."""
    clean: Callable[[str], str] = str
    """Masks secrets and escapes control characters in anything an agent produced."""


def render_view(state: RunState, options: ViewOptions) -> RenderableType:
    """The whole live frame: header, then the agent table or the summarised overview."""
    fits = state.total <= MAX_ROWS
    if not options.final:
        # Stage headings and the blank lines between stages take lines too.
        fits = fits and state.total + 2 * len(state.stages) <= options.height - HEADER_LINES
    body = agent_table(state, options) if fits else overview(state, options)
    return Group(header(state, options), body)


def header(state: RunState, options: ViewOptions) -> RenderableType:
    """Paradigm, pattern, progress bar, done/total, elapsed time, and counts by status."""
    grid = Table.grid(padding=(0, 1))
    title = Text.assemble(
        ("agentrun ", "bold"), (options.clean(state.paradigm), "bold"), f" · {state.pattern}"
    )
    total = max(state.total, 1)
    done, progress = state.done, Text(f"{state.done}/{state.total} done")
    if state.result is not None and state.result.status is RunStatus.INTERRUPTED:
        # Agents cut short by the interruption did not get done.
        done = state.done - state.cut_short
        progress = Text(f"interrupted: {done}/{state.total} done", style="bold")
    grid.add_row(
        title,
        ProgressBar(total=total, completed=done, width=24),
        progress,
        Text(clock_text(options.now), style="bold"),
    )
    parts: list[Text] = []
    for status in AgentStatus:
        count = state.counts[status]
        if count > 0:
            parts.append(Text(f"{SYMBOLS[status]} {count} {status.value}", style=STYLES[status]))
    if state.tokens:
        cost = f" (${state.cost:.4f})" if state.cost is not None else ""
        parts.append(Text(f"{state.tokens:,} tokens{cost}"))
    if state.winner:
        parts.append(Text(f"{WINNER}: {options.clean(state.winner)}", style="bold"))
    if state.exchange:
        parts.append(Text(state.exchange, style="bold"))
    return Group(grid, Text("  ").join(parts))


def agent_table(state: RunState, options: ViewOptions) -> RenderableType:
    """One row per agent, with a heading line per stage in pipelines."""
    sheet = Sheet(header=True)
    first = True
    for group, rows in state.groups():
        if group is not None:
            if not first:
                sheet.add_line(Text(""))
            sheet.add_line(_group_line(state, group, options))
        first = False
        indent = "" if group is None else "  "
        for row in rows:
            sheet.add_row(agent_cells(row, options, indent))
    if state.upcoming:
        sheet.add_line(Text(""))
        later = [s for s in state.stages if state.stage_status.get(s) is AgentStatus.PENDING]
        sheet.add_line(Text.assemble("   ", ("later stages", "bold"), f"  {', '.join(later)}"))
        for row in state.upcoming.values():
            sheet.add_row(agent_cells(row, options, "  "))
    return sheet.render()


def overview(state: RunState, options: ViewOptions) -> RenderableType:
    """The summarised view for many agents: stages, longest running, problems, slowest.

    The lists share the lines the terminal has left; the final frame keeps only the
    stages, since the final summary under it names the problems and the slowest.
    """
    parts: list[RenderableType] = []
    if state.stages:
        stages = Table.grid(padding=(0, 1))
        for stage in state.stages:
            status = state.stage_status.get(stage, AgentStatus.PENDING)
            stages.add_row(
                _symbol(status, options.now),
                Text(f"stage {options.clean(stage)}", style="bold"),
                Text(status.value, style=STYLES[status]),
                Text(f"{state.stage_done[stage]}/{state.stage_total[stage]} done"),
                Text(_stage_time(state, stage, options.now)),
            )
        parts.append(stages)
    if options.final:
        return Group(*parts)
    longest = state.slowest()
    calling = [row for row in state.running.values() if row.queued is None]
    queued = len(state.running) - len(calling)
    wanted = [len(calling), len(state.problems), len(longest)]
    sections = sum(1 for count in wanted if count)
    # Each list costs a title line and a "more" line besides its rows; the rows
    # the screen has to spare go to the lists before any says "... and N more".
    room = options.height - HEADER_LINES - len(state.stages) - 2 * sections
    running, problems_, slow = _share(wanted, max(room, sections))
    if running:
        shown = heapq.nsmallest(running, calling, key=_running_since)
        title = f"running longest ({len(calling)} running"
        title += f", {queued} queued)" if queued else ")"
        parts.append(_row_list(title, shown, len(calling) - len(shown), options))
    if problems_:
        shown = state.problems[-problems_:]
        title = f"problems ({len(state.problems)}, latest last)"
        parts.append(_row_list(title, shown, len(state.problems) - len(shown), options))
    if slow:
        parts.append(_row_list("slowest finished", longest[:slow], 0, options))
    return Group(*parts)


def _running_since(row: AgentRow) -> float:
    """When the row's current call started (its agent's start if unknown)."""
    if row.running_since is not None:
        return row.running_since
    return row.started_at if row.started_at is not None else 0.0


def _share(wanted: list[int], room: int) -> list[int]:
    """Cut the wanted row counts down to ``room`` lines, taking from the largest first,
    never below one row for a list that has any."""
    counts = [min(count, max(room, 1)) for count in wanted]
    while sum(counts) > room:
        ordered = sorted(counts, reverse=True)
        largest = counts.index(ordered[0])
        if counts[largest] <= 1:
            break
        # Down to the next largest (or by the excess), not one row per pass.
        step = max(1, min(counts[largest] - ordered[1], sum(counts) - room))
        counts[largest] -= min(step, counts[largest] - 1)
    return counts


def agent_cells(row: AgentRow, options: ViewOptions, indent: str = "") -> tuple[Text, ...]:
    """Symbol, name, status, attempt, time, imperatives, tokens and note of one row."""
    elapsed = row.elapsed(options.now) if row.started_at is not None else None
    name_style = "bold reverse" if row.winner else ""
    waiting = row.queued is not None and not row.status.is_final
    status = AgentStatus.PENDING if waiting else row.status
    return (
        _symbol(status, options.now),
        Text.assemble(indent, (options.clean(row.instance), name_style)),
        Text("queued" if waiting else row.status.value, style=STYLES[status]),
        Text(str(row.attempt) if row.attempt else ""),
        Text(clock_text(elapsed) if elapsed is not None else ""),
        checks_text(row.checks, options.clean),
        _volume(row),
        note_text(row, options.clean, options.now),
    )


def _volume(row: AgentRow) -> Text:
    """Tokens once reported; while a reply streams, the characters received so far."""
    if row.tokens is not None:
        return Text(f"{row.tokens:,}")
    if row.streamed is not None:
        return Text(f"{row.streamed:,} ch", style="dim")
    return Text("")


def checks_text(checks: Iterable[CheckResult], clean: Callable[[str], str]) -> Text:
    """Each decided imperative as ``✓name`` or ``✗name`` (warnings in their own colour)."""
    parts = []
    for check in checks:
        if check.passed:
            parts.append(Text(f"✓{clean(check.name)}", style=STYLES[AgentStatus.PASSED]))
        elif check.error:
            parts.append(Text(f"!{clean(check.name)} (error)", style=STYLES[AgentStatus.FAILED]))
        elif check.is_violation:
            parts.append(Text(f"✗{clean(check.name)}", style=STYLES[AgentStatus.VIOLATED]))
        else:
            parts.append(Text(f"✗{clean(check.name)} (warning)", style=WARNING_STYLE))
    return Text(" ").join(parts)


def note_text(row: AgentRow, clean: Callable[[str], str], now: float | None = None) -> Text:
    """What else matters about a row: the winner, what it waits for, its fallback, or
    what went wrong (with the backoff counting down while it retries)."""
    if row.winner:
        return Text(WINNER, style="bold")
    if row.replaced_by:
        return Text(f"→ replaced by {clean(row.replaced_by)}")
    if row.queued is not None and not row.status.is_final:
        return Text(f"waiting for {clean(waiting_for(row.queued))}", style=STYLES[row.status])
    if row.waiting is not None and row.status is AgentStatus.WAITING:
        return Text(f"waiting: {clean(row.waiting)}", style=STYLES[row.status])
    if row.fallback and not row.status.is_final:
        attempt = f" (attempt {row.fallback_attempt})" if row.fallback_attempt else ""
        return Text(f"→ fallback {clean(row.fallback)}{attempt}")
    if row.error and row.status is not AgentStatus.PASSED and row.error != row.status.value:
        prefix = "retrying after: " if row.status is AgentStatus.RETRYING else ""
        left = row.retry_at - now if row.retry_at is not None and now is not None else 0.0
        if row.status is AgentStatus.RETRYING and left > 0:
            prefix = f"retry in {left:.1f}s after: "
        return Text(prefix + clean(row.error), style=STYLES[row.status])
    return Text("")


def final_summary(
    result: RunResult, clean: Callable[[str], str], report_path: str | None
) -> RenderableType:
    """What stays under the last frame: outcome, counts, slowest, each problem, tokens, report."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    counts = status_counts(result.agents)
    title = f"{result.paradigm} ({result.pattern}) in {format_duration(result.duration_s)}"
    if result.winner:
        title += f" — winner: {result.winner}"
    if result.rescued_by:
        title += f" — rescued by: {result.rescued_by}"
    grid.add_row(
        Text(f" {result.status.value.upper()} ", style=f"reverse {RUN_STYLES[result.status]}"),
        Text(clean(title), style="bold"),
    )
    if result.reason and result.status is not RunStatus.PASSED:
        grid.add_row("reason", Text(clean(result.reason)))
    grid.add_row("agents", _counts_line(counts, len(result.agents)))
    slow = slowest(result.agents)
    if len(result.agents) > 1 and slow:
        grid.add_row(
            "slowest",
            Text(", ".join(f"{clean(a.instance)} {format_duration(a.duration_s)}" for a in slow)),
        )
    found = problems(result.agents)
    if found:
        lines = Text("\n").join(
            Text.assemble(
                (SYMBOLS[a.status], STYLES[a.status]),
                " ",
                (clean(a.instance), "bold"),
                " ",
                (a.status.value, STYLES[a.status]),
                f": {clean(a.error or '')}",
            )
            for a in found[:PROBLEMS_SHOWN]
        )
        if len(found) > PROBLEMS_SHOWN:
            lines.append(f"\n… {len(found) - PROBLEMS_SHOWN} more in the report")
        grid.add_row("problems", lines)
    tokens = tokens_text(result)
    if tokens is not None:
        grid.add_row("tokens", Text(tokens))
    if report_path:
        grid.add_row("report", Text(clean(report_path)))
    return Group(Text(""), grid)


def partial_summary(state: RunState, clean: Callable[[str], str]) -> RenderableType:
    """What to leave on screen when the run stopped before it could report."""
    return Text(
        f"{clean(state.paradigm)} ({state.pattern}) stopped after {clock_text(state.last_t)}: "
        f"{state.done} of {state.total} {'agent' if state.total == 1 else 'agents'} finished",
        style="bold",
    )


def clock_text(seconds: float) -> str:
    """A ticking time: ``3.4s`` under a minute (one decimal, so it moves), else ``2m05s``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    return format_duration(seconds)


def _group_line(state: RunState, group: str, options: ViewOptions) -> Text:
    if group == RESCUE_GROUP:
        return Text.assemble("   ", ("rescue (pattern fallback)", "bold"))
    if group not in state.stage_status:
        return Text.assemble("   ", (group, "bold"))
    status = state.stage_status.get(group, AgentStatus.PENDING)
    return Text.assemble(
        _symbol(status, options.now),
        "  ",
        (f"stage {options.clean(group)}", "bold"),
        "  ",
        (status.value, STYLES[status]),
        "  ",
        _stage_time(state, group, options.now),
    )


def _stage_time(state: RunState, stage: str, now: float) -> str:
    if state.stage_status.get(stage) is AgentStatus.SKIPPED:
        return ""
    if stage in state.stage_duration:
        return clock_text(state.stage_duration[stage])
    if stage in state.stage_started:
        return clock_text(now - state.stage_started[stage])
    return ""


def _row_list(title: str, rows: list[AgentRow], more: int, options: ViewOptions) -> Text:
    sheet = Sheet(title=title)
    for row in rows:
        sheet.add_row(agent_cells(row, options))
    if more > 0:
        sheet.add_line(Text(f"   … and {more} more", style="dim"))
    return sheet.render()


def _symbol(status: AgentStatus, now: float) -> Text:
    if status is AgentStatus.RUNNING:
        frame = SPINNER[int(now * SPINNER_FPS) % len(SPINNER)]
        return Text(frame, style=STYLES[status])
    return Text(SYMBOLS[status], style=STYLES[status])


def _counts_line(counts: dict[AgentStatus, int], total: int) -> Text:
    parts = [
        Text(f"{SYMBOLS[s]} {counts[s]} {s.value}", style=STYLES[s])
        for s in AgentStatus
        if counts.get(s)
    ]
    line = Text("  ").join(parts)
    line.append(f"  (of {total})")
    return line
