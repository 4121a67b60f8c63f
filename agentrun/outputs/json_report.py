"""The ``--report`` JSON: the contract's fields, every string passed through the Redactor."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from agentrun.redact import Redactor
from agentrun.results import AgentResult, AttemptRecord, CheckResult, RunResult, Sent, Usage

REPORT_VERSION = 1
FIELD_LIMIT = 65_536
"""Characters kept of each diagnostic field (what was sent, raw outputs, logs); the
rest is cut and the full length noted."""


def clip(text: str | None, limit: int = FIELD_LIMIT) -> str | None:
    """``text`` cut to ``limit`` characters, ending with how long it was."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"… [truncated: {len(text)} characters in all]"


def sent_dict(sent: Sent | None) -> dict[str, Any] | None:
    """What an attempt sent: ``prompt`` and ``system``, or ``command`` and ``stdin``."""
    if sent is None:
        return None
    if sent.command is not None:
        return {"command": [clip(arg) for arg in sent.command], "stdin": clip(sent.stdin)}
    return {"prompt": clip(sent.prompt), "system": clip(sent.system)}


def usage_dict(usage: Usage | None) -> dict[str, Any] | None:
    """Tokens (and cost, when priced) as JSON."""
    if usage is None:
        return None
    data: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cost_usd is not None:
        data["cost_usd"] = round(usage.cost_usd, 8)
    return data


def check_dict(check: CheckResult) -> dict[str, Any]:
    """One imperative verdict."""
    data: dict[str, Any] = {"name": check.name, "passed": check.passed, "message": check.message}
    if check.severity != "error":
        data["severity"] = check.severity
    if check.error:
        data["error"] = True  # the check broke: no verdict on the output
    if check.traceback:
        data["traceback"] = list(check.traceback)
    return data


def attempt_dict(attempt: AttemptRecord) -> dict[str, Any]:
    """One attempt; ``output_truncated`` (the full length in bytes) only when it was cut."""
    data: dict[str, Any] = {
        "number": attempt.number,
        "status": attempt.status.value,
        "duration_s": round(attempt.duration_s, 6),
        "output": clip(attempt.output),
        "error": attempt.error,
        "imperatives": [check_dict(c) for c in attempt.checks],
        "usage": usage_dict(attempt.usage),
        "sent": sent_dict(attempt.sent),
        "log": clip(attempt.log),
        "traceback": list(attempt.traceback),
    }
    if attempt.output_truncated is not None:
        data["output_truncated"] = attempt.output_truncated
    return data


def agent_dict(agent: AgentResult) -> dict[str, Any]:
    """One agent, with its attempts and the fallbacks it tried."""
    data: dict[str, Any] = {
        "name": agent.name,
        "instance": agent.instance,
        "stage": agent.stage,
        "role": agent.role,
        "status": agent.status.value,
        "attempts": len(agent.attempts),
        "duration_s": round(agent.duration_s, 6),
        "output": agent.output,
        "raw_output": clip(agent.raw_output),
        "error": agent.error,
        "imperatives": [check_dict(c) for c in agent.checks],
        "replaced_by": agent.replaced_by,
        "usage": usage_dict(agent.usage),
        "attempt_log": [attempt_dict(a) for a in agent.attempts],
        "fallbacks": [agent_dict(f) for f in agent.fallbacks],
    }
    last = agent.attempts[-1] if agent.attempts else None
    if last is not None and last.output_truncated is not None and agent.output == last.output:
        data["output_truncated"] = last.output_truncated  # the full length, in bytes
    return data


def output_sources(result: RunResult) -> list[str | None]:
    """The instance each of the run's ``outputs`` came from (``null`` where unknown)."""
    known = list(result.output_sources)[: len(result.outputs)]
    return [*known, *[None] * (len(result.outputs) - len(known))]


def report_dict(result: RunResult) -> dict[str, Any]:
    """The whole report as JSON-ready data."""
    counts = Counter(a.status.value for a in result.agents)
    extras = dict(result.coordination or {})
    per_agent: dict[str, dict[str, Any]] = extras.pop("agents", {})
    data = {
        "report_version": REPORT_VERSION,
        "paradigm": result.paradigm,
        "pattern": result.pattern,
        "status": result.status.value,
        "exit_code": result.exit_code,
        "reason": result.reason,
        "duration_s": round(result.duration_s, 6),
        "winner": result.winner,
        "rescued_by": result.rescued_by,
        "outputs": list(result.outputs),
        "output_sources": output_sources(result),
        "stages": [
            {
                "name": s.name,
                "status": s.status.value,
                "agents": list(s.agents),
                "outputs": list(s.outputs),
                "output_sources": list(s.output_sources),
                "duration_s": round(s.duration_s, 6),
            }
            for s in result.stages
        ],
        "agents": [{**agent_dict(a), **per_agent.get(a.instance, {})} for a in result.agents],
        "metrics": {
            "agents": len(result.agents),
            "by_status": dict(sorted(counts.items())),
            "attempts": sum(len(a.attempts) for a in result.agents),
            "errors": {a.instance: a.errors for a in result.agents if a.errors},
            "violations": {a.instance: a.violations for a in result.agents if a.violations},
            "tokens": usage_dict(result.usage),
        },
    }
    if result.violation is not None:
        data["violation"] = result.violation
    return {**data, **extras}


def render_report(result: RunResult, redact: Redactor) -> str:
    """The report as JSON text with every secret masked.

    Raises:
        ValueError: a number is not finite (strict JSON has no ``Infinity``).
    """
    text = json.dumps(report_dict(result), indent=2, ensure_ascii=False, allow_nan=False)
    return redact(text) + "\n"
