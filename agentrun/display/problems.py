"""Paradigm errors as compilers print them: the location, the YAML line, a caret.

::

    research.yaml:3:23: unknown key 'promt' in agent 'a' (did you mean 'prompt'?)
        3 |   a: {provider: mock, promt: hi}
          |                       ^

The first line is exactly ``path:line:column: message`` (``str(problem)``), so
editors, CI annotations and ``grep`` keep working; the source lines follow when
the file can be read and the line exists. Tabs are expanded and wide characters
counted, so the caret sits under the column on screen. In colour on a terminal
(a Rich console), plainly otherwise (a bare stream: no control codes).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from agentrun.errors import Problem, Severity
from agentrun.outputs.text_summary import STYLES, printable
from agentrun.results import AgentStatus

TAB_SIZE = 8
MAX_SOURCE = 120
"""Cells of a source line shown; a longer line is cut to a window around the column."""

_SEVERITY_STYLE = {
    Severity.ERROR: STYLES[AgentStatus.VIOLATED],
    Severity.WARNING: STYLES[AgentStatus.TIMEOUT],
}


class SourceCache:
    """Reads each file once, however many problems point into it."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}

    def line(self, path: str, number: int) -> str | None:
        """Line ``number`` (1-based) of ``path``, or ``None`` if it cannot be shown."""
        if path not in self._lines:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError, ValueError):
                self._lines[path] = None
            else:
                self._lines[path] = text.splitlines()
        lines = self._lines[path]
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


def render_problems(
    problems: Iterable[Problem], out: Console | TextIO, sources: SourceCache | None = None
) -> None:
    """Print each problem: its location line, then its source line with a caret.

    Args:
        problems: what to print, in order.
        out: a Rich console (styled output) or a stream (plain text).
        sources: a shared cache when several calls point into the same files.
    """
    sources = sources or SourceCache()
    for problem in problems:
        for line in problem_lines(problem, sources):
            if isinstance(out, Console):
                out.print(line, soft_wrap=True)
            else:
                out.write(line.plain + "\n")
    if not isinstance(out, Console):
        out.flush()


def problem_lines(problem: Problem, sources: SourceCache) -> list[Text]:
    """The styled lines of one problem (``.plain`` gives the text)."""
    style = _SEVERITY_STYLE[problem.severity]
    location = f"{problem.path}:{problem.line}:{problem.column}:"
    first = Text.assemble((location, "bold"), (str(problem)[len(location) :], style))
    source = sources.line(problem.path, problem.line)
    if source is None:
        return [first]
    shown, caret_at = _window(source, problem.column)
    gutter = f"{problem.line:>5} | "
    blank = " " * (len(gutter) - 2) + "| "
    return [
        first,
        Text.assemble((gutter, "dim"), shown),
        Text.assemble((blank, "dim"), (" " * caret_at + "^", style)),
    ]


def _window(source: str, column: int) -> tuple[str, int]:
    """The source line as shown (tabs expanded, cut around the column) and the caret's cell."""
    index = min(max(column - 1, 0), len(source))
    before = printable(source[:index].expandtabs(TAB_SIZE))
    # Expanding the whole line keeps tab stops consistent with the prefix.
    line = printable(source.expandtabs(TAB_SIZE))
    caret = cell_len(before)
    if cell_len(line) <= MAX_SOURCE:
        return line, caret
    start = max(0, len(before) - MAX_SOURCE // 2)
    shown = line[start : start + MAX_SOURCE]
    caret = cell_len(before[start:])
    if start > 0:
        shown, caret = "…" + shown, caret + 1
    if start + MAX_SOURCE < len(line):
        shown += "…"
    return shown, caret
