"""The one entry point for the command line and for Python users: load, compile, run, report."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import ExitStack, aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from agentrun.display import choose_display
from agentrun.engine.collector import collector_tuned
from agentrun.engine.executor import Case, Executor, LocalExecutor
from agentrun.engine.session import EngineOptions
from agentrun.errors import Problem, SpecError, UsageError
from agentrun.events.records import EventBus
from agentrun.graph.compiled import TaskGraph, compile_graph
from agentrun.interrupts import guard
from agentrun.loading.envfile import layered_environment
from agentrun.loading.loader import LoadedParadigm, load_paradigm
from agentrun.outputs.event_log import EventLog
from agentrun.outputs.json_report import render_report
from agentrun.outputs.junit import render_junit
from agentrun.outputs.step_summary import STEP_SUMMARY_VARIABLE, append_step_summary
from agentrun.redact import Redactor
from agentrun.registry import Registry
from agentrun.results import RunResult

PARADIGM_SUFFIXES = (".yaml", ".yml")


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
    """Where to write the JSONL event log."""
    junit: str | None = None
    """Where to write the JUnit XML (one testcase per agent)."""
    display: str = "auto"
    max_concurrency: int | None = None
    deadline: float | None = None
    """Replaces the paradigm's ``deadline``."""
    rounds: int | None = None
    """Replaces an exchange's ``rounds`` (``--rounds``)."""
    seed: int | None = None
    """Seed of the backoff jitter."""
    env_file: str | None = None
    """A ``KEY=VALUE`` file of variables for ``${VAR}`` interpolation."""
    registry: Registry | None = None
    """Provider and check types (default: the built-ins and installed plugins)."""
    debug: bool | None = None
    """Re-raise an unexpected exception of a provider instead of failing only its agent;
    ``None``: on when ``AGENTRUN_DEBUG`` is set in the environment given to the run."""


def load(
    path: Path,
    *,
    for_run: bool,
    variables: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    env_file: str | None = None,
    offline: bool = False,
    registry: Registry | None = None,
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
        UsageError: an option is invalid or an output file cannot be written.
    """
    options = options or RunOptions()
    env = os.environ if env is None else env
    graph = compile_paradigm(path, options, env=env)
    return _run_in_loop(run_graph(graph, options, stdout=stdout, stderr=stderr, env=env, show=True))


async def run_graph(
    graph: TaskGraph,
    options: RunOptions,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    show: bool = True,
) -> RunResult:
    """Run a compiled graph once through a :class:`LocalExecutor`, writing the files
    ``options`` ask for; the display of ``options.display`` only when ``show``."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    env = os.environ if env is None else env
    redact = Redactor(graph.secrets)
    bus = EventBus()
    with ExitStack() as stack:
        if show:
            report_to_stdout = options.report == "-"
            shown_report = None if options.report in (None, "-") else options.report
            display = choose_display(
                options.display, stderr if report_to_stdout else stdout, env, redact, shown_report
            )
            # However the run ended, the terminal is given back (cursor shown, view closed).
            stack.callback(display.close)
            bus.add(display)
        # Every output file is opened before the run: a path that cannot be written
        # is a usage error up front, not a lost report after minutes of work.
        files = {
            kind: stack.enter_context(_open_output(target))
            for kind, target in (
                ("report", options.report),
                ("junit", options.junit),
                ("events", options.events),
            )
            if target is not None and target != "-"
        }
        if "events" in files:
            bus.add(EventLog(files["events"], redact))
        debug = options.debug
        if debug is None:
            debug = bool(env.get("AGENTRUN_DEBUG"))
        engine_options = EngineOptions(
            max_concurrency=options.max_concurrency, seed=options.seed, debug=debug
        )
        task = asyncio.current_task()
        assert task is not None
        # With the guard installed (the command line installs it first thing), a signal
        # cancels the run on its loop even when the loop is blocked; embedded use without
        # the guard keeps the caller's own signal handling.
        with collector_tuned(), guard().running(task):
            result = await run_one(LocalExecutor(engine_options), graph, bus)
        with guard().protected():  # a signal now waits until the outputs are written
            _write_outputs(result, options, redact, stdout, stderr, env, files)
    return result


async def run_one(executor: Executor, graph: TaskGraph, bus: EventBus) -> RunResult:
    """The result of one run of ``graph`` (its own input) on ``executor``."""
    async with aclosing(executor.run_cases(graph, [Case()], bus)) as results:
        async for done in results:
            return done.result
    raise asyncio.CancelledError  # cancelled before the run started: nothing to report


def _write_outputs(
    result: RunResult,
    options: RunOptions,
    redact: Redactor,
    stdout: TextIO,
    stderr: TextIO,
    env: Mapping[str, str],
    files: Mapping[str, TextIO],
) -> None:
    """The JSON report, the JUnit XML and the GitHub step summary, as requested."""
    if options.report is not None:
        text = render_report(result, redact)
        stream = stdout if options.report == "-" else files["report"]
        stream.write(text)
        stream.flush()
    if options.junit is not None:
        files["junit"].write(render_junit(result, redact))
    step_summary = env.get(STEP_SUMMARY_VARIABLE)
    if step_summary:
        report = None if options.report in (None, "-") else options.report
        try:
            append_step_summary(Path(step_summary), result, redact, report)
        except OSError as exc:
            # The run's outcome stands: a CI nicety that cannot be written only warns.
            stderr.write(
                f"agentrun: warning: cannot write {STEP_SUMMARY_VARIABLE} "
                f"({step_summary}): {exc.strerror or exc}\n"
            )


def _run_in_loop(main: Coroutine[Any, Any, RunResult]) -> RunResult:
    return asyncio.run(main)


def _open_output(path: str) -> TextIO:
    try:
        target = Path(path)
        if target.parent != Path():
            target.parent.mkdir(parents=True, exist_ok=True)
        return target.open("w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """The validation outcome of one file."""

    path: Path
    problems: tuple[Problem, ...]
    """Errors and warnings, in file order."""
    valid: bool


def find_paradigms(paths: list[Path]) -> Iterator[Path]:
    """Every paradigm file named or found below the given folders.

    Raises:
        UsageError: a path does not exist, or a folder holds no paradigm file.
    """
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix in PARADIGM_SUFFIXES and p.is_file()
            )
            if not found:
                raise UsageError(f"no *.yaml or *.yml file under {path}")
            yield from found
        elif path.exists():
            yield path
        else:
            raise UsageError(f"no such file or folder: {path}")


def validate(paths: list[Path], registry: Registry | None = None) -> list[FileVerdict]:
    """Validate files (and every paradigm below folders) without running anything.

    Missing environment variables are warnings here: CI validates without secrets.

    Raises:
        UsageError: a path does not exist.
    """
    verdicts = []
    for path in find_paradigms(paths):
        try:
            loaded = load(path, for_run=False, registry=registry)
        except SpecError as exc:
            verdicts.append(FileVerdict(path, tuple(exc.problems), valid=False))
        else:
            verdicts.append(FileVerdict(path, tuple(loaded.warnings), valid=True))
    return verdicts
