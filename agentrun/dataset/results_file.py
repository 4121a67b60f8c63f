"""The ``--results`` file: a header line, then one JSON line per finished case and repeat.

Each line is written and flushed as its case finishes, so an interrupted run leaves a
valid file; the header's hashes tie the file to one paradigm and one set of cases.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from agentrun import __version__
from agentrun.errors import UsageError
from agentrun.outputs.files import write_file

FORMAT = "agentrun-results/1"


def digest(text: str) -> str:
    """The sha256 of a text, as the results header writes it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def header(paradigm: str, paradigm_text: str, cases_text: str) -> dict[str, Any]:
    """The first line: what ran, and hashes of the paradigm file and the cases."""
    return {
        "format": FORMAT,
        "agentrun": __version__,
        "paradigm": paradigm,
        "paradigm_sha256": digest(paradigm_text),
        "cases_sha256": digest(cases_text),
    }


class ResultsWriter:
    """Appends one line per record, flushed at once."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, record: Mapping[str, Any]) -> None:
        """Write one record as a line and flush it."""
        self._stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._stream.flush()


def open_results(path: str, head: Mapping[str, Any], kept: Iterable[Mapping[str, Any]]) -> TextIO:
    """Start a results file with its header and the records a resumed run keeps.

    The start is written to a temporary file and renamed into place, so a resume that
    fails here leaves the old file whole; the stream returned appends.

    Raises:
        UsageError: the file cannot be written.
    """
    target = Path(path)
    try:
        if target.parent != Path():
            target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent or None, prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            writer = ResultsWriter(out)
            writer.write(head)
            for record in kept:
                writer.write(record)
        os.replace(temp, target)
        return target.open("a", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def read_results(path: str) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The header of a results file and an iterator over its case records.

    Raises:
        UsageError: the file cannot be read or is not a results file.
    """
    try:
        stream = Path(path).open("r", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    first = stream.readline()
    try:
        head = json.loads(first)
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        stream.close()
        raise UsageError(f"{path}: not an agentrun results file (no header line)")
    return head, _records(stream, path)


def _records(stream: TextIO, path: str) -> Iterator[dict[str, Any]]:
    with stream:
        for number, line in enumerate(stream, start=2):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                if not line.endswith("\n"):
                    return  # a last line cut short by a crash: the records before stand
                raise UsageError(f"{path}:{number}: invalid JSON line") from None
            if isinstance(record, dict):
                yield record


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (through ``outputs.files.write_file``).

    Raises:
        UsageError: the file cannot be written.
    """
    target = Path(path)
    try:
        if target.parent != Path():
            target.parent.mkdir(parents=True, exist_ok=True)
        write_file(target, text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
