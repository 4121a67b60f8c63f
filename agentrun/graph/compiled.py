"""Compile a validated paradigm into an immutable task graph; no I/O here.

The graph resolves every default once (provider, timeouts, retries, backoff,
imperatives, type-specific fields) so the engine never looks at the spec again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentrun.coordination.rules import BoardRules, compile_rules
from agentrun.coordination.vote import Selection, compile_selection
from agentrun.engine.retry import BackoffPolicy, worst_case_waits
from agentrun.graph.runtime import Imperative, ProviderNode
from agentrun.loading.loader import LoadedParadigm
from agentrun.loading.semantics import judge_names, provider_name_of, provider_type_of
from agentrun.loading.spec import AgentSpec, Paradigm, Require
from agentrun.registry import Registry, default_registry

if TYPE_CHECKING:
    from agentrun.patterns.base import Pattern

DEFAULT_TIMEOUT = 60.0
"""Time limit of one attempt when neither the agent nor ``defaults`` sets one."""


@dataclass(frozen=True, slots=True)
class AgentNode:
    """One agent with every default resolved."""

    name: str
    provider: str
    """The provider entry's name, or the provider type named directly."""
    provider_type: str
    prompt: str
    system: str | None
    timeout: float
    total_timeout: float
    retries: int
    backoff: BackoffPolicy
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
    selection: Selection | None = None
    """The stage's ``select`` (with the paradigm's ``answer``), if it has one."""


@dataclass(frozen=True, slots=True)
class TaskGraph:
    """What the engine runs: agents, the pattern's shape and its rails."""

    paradigm: str
    pattern: str
    """The pattern's registered name."""
    strategy: Pattern
    """The pattern object: it plans, budgets, lays out and runs the graph."""
    agents: Mapping[str, AgentNode]
    run: tuple[str, ...]
    """Agents the pattern starts together (side by side, racing)."""
    stages: tuple[StageNode, ...]
    require: Require
    deadline: float | None
    fallback: tuple[str, ...]
    imperatives: Mapping[str, Imperative]
    providers: Mapping[str, ProviderNode]
    input: str
    vars: Mapping[str, Any]
    base_dir: Path
    secrets: frozenset[str] = field(default_factory=frozenset)
    registry: Registry = field(default_factory=default_registry)
    """The provider, check and pattern types the engine opens and compiles."""
    settings: Any = None
    """The pattern's own compiled settings, if it has any."""
    case: Mapping[str, Any] = field(default_factory=lambda: {"id": None})
    """The dataset case of this run (``case.id`` in templates); ``id`` is ``None`` otherwise."""
    selection: Selection | None = None
    """How answers are read and a result picked (``answer:`` / ``select:``)."""
    board: BoardRules | None = None
    """The shared board's keys, writes and waits (``None``: no ``state`` and no waits)."""

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
            if self.registry.checks[self.imperatives[name].check].slow
        )
        attempts = (node.retries + 1) * (node.timeout + checks)
        own = min(node.total_timeout, attempts + worst_case_waits(node.retries, node.backoff))
        return own + sum(self.worst_case(name) for name in node.fallback)

    def worst_case_total(self) -> float:
        """Longest the whole pattern can take, pattern-level fallbacks included."""
        total = self.strategy.worst_case(self)
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
        mock: swap every network provider (openai, anthropic, http, ...) for ``mock``.
    """
    spec = loaded.spec
    judges = judge_names(spec)
    agents = {
        name: _agent_node(name, agent, spec, loaded.registry, mock=mock, is_judge=name in judges)
        for name, agent in spec.agents.items()
    }
    shape = loaded.pattern.compile(spec, agents)
    return TaskGraph(
        paradigm=loaded.name,
        pattern=spec.pattern,
        strategy=loaded.pattern,
        agents=shape.agents,
        run=shape.run,
        stages=shape.stages,
        require=spec.require,
        deadline=deadline if deadline is not None else spec.deadline,
        fallback=tuple(spec.fallback or ()),
        imperatives={name: Imperative.from_spec(name, i) for name, i in spec.imperatives.items()},
        providers={name: ProviderNode.from_entry(name, e) for name, e in spec.providers.items()},
        input=spec.input if input_text is None else input_text,
        vars={**spec.vars, **(variables or {})},
        base_dir=loaded.path.resolve().parent,
        secrets=loaded.secrets,
        registry=loaded.registry,
        settings=shape.settings,
        board=compile_rules(spec),
        selection=compile_selection(spec),
    )


def _agent_node(
    name: str, agent: AgentSpec, spec: Paradigm, registry: Registry, *, mock: bool, is_judge: bool
) -> AgentNode:
    defaults = spec.defaults
    provider = provider_name_of(agent, spec, registry)
    provider_type = provider_type_of(agent, spec, registry)
    if provider is None or provider_type is None:  # validation guarantees both
        raise ValueError(f"agent {name!r} has no resolvable provider")
    entry = spec.providers.get(provider)
    fields: dict[str, Any] = {}
    for key in registry.providers[provider_type].field_names:
        value = agent.provider_field(key)
        if value is None and entry is not None:
            value = entry.provider_field(key)
        if value is not None:
            fields[key] = value
    if mock and provider_type in registry.network_types:
        provider_type = "mock"
        provider = f"{provider} (mock)"
        stand_in = agent.mock.open_values if agent.mock else {}
        batch = fields.get("batch")  # --mock keeps batching: the mock honours `batch`
        fields = {key: value for key, value in stand_in.items() if value is not None}
        if batch is not None:
            fields.setdefault("batch", batch)
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
    policy = (
        BackoffPolicy(backoff.initial, backoff.max, backoff.multiplier, backoff.jitter)
        if backoff
        else BackoffPolicy()
    )
    return AgentNode(
        name=name,
        provider=provider,
        provider_type=provider_type,
        prompt=agent.prompt if agent.prompt is not None else "{{ input }}",
        system=pick("system"),
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        total_timeout=math.inf if total is None else total,
        retries=0 if retries is None else retries,
        backoff=policy,
        imperatives=tuple(imperatives),
        fallback=tuple(agent.fallback or ()),
        fields=fields,
        model=pick("model"),
        temperature=pick("temperature"),
        max_tokens=pick("max_tokens"),
        max_output=pick("max_output"),
    )
