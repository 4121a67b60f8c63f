"""Builders shared by the provider tests: options, requests and a one-call runner."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentrun.providers.base import AgentClient, ClientOptions, Reply, Request
from agentrun.providers.capture import DEFAULT_MAX_OUTPUT
from agentrun.templates import TemplateEngine


def make_options(
    fields: Mapping[str, Any],
    *,
    agent: str = "tester",
    base_dir: Path | None = None,
    max_output: int = DEFAULT_MAX_OUTPUT,
) -> ClientOptions:
    """Options of one agent with the given type-specific fields."""
    return ClientOptions(
        agent=agent,
        provider="test",
        fields=dict(fields),
        templates=TemplateEngine(),
        base_dir=base_dir if base_dir is not None else Path.cwd(),
        max_output=max_output,
    )


def make_request(
    prompt: str = "hello",
    *,
    attempt: int = 1,
    agent: str = "tester",
    context: Mapping[str, Any] | None = None,
) -> Request:
    """A request whose context holds the usual names (overridable by ``context``)."""
    full: dict[str, Any] = {
        "input": prompt,
        "vars": {},
        "previous": [],
        "agent": agent,
        "attempt": attempt,
        "violations": [],
    }
    full.update(context or {})
    return Request(
        agent=agent, instance=agent, attempt=attempt, prompt=prompt, system=None, context=full
    )


def run_once(client: AgentClient, request: Request) -> Reply:
    """Run one attempt on a fresh event loop."""
    return asyncio.run(client.complete(request))
