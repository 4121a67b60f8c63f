"""Run a paradigm over its cases: stream results, sum the aggregate, judge thresholds.

Entry point of ``agentrun run`` whenever cases are involved (``--cases``, a
``cases:`` key, ``--repeat``, ``--results``, ...); a single run goes through
:func:`agentrun.api.run` unchanged.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from agentrun.dataset import resume
from agentrun.dataset.aggregate import Aggregate
from agentrun.dataset.cache import ResponseCache, open_cache
from agentrun.dataset.cases import CaseFileError, DatasetCase
from agentrun.dataset.junit import JunitCollector
from agentrun.dataset.prepare import (
    DEFAULT_CASE_CONCURRENCY,
    DatasetOptions,
    Prepared,
    plan,
    prepare,
)
from agentrun.dataset.records import INTERRUPTED, case_record
from agentrun.dataset.results_file import ResultsWriter, header, open_results, write_atomically
from agentrun.dataset.summary import summary_lines
from agentrun.dataset.thresholds import exit_code, judge, verdicts_json
from agentrun.display.dataset import choose_dataset_display
from agentrun.engine.collector import collector_tuned
from agentrun.engine.executor import Case, CaseResult, LocalExecutor
from agentrun.engine.session import EngineOptions
from agentrun.errors import UsageError
from agentrun.events.records import EventBus
from agentrun.interrupts import guard
from agentrun.outputs.event_log import EventLog
from agentrun.outputs.files import open_stream
from agentrun.redact import Redactor


@dataclass(frozen=True, slots=True)
class DatasetOutcome:
    """How a dataset run ended: its exit code and the report's JSON."""

    exit_code: int
    report: dict[str, Any]


def run_from_cli(path: Path, options: Any, dataset: DatasetOptions) -> int:
    """``agentrun run`` over cases: the exit code; case-file problems printed one a line."""
    try:
        return run_dataset(path, options, dataset).exit_code
    except CaseFileError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return exc.exit_code


def run_dataset(
    path: Path,
    options: Any,
    dataset: DatasetOptions,
    *,
    stdout: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> DatasetOutcome:
    """Run ``path`` over its cases with ``options`` (:class:`agentrun.api.RunOptions`).

    Raises:
        CaseFileError: the cases are unusable (nothing ran).
        SpecError: the paradigm is invalid.
        UsageError: a flag is invalid or a file cannot be written.
    """
    env = os.environ if env is None else env
    prepared = prepare(path, options, dataset, env)
    for warning in prepared.warnings:
        print(warning, file=sys.stderr)
    planned = plan(prepared.case_set.cases, dataset, options.seed)
    head = header(prepared.graph.paradigm, prepared.paradigm_text, prepared.case_set.text)
    kept: list[dict[str, Any]] = []
    if dataset.resume is not None:
        kept, planned = resume.split(dataset.resume, head, planned, dataset.rerun)
    run = _DatasetRun(path, prepared, options, dataset, stdout or sys.stdout, env)
    return asyncio.run(run.main(head, kept, planned))


class _DatasetRun:
    def __init__(
        self,
        path: Path,
        prepared: Prepared,
        options: Any,
        dataset: DatasetOptions,
        stdout: TextIO,
        env: Mapping[str, str],
    ) -> None:
        self.path = path
        self.prepared = prepared
        self.options = options
        self.dataset = dataset
        self.stdout = stdout
        self.env = env
        self.redact = Redactor(prepared.graph.secrets)
        self.agg = Aggregate()

    async def main(
        self,
        head: dict[str, Any],
        kept: list[dict[str, Any]],
        planned: list[tuple[DatasetCase, int]],
    ) -> DatasetOutcome:
        options, dataset = self.options, self.dataset
        for record in kept:
            self.agg.add(record)
        report_to_stdout = options.report == "-"
        shown = sys.stderr if report_to_stdout else self.stdout
        display = choose_dataset_display(
            options.display, shown, self.env, len(planned) + len(kept), len(kept)
        )
        interrupted = False
        with ExitStack() as stack:
            stack.callback(display.close)
            target = dataset.results or dataset.resume
            writer = None
            if target is not None:
                writer = ResultsWriter(stack.enter_context(open_results(target, head, kept)))
            junit = None
            if options.junit is not None:
                junit = JunitCollector(self.prepared.graph.paradigm, dataset.repeat > 1)
                stack.callback(junit.close)
            bus = EventBus()
            if options.events is not None:
                bus.add(EventLog(stack.enter_context(_open(options.events)), self.redact))
            cache = stack.enter_context(open_cache(self.path, dataset, self.prepared.cache))
            executor = self._executor(cache)
            task = asyncio.current_task()
            assert task is not None
            with collector_tuned(), guard().running(task):
                async with aclosing(
                    executor.run_cases(self.prepared.graph, self._cases(planned), bus)
                ) as results:
                    async for done in results:
                        record = self._record(done, cache)
                        interrupted |= record["status"] == INTERRUPTED
                        self.agg.add(record)
                        if writer is not None:
                            writer.write(record)
                        if junit is not None and record["status"] != INTERRUPTED:
                            junit.add(record)
                        display.case_done(record)
            with guard().protected():
                return self._finish(display, junit, interrupted)

    def _executor(self, cache: ResponseCache | None) -> LocalExecutor:
        options = self.options
        debug = options.debug if options.debug is not None else self.env.get("AGENTRUN_DEBUG")
        engine = EngineOptions(
            max_concurrency=options.max_concurrency,
            seed=options.seed,
            debug=bool(debug),
            batch=not options.no_batch,
            wrap_client=cache.wrap if cache is not None else None,
        )
        concurrency = self.dataset.case_concurrency or DEFAULT_CASE_CONCURRENCY
        return LocalExecutor(engine, concurrency=concurrency)

    def _record(self, done: CaseResult, cache: ResponseCache | None) -> dict[str, Any]:
        case = done.case
        assert case.id is not None  # every dataset case has one
        tally = cache.tally(case.id, case.repeat) if cache is not None else None
        return case_record(case.id, case.repeat, case.vars, done.result, self.redact, tally)

    def _finish(
        self, display: Any, junit: JunitCollector | None, interrupted: bool
    ) -> DatasetOutcome:
        verdicts = judge(self.agg, self.prepared.limits)
        code = exit_code(self.agg, verdicts, interrupted)
        summary = self.agg.summary()
        report = {
            "paradigm": self.prepared.graph.paradigm,
            "pattern": self.prepared.graph.pattern,
            "kind": "dataset",
            "cases_source": self.prepared.case_set.source,
            "summary": summary,
            "thresholds": verdicts_json(verdicts),
            "exit_code": code,
        }
        text = self.redact(json.dumps(report, indent=2, ensure_ascii=False)) + "\n"
        target = self.options.report
        if target == "-":
            self.stdout.write(text)
            self.stdout.flush()
        elif target is not None:
            write_atomically(target, text)
        if junit is not None:
            junit.finish(self.options.junit)
        shown = None if target in (None, "-") else target
        display.finish(summary_lines(summary, verdicts, shown))
        return DatasetOutcome(code, report)

    def _cases(self, planned: list[tuple[DatasetCase, int]]) -> Iterator[Case]:
        overrides = self.options.variables
        for case, repeat in planned:
            variables = {**case.vars, **overrides} if overrides else case.vars
            yield Case(case.id, case.input, variables, case.imperatives, repeat)


def _open(path: str) -> TextIO:
    """The ``--events`` stream of a dataset run (opened before the run)."""
    try:
        return open_stream(Path(path))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
