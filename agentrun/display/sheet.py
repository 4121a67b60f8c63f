"""Aligned columns of styled text for the live view, cheap enough to redraw ten times a second."""

from __future__ import annotations

from rich.text import Text

COLUMNS: tuple[tuple[str, bool, int, int | None], ...] = (
    ("", False, 1, 1),
    ("agent", False, 5, 40),
    ("status", False, 9, 9),
    ("try", True, 3, 3),
    ("time", True, 5, 7),
    ("imperatives", False, 0, 48),
    ("tokens", True, 0, 12),
    ("note", False, 0, None),
)
"""Title, right-aligned or not, narrowest and widest width (``None``: the rest) of each column.

Fixed widths for status, attempt and time keep the columns still while statuses change.
"""
KEPT = 3
"""The first columns are always shown; later ones only when some row fills them."""


class Sheet:
    """Rows of cells laid out in aligned columns as plain lines of text.

    A Rich ``Table`` measures and pads every cell through several renderables and
    costs tens of milliseconds for forty rows; a redraw ten times a second cannot
    afford that. Here widths are computed once from the cells' lengths and each row
    becomes one ``Text`` line, cut with an ellipsis rather than wrapped.
    """

    def __init__(self, *, header: bool = False, title: str | None = None) -> None:
        self._header = header
        self._title = title
        self._entries: list[tuple[Text, ...] | Text] = []

    def add_row(self, cells: tuple[Text, ...]) -> None:
        """A row with one cell per column of :data:`COLUMNS`."""
        self._entries.append(cells)

    def add_line(self, line: Text) -> None:
        """A line across every column (a heading, a blank line)."""
        self._entries.append(line)

    def render(self) -> Text:
        """The sheet as one multi-line ``Text``."""
        rows = [entry for entry in self._entries if isinstance(entry, tuple)]
        widths = [0] * len(COLUMNS)
        for cells in rows:
            for index, cell in enumerate(cells):
                widths[index] = max(widths[index], cell.cell_len)
        shown = [i for i, width in enumerate(widths) if i < KEPT or width > 0]
        for index in shown:
            title, _, least, cap = COLUMNS[index]
            widths[index] = max(widths[index], least, len(title) if self._header else 0)
            if cap is not None:
                widths[index] = min(widths[index], cap)
        lines: list[Text] = []
        if self._title:
            lines.append(Text(self._title, style="bold"))
        if self._header:
            titles = tuple(Text(COLUMNS[i][0], style="bold") for i in range(len(COLUMNS)))
            lines.append(self._line(titles, widths, shown))
            lines.append(Text("─" * (sum(widths[i] + 2 for i in shown) - 2), style="grey50"))
        for entry in self._entries:
            lines.append(self._line(entry, widths, shown) if isinstance(entry, tuple) else entry)
        text = Text("\n").join(lines)
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text

    @staticmethod
    def _line(cells: tuple[Text, ...], widths: list[int], shown: list[int]) -> Text:
        parts: list[Text] = []
        last = shown[-1]
        for index in shown:
            cell = cells[index] if index < len(cells) else Text("")
            width = widths[index]
            if index == last and COLUMNS[index][3] is None:
                parts.append(cell)
                continue
            if cell.cell_len > width:
                cell = cell.copy()
                cell.truncate(width, overflow="ellipsis")
            pad = " " * (width - cell.cell_len)
            parts.append(Text(pad) + cell if COLUMNS[index][1] else cell + pad)
        line = Text("  ").join(parts)
        line.rstrip()
        return line
