"""One JUnit XML file for several paradigms: each one's testsuites side by side.

Each paradigm's document comes from :func:`agentrun.outputs.junit.render_junit`
(already redacted); here they are put under one ``<testsuites>`` whose counts are
the sums. A suite is named after its paradigm (``paradigm: stage`` when the
pattern groups agents into several suites). A paradigm that could not even be
loaded is one suite with one errored testcase, so a CI dashboard shows it too.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

COUNTS = ("tests", "failures", "errors", "skipped")


@dataclass(frozen=True, slots=True)
class InvalidSuite:
    """A paradigm that did not load: its file and the first problem found."""

    source: str
    message: str


def merge_junit(parts: Sequence[str | InvalidSuite], name: str = "agentrun") -> str:
    """The combined JUnit XML of rendered documents and invalid paradigms, in order."""
    root = ET.Element("testsuites", name=name)
    totals = dict.fromkeys(COUNTS, 0)
    seconds = 0.0
    for part in parts:
        suites = [_invalid_suite(part)] if isinstance(part, InvalidSuite) else _suites(part)
        for suite in suites:
            root.append(suite)
            for key in COUNTS:
                totals[key] += int(suite.get(key, "0"))
            seconds += float(suite.get("time", "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suites(document: str) -> list[ET.Element]:
    # Our own output, never user XML: the standard parser is safe on it.
    parsed = ET.fromstring(document)
    paradigm = parsed.get("name", "")
    suites = list(parsed.iter("testsuite"))
    for suite in suites:
        own = suite.get("name", "")
        if own != paradigm:
            suite.set("name", f"{paradigm}: {own}" if paradigm else own)
    return suites


def _invalid_suite(part: InvalidSuite) -> ET.Element:
    suite = ET.Element("testsuite", name=part.source, tests="1", failures="0", errors="1")
    suite.set("skipped", "0")
    suite.set("time", "0.000")
    case = ET.SubElement(suite, "testcase", name="load", classname=part.source, time="0.000")
    ET.SubElement(case, "error", message=part.message, type="invalid")
    return suite
