"""A tiny terminal emulator for tests that replay what Rich writes to a terminal."""

from __future__ import annotations

import re


class Screen:
    """Just enough of a VT100 to replay what Rich writes: text, CR, LF, cursor moves,
    line erases; colours and modes are recorded as seen and otherwise ignored."""

    _CSI = re.compile(r"\x1b\[([?0-9;]*)([A-Za-z])")
    _OSC = re.compile(r"\x1b\][^\x07\x1b]*(\x07|\x1b\\)")

    def __init__(self, rows: int, columns: int) -> None:
        self.columns = columns
        self.lines: list[list[str]] = [[] for _ in range(rows)]
        self.row = 0
        self.col = 0
        self.cursor_visible = True
        self.colour_seen = False

    def feed(self, data: str) -> None:
        data = self._OSC.sub("", data)
        index = 0
        while index < len(data):
            if data[index] == "\x1b":
                match = self._CSI.match(data, index)
                if match is None:
                    index += 1
                    continue
                self._control(match.group(1), match.group(2))
                index = match.end()
                continue
            self._char(data[index])
            index += 1

    def text(self) -> str:
        lines = ["".join(line).rstrip() for line in self.lines]
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines)

    def _char(self, char: str) -> None:
        if char == "\r":
            self.col = 0
        elif char == "\n":
            self._line_feed()
        elif char == "\b":
            self.col = max(0, self.col - 1)
        elif char >= " ":
            if self.col >= self.columns:
                self.col = 0
                self._line_feed()
            line = self.lines[self.row]
            line.extend(" " * (self.col + 1 - len(line)))
            line[self.col] = char
            self.col += 1

    def _line_feed(self) -> None:
        if self.row == len(self.lines) - 1:
            self.lines.pop(0)
            self.lines.append([])
        else:
            self.row += 1

    def _control(self, params: str, final: str) -> None:
        if params.startswith("?"):
            if params == "?25":
                return
            if params[1:] == "25":
                self.cursor_visible = final == "h"
            return
        numbers = [int(p) for p in params.split(";") if p]
        count = numbers[0] if numbers else 1
        line = self.lines[self.row]
        if final == "A":
            self.row = max(0, self.row - count)
        elif final == "B":
            self.row = min(len(self.lines) - 1, self.row + count)
        elif final == "C":
            self.col = min(self.columns - 1, self.col + count)
        elif final == "D":
            self.col = max(0, self.col - count)
        elif final == "G":
            self.col = count - 1
        elif final == "K":
            mode = numbers[0] if numbers else 0
            if mode == 2:
                line.clear()
            elif mode == 0:
                del line[self.col :]
            else:
                line[: self.col] = [" "] * min(self.col, len(line))
        elif final == "J":
            mode = numbers[0] if numbers else 0
            if mode in (2, 3):
                for each in self.lines:
                    each.clear()
            elif mode == 0:
                del line[self.col :]
                for each in self.lines[self.row + 1 :]:
                    each.clear()
        elif final == "m":
            # Foreground and background colours; bold, dim and reverse are not colours.
            colours = (n for n in numbers if 30 <= n <= 49 or 90 <= n <= 107)
            self.colour_seen = self.colour_seen or any(True for _ in colours)
