"""Several paradigms in one ``agentrun run``: each runs in turn, one exit code for all.

The combined exit code is the most serious outcome, so that a CI step fails when any
paradigm fails: ``130`` interrupted (the remaining paradigms do not run), else ``2``
if any paradigm is invalid, else ``1`` if any violated an imperative, else ``3`` if
any failed through errors or timeouts, else ``0``.

With several paradigms ``--report``, ``--events`` and ``--html`` name folders, holding
one ``NAME.json`` / ``NAME.jsonl`` / ``NAME.html`` per paradigm (``NAME`` its file's
stem, made unique);
``--junit`` is one file with each paradigm's testsuites. ``-`` reads one paradigm
from standard input; its relative paths resolve from the current folder.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from agentrun import api
from agentrun.discovery import discover_paradigms
from agentrun.engine.collector import collector_tuned
from agentrun.errors import SpecError, UsageError
from agentrun.graph.compiled import TaskGraph
from agentrun.loading.envfile import layered_environment
from agentrun.loading.loader import load_text
from agentrun.outputs.files import check_targets, write_file
from agentrun.outputs.junit import render_junit
from agentrun.outputs.junit_merge import InvalidSuite, merge_junit
from agentrun.redact import Redactor
from agentrun.results import RunResult

STDIN = "-"
STDIN_NAME = "<stdin>"
"""The name errors give a paradigm read from standard input (``<stdin>:3:5: ...``)."""
EXIT_PRECEDENCE = (130, 2, 1, 3, 0)
"""Exit codes from the most serious down: the combined code is the first one present."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one paradigm of a batch ended."""

    source: str
    exit_code: int
    status: str
    """The run's status, or ``invalid``."""
    result: RunResult | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Every paradigm's outcome, in the order they ran."""

    outcomes: tuple[Outcome, ...]

    @property
    def exit_code(self) -> int:
        """The most serious exit code of all (see :data:`EXIT_PRECEDENCE`)."""
        return combined_exit(o.exit_code for o in self.outcomes)


def combined_exit(codes: Iterable[int]) -> int:
    """The most serious of ``codes`` (see :data:`EXIT_PRECEDENCE`); 0 for none."""
    present = set(codes)
    return next((code for code in EXIT_PRECEDENCE if code in present), max(present, default=0))


def expand_sources(paths: Sequence[str]) -> list[str]:
    """Files as given, folders as the paradigms below them, ``-`` once at most.

    Raises:
        UsageError: a path does not exist, a folder has no paradigm, or ``-`` repeats.
    """
    if paths.count(STDIN) > 1:
        raise UsageError("- (standard input) can be given only once")
    sources: list[str] = []
    for path in paths:
        if path == STDIN:
            sources.append(path)
        else:
            sources += [str(p) for p in discover_paradigms([Path(path)]).files]
    return sources


def compile_source(
    source: str, options: api.RunOptions, env: Mapping[str, str], stdin: TextIO
) -> TaskGraph:
    """The compiled graph of a file, or of the paradigm text on ``stdin`` for ``-``.

    Raises:
        SpecError: the paradigm is invalid.
        UsageError: an env file cannot be read.
    """
    if source != STDIN:
        return api.compile_paradigm(Path(source), options, env=env)
    where = Path(STDIN_NAME)  # its folder is the current one: relative paths start here
    layered = layered_environment(
        dict(env), where, Path(options.env_file) if options.env_file else None
    )
    with collector_tuned():
        loaded = load_text(
            stdin.read(),
            where,
            env=layered,
            extra_vars=tuple(options.variables),
            offline=options.mock,
            registry=options.registry,
        )
        return api.compile_loaded(loaded, options)


def run_source(
    source: str,
    options: api.RunOptions,
    *,
    stdin: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """Run one paradigm file, or ``-`` for standard input, as ``agentrun run`` does.

    Raises:
        SpecError: the paradigm is invalid.
        UsageError: an option is invalid or an output file cannot be written.
    """
    env = os.environ if env is None else env
    graph = compile_source(source, options, env, stdin or sys.stdin)
    path = None if source == STDIN else Path(source)
    return asyncio.run(api.run_graph(graph, options, env=env, show=True, source=path))


def run_many(
    sources: Sequence[str],
    options: api.RunOptions,
    *,
    on_start: Callable[[str], None],
    on_invalid: Callable[[SpecError], None],
    stdin: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> BatchResult:
    """Run each paradigm in turn; an invalid one is reported and the others still run.

    Raises:
        UsageError: an option is invalid or an output file cannot be written.
    """
    env = os.environ if env is None else env
    if options.report == STDIN:
        raise UsageError("with several paradigms, --report names a folder (one file each)")
    names = _unique_stems(sources)
    outcomes: list[Outcome] = []
    suites: list[str | InvalidSuite] = []
    if options.junit is not None:
        check_targets({"junit": options.junit}, None)
    for source, name in zip(sources, names, strict=True):
        on_start(source)
        each = dataclasses.replace(
            options,
            report=_in_folder(options.report, name, ".json"),
            events=_in_folder(options.events, name, ".jsonl"),
            html=_in_folder(options.html, name, ".html"),
            junit=None,
        )
        try:
            graph = compile_source(source, each, env, stdin or sys.stdin)
        except SpecError as exc:
            on_invalid(exc)
            outcomes.append(Outcome(source, exc.exit_code, "invalid"))
            suites.append(InvalidSuite(source, str(exc.problems[0]) if exc.problems else ""))
            continue
        path = None if source == STDIN else Path(source)
        result = asyncio.run(api.run_graph(graph, each, env=env, show=True, source=path))
        outcomes.append(Outcome(source, result.exit_code, result.status.value, result))
        suites.append(render_junit(result, Redactor(graph.secrets)))
        if result.exit_code == 130:
            break  # interrupted: the user wants to stop, not to start the next one
    if options.junit is not None and not _write_junit(options.junit, merge_junit(suites)):
        # Nothing asked for may be lost silently: a failed write is an error of its own.
        outcomes.append(Outcome(options.junit, 3, "output error"))
    return BatchResult(tuple(outcomes))


def _write_junit(target: str, text: str) -> bool:
    """Write the combined JUnit XML, atomically (or on stdout for ``-``); whether it was."""
    try:
        if target == STDIN:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            write_file(Path(target), text)
    except OSError as exc:
        sys.stderr.write(f"agentrun: error: cannot write {target}: {exc.strerror or exc}\n")
        return False
    return True


def _in_folder(folder: str | None, name: str, suffix: str) -> str | None:
    return None if folder is None else str(Path(folder) / f"{name}{suffix}")


def _unique_stems(sources: Sequence[str]) -> list[str]:
    """Each source's file stem (``stdin`` for ``-``), numbered where two would clash."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for source in sources:
        stem = "stdin" if source == STDIN else Path(source).stem
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return names
