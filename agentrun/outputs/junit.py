"""The ``--junit`` XML: one testcase per agent, in the dialect GitHub Actions, GitLab and
Jenkins read.

Layout::

    <testsuites name tests failures errors skipped time>
      <testsuite name tests failures errors skipped time>     as the pattern groups them:
        <properties/>                                         one per stage, or one
        <testcase name=instance classname=suite time>
          <failure message type="violated">  an imperative was broken (the thing under test);
                                              its body: the attempts, the checks, the output
          <error message type="failed|timeout">  infrastructure: a crash, a provider down
          <skipped message/>                  skipped, or cancelled (a race was lost)
          <system-out>                        the output, truncated
          <system-err>                        what happened on the way (attempts, fallbacks)

The counts agree with the exit code. An agent a fallback replaced passes: the
pattern treated it as done, and the fallback is named in its ``system-err``. In a
run that passed with a winner, the agents that lost the race (rejected, failed or
cancelled) are skipped with the reason, not failures. An interrupted run adds a
testcase ``interrupted`` with an ``<error>``, so it is never green. Every string
goes through the Redactor, then loses the characters XML 1.0 cannot hold.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping

from agentrun.patterns import PATTERNS, Pattern
from agentrun.patterns.base import ReportSuite
from agentrun.redact import Redactor
from agentrun.results import AgentResult, AgentStatus, RunResult, RunStatus

MAX_OUTPUT = 4000
"""Characters of an agent's output kept in ``system-out``."""
MAX_REJECTED = 1000
"""Characters of each rejected output shown in a ``<failure>`` body."""

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ERRORS = frozenset({AgentStatus.FAILED, AgentStatus.TIMEOUT})
_SKIPS = frozenset({AgentStatus.SKIPPED, AgentStatus.CANCELLED})


def render_junit(
    result: RunResult, redact: Redactor, patterns: Mapping[str, Pattern] = PATTERNS
) -> str:
    """The JUnit XML of a run (also of an interrupted one) with every secret masked.

    The run's pattern, looked up in ``patterns``, says how testcases group into suites.
    """

    def clean(text: str) -> str:
        return _NOT_XML.sub("\ufffd", redact(text))

    root = ET.Element("testsuites", name=clean(result.paradigm))
    totals = _Counts()
    suites = list(patterns[result.pattern].report_suites(result))
    if result.status is RunStatus.INTERRUPTED and not suites:
        suites.append(ReportSuite(result.paradigm, [], result.duration_s))
    for suite_name, agents, seconds in suites:
        suite = ET.SubElement(root, "testsuite", name=clean(suite_name))
        properties = ET.SubElement(suite, "properties")
        for key, value in _properties(result):
            ET.SubElement(properties, "property", name=key, value=clean(value))
        counts = _Counts()
        for agent in agents:
            kind = _testcase(suite, suite_name, agent, clean, lost=_lost(result, agent))
            counts.add(kind)
        if result.status is RunStatus.INTERRUPTED and suite_name == suites[0][0]:
            counts.add(_interrupted(suite, suite_name, result, clean))
        counts.write(suite, seconds)
        totals.merge(counts)
    totals.write(root, result.duration_s)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


class _Counts:
    """tests / failures / errors / skipped of a suite."""

    def __init__(self) -> None:
        self.values = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    def add(self, kind: str | None) -> None:
        self.values["tests"] += 1
        if kind is not None:
            self.values[kind] += 1

    def merge(self, other: _Counts) -> None:
        for key, value in other.values.items():
            self.values[key] += value

    def write(self, element: ET.Element, seconds: float) -> None:
        for key, value in self.values.items():
            element.set(key, str(value))
        element.set("time", _seconds(seconds))


def _properties(result: RunResult) -> list[tuple[str, str]]:
    found = [("pattern", result.pattern), ("status", result.status.value)]
    if result.winner:
        found.append(("winner", result.winner))
    if result.rescued_by:
        found.append(("rescued_by", result.rescued_by))
    if result.reason:
        found.append(("reason", result.reason))
    return found


def _lost(result: RunResult, agent: AgentResult) -> bool:
    """Whether ``agent`` lost a race the run won: its failure is not the run's."""
    return (
        result.status is RunStatus.PASSED
        and result.winner is not None
        and not agent.succeeded
        and agent.name != result.winner
    )


def _interrupted(
    suite: ET.Element, classname: str, result: RunResult, clean: Callable[[str], str]
) -> str:
    """The testcase that keeps an interrupted run from looking green."""
    case = ET.SubElement(
        suite, "testcase", name="interrupted", classname=clean(classname), time="0.000"
    )
    message = f"the run was interrupted after {result.duration_s:.3f}s (exit 130)"
    ET.SubElement(case, "error", message=message, type="interrupted")
    return "errors"


def _testcase(
    suite: ET.Element,
    classname: str,
    agent: AgentResult,
    clean: Callable[[str], str],
    *,
    lost: bool = False,
) -> str | None:
    """Add one testcase; return the count it adds to (failures, errors, skipped) if any."""
    case = ET.SubElement(
        suite,
        "testcase",
        name=clean(agent.instance),
        classname=clean(classname),
        time=_seconds(agent.duration_s),
    )
    story = "\n".join(_story(agent))
    kind: str | None = None
    if agent.succeeded:
        pass
    elif lost:
        kind = "skipped"
        ET.SubElement(case, "skipped", message=clean(_loss_reason(agent)))
    elif agent.status is AgentStatus.VIOLATED:
        kind = "failures"
        element = ET.SubElement(
            case, "failure", message=clean(_broken(agent)), type=agent.status.value
        )
        element.text = clean("\n".join(_story(agent, rejected=True)))
    elif agent.status in _SKIPS:
        kind = "skipped"
        ET.SubElement(case, "skipped", message=clean(_skip_reason(agent)))
    else:
        kind = "errors"
        message = agent.error or f"ended {agent.status.value}"
        kind_name = agent.status.value if agent.status in _ERRORS else "unfinished"
        element = ET.SubElement(case, "error", message=clean(message), type=kind_name)
        element.text = clean(story)
    if agent.output:
        out = ET.SubElement(case, "system-out")
        out.text = _truncate(clean(agent.output))
    if story and (kind is None or kind == "skipped"):
        err = ET.SubElement(case, "system-err")
        err.text = clean(story)
    return kind


def _loss_reason(agent: AgentResult) -> str:
    """Why a racer that did not win is not a failure of a run that passed."""
    if agent.status in _SKIPS:
        return _skip_reason(agent)
    if agent.status is AgentStatus.VIOLATED:
        return f"lost the race: its answer was rejected ({_broken(agent)})"
    return f"lost the race: {agent.status.value}: {agent.error or agent.status.value}"


def _skip_reason(agent: AgentResult) -> str:
    """``cancelled``, or ``skipped: an earlier stage failed``."""
    status = agent.status.value
    if not agent.error or agent.error == status:
        return status
    return f"{status}: {agent.error}"


def _broken(agent: AgentResult) -> str:
    """The imperatives the last attempt broke, ``name: message; ...``."""
    broken = [c for c in agent.checks if c.is_violation]
    if not broken:
        return agent.error or "an imperative was broken"
    return "; ".join(f"{c.name}: {c.message}" if c.message else c.name for c in broken)


def _story(agent: AgentResult, indent: str = "", *, rejected: bool = False) -> Iterable[str]:
    """Each attempt with its verdicts, then each fallback tried, as plain lines; with
    ``rejected``, the output each violated attempt gave too."""
    for attempt in agent.attempts:
        line = (
            f"{indent}attempt {attempt.number} {attempt.status.value} in {attempt.duration_s:.3f}s"
        )
        if attempt.error:
            line += f": {attempt.error}"
        yield line
        for check in attempt.checks:
            mark = "passed" if check.passed else "broken" if check.is_violation else "warning"
            if check.error:
                mark = "could not run"
            note = f": {check.message}" if check.message else ""
            yield f"{indent}  {check.name} {mark}{note}"
        if rejected and attempt.status is AgentStatus.VIOLATED and attempt.output is not None:
            yield f"{indent}  output: {_truncate(attempt.output, MAX_REJECTED)}"
    for fallback in agent.fallbacks:
        yield f"{indent}fallback {fallback.name}: {fallback.status.value}"
        yield from _story(fallback, indent + "  ", rejected=rejected)
    if agent.replaced_by:
        yield f"{indent}replaced by {agent.replaced_by}"


def _truncate(text: str, limit: int = MAX_OUTPUT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit} more characters in the report)"


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"
