"""Sandboxed Jinja2 templates: compiled once, rendered with undefined names as errors."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

import jinja2
from jinja2 import meta

from agentrun.errors import TemplateError
from agentrun.template_budget import Budget, BudgetExceeded, render_within
from agentrun.template_sandbox import LOOP_FILTER, BoundedSandbox

CONTEXT_NAMES = frozenset(
    {
        "input",
        "vars",
        "case",
        "previous",
        "stages",
        "agents",
        "item",
        "violations",
        "attempt",
        "agent",
    }
)
"""Names a template may use (``item`` only inside a ``for_each`` stage)."""


_SINGLE_NAME = re.compile(r"^\{\{\s*([A-Za-z_]\w*)\s*\}\}$")


def _template_line(exc: BaseException) -> int | None:
    """The template line an exception was raised on (Jinja rewrites tracebacks to it)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _message(exc: BaseException, text: str) -> str:
    line = _template_line(exc)
    return f"template error: {'' if line is None else f'line {line}: '}{text}"


class TemplateEngine:
    """Compiles and renders templates in an immutable sandbox.

    Undefined names raise instead of rendering as empty text, templates cannot
    reach Python internals or mutate the context they are given, and each render is
    bounded in time, steps and size (:mod:`agentrun.template_budget`).
    """

    def __init__(self) -> None:
        self._env = BoundedSandbox(
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
        )
        self._cache: dict[str, jinja2.Template] = {}
        self._lookups: dict[str, str | None] = {}

    def compile(self, source: str) -> jinja2.Template:
        """Compile a template, once per distinct source.

        Raises:
            jinja2.TemplateSyntaxError: the source is not a valid template.
        """
        template = self._cache.get(source)
        if template is None:
            template = self._env.from_string(source)
            self._cache[source] = template
        return template

    def precompile(self, source: str, owner: str) -> None:
        """Compile ``source`` now, so a syntax error shows before any attempt.

        Raises:
            TemplateError: the source is not a valid template (naming ``owner``).
        """
        if "{" not in source:
            return
        try:
            self.compile(source)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{owner}: invalid template: {exc}") from None

    def render(self, source: str, context: Mapping[str, Any]) -> str:
        """Render ``source`` with ``context``.

        Raises:
            TemplateError: a name is undefined, the template fails at run time, or it
                exceeded its budget (too long, too big, or interrupted).
        """
        if "{" not in source:
            return source  # plain text: nothing to render, keep the hot path cheap
        name = self._lookups.get(source, "")
        if name == "":
            match = _SINGLE_NAME.match(source)
            name = self._lookups[source] = match.group(1) if match else None
        if name is not None:
            # `{{ input }}`, the default prompt: a lookup, not a template run (same result
            # for text; anything else goes through Jinja for its exact formatting).
            value = context.get(name)
            if type(value) is str:
                return value
        try:
            template = self.compile(source)
            return render_within(lambda: template.render(context), Budget())
        except BudgetExceeded as exc:
            line = _template_line(exc)
            where = "" if line is None else f" (line {line})"
            raise TemplateError(f"template exceeded its budget: {exc}{where}") from None
        except jinja2.TemplateError as exc:
            raise TemplateError(_message(exc, exc.message or str(exc))) from None
        except Exception as exc:
            # Arithmetic and type errors inside the template (`{{ 1 // 0 }}`) are the
            # template's fault, not the provider's: say so, with the template's line.
            raise TemplateError(_message(exc, f"{type(exc).__name__}: {exc}")) from None

    @property
    def filters(self) -> Collection[str]:
        """Names of the filters templates may use."""
        return self._env.filters.keys() - {LOOP_FILTER}

    @property
    def tests(self) -> Collection[str]:
        """Names of the tests (``is ...``) templates may use."""
        return self._env.tests.keys()

    def undeclared_names(self, source: str) -> set[str]:
        """Top-level names ``source`` reads from its context.

        Raises:
            jinja2.TemplateSyntaxError: the source is not a valid template.
        """
        return set(meta.find_undeclared_variables(self._env.parse(source)))

    def parse(self, source: str) -> jinja2.nodes.Template:
        """The template's syntax tree (for validation of names such as ``agents.X``).

        Raises:
            jinja2.TemplateSyntaxError: the source is not a valid template.
        """
        return self._env.parse(source)
