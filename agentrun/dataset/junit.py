"""JUnit XML of a dataset run: one testcase per case (and repeat), named by the case id.

Testcases are written to a temporary file as cases finish, so a long run keeps no
case in memory; the file is wrapped in its suite, with the counts, at the end.
"""

from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import quoteattr

from agentrun.dataset.records import ERRORED, FAILED, INTERRUPTED
from agentrun.dataset.results_file import write_atomically

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


class JunitCollector:
    """Gathers testcases as cases finish; :meth:`finish` writes the XML file."""

    def __init__(self, suite: str, repeats: bool) -> None:
        self._suite = suite
        self._repeats = repeats
        self._body = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        self._time = 0.0

    def add(self, record: Mapping[str, Any]) -> None:
        """One testcase for a finished case record."""
        name = str(record["id"])
        if self._repeats:
            name = f"{name} (repeat {int(record['repeat']) + 1})"
        seconds = float(record.get("duration_s") or 0.0)
        case = ET.Element(
            "testcase", name=_clean(name), classname=_clean(self._suite), time=f"{seconds:.3f}"
        )
        status = record["status"]
        message = _clean(str(record.get("reason") or status))
        detail = _clean(_detail(record))
        if status == FAILED:
            ET.SubElement(case, "failure", message=message, type="violated").text = detail
            self._counts["failures"] += 1
        elif status == ERRORED:
            ET.SubElement(case, "error", message=message, type="error").text = detail
            self._counts["errors"] += 1
        elif status == INTERRUPTED:
            ET.SubElement(case, "skipped", message="interrupted")
            self._counts["skipped"] += 1
        self._counts["tests"] += 1
        self._time += seconds
        self._body.write("    " + ET.tostring(case, encoding="unicode") + "\n")

    def finish(self, path: str) -> None:
        """Write the whole XML to ``path`` (atomically) and drop the temporary file."""
        counts = " ".join(f'{key}="{value}"' for key, value in self._counts.items())
        quoted = f"name={quoteattr(_clean(self._suite))}"
        self._body.seek(0)
        text = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<testsuites {quoted} {counts} time="{self._time:.3f}">\n'
            f'  <testsuite {quoted} {counts} time="{self._time:.3f}">\n'
            f"{self._body.read()}"
            "  </testsuite>\n</testsuites>\n"
        )
        self.close()
        write_atomically(path, text)

    def close(self) -> None:
        """Drop the temporary file."""
        self._body.close()


def _detail(record: Mapping[str, Any]) -> str:
    lines = []
    for agent in record.get("agents") or ():
        if agent.get("succeeded"):
            continue
        lines.append(f"{agent['instance']}: {agent['status']} after {agent['attempts']} attempt(s)")
        lines.extend(f"  {v}" for v in agent.get("violations") or ())
        if agent.get("error"):
            lines.append(f"  {agent['error']}")
    return os.linesep.join(lines)
