"""Compile a validated paradigm into an immutable task graph; no I/O here.

The graph resolves every default once (provider, timeouts, retries, backoff,
imperatives, type-specific fields) so the engine never looks at the spec again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agentrun.engine.retry import worst_case_waits
from agentrun.loading.loader import LoadedParadigm
from agentrun.loading.semantics import judge_names, provider_name_of, provider_type_of, run_agents
from agentrun.loading.spec import (
    PROVIDER_FIELDS,
    AgentSpec,
    Backoff,
    ImperativeSpec,
    Paradigm,
    ProviderEntry,
    Require,
)

DEFAULT_TIMEOUT = 60.0
"""Time limit of one attempt when neither the agent nor ``defaults`` sets one."""

_SLOW_CHECKS = frozenset({"python", "judge"})


@dataclass(frozen=True, slots=True)
class AgentNode:
    """One agent with every default resolved."""

    name: str
    provider: str
    """The provider entry's name, or the built-in type named directly."""
    provider_type: str
    prompt: str
    system: str | None
    timeout: float
    total_timeout: float
    retries: int
    backoff: Backoff
    imperatives: tuple[str, ...]
    fallback: tuple[str, ...]
    fields: Mapping[str, Any]
    """Type-specific fields: the provider entry's, overridden by the agent's."""
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    max_output: int | None = None
    """Bytes of output kept per attempt (``None``: the default)."""


@dataclass(frozen=True, slots=True)
class StageNode:
    """One pipeline stage."""

    name: str
    agents: tuple[str, ...]
    input: str | None
    require: Require
    timeout: float | None
    for_each: bool


@dataclass(frozen=True, slots=True)
class TaskGraph:
    """What the engine runs: agents, the pattern's shape and its rails."""

    paradigm: str
    pattern: str
    agents: Mapping[str, AgentNode]
    run: tuple[str, ...]
    """Agents that race or run side by side (independent, competitive)."""
    stages: tuple[StageNode, ...]
    require: Require
    deadline: float | None
    fallback: tuple[str, ...]
    imperatives: Mapping[str, ImperativeSpec]
    providers: Mapping[str, ProviderEntry]
    input: str
    vars: Mapping[str, Any]
    base_dir: Path
    secrets: frozenset[str] = field(default_factory=frozenset)

    def judges_of(self, agent: str) -> tuple[str, ...]:
        """Judge agents the agent's imperatives call."""
        return tuple(
            spec.judge.agent
            for name in self.agents[agent].imperatives
            if (spec := self.imperatives[name]).judge is not None
        )

    def worst_case(self, agent: str) -> float:
        """Longest an agent can take: attempts, checks, backoff waits and its fallbacks."""
        node = self.agents[agent]
        checks = sum(
            self.imperatives[name].timeout
            for name in node.imperatives
            if self.imperatives[name].check in _SLOW_CHECKS
        )
        attempts = (node.retries + 1) * (node.timeout + checks)
        own = min(node.total_timeout, attempts + worst_case_waits(node.retries, node.backoff))
        return own + sum(self.worst_case(name) for name in node.fallback)

    def worst_case_total(self) -> float:
        """Longest the whole pattern can take, pattern-level fallbacks included."""
        if self.pattern == "pipeline":
            total = 0.0
            for stage in self.stages:
                longest = max(self.worst_case(name) for name in stage.agents)
                total += min(longest, stage.timeout if stage.timeout is not None else math.inf)
        else:
            total = max(self.worst_case(name) for name in self.run)
        if self.deadline is not None:
            total = min(total, self.deadline)
        return total + sum(self.worst_case(name) for name in self.fallback)


def compile_graph(
    loaded: LoadedParadigm,
    *,
    input_text: str | None = None,
    variables: Mapping[str, str] | None = None,
    deadline: float | None = None,
    mock: bool = False,
) -> TaskGraph:
    """Resolve defaults and build the graph of a validated paradigm.

    Args:
        loaded: a paradigm that passed validation.
        input_text: replaces the paradigm's ``input`` (``--input``).
        variables: override or add template variables (``--var``).
        deadline: replaces the paradigm's ``deadline`` (``--deadline``).
        mock: swap every network provider (openai, anthropic, http) for ``mock``.
    """
    spec = loaded.spec
    judges = judge_names(spec)
    agents = {
        name: _agent_node(name, agent, spec, mock, name in judges)
        for name, agent in spec.agents.items()
    }
    stages = tuple(
        StageNode(
            name=stage.name or f"stage{index}",
            agents=tuple(stage.agents),
            input=stage.input,
            require=stage.require,
            timeout=stage.timeout,
            for_each=stage.for_each,
        )
        for index, stage in enumerate(spec.stages or (), start=1)
    )
    winner_checks = tuple(spec.winner.imperatives) if spec.winner else ()
    racers = tuple(run_agents(spec)) if spec.pattern != "pipeline" else ()
    if winner_checks:
        # A competitive winner must also pass `winner.imperatives`: giving them to every
        # racer makes a racer that breaks them retry and fall back like any violation.
        for name in racers:
            node = agents[name]
            extra = tuple(c for c in winner_checks if c not in node.imperatives)
            agents[name] = replace(node, imperatives=node.imperatives + extra)
    return TaskGraph(
        paradigm=loaded.name,
        pattern=spec.pattern,
        agents=agents,
        run=racers,
        stages=stages,
        require=spec.require,
        deadline=deadline if deadline is not None else spec.deadline,
        fallback=tuple(spec.fallback or ()),
        imperatives=dict(spec.imperatives),
        providers=dict(spec.providers),
        input=spec.input if input_text is None else input_text,
        vars={**spec.vars, **(variables or {})},
        base_dir=loaded.path.resolve().parent,
        secrets=loaded.secrets,
    )


def _agent_node(
    name: str, agent: AgentSpec, spec: Paradigm, mock: bool, is_judge: bool
) -> AgentNode:
    defaults = spec.defaults
    provider = provider_name_of(agent, spec)
    provider_type = provider_type_of(agent, spec)
    if provider is None or provider_type is None:  # validation guarantees both
        raise ValueError(f"agent {name!r} has no resolvable provider")
    entry = spec.providers.get(provider)
    fields: dict[str, Any] = {}
    for key in PROVIDER_FIELDS[provider_type]:
        value = getattr(agent, key)
        if value is None and entry is not None:
            value = getattr(entry, key)
        if value is not None:
            fields[key] = value
    if mock and provider_type in ("openai", "anthropic", "http"):
        provider_type = "mock"
        provider = f"{provider} (mock)"
        stand_in = agent.mock.model_dump(exclude_none=True) if agent.mock else {}
        fields = stand_in
    # A judge's verdict ("PASS: ...") is not an answer to the task: the defaults'
    # imperatives are for answers, so judges only carry the checks they name.
    imperatives = [] if is_judge else list(defaults.imperatives or ())
    imperatives += [i for i in agent.imperatives or () if i not in imperatives]

    def pick(key: str) -> Any:
        value = getattr(agent, key)
        return getattr(defaults, key) if value is None else value

    timeout = pick("timeout")
    total = pick("total_timeout")
    retries = pick("retries")
    backoff = pick("backoff")
    return AgentNode(
        name=name,
        provider=provider,
        provider_type=provider_type,
        prompt=agent.prompt if agent.prompt is not None else "{{ input }}",
        system=pick("system"),
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        total_timeout=math.inf if total is None else total,
        retries=0 if retries is None else retries,
        backoff=backoff or Backoff(),
        imperatives=tuple(imperatives),
        fallback=tuple(agent.fallback or ()),
        fields=fields,
        model=pick("model"),
        temperature=pick("temperature"),
        max_tokens=pick("max_tokens"),
        max_output=pick("max_output"),
    )
