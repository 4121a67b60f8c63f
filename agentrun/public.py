"""The Python API behind ``import agentrun``: load a paradigm, run it, get a result.

A paradigm is a file path, YAML text or a mapping (or a graph :func:`load` already
compiled). Nothing here prints or exits: errors raise (:class:`SpecError` for an
invalid paradigm, :class:`UsageError` for a bad option) and no display is shown
unless ``display=True``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import yaml

from agentrun.api import RunOptions, compile_paradigm, run_graph
from agentrun.engine.collector import collector_tuned
from agentrun.errors import UsageError
from agentrun.graph.compiled import TaskGraph, compile_graph
from agentrun.loading.loader import load_text
from agentrun.results import RunResult

ParadigmSource = str | os.PathLike[str] | Mapping[str, Any] | TaskGraph
"""A path (``Path``, or a one-line ``str`` ending in ``.yaml``/``.yml``), YAML text,
a mapping of the same shape, or an already compiled graph."""

TEXT_SOURCE = "<paradigm>"
"""The name errors give a paradigm passed as text or a mapping (``<paradigm>:3:5: ...``)."""


def load(
    paradigm: ParadigmSource,
    options: RunOptions | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> TaskGraph:
    """Validate and compile a paradigm into the graph :func:`run` executes.

    ``${VAR}`` references see ``env`` (default: the process environment); a file
    paradigm also sees ``options.env_file`` and a ``.env`` beside it. Text and
    mappings resolve ``python`` callables from the current folder.

    Raises:
        SpecError: the paradigm is invalid (every problem found).
        UsageError: an env file cannot be read.
    """
    if isinstance(paradigm, TaskGraph):
        return paradigm
    options = options or RunOptions()
    if isinstance(paradigm, os.PathLike) or _is_path(paradigm):
        return compile_paradigm(Path(paradigm), options, env=env)  # type: ignore[arg-type]
    text = paradigm if isinstance(paradigm, str) else yaml.safe_dump(dict(paradigm))
    with collector_tuned():
        loaded = load_text(
            text,
            Path(TEXT_SOURCE),  # resolved against the current folder
            env=os.environ if env is None else env,
            extra_vars=tuple(options.variables),
            offline=options.mock,
        )
        return compile_graph(
            loaded,
            input_text=options.input_text,
            variables=options.variables,
            deadline=options.deadline,
            mock=options.mock,
        )


async def run_async(
    paradigm: ParadigmSource,
    options: RunOptions | None = None,
    *,
    env: Mapping[str, str] | None = None,
    display: bool = False,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> RunResult:
    """Run a paradigm once in the running event loop and return its result.

    The files ``options`` name (report, JUnit, events) are written; the display of
    ``options.display`` is shown on ``stdout`` only when ``display`` is true.
    Cancelling the awaiting task interrupts the run: the result's status is then
    ``interrupted``.

    Raises:
        SpecError: the paradigm is invalid.
        UsageError: an option is invalid or an output file cannot be written.
    """
    options = options or RunOptions()
    graph = load(paradigm, options, env=env)
    return await run_graph(graph, options, stdout=stdout, stderr=stderr, env=env, show=display)


def run(
    paradigm: ParadigmSource,
    options: RunOptions | None = None,
    *,
    env: Mapping[str, str] | None = None,
    display: bool = False,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> RunResult:
    """Run a paradigm to the end and return its result (see :func:`run_async`).

    Raises:
        SpecError: the paradigm is invalid.
        UsageError: an option is invalid, an output file cannot be written, or an
            event loop is already running in this thread (await :func:`run_async`).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise UsageError("agentrun.run() was called inside an event loop; await run_async()")
    coroutine = run_async(paradigm, options, env=env, display=display, stdout=stdout, stderr=stderr)
    return asyncio.run(coroutine)


def _is_path(paradigm: object) -> bool:
    return (
        isinstance(paradigm, str)
        and "\n" not in paradigm
        and paradigm.rstrip().endswith((".yaml", ".yml"))
    )
