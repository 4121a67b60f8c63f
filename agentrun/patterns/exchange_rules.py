"""The load-time rules of ``pattern: exchange``."""

from __future__ import annotations

from agentrun.coordination.rounds import ExchangeKeys, JudgeUntil
from agentrun.coordination.spec import SelectAgent
from agentrun.loading.semantics import Findings, hint
from agentrun.loading.spec import Paradigm
from agentrun.patterns.common import check_no_stages, check_no_winner, check_run_list


def helpers_of(paradigm: Paradigm) -> set[str]:
    """Agents an exchange runs besides its participants: round judges and the selector."""
    keys: ExchangeKeys | None = paradigm.pattern_keys
    helpers = {u.judge.agent for u in (keys.until if keys else ()) if isinstance(u, JudgeUntil)}
    if isinstance(paradigm.select, SelectAgent):
        helpers.add(paradigm.select.agent)
    return helpers


def check_exchange(
    name: str, paradigm: Paradigm, participants: list[str], findings: Findings
) -> None:
    """Topology names, judges and selector outside the participants, no waits on them."""
    check_no_stages(name, paradigm, findings)
    check_no_winner(name, paradigm, findings)
    check_run_list(paradigm, findings)
    keys: ExchangeKeys | None = paradigm.pattern_keys
    if keys is None:
        return
    joined = set(participants)
    if isinstance(keys.topology, dict):
        for agent, heard in keys.topology.items():
            for where, who in [(("topology", agent), agent)] + [
                (("topology", agent, i), h) for i, h in enumerate(heard)
            ]:
                if who not in joined:
                    message = f"topology: {who!r} is not a participant" + hint(who, joined)
                    findings.error(where, message, at_key=len(where) == 2)
    for index, until in enumerate(keys.until):
        if isinstance(until, JudgeUntil) and until.judge.agent in joined:
            message = f"until: the judge {until.judge.agent!r} is also a participant"
            findings.error(("until", index, "judge", "agent"), message)
        elif isinstance(until, JudgeUntil) and until.judge.agent not in paradigm.agents:
            who = until.judge.agent
            findings.error(
                ("until", index, "judge", "agent"),
                f"until: no agent named {who!r}" + hint(who, paradigm.agents),
            )
        sender = getattr(until, "sender", None)
        if sender is not None and sender not in joined:
            findings.error(("until", index, "from"), f"until: {sender!r} is not a participant")
    if isinstance(paradigm.select, SelectAgent) and paradigm.select.agent in joined:
        message = f"select: the selector {paradigm.select.agent!r} is also a participant"
        findings.error(("select", "agent"), message)
    for agent in participants:
        # An unknown participant is reported by the reference checks.
        if agent in paradigm.agents and paradigm.agents[agent].wait_for is not None:
            message = "wait_for is not allowed on exchange participants (rounds already wait)"
            findings.error(("agents", agent, "wait_for"), message, at_key=True)
