"""One finished case (and repeat) as the JSON record the results file holds.

Aggregates, resumes and comparisons read these records, never the in-memory results,
so a results file on disk and a run in progress are summed the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentrun.redact import Redactor
from agentrun.results import AgentResult, AgentStatus, RunResult, RunStatus, Usage

PASSED, FAILED, ERRORED, INTERRUPTED = "passed", "failed", "errored", "interrupted"
"""A case's status: passed; failed with a broken imperative involved; errored through
errors and timeouts alone; interrupted before it finished."""

MAX_OUTPUT = 2000
"""Characters of an agent's output kept in a record."""


def case_status(result: RunResult) -> str:
    """passed, failed (a violation involved), errored (errors or timeouts only) or interrupted."""
    if result.status is RunStatus.PASSED:
        return PASSED
    if result.status is RunStatus.INTERRUPTED:
        return INTERRUPTED
    return FAILED if result.violated else ERRORED


def case_record(
    case_id: str,
    repeat: int,
    vars: Mapping[str, Any],
    result: RunResult,
    redact: Redactor,
    cache: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The results-file line of one finished case, secrets masked."""
    record: dict[str, Any] = {
        "id": case_id,
        "repeat": repeat,
        "status": case_status(result),
        "duration_s": round(result.duration_s, 6),
        "reason": redact(result.reason) if result.reason else None,
        "agents": [_agent(agent, redact) for agent in result.agents],
        "usage": usage_dict(result.usage),
        "vars": dict(vars),
    }
    if cache:
        record["cache"] = dict(cache)
    return record


def usage_dict(usage: Usage | None) -> dict[str, Any] | None:
    """Tokens and cost as JSON."""
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cost_usd": usage.cost_usd,
    }


def _agent(agent: AgentResult, redact: Redactor) -> dict[str, Any]:
    output = agent.output
    if output is not None:
        output = redact(output[:MAX_OUTPUT])
    violations = [
        f"{check.name}: {redact(check.message)}" for check in agent.checks if check.is_violation
    ]
    return {
        "name": agent.name,
        "instance": str(agent.instance),
        "role": agent.role.value,
        "status": agent.status.value,
        "succeeded": agent.succeeded,
        "attempts": len(agent.attempts),
        "duration_s": round(agent.duration_s, 6),
        "output": output,
        "error": redact(agent.error) if agent.error else None,
        "violations": violations,
        "checks": {check.name: check.passed for check in agent.checks},
        "usage": usage_dict(agent.usage),
        "errored": agent.status in (AgentStatus.FAILED, AgentStatus.TIMEOUT)
        and not agent.violations,
    }
