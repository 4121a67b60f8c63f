"""The compiled form of ``state:``, ``writes:`` and ``wait_for:``: frozen values, no pydantic.

Each ``wait_for`` expression is parsed once; the keys it reads (``state.KEY``,
``state['KEY']``) and the agents it names (``agents.NAME``) come from its syntax
tree, so the board wakes a waiter only when something it reads changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

if TYPE_CHECKING:
    from agentrun.loading.spec import AgentSpec, Paradigm


@dataclass(frozen=True, slots=True)
class KeyRule:
    """One key of the board."""

    name: str
    reducer: str
    initial: Any
    parses_json: bool
    schema: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class WriteRule:
    """One write of an agent: the key, and the template of its value (``None``: the output)."""

    key: str
    template: str | None


@dataclass(frozen=True, slots=True)
class Reads:
    """What an expression or template reads: state keys (``None``: any) and agents."""

    keys: frozenset[str] | None
    agents: frozenset[str]


@dataclass(frozen=True, slots=True)
class WaitRule:
    """An agent's ``wait_for``: its text, what it reads, and its ``wait_timeout``."""

    source: str
    reads: Reads
    timeout: float | None


@dataclass(frozen=True, slots=True)
class BoardRules:
    """Everything the board of a run needs, compiled once per graph."""

    keys: Mapping[str, KeyRule]
    writes: Mapping[str, tuple[WriteRule, ...]]
    waits: Mapping[str, WaitRule]


_ENV = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)


def expression_env() -> ImmutableSandboxedEnvironment:
    """The sandbox every ``wait_for`` and ``{state: ...}`` expression runs in."""
    return _ENV


def reads_of(tree: nodes.Node) -> Reads:
    """The state keys and agents a parsed template or expression reads."""
    keys: set[str] = set()
    agents: set[str] = set()
    dynamic = False
    parents: dict[int, nodes.Node] = {}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        parents[id(node.node)] = node
    for name in tree.find_all(nodes.Name):
        if name.name not in ("state", "agents"):
            continue
        parent = parents.get(id(name))
        member = _member(parent)
        if member is None:
            dynamic = dynamic or name.name == "state"
        elif name.name == "state":
            keys.add(member)
        else:
            agents.add(member)
    return Reads(None if dynamic else frozenset(keys), frozenset(agents))


def _member(node: nodes.Node | None) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return str(node.arg.value)
    return None


def parse_expression(source: str) -> nodes.Node:
    """The syntax tree of an expression (``state.findings | length >= 2``).

    Raises:
        jinja2.TemplateSyntaxError: it is not an expression.
    """
    return _ENV.parse("{{ (" + source + ") }}")


def write_rules(writes: Any) -> tuple[WriteRule, ...]:
    """The writes of an agent's ``writes:`` value."""
    if writes is None:
        return ()
    if isinstance(writes, str):
        return (WriteRule(writes, None),)
    if isinstance(writes, list):
        return tuple(WriteRule(key, None) for key in writes)
    return tuple(WriteRule(key, template) for key, template in writes.items())


def compile_rules(spec: Paradigm) -> BoardRules | None:
    """The board of a paradigm with ``state:`` or a ``wait_for`` (``None`` otherwise)."""
    if spec.state is None and not any(a.wait_for for a in spec.agents.values()):
        return None
    keys = {
        name: KeyRule(name, key.reducer, key.start_value(), key.parses_json, key.json_schema)
        for name, key in (spec.state or {}).items()
    }
    writes = {name: write_rules(a.writes) for name, a in spec.agents.items() if a.writes}
    waits = {name: _wait_rule(a) for name, a in spec.agents.items() if a.wait_for is not None}
    return BoardRules(keys, writes, waits)


def _wait_rule(agent: AgentSpec) -> WaitRule:
    source = agent.wait_for or ""
    return WaitRule(source, reads_of(parse_expression(source)), agent.wait_timeout)
