"""Case files: JSONL, CSV or a YAML list (``-`` reads standard input), and inline cases.

Every problem of a case file is collected before anything runs and reported as
``cases.jsonl:17: invalid JSON: ...``, one line each.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentrun.errors import AgentrunError
from agentrun.loading.positions import Positions, parse_yaml

CASE_KEYS = ("input", "id", "vars", "imperatives")
"""The keys a case may hold (a CSV's other columns are its vars)."""
MAX_CASE_BYTES = 512 * 1024 * 1024
"""Largest case file read (a guard against reading a device or a runaway file)."""


@dataclass(frozen=True, slots=True)
class DatasetCase:
    """One case: its id, input, variables and extra imperatives, and where it was written."""

    id: str
    input: str | None
    vars: Mapping[str, Any] = field(default_factory=dict)
    imperatives: tuple[str, ...] = ()
    line: int = 0
    """The line of the case file (or paradigm) it came from, for messages."""


class CaseFileError(AgentrunError):
    """A case file (or the paradigm's cases) is unusable; holds every problem, one a line."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, slots=True)
class CaseSet:
    """The cases of a run, where they came from, and the problems found reading them."""

    cases: tuple[DatasetCase, ...]
    source: str
    """How messages name the file: the path as given, ``<stdin>`` or the paradigm's."""
    text: str = ""
    """The file's text, for the hash the results file carries."""
    problems: tuple[str, ...] = ()


def read_cases(path: str, base_dir: Path | None = None) -> CaseSet:
    """Read the case file ``path`` (``-``: standard input), relative to ``base_dir``.

    Raises:
        CaseFileError: the file cannot be read.
    """
    if path == "-":
        text, shown, kind = sys.stdin.read(), "<stdin>", ""
    else:
        target = Path(path) if base_dir is None else base_dir / path
        shown = str(target) if base_dir is not None else path
        try:
            with target.open("r", encoding="utf-8", newline="") as handle:
                text = handle.read(MAX_CASE_BYTES + 1)
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise CaseFileError([f"{shown}: cannot read the case file: {reason}"]) from None
        if len(text) > MAX_CASE_BYTES:
            raise CaseFileError([f"{shown}: larger than {MAX_CASE_BYTES // 2**20} MiB"])
        kind = target.suffix.lower()
    parse = _PARSERS.get(kind) or _PARSERS[_sniff(text)]
    cases, problems = parse(text, shown)
    _check_ids(cases, shown, problems)
    if not cases and not problems:
        problems.append(f"{shown}: no cases")
    return CaseSet(tuple(cases), shown, text, tuple(problems))


def inline_cases(items: list[Any], source: str, positions: Positions) -> CaseSet:
    """The cases written under ``cases:`` in the paradigm itself."""
    cases: list[DatasetCase] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        line = positions.locate(("cases", index)).line
        _add(cases, problems, item, str(index + 1), f"{source}:{line}", line)
    _check_ids(cases, source, problems)
    text = json.dumps(items, sort_keys=True, default=str)
    return CaseSet(tuple(cases), source, text, tuple(problems))


def _sniff(text: str) -> str:
    start = text.lstrip()[:1]
    return ".jsonl" if start == "{" else ".yaml" if start == "-" else ".csv"


def _jsonl(text: str, shown: str) -> tuple[list[DatasetCase], list[str]]:
    cases: list[DatasetCase] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{shown}:{number}"
        try:
            item = json.loads(raw)
        except ValueError as exc:
            problems.append(f"{where}: invalid JSON: {exc}")
            continue
        _add(cases, problems, item, str(number), where, number)
    return cases, problems


def _csv(text: str, shown: str) -> tuple[list[DatasetCase], list[str]]:
    cases: list[DatasetCase] = []
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return cases, [f"{shown}:1: a CSV case file needs a header row with an 'input' column"]
    names = [name.strip() for name in header]
    if "input" not in names:
        problems.append(f"{shown}:1: a CSV case file needs an 'input' column")
        return cases, problems
    try:
        for row_number, row in enumerate(reader, start=1):
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                problems.append(f"{shown}:{line}: {len(row)} columns, the header has {len(names)}")
                continue
            values = dict(zip(names, row, strict=True))
            item: dict[str, Any] = {"input": values.pop("input")}
            if values.get("id", "").strip():
                item["id"] = values.pop("id").strip()
            values.pop("id", None)
            item["vars"] = values
            _add(cases, problems, item, str(row_number), f"{shown}:{line}", line)
    except csv.Error as exc:
        problems.append(f"{shown}:{reader.line_num}: invalid CSV: {exc}")
    return cases, problems


def _yaml(text: str, shown: str) -> tuple[list[DatasetCase], list[str]]:
    parsed = parse_yaml(text)
    if parsed.problems:
        return [], [f"{shown}:{pos.line}: {message}" for pos, message in parsed.problems]
    if not isinstance(parsed.data, list):
        return [], [f"{shown}:1: a YAML case file is a list of cases"]
    cases: list[DatasetCase] = []
    problems: list[str] = []
    for index, item in enumerate(parsed.data):
        line = parsed.positions.locate((index,)).line
        _add(cases, problems, item, str(index + 1), f"{shown}:{line}", line)
    return cases, problems


_PARSERS = {
    ".jsonl": _jsonl,
    ".ndjson": _jsonl,
    ".json": _jsonl,
    ".csv": _csv,
    ".yaml": _yaml,
    ".yml": _yaml,
}


def _add(
    cases: list[DatasetCase],
    problems: list[str],
    item: Any,
    default_id: str,
    where: str,
    line: int,
) -> None:
    """Validate one case's shape; append the case, or its problems."""
    if not isinstance(item, dict):
        problems.append(f"{where}: a case is an object with an 'input', got {_kind(item)}")
        return
    found = list(_shape_problems(item))
    if found:
        problems.extend(f"{where}: {message}" for message in found)
        return
    ident = item.get("id")
    cases.append(
        DatasetCase(
            id=default_id if ident is None else str(ident),
            input=item["input"],
            vars=dict(item.get("vars") or {}),
            imperatives=tuple(item.get("imperatives") or ()),
            line=line,
        )
    )


def _shape_problems(item: Mapping[str, Any]) -> Iterator[str]:
    for key in item:
        if key not in CASE_KEYS:
            yield f"unknown key {key!r} in a case (expected {', '.join(CASE_KEYS)})"
    if "input" not in item:
        yield "case has no 'input'"
    elif not isinstance(item["input"], str):
        yield f"'input' must be text, got {_kind(item['input'])}"
    ident = item.get("id")
    if ident is not None and (isinstance(ident, bool) or not isinstance(ident, str | int)):
        yield f"'id' must be text or a number, got {_kind(ident)}"
    elif ident is not None and not str(ident).strip():
        yield "'id' is empty"
    if not isinstance(item.get("vars", {}), dict):
        yield f"'vars' must be an object, got {_kind(item['vars'])}"
    names = item.get("imperatives", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        yield "'imperatives' must be a list of imperative names"


def _check_ids(cases: Iterable[DatasetCase], shown: str, problems: list[str]) -> None:
    first: dict[str, int] = {}
    for case in cases:
        if case.id in first:
            problems.append(
                f"{shown}:{case.line}: duplicate case id {case.id!r}"
                f" (first at line {first[case.id]})"
            )
        else:
            first[case.id] = case.line


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )
