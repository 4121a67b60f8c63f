"""--junit: JUnit XML that GitHub Actions, GitLab and Jenkins accept, checked structurally."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from agentrun import api
from agentrun.errors import UsageError
from agentrun.outputs.junit import MAX_OUTPUT, render_junit
from agentrun.redact import Redactor
from agentrun.results import (
    AgentResult,
    AgentStatus,
    AttemptRecord,
    CheckResult,
    RunResult,
    RunStatus,
)

COUNTS = ("tests", "failures", "errors", "skipped")
TALLY = {"failure": "failures", "error": "errors", "skipped": "skipped"}


def check_structure(text: str) -> ET.Element:
    """What CI readers require of a JUnit file, without an XSD.

    ``testsuites`` holds ``testsuite`` elements; every suite and the root carry name,
    tests, failures, errors, skipped and time; every ``testcase`` has name, classname
    and time; ``failure``/``error``/``skipped`` carry a message; counts add up; times
    are non-negative decimals.
    """
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    for attribute in ("name", *COUNTS, "time"):
        assert attribute in root.attrib, attribute
    totals = dict.fromkeys(COUNTS, 0)
    for suite in root:
        assert suite.tag == "testsuite"
        for attribute in ("name", *COUNTS, "time"):
            assert attribute in suite.attrib, (suite.attrib, attribute)
        assert float(suite.get("time", "")) >= 0
        counted = dict.fromkeys(COUNTS, 0)
        for child in suite:
            if child.tag == "properties":
                for prop in child:
                    assert prop.tag == "property" and {"name", "value"} <= set(prop.attrib)
                continue
            assert child.tag == "testcase", child.tag
            for attribute in ("name", "classname", "time"):
                assert attribute in child.attrib, (child.attrib, attribute)
            assert float(child.get("time", "")) >= 0
            assert child.get("classname") == suite.get("name")
            counted["tests"] += 1
            outcomes = [c for c in child if c.tag in ("failure", "error", "skipped")]
            assert len(outcomes) <= 1
            for outcome in outcomes:
                assert outcome.get("message"), outcome.tag
                counted[TALLY[outcome.tag]] += 1
            for other in child:
                assert other.tag in ("failure", "error", "skipped", "system-out", "system-err")
        assert {k: int(suite.get(k, "")) for k in COUNTS} == counted
        for key in COUNTS:
            totals[key] += counted[key]
    assert {k: int(root.get(k, "")) for k in COUNTS} == totals
    return root


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in root.iter("testcase")}


def outcome(case: ET.Element) -> tuple[str, str] | None:
    for child in case:
        if child.tag in ("failure", "error", "skipped"):
            return child.tag, child.get("message", "")
    return None


def run_junit(write_paradigm: Callable[..., Path], tmp_path: Path, text: str) -> ET.Element:
    junit = tmp_path / "out" / "junit.xml"
    api.run(
        write_paradigm(text),
        api.RunOptions(display="quiet", junit=str(junit)),
        stdout=io.StringIO(),
        env={},
    )
    return check_structure(junit.read_text(encoding="utf-8"))


def test_independent_outcomes(write_paradigm: Callable[..., Path], tmp_path: Path) -> None:
    root = run_junit(
        write_paradigm,
        tmp_path,
        """
        name: checks
        pattern: independent
        require: any
        defaults: {provider: mock}
        imperatives:
          short: {max_length: 3}
          kind: {not_contains: "rude", severity: warning}
        agents:
          good: {output: "ok", imperatives: [short, kind]}
          long: {output: "far too long", imperatives: [short]}
          broken: {error: "provider down"}
          slow: {hang: true, timeout: 50ms}
          saved: {error: "nope", fallback: [spare]}
          spare: {output: "spare"}
        """,
    )
    assert root.get("name") == "checks"
    assert [s.get("name") for s in root] == ["checks"]
    assert {k: root.get(k) for k in COUNTS} == {
        "tests": "5",
        "failures": "1",
        "errors": "2",
        "skipped": "0",
    }
    found = cases(root)
    assert outcome(found["good"]) is None
    assert found["good"].findtext("system-out") == "ok"
    assert outcome(found["long"]) == ("failure", "short: 12 characters, at most 3 allowed")
    failure = found["long"].find("failure")
    assert failure is not None and failure.get("type") == "violated"
    assert "attempt 1 violated" in (failure.text or "")
    assert outcome(found["broken"]) == ("error", "provider down")
    assert found["broken"].find("error").get("type") == "failed"  # type: ignore[union-attr]
    assert outcome(found["slow"]) == ("error", "timeout of 50ms exceeded")
    assert outcome(found["saved"]) is None  # its fallback passed: the pattern went on
    assert "replaced by spare" in (found["saved"].findtext("system-err") or "")
    properties = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert properties == {"pattern": "independent", "status": "passed"}


def test_pipeline_has_a_suite_per_stage(
    write_paradigm: Callable[..., Path], tmp_path: Path
) -> None:
    root = run_junit(
        write_paradigm,
        tmp_path,
        """
        name: flow
        pattern: pipeline
        defaults: {provider: mock}
        agents:
          a: {output: "x"}
          b: {error: "crash"}
          c: {output: "never"}
        stages:
          - {name: first, agents: [a, b], require: any}
          - {name: second, agents: [b]}
          - {name: third, agents: [c]}
        """,
    )
    assert [s.get("name") for s in root] == ["flow.first", "flow.second", "flow.third"]
    assert [c.get("classname") for c in root.iter("testcase")] == [
        "flow.first",
        "flow.first",
        "flow.second",
        "flow.third",
    ]
    found = cases(root)
    assert outcome(found["c"]) == ("skipped", "skipped: an earlier stage failed")
    assert outcome(found["b@second"]) == ("error", "crash")


def test_competitive_losers_are_skipped(
    write_paradigm: Callable[..., Path], tmp_path: Path
) -> None:
    root = run_junit(
        write_paradigm,
        tmp_path,
        """
        pattern: competitive
        agents:
          fast: {provider: mock, latency: 50ms, output: "1"}
          slow: {provider: mock, hang: true}
        """,
    )
    assert outcome(cases(root)["slow"]) == ("skipped", "cancelled")
    assert {p.get("name"): p.get("value") for p in root.iter("property")}["winner"] == "fast"


def _agent(name: str, status: AgentStatus, **fields: object) -> AgentResult:
    return AgentResult(name, name, None, status, 1.5, **fields)  # type: ignore[arg-type]


def test_secrets_control_characters_and_long_outputs() -> None:
    secret = "sk-live-abcdefghijklmnop"
    attempt = AttemptRecord(
        1,
        AgentStatus.VIOLATED,
        0.25,
        output="x" * (MAX_OUTPUT + 10),
        error="broke",
        checks=(CheckResult("clean", False, f"leaked {secret} \x1b[31m"),),
    )
    agent = _agent(
        "leaky",
        AgentStatus.VIOLATED,
        attempts=(attempt,),
        output=f"{secret}\x00" + "x" * (MAX_OUTPUT + 10),
        error=f"broke clean {secret}",
    )
    odd = _agent("quote\"<&>'", AgentStatus.TIMEOUT, error="timeout of 1s exceeded")
    result = RunResult("p", "independent", RunStatus.FAILED, 2.0, (agent, odd), reason="no")
    text = render_junit(result, Redactor([secret]))
    assert secret not in text
    root = check_structure(text)
    found = cases(root)
    assert outcome(found["leaky"]) == ("failure", "clean: leaked *** \ufffd[31m")
    out = found["leaky"].findtext("system-out") or ""
    assert out.startswith("***\ufffd") and out.endswith("more characters in the report)")
    assert len(out) < MAX_OUTPUT + 100
    assert outcome(found["quote\"<&>'"]) == ("error", "timeout of 1s exceeded")
    assert root.get("time") == "2.000"


def test_interrupted_run_still_valid() -> None:
    running = _agent("busy", AgentStatus.CANCELLED, error="cancelled")
    never = _agent("later", AgentStatus.SKIPPED, error="never started")
    unfinished = _agent("odd", AgentStatus.RUNNING)
    result = RunResult(
        "p",
        "pipeline",
        RunStatus.INTERRUPTED,
        0.5,
        (running, never, unfinished),
        reason="interrupted",
    )
    root = check_structure(render_junit(result, Redactor()))
    assert [s.get("name") for s in root] == ["p"]
    found = cases(root)
    assert outcome(found["busy"]) == ("skipped", "cancelled")
    assert outcome(found["later"]) == ("skipped", "skipped: never started")
    assert found["odd"].find("error").get("type") == "unfinished"  # type: ignore[union-attr]


def test_rescue_agents_get_their_own_suite() -> None:
    broken = _agent("a", AgentStatus.FAILED, error="boom")
    rescue = AgentResult("s", "rescue:s", None, AgentStatus.PASSED, 0.2, role="rescue", output="ok")
    result = RunResult("p", "independent", RunStatus.PASSED, 1.0, (broken, rescue), rescued_by="s")
    root = check_structure(render_junit(result, Redactor()))
    assert [s.get("name") for s in root] == ["p", "p.rescue"]


@pytest.mark.parametrize("bad", ["", "sub/dir"])
def test_junit_path_errors_are_usage_errors(
    write_paradigm: Callable[..., Path], tmp_path: Path, bad: str
) -> None:
    path = write_paradigm("pattern: independent\nagents: {a: {provider: mock}}\n")
    blocker = tmp_path / "file"
    blocker.write_text("")
    target = str(blocker / bad / "junit.xml")
    with pytest.raises(UsageError, match="cannot write"):
        api.run(path, api.RunOptions(display="quiet", junit=target), stdout=io.StringIO(), env={})
