"""The Jinja2 environment templates run in: immutable sandbox plus the render budget.

Each hook of the sandbox (calls, attribute and item lookups, the intercepted operators,
filters, values written out) consults the budget of the render in progress
(:mod:`agentrun.template_budget`); each ``{% for %}`` loop is rewritten at compile time
to iterate through a budgeted filter, so even a loop with an empty body is bounded.
"""

from __future__ import annotations

import functools
import operator
import types
from collections.abc import Callable
from typing import Any

from jinja2 import nodes
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from jinja2.utils import Namespace, generate_lorem_ipsum

from agentrun import template_budget as tb

LOOP_FILTER = "agentrun loop"
"""The hidden filter every loop's iterable goes through (a name no template can write)."""

_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "*": operator.mul,
    "**": operator.pow,
    "%": operator.mod,
}


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _bounded_range(*args: int) -> range:
    """``range``, its items spent from the render's steps."""
    items = safe_range(*args)
    tb.active().step(len(items))
    return items


def _bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    """``lipsum``, refused when its paragraphs would be too long."""
    tb.check_size_estimate(_int(n) * _int(max) * 16, "lipsum")  # words of at most ~15 letters
    return str(generate_lorem_ipsum(n, html, min, max))


class _Namespace(Namespace):
    """``namespace()`` whose attributes hold bounded values (``ns.x = ns.x ~ ns.x``)."""

    def __setitem__(self, name: str, value: Any) -> None:
        tb.active().tick()
        super().__setitem__(name, tb.check_size(value, f"namespace attribute {name!r}"))


_current = tb.current_budget.get


def _finalize(value: Any) -> Any:
    """Each ``{{ ... }}`` written out, spent from the render's output."""
    budget = _current()
    if budget is None:
        raise tb.Outside  # compile time: a constant is written at run time instead
    kind = type(value)
    budget.produced -= len(value) if kind is str else 24 if kind is int else tb.size_of(value)
    if budget.produced < 0:
        budget.write(0)  # raises, with the message
    return value


def _budgeted_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` that refuses outsize results and spends time from the budget."""
    estimate = tb.FILTERS.get(name)
    value_at = 0 if getattr(function, "jinja_pass_arg", None) is None else 1

    @functools.wraps(function)  # keeps Jinja's pass_context/pass_environment marks
    def budgeted(*args: Any, **kwargs: Any) -> Any:
        tb.active().tick()
        if estimate is not None and len(args) > value_at:
            value = args[value_at]
            if isinstance(value, str | list | tuple):
                size = estimate(value, args[value_at + 1 :], kwargs)
                tb.check_size_estimate(size, f"filter {name!r}")
        return tb.check_size(function(*args, **kwargs), f"the result of filter {name!r}")

    return budgeted


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """An immutable sandbox whose every render is held to a :class:`~tb.Budget`."""

    intercepted_binops = frozenset(_BINOPS)

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_finalize, **options)
        self.globals["range"] = _bounded_range
        self.globals["namespace"] = _Namespace
        self.globals["lipsum"] = _bounded_lipsum
        self.filters = {name: _budgeted_filter(name, f) for name, f in self.filters.items()}
        self.filters[LOOP_FILTER] = tb.budgeted_loop

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """``left operator right``, refused before it runs when the result would be too big."""
        tb.active().tick()
        tb.check_binop(operator, left, right)
        return _BINOPS[operator](left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """A call from the template: timed, its arguments and result bounded."""
        tb.active().tick()
        for arg in (*args, *kwargs.values()):
            tb.check_size(arg, "an argument")
        if isinstance(__obj, types.BuiltinMethodType) and isinstance(__obj.__self__, str):
            estimate = tb.STR_METHODS.get(__obj.__name__)
            if estimate is not None:
                size = estimate(__obj.__self__, args, kwargs)
                tb.check_size_estimate(size, f"str.{__obj.__name__}")
        result = super().call(__context, __obj, *args, **kwargs)
        return tb.check_size(result, "the result of a call")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` and ``format_map`` with their widths bounded."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template: str = value.__self__

        def bounded(*args: Any, **kwargs: Any) -> str:
            tb.check_str_format(template, args, kwargs)
            return wrapped(*args, **kwargs)

        return bounded

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        """Compile with every loop's iterable sent through the budgeted loop filter."""
        for loop in source.find_all(nodes.For):
            # The body's literal text is written once per iteration (into the output or
            # a captured block): spent with each step.
            text = sum(len(d.data) for n in loop.body for d in n.find_all(nodes.TemplateData))
            loop.iter = nodes.Filter(
                loop.iter, LOOP_FILTER, [nodes.Const(text)], [], None, None, lineno=loop.lineno
            )
            loop.iter.set_environment(self)
        return super()._generate(source, name, filename, defer_init)
