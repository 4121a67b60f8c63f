"""The JSON report is strict JSON: a number that is not finite is refused, never written."""

from __future__ import annotations

import math

import pytest

from agentrun.outputs.json_report import render_report
from agentrun.redact import Redactor
from agentrun.results import AgentResult, AgentStatus, RunResult, RunStatus, Usage


def test_a_non_finite_number_is_refused_not_written_as_infinity() -> None:
    agent = AgentResult("a", "a", None, AgentStatus.PASSED, usage=Usage(1, 1, math.inf))
    result = RunResult("p.yaml", "independent", RunStatus.PASSED, 0.1, (agent,))
    with pytest.raises(ValueError, match="not JSON compliant"):
        render_report(result, Redactor())
