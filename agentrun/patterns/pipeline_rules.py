"""The pipeline's load-time rules, its template scope and its report suites."""

from __future__ import annotations

from agentrun.coordination.spec import SelectAgent
from agentrun.identity import Role
from agentrun.loading.positions import Loc
from agentrun.loading.semantics import Findings, hint, reachable, stage_names
from agentrun.loading.spec import Paradigm, Stage
from agentrun.patterns.base import ReportSuite
from agentrun.patterns.common import check_no_winner
from agentrun.results import AgentResult, RunResult


def check_pipeline(paradigm: Paradigm, findings: Findings) -> None:
    """Stages exist and are well formed; no ``run``, top-level ``require`` or ``winner``."""
    p = paradigm
    if p.stages is None:
        findings.error(("pattern",), "a pipeline needs stages: (a list of {name, agents})")
    elif not p.stages:
        findings.error(("stages",), "stages: a pipeline needs at least one stage", at_key=True)
    if p.run is not None:
        message = "run: a pipeline runs the agents of its stages; remove run"
        findings.error(("run",), message, at_key=True)
    if "require" in p.model_fields_set:
        message = "require: a pipeline has no top-level require; set require on a stage"
        findings.error(("require",), message, at_key=True)
    if p.select is not None:
        message = "select: a pipeline selects per stage; set select on a stage"
        findings.error(("select",), message, at_key=True)
    _check_stages(p, findings)
    check_no_winner("pipeline", p, findings)


def _check_stages(paradigm: Paradigm, findings: Findings) -> None:
    stages = paradigm.stages or []
    first_use: dict[str, int] = {}
    for index, (stage, name) in enumerate(zip(stages, stage_names(paradigm), strict=True)):
        loc: Loc = ("stages", index)
        if name in first_use:
            first = first_use[name]
            how = "" if stages[first].name else " by default"
            where = (*loc, "name") if stage.name else loc
            findings.error(where, f"duplicate stage name {name!r} (stage {first + 1} has it{how})")
        first_use.setdefault(name, index)
        if stage.for_each and index == 0:
            message = "for_each: the first stage has no previous stage to take items from"
            findings.error((*loc, "for_each"), message, at_key=True)
        findings.duplicates((*loc, "agents"), stage.agents, "in this stage")
        _check_selector(paradigm, stage, (*loc, "select", "agent"), findings)
        if not stage.for_each:  # for_each multiplies the runs: any count may be right
            count = len(set(stage.agents))
            findings.require_fits((*loc, "require"), stage.require, count, "of this stage")


def _check_selector(paradigm: Paradigm, stage: Stage, loc: Loc, findings: Findings) -> None:
    """A stage's aggregator exists and is not one of the stage's own agents."""
    if not isinstance(stage.select, SelectAgent):
        return
    agent = stage.select.agent
    if agent not in paradigm.agents:
        findings.error(loc, f"select: no agent named {agent!r}" + hint(agent, paradigm.agents))
    elif agent in stage.agents:
        findings.error(loc, f"select: the selector {agent!r} is also an agent of this stage")


def item_agents(paradigm: Paradigm) -> frozenset[str]:
    """Agents whose templates may read ``item``: those run only within ``for_each`` stages.

    A fallback stands in for its agent, so it shares the agent's context; an agent
    reached from anywhere else would render ``item`` as an undefined name.
    """
    inside: list[str] = []
    outside = list(paradigm.fallback or ())
    outside += [imp.judge.agent for imp in paradigm.imperatives.values() if imp.judge]
    for stage in paradigm.stages or ():
        (inside if stage.for_each else outside).extend(stage.agents)
    return frozenset(reachable(paradigm, inside) - reachable(paradigm, outside))


def suite_per_stage(result: RunResult) -> list[ReportSuite]:
    """A suite per stage, one for the pattern-level fallbacks, one for agents never started."""
    groups: dict[str | None, list[AgentResult]] = {stage.name: [] for stage in result.stages}
    for agent in result.agents:
        # No stage: a pattern-level fallback, or an agent an interruption kept from starting.
        key = "rescue" if agent.role == Role.RESCUE else agent.stage
        groups.setdefault(key, []).append(agent)
    durations = {stage.name: stage.duration_s for stage in result.stages}
    suites = []
    for name, agents in groups.items():
        if name is None:
            suites.append(ReportSuite(result.paradigm, agents, 0.0))
        elif name == "rescue":
            seconds = sum(a.duration_s for a in agents)
            suites.append(ReportSuite(f"{result.paradigm}.rescue", agents, seconds))
        else:
            seconds = durations.get(name, max((a.duration_s for a in agents), default=0.0))
            suites.append(ReportSuite(f"{result.paradigm}.{name}", agents, seconds))
    return suites
