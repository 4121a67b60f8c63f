"""The budget of one template render: time, steps and sizes, so hostile input cannot hang.

Jinja's sandbox stops a template from reaching Python internals, not from spending the
process's CPU and memory: ``{{ 'a' * 10**10 }}`` or two nested ``range(99999)`` loops
would run on the event loop until they end. Every render therefore carries a
:class:`Budget`, consulted by the sandbox hooks (calls, attribute lookups, intercepted
operators, filters, each loop iteration and each value written out):

* **time**: a render stops after :data:`MAX_SECONDS` of wall-clock time, or as soon as
  SIGINT/SIGTERM arrives;
* **steps**: loop iterations and ``range`` items together, at most :data:`MAX_STEPS`;
* **size**: an operation whose result would exceed :data:`MAX_TEXT` characters (or
  items) is refused *before* it runs; integers are held to :data:`MAX_INT_BITS` bits;
  the text written during a render (output and captured blocks) to :data:`MAX_PRODUCED`.

Outside a render (when a template is compiled or checked) the hooks refuse to run,
which keeps Jinja from folding constant expressions such as ``{{ 9**99999999 }}`` at
compile time: they are left for the render, under its budget.
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from agentrun.interrupts import guard

MAX_TEXT = 4 * 1024 * 1024
"""Characters (or items) in any one value a template builds, and in its output."""
MAX_PRODUCED = 4 * MAX_TEXT
"""Characters written during one render, captured blocks and macro output included."""
MAX_STEPS = 1_000_000
"""Loop iterations and ``range`` items in one render."""
MAX_SECONDS = 2.0
"""Wall-clock time of one render."""
MAX_INT_BITS = 1 << 16
"""Bits of an integer built by ``*`` or ``**`` (about 19,700 decimal digits)."""


_CHECK_EVERY = 32


class BudgetExceeded(Exception):
    """A render went over one of its limits; the message says which."""


class Outside(Exception):
    """A hook ran outside a render (constant folding at compile time): not now."""


class Budget:
    """What one render may still spend; see the module docstring."""

    __slots__ = ("_countdown", "_deadline", "_guard", "_signals", "produced", "steps")

    def __init__(self) -> None:
        self._deadline = time.monotonic() + MAX_SECONDS
        self._guard = guard()
        self._signals = self._guard.received
        self.steps = MAX_STEPS
        self.produced = MAX_PRODUCED
        self._countdown = _CHECK_EVERY

    def tick(self) -> None:
        """Stop the render when its time is up or a signal came in (looked at every
        :data:`_CHECK_EVERY` ticks: each hook's own work is bounded in size)."""
        self._countdown -= 1
        if self._countdown <= 0:
            self._countdown = _CHECK_EVERY
            if time.monotonic() > self._deadline:
                raise BudgetExceeded(f"it ran for more than {MAX_SECONDS:g}s")
            if self._guard.received != self._signals:
                raise BudgetExceeded("interrupted")

    def step(self, count: int = 1, text: int = 0) -> None:
        """Spend ``count`` steps and ``text`` characters of output."""
        self.steps -= count
        if self.steps < 0:
            raise BudgetExceeded(f"more than {MAX_STEPS:,} loop iterations and range items")
        self.produced -= text
        if self.produced < 0:
            self.write(0)  # raises, with the message
        self.tick()

    def write(self, size: int) -> None:
        """Spend ``size`` characters of output."""
        self.produced -= size
        if self.produced < 0:
            raise BudgetExceeded(f"it wrote more than {MAX_PRODUCED:,} characters")


current_budget: ContextVar[Budget | None] = ContextVar("agentrun_template_budget", default=None)
"""The budget of the render in progress in this thread or task (``None`` outside one)."""


def current() -> Budget | None:
    """The budget of the render in progress, if any."""
    return current_budget.get()


def active() -> Budget:
    """The budget of the render in progress.

    Raises:
        Outside: no render is in progress (a compile-time fold: left for run time).
    """
    budget = current_budget.get()
    if budget is None:
        raise Outside
    return budget


def render_within(render: Callable[[], str], budget: Budget) -> str:
    """The text ``render`` returns, produced under ``budget``.

    Everything a render writes is spent from the budget as it is written (see
    :data:`MAX_PRODUCED`), so the output is bounded while it grows; past
    :data:`MAX_TEXT` it is refused as a whole.

    Raises:
        BudgetExceeded: a limit was reached.
    """
    token = current_budget.set(budget)
    try:
        text = render()
    finally:
        current_budget.reset(token)
    if len(text) > MAX_TEXT:
        raise BudgetExceeded(f"its output is longer than {MAX_TEXT:,} characters")
    return text


def size_of(value: Any, depth: int = 1) -> int:
    """Characters of a string; items of a container plus, one level down, theirs."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, list | tuple | dict | set | frozenset):
        total = len(value)
        if depth and total <= MAX_TEXT:
            items = value.values() if isinstance(value, dict) else value
            total += sum(size_of(item, depth - 1) for item in items)
        return total
    return 0


def check_size(value: Any, what: str = "a value") -> Any:
    """``value``, if it is within :data:`MAX_TEXT` and :data:`MAX_INT_BITS`.

    Raises:
        BudgetExceeded: it is not.
    """
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise BudgetExceeded(f"{what} has more than {MAX_INT_BITS:,} bits")
    if size_of(value) > MAX_TEXT:
        raise BudgetExceeded(f"{what} is longer than {MAX_TEXT:,} characters or items")
    return value


def check_size_estimate(size: int, what: str) -> None:
    """Refuse an operation whose result would have ``size`` characters or items.

    Raises:
        BudgetExceeded: ``size`` is over :data:`MAX_TEXT`.
    """
    if size > MAX_TEXT:
        raise BudgetExceeded(f"{what} would be longer than {MAX_TEXT:,} characters or items")


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    """The argument at ``index`` (after the value) or named ``name``."""
    return args[index] if len(args) > index else kwargs.get(name)


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too big, before it runs.

    Raises:
        BudgetExceeded: the result would exceed a limit.
    """
    if operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            if left.bit_length() * right > MAX_INT_BITS:
                raise BudgetExceeded(
                    f"`**` would build an integer of more than {MAX_INT_BITS:,} bits"
                )
    elif operator == "*":
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise BudgetExceeded(
                    f"`*` would build an integer of more than {MAX_INT_BITS:,} bits"
                )
        elif isinstance(right, int):
            check_size_estimate(size_of(left) * right, "`*`")
        elif isinstance(left, int):
            check_size_estimate(size_of(right) * left, "`*`")
    elif operator == "+":
        if not isinstance(left, int | float):  # numbers: the common case, never big
            check_size_estimate(size_of(left) + size_of(right), "`+`")
    elif operator == "%" and isinstance(left, str):
        check_percent_format(left, right)


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


def check_percent_format(template: str, values: Any) -> None:
    """Refuse ``%`` formatting with a field width or precision over :data:`MAX_TEXT`."""
    star = False
    for match in _PERCENT_SPEC.finditer(template):
        for part in match.groups():
            if part == "*":
                star = True
            elif part is not None:
                check_size_estimate(int(part), "a `%` format width")
    if star:
        items = values if isinstance(values, tuple) else (values,)
        check_size_estimate(max((_int(v) for v in items), default=0), "a `%` format width")


def check_str_format(template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Refuse ``str.format`` with a field width or precision over :data:`MAX_TEXT`."""
    nested = False
    for _, _, spec, _ in string.Formatter().parse(template):
        if spec:
            nested = nested or "{" in spec
            for digits in _DIGITS.findall(spec):
                check_size_estimate(int(digits), "a format width")
    if nested:
        values = [*args, *kwargs.values()]
        if len(args) == 1 and isinstance(args[0], Mapping):  # format_map
            values += list(args[0].values())
        check_size_estimate(max((_int(v) for v in values), default=0), "a format width")


def _width(value: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    return _int(_arg(args, kwargs, 0, "width"))


def _replace(value: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
    if not isinstance(old, str) or not isinstance(new, str) or len(new) <= len(old):
        return 0
    count = value.count(old) if old else len(value) + 1
    limit = _arg(args, kwargs, 2, "count")
    if isinstance(limit, int) and limit >= 0:
        count = min(count, limit)
    return len(value) + count * (len(new) - len(old))


def _join(separator: Any, items: Any) -> int:
    if not isinstance(items, list | tuple):
        return 0  # a lazy sequence: its result is checked once built
    return sum(size_of(item, 0) for item in items) + len(items) * size_of(separator, 0)


def _expandtabs(value: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    size = _arg(args, kwargs, 0, "tabsize")
    return len(value) + value.count("\t") * (8 if size is None else _int(size))


def _indent(value: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    width = _arg(args, kwargs, 0, "width")
    step = len(width) if isinstance(width, str) else _int(width)
    return len(value) + (value.count("\n") + 1) * step


def _wordwrap(value: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    width = max(_int(_arg(args, kwargs, 0, "width")), 1)
    wrap = _arg(args, kwargs, 2, "wrapstring")
    return len(value) + (len(value) // width + 1) * (len(wrap) if isinstance(wrap, str) else 1)


def _format(value: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    check_percent_format(value, args or dict(kwargs))
    return 0  # the result is then no bigger than the format and its values


Estimate = Callable[[Any, tuple[Any, ...], Mapping[str, Any]], int]

STR_METHODS: dict[str, Estimate] = {
    "center": _width,
    "ljust": _width,
    "rjust": _width,
    "zfill": _width,
    "expandtabs": _expandtabs,
    "replace": _replace,
    "join": lambda sep, args, kwargs: _join(sep, _arg(args, kwargs, 0, "iterable")),
}
"""Size estimates of the ``str`` methods whose result can dwarf their input."""

FILTERS: dict[str, Estimate] = {
    "center": _width,
    "format": _format,
    "indent": _indent,
    "wordwrap": _wordwrap,
    "replace": _replace,
    "join": lambda items, args, kwargs: _join(_arg(args, kwargs, 0, "d") or "", items),
    "batch": lambda value, args, kwargs: _int(_arg(args, kwargs, 0, "linecount")),
    "slice": lambda value, args, kwargs: _int(_arg(args, kwargs, 0, "slices")),
}
"""Size estimates of the filters whose result can dwarf their input."""


def budgeted_loop(iterable: Iterable[Any], text: int) -> Iterator[Any]:
    """Iterate, spending one step and the loop body's ``text`` characters per item.

    Raises:
        Outside: outside a render (so the loop is never folded into a constant).
    """
    return _spend_per_item(iterable, text, active())


def _spend_per_item(iterable: Iterable[Any], text: int, budget: Budget) -> Iterator[Any]:
    for item in iterable:
        budget.step(1, text)
        yield item
