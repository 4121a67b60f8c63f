"""The one entry point for the command line and for Python users: load, compile, run, report."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import ExitStack, aclosing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from agentrun.discovery import discover_paradigms
from agentrun.display import choose_display
from agentrun.emergency import partial_report_handler
from agentrun.engine.collector import collector_tuned
from agentrun.engine.executor import Case, Executor, LocalExecutor
from agentrun.engine.session import EngineOptions
from agentrun.errors import Problem, SpecError, UsageError
from agentrun.events.fold import AgentState, RunFold
from agentrun.events.records import EventBus
from agentrun.graph.compiled import TaskGraph, compile_graph
from agentrun.interrupts import guard
from agentrun.loading.envfile import layered_environment
from agentrun.loading.loader import LoadedParadigm, load_paradigm
from agentrun.loading.resolve import ResolveMode
from agentrun.outputs.files import OutputTargets, RunOutputs
from agentrun.redact import Redactor
from agentrun.registry import Registry
from agentrun.results import RunResult


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a paradigm: what ``agentrun run`` takes besides the file."""

    input_text: str | None = None
    """Replaces the paradigm's ``input``."""
    variables: Mapping[str, str] = field(default_factory=dict)
    """Template variables that override or add to ``vars``."""
    mock: bool = False
    """Swap every network provider for the offline mock."""
    report: str | None = None
    """Where to write the JSON report; ``-`` for standard output."""
    events: str | None = None
    """Where to write the JSONL event log; ``-`` for standard output."""
    junit: str | None = None
    """Where to write the JUnit XML (one testcase per agent); ``-`` for standard output."""
    html: str | None = None
    """Where to write the self-contained HTML report (a timeline of every attempt)."""
    display: str = "auto"
    max_concurrency: int | None = None
    deadline: float | None = None
    """Replaces the paradigm's ``deadline``."""
    rounds: int | None = None
    """Replaces an exchange's ``rounds`` (``--rounds``)."""
    on_warning: Callable[[Problem], None] | None = None
    """Called with each warning of the paradigm (an unused ``--var``, an unused agent, ...)
    once it is loaded, before anything runs; by default warnings are dropped."""
    seed: int | None = None
    """Seed of the backoff jitter."""
    env_file: str | None = None
    """A ``KEY=VALUE`` file of variables for ``${VAR}`` interpolation."""
    registry: Registry | None = None
    """Provider and check types (default: the built-ins and installed plugins)."""
    debug: bool | None = None
    """Re-raise an unexpected exception of a provider instead of failing only its agent;
    ``None``: on when ``AGENTRUN_DEBUG`` is set in the environment given to the run."""
    no_batch: bool = False
    """Providers with ``batch:`` send every item alone (``--no-batch``)."""
    show_output: bool = False
    """The plain display prints each agent's output (escaped, one line, cut short)."""


def load(
    path: Path,
    *,
    for_run: bool,
    variables: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    env_file: str | None = None,
    offline: bool = False,
    registry: Registry | None = None,
    resolve: ResolveMode = "import",
) -> LoadedParadigm:
    """Load and validate one paradigm file.

    ``${VAR}`` references see the process environment (or ``env``), over
    ``env_file``, over a ``.env`` file beside the paradigm.

    Raises:
        SpecError: the file is invalid (every problem found).
        UsageError: an env file cannot be read or parsed.
    """
    layered = layered_environment(
        dict(os.environ if env is None else env), path, Path(env_file) if env_file else None
    )
    return load_paradigm(
        path,
        env=layered,
        for_run=for_run,
        extra_vars=tuple(variables or ()),
        offline=offline,
        registry=registry,
        resolve=resolve,
    )


def compile_paradigm(
    path: Path,
    options: RunOptions,
    *,
    for_run: bool = True,
    env: Mapping[str, str] | None = None,
) -> TaskGraph:
    """Load a paradigm and compile it into the graph ``run`` would execute."""
    with collector_tuned():
        loaded = load(
            path,
            for_run=for_run,
            variables=options.variables,
            env=env,
            env_file=options.env_file,
            offline=options.mock,
            registry=options.registry,
        )
        return compile_loaded(loaded, options)


def compile_loaded(loaded: LoadedParadigm, options: RunOptions) -> TaskGraph:
    """The graph of a loaded paradigm under ``options`` (input, vars, deadline, mock,
    rounds), its warnings handed to ``options.on_warning`` first."""
    if options.on_warning is not None:
        for problem in loaded.warnings:
            options.on_warning(problem)
    graph = compile_graph(
        loaded,
        input_text=options.input_text,
        variables=options.variables,
        deadline=options.deadline,
        mock=options.mock,
    )
    return graph if options.rounds is None else _with_rounds(graph, options.rounds)


def _with_rounds(graph: TaskGraph, rounds: int) -> TaskGraph:
    """``graph`` with its rounds replaced, when its pattern has rounds.

    Raises:
        UsageError: the pattern has no rounds, or ``rounds`` is below 1.
    """
    override = getattr(graph.strategy, "with_rounds", None)
    if override is None:
        raise UsageError(f"--rounds needs pattern: exchange; this paradigm is {graph.pattern!r}")
    if rounds < 1:
        raise UsageError(f"--rounds must be at least 1, got {rounds}")
    result: TaskGraph = override(graph, rounds)
    return result


def run(
    path: Path,
    options: RunOptions | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """Run a paradigm to the end, showing progress and writing the requested files.

    SIGINT and SIGTERM cancel every agent (processes are killed, requests aborted),
    and the partial report is still written; the result's status is then
    ``interrupted``.

    When ``env`` names a file in ``GITHUB_STEP_SUMMARY``, a Markdown summary of the
    run is appended to it. ``AGENTRUN_DEBUG`` in ``env`` turns ``options.debug`` on
    when it is left unset.

    Raises:
        SpecError: the paradigm is invalid.
        UsageError: an option is invalid, or output paths clash or cannot be written
            (checked before the run; a write that fails after it is in the result's
            ``output_errors`` instead, see :mod:`agentrun.outputs.files`).
    """
    options = options or RunOptions()
    env = os.environ if env is None else env
    graph = compile_paradigm(path, options, env=env)
    return _run_in_loop(
        run_graph(graph, options, stdout=stdout, stderr=stderr, env=env, show=True, source=path)
    )


async def run_graph(
    graph: TaskGraph,
    options: RunOptions,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    show: bool = True,
    source: Path | None = None,
) -> RunResult:
    """Run a compiled graph once through a :class:`LocalExecutor`, writing the files
    ``options`` ask for; the display of ``options.display`` only when ``show``.

    ``source`` is the paradigm file, which no output may overwrite. A write that fails
    after the run is in the result's ``output_errors`` (see :mod:`agentrun.outputs.files`).
    """
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    env = os.environ if env is None else env
    redact = Redactor(graph.secrets)
    outputs = RunOutputs(
        OutputTargets(options.report, options.junit, options.events, options.html), source, stdout
    )
    bus = EventBus()
    with ExitStack() as stack:
        stack.callback(outputs.close)
        if show:
            shown_report = None if options.report in (None, "-") else options.report
            display = choose_display(
                options.display,
                stderr if outputs.targets.to_stdout else stdout,
                env,
                redact,
                shown_report,
                show_output=options.show_output,
            )
            # However the run ended, the terminal is given back (cursor shown, view closed).
            stack.callback(display.close)
            bus.add(display)
        # Output paths were checked above: one that cannot be written is a usage
        # error up front, not a lost report after minutes of work.
        if (event_log := outputs.open_event_log(redact)) is not None:
            bus.add(event_log)
        if (timeline := outputs.record_timeline(redact, graph.deadline)) is not None:
            bus.add(timeline)
        known = RunFold(AgentState)  # what a second signal's emergency report is made of
        bus.add(known)
        last_resort = partial_report_handler(graph, known, options.report, redact)
        with guard().on_emergency(last_resort):
            result = await _run_guarded(graph, bus, _engine_options(options, env))
        with guard().protected():  # a signal now waits until the outputs are written
            failed = outputs.finish(result, redact, stderr, env)
    return replace(result, output_errors=failed) if failed else result


def _engine_options(options: RunOptions, env: Mapping[str, str]) -> EngineOptions:
    debug = options.debug
    if debug is None:
        debug = bool(env.get("AGENTRUN_DEBUG"))
    return EngineOptions(
        max_concurrency=options.max_concurrency,
        seed=options.seed,
        debug=debug,
        batch=not options.no_batch,
    )


async def _run_guarded(graph: TaskGraph, bus: EventBus, options: EngineOptions) -> RunResult:
    """One run through a local executor; with the interrupt guard installed (the command
    line installs it first thing) a signal cancels it even when the loop is blocked, and
    embedded use without the guard keeps the caller's own signal handling."""
    task = asyncio.current_task()
    assert task is not None
    with collector_tuned(), guard().running(task):
        return await run_one(LocalExecutor(options), graph, bus)


async def run_one(executor: Executor, graph: TaskGraph, bus: EventBus) -> RunResult:
    """The result of one run of ``graph`` (its own input) on ``executor``."""
    async with aclosing(executor.run_cases(graph, [Case()], bus)) as results:
        async for done in results:
            return done.result
    raise asyncio.CancelledError  # cancelled before the run started: nothing to report


def _run_in_loop(main: Coroutine[Any, Any, RunResult]) -> RunResult:
    return asyncio.run(main)


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """The validation outcome of one file."""

    path: Path
    problems: tuple[Problem, ...]
    """Errors and warnings, in file order."""
    valid: bool


def find_paradigms(paths: list[Path]) -> Iterator[Path]:
    """Every paradigm file named or found below the given folders (see
    :func:`agentrun.discovery.discover_paradigms` for what a folder walk leaves out).

    Raises:
        UsageError: a path does not exist, or a folder holds no paradigm file.
    """
    yield from discover_paradigms(paths).files


def validate(
    paths: list[Path], registry: Registry | None = None, *, offline: bool = False
) -> list[FileVerdict]:
    """Validate files (and every paradigm below folders) without running anything.

    Missing environment variables are warnings here: CI validates without secrets.
    ``python`` modules are imported to check their functions, unless ``offline``:
    then only their files are looked for and no user code runs.

    Raises:
        UsageError: a path does not exist.
    """
    verdicts = []
    for path in find_paradigms(paths):
        try:
            resolve: ResolveMode = "find" if offline else "import"
            loaded = load(path, for_run=False, registry=registry, resolve=resolve)
        except SpecError as exc:
            verdicts.append(FileVerdict(path, tuple(exc.problems), valid=False))
        else:
            verdicts.append(FileVerdict(path, tuple(loaded.warnings), valid=True))
    return verdicts
