"""Everything a dataset run needs before it starts: the cases, the compiled graph,
the thresholds, and every problem of the cases found at once."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agentrun.dataset.cases import CaseFileError, CaseSet, DatasetCase, inline_cases, read_cases
from agentrun.dataset.thresholds import Limits
from agentrun.dataset.uses import case_problems, var_uses
from agentrun.errors import Problem, UsageError
from agentrun.graph.compiled import TaskGraph
from agentrun.loading.positions import MAX_FILE_BYTES, parse_yaml

DEFAULT_CASE_CONCURRENCY = min(32, 4 * (os.cpu_count() or 1))
"""Cases in flight by default: four per core (8 on two cores), at most 32. Agents mostly
wait on the network, so a core keeps several cases busy, while the display still gets
its turn on the event loop; provider limits apply on top."""


@dataclass(frozen=True, slots=True)
class DatasetOptions:
    """How to run a paradigm over cases: what ``agentrun run`` takes for datasets."""

    cases: str | None = None
    """A JSONL, CSV or YAML case file (``-``: standard input); replaces ``cases:``."""
    repeat: int = 1
    limit: int | None = None
    """Run only the first N cases (after ``filter`` and ``shuffle``)."""
    filter: str | None = None
    """A regular expression the case ids must match (searched, not anchored)."""
    shuffle: bool = False
    """Run the cases in a random order (``seed`` makes it reproducible)."""
    case_concurrency: int | None = None
    """Cases in flight at once (default :data:`DEFAULT_CASE_CONCURRENCY`)."""
    results: str | None = None
    """Where to stream one JSON line per finished case."""
    pass_rate: float | None = None
    """Overrides ``thresholds.pass_rate``."""
    cache: str | None = None
    """``on``, ``off`` or ``refresh``; ``None``: as the paradigm's ``cache:`` says."""
    cache_dir: str | None = None
    resume: str | None = None
    """A results file of an earlier run: its passed cases are kept, not rerun."""
    rerun: str = "failed"
    """With ``resume``: ``failed`` reruns failed, errored and missing cases; ``errors``
    only errored and missing ones."""

    @property
    def requested(self) -> bool:
        """Whether any dataset flag was given (a paradigm with ``cases:`` needs none)."""
        return any(
            (
                self.cases is not None,
                self.repeat != 1,
                self.limit is not None,
                self.filter is not None,
                self.shuffle,
                self.case_concurrency is not None,
                self.results is not None,
                self.pass_rate is not None,
                self.resume is not None,
                self.cache not in (None, "off"),
            )
        )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A dataset run ready to start."""

    graph: TaskGraph
    case_set: CaseSet
    limits: Limits
    cache: bool
    paradigm_text: str
    warnings: tuple[str, ...]


def declares_cases(path: Path) -> bool:
    """Whether the paradigm file has a ``cases:`` key (a cheap look before loading)."""
    data = _raw(path)[0]
    return isinstance(data, dict) and data.get("cases") is not None


def prepare(path: Path, options: Any, dataset: DatasetOptions, env: Mapping[str, str]) -> Prepared:
    """Read the cases, load and compile the paradigm, and check the cases against it.

    ``options`` is the :class:`agentrun.api.RunOptions` of the run.

    Raises:
        CaseFileError: the cases are unusable (every problem).
        SpecError: the paradigm is invalid.
    """
    from agentrun import api  # the dataset layer sits beside api.run, which imports it lazily

    data, positions, text = _raw(path)
    case_set = _case_set(path, data, positions, dataset)
    names = set(options.variables) | {name for case in case_set.cases for name in case.vars}
    loaded = api.load(
        path,
        for_run=True,
        variables=dict.fromkeys(names, ""),
        env=env,
        env_file=options.env_file,
        offline=options.mock,
        registry=options.registry,
    )
    # Case variables were passed as names only: an unused one is the cases' own warning.
    case_only = {f"--var {name}:" for name in names - set(options.variables)}
    warn = options.on_warning

    def paradigm_warning(problem: Problem) -> None:
        if warn is not None and not problem.message.startswith(tuple(case_only)):
            warn(problem)

    graph = api.compile_loaded(loaded, replace(options, on_warning=paradigm_warning))
    uses = var_uses(data, positions, str(path))
    provided = set(loaded.spec.vars) | set(options.variables)
    errors, warnings = case_problems(case_set, uses, provided, graph.imperatives)
    problems = sorted([*case_set.problems, *errors], key=_line_of)
    if problems:
        raise CaseFileError(problems)
    spec = loaded.spec.thresholds
    rate = dataset.pass_rate
    if rate is None and spec is not None:
        rate = spec.pass_rate
    limits = Limits(rate, spec.p95_latency if spec else None, spec.cost if spec else None)
    cache = loaded.spec.cache if dataset.cache is None else dataset.cache != "off"
    return Prepared(graph, case_set, limits, cache, text, tuple(warnings))


def plan(
    cases: tuple[DatasetCase, ...], dataset: DatasetOptions, seed: int | None
) -> list[tuple[DatasetCase, int]]:
    """The (case, repeat) pairs to run, in order: filtered, shuffled, limited, repeated.

    Raises:
        UsageError: the filter is not a regular expression, or nothing is left to run.
    """
    chosen = list(cases)
    if dataset.filter is not None:
        try:
            pattern = re.compile(dataset.filter)
        except re.error as exc:
            raise UsageError(f"--filter: invalid regular expression: {exc}") from None
        chosen = [case for case in chosen if pattern.search(case.id)]
    if dataset.shuffle:
        random.Random(seed).shuffle(chosen)
    if dataset.limit is not None:
        chosen = chosen[: dataset.limit]
    if not chosen:
        raise UsageError("no case left to run (check --filter and --limit)")
    return [(case, repeat) for repeat in range(dataset.repeat) for case in chosen]


def _line_of(problem: str) -> int:
    """The line a ``file:line: message`` problem is about, to list problems in file order."""
    parts = problem.split(":", 2)
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0


def _raw(path: Path) -> tuple[Any, Any, str]:
    try:
        text = path.read_text(encoding="utf-8")[:MAX_FILE_BYTES]
    except (OSError, UnicodeDecodeError):
        text = ""  # the loader reports the file itself
    parsed = parse_yaml(text)
    return parsed.data, parsed.positions, text


def _case_set(path: Path, data: Any, positions: Any, dataset: DatasetOptions) -> CaseSet:
    if dataset.cases is not None:
        return read_cases(dataset.cases)
    declared = data.get("cases") if isinstance(data, dict) else None
    if isinstance(declared, list):
        return inline_cases(declared, str(path), positions)
    if isinstance(declared, dict) and isinstance(declared.get("file"), str):
        return read_cases(declared["file"], base_dir=path.parent)
    # No cases: the paradigm's own input is the one case (for --repeat and --results).
    return CaseSet((DatasetCase(id="1", input=None, line=1),), str(path))
