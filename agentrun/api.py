"""The one entry point for the command line and for Python users: load, compile, run, report."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from agentrun.display import choose_display
from agentrun.engine.collector import collector_tuned
from agentrun.engine.session import EngineOptions, execute
from agentrun.errors import Problem, SpecError, UsageError
from agentrun.events.records import EventBus
from agentrun.graph.compiled import TaskGraph, compile_graph
from agentrun.loading.envfile import layered_environment
from agentrun.loading.loader import LoadedParadigm, load_paradigm
from agentrun.outputs.files import OutputTargets, RunOutputs
from agentrun.redact import Redactor
from agentrun.results import RunResult

PARADIGM_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What ``agentrun run`` takes besides the file."""

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
    display: str = "auto"
    max_concurrency: int | None = None
    deadline: float | None = None
    """Replaces the paradigm's ``deadline``."""
    seed: int | None = None
    """Seed of the backoff jitter."""
    env_file: str | None = None
    """A ``KEY=VALUE`` file of variables for ``${VAR}`` interpolation."""


def load(
    path: Path,
    *,
    for_run: bool,
    variables: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    env_file: str | None = None,
    offline: bool = False,
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
        )
        return compile_graph(
            loaded,
            input_text=options.input_text,
            variables=options.variables,
            deadline=options.deadline,
            mock=options.mock,
        )


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
    run is appended to it.

    Raises:
        SpecError: the paradigm is invalid.
        UsageError: an option is invalid, or output paths clash or cannot be written
            (checked before the run; a write that fails after it is in the result's
            ``output_errors`` instead, see :mod:`agentrun.outputs.files`).
    """
    options = options or RunOptions()
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    env = os.environ if env is None else env
    graph = compile_paradigm(path, options, env=env)
    redact = Redactor(graph.secrets)
    outputs = RunOutputs(OutputTargets(options.report, options.junit, options.events), path, stdout)
    shown_report = None if options.report in (None, "-") else options.report
    display = choose_display(
        options.display, stderr if outputs.targets.to_stdout else stdout, env, redact, shown_report
    )
    bus = EventBus([display])
    base = str(graph.base_dir)
    if base not in sys.path:
        # `python` agents and checks name modules that sit beside the paradigm.
        sys.path.insert(0, base)
    try:
        # Output paths were checked above: one that cannot be written is a usage
        # error up front, not a lost report after minutes of work.
        if (event_log := outputs.open_event_log(redact)) is not None:
            bus.add(event_log)
        engine_options = EngineOptions(max_concurrency=options.max_concurrency, seed=options.seed)
        result = _run_with_signals(graph, bus, engine_options)
        failed = outputs.finish(result, redact, stderr, env)
    finally:
        outputs.close()
        # However the run ended, the terminal is given back (cursor shown, view closed).
        display.close()
    return replace(result, output_errors=failed) if failed else result


def _run_with_signals(graph: TaskGraph, bus: EventBus, options: EngineOptions) -> RunResult:
    async def main() -> RunResult:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        installed = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                # A repeated signal finds the task already cancelling: cleanup is bounded
                # (processes get a short grace before SIGKILL), so it is not cut short.
                loop.add_signal_handler(signum, _cancel_once, task)
                installed.append(signum)
            except (ValueError, RuntimeError, NotImplementedError):
                pass  # not the main thread (embedded use): the caller handles signals
        try:
            return await execute(graph, bus, options)
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)

    return asyncio.run(main())


def _cancel_once(task: asyncio.Task[RunResult]) -> None:
    if not task.cancelling():
        task.cancel()


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


def validate(paths: list[Path]) -> list[FileVerdict]:
    """Validate files (and every paradigm below folders) without running anything.

    Missing environment variables are warnings here: CI validates without secrets.

    Raises:
        UsageError: a path does not exist.
    """
    verdicts = []
    for path in find_paradigms(paths):
        try:
            loaded = load(path, for_run=False)
        except SpecError as exc:
            verdicts.append(FileVerdict(path, tuple(exc.problems), valid=False))
        else:
            verdicts.append(FileVerdict(path, tuple(loaded.warnings), valid=True))
    return verdicts
