"""What the built-in patterns share: `require`, the template context, rules, report suites."""

from __future__ import annotations

from typing import Any

from agentrun.graph.compiled import TaskGraph
from agentrun.identity import Role
from agentrun.loading.positions import Loc
from agentrun.loading.semantics import Findings, default_run_agents
from agentrun.loading.spec import Paradigm, Require
from agentrun.patterns.base import ReportSuite
from agentrun.results import RunResult


def require_met(require: Require, passed: int, total: int) -> bool:
    """Whether ``passed`` of ``total`` agents satisfy ``require``."""
    if require == "all":
        return passed == total
    if require == "any":
        return passed >= 1
    if require == "majority":
        return passed * 2 > total
    return passed >= require


def describe_require(require: Require, passed: int, total: int) -> str:
    """A reason such as ``2 of 3 agents passed; require: all``."""
    return f"{passed} of {total} {'agent' if total == 1 else 'agents'} passed; require: {require}"


def base_context(graph: TaskGraph) -> dict[str, Any]:
    """The template context every agent starts from."""
    return {
        "input": graph.input,
        "vars": dict(graph.vars),
        "case": dict(graph.case),
        "previous": [],
        "stages": {},
        "agents": {},
    }


def check_no_stages(name: str, paradigm: Paradigm, findings: Findings) -> None:
    """Rule of every pattern but the pipeline: no ``stages:``."""
    if paradigm.stages is not None:
        message = f"stages: only a pipeline has stages; pattern is {name!r}"
        findings.error(("stages",), message, at_key=True)


def check_no_winner(name: str, paradigm: Paradigm, findings: Findings) -> None:
    """Rule of every pattern but competitive: no ``winner:``."""
    if paradigm.winner is not None:
        message = f"winner: only a competitive pattern has a winner; pattern is {name!r}"
        findings.error(("winner",), message, at_key=True)


def check_run_list(paradigm: Paradigm, findings: Findings) -> None:
    """Rules of a pattern that starts the agents of ``run:`` (or every main agent)."""
    findings.duplicates(("run",), paradigm.run or [], "in run")
    running = default_run_agents(paradigm)
    if not running:
        loc: Loc = ("run",) if paradigm.run is not None else ("agents",)
        findings.error(loc, "no agent runs: list the agents to run under run:", at_key=True)
    else:
        findings.require_fits(("require",), paradigm.require, len(running), "that run")


def one_suite(result: RunResult) -> list[ReportSuite]:
    """One suite for the pattern's agents, and one for the pattern-level fallbacks tried."""
    main = [a for a in result.agents if a.role != Role.RESCUE]
    rescue = [a for a in result.agents if a.role == Role.RESCUE]
    suites = [ReportSuite(result.paradigm, main, result.duration_s)]
    if rescue:
        # Pattern-level fallbacks run one after the other.
        seconds = sum(a.duration_s for a in rescue)
        suites.append(ReportSuite(f"{result.paradigm}.rescue", rescue, seconds))
    return suites
