"""Python agents for the coordination tests: they report what their context held."""

from __future__ import annotations

import asyncio
import json
from typing import Any


async def slow_reader(prompt: str, context: dict[str, Any]) -> str:
    """Waits, then says how many findings its snapshot held when the attempt started."""
    await asyncio.sleep(0.2)
    return str(len(context["state"]["findings"]))


def inbox_senders(prompt: str, context: dict[str, Any]) -> str:
    """Round, then who its inbox came from, then the answer 7."""
    senders = ",".join(m["from"] for m in context["inbox"])
    return f"r{context['round']} heard[{senders}] answer 7"


def majority_follower(prompt: str, context: dict[str, Any]) -> str:
    """Round 1: a fixed answer per agent; later rounds: the most common answer heard."""
    if context["round"] == 1:
        return {"s1": "answer 4", "s2": "answer 4", "s3": "answer 5"}[context["agent"]]
    answers = [m["answer"] for m in context["inbox"]] + [context["mine"]["answer"]]
    return "answer " + max(sorted(set(answers)), key=answers.count)


def fixed_votes(prompt: str, context: dict[str, Any]) -> str:
    """The answer named in ``vars.votes`` for this agent (``-`` gives no answer)."""
    votes = json.loads(context["vars"]["votes"])
    return f"answer {votes[context['agent']]}"
