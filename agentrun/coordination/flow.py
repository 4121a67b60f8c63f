"""The state dataflow as ``agentrun graph`` draws it: who writes which key, who waits on what."""

from __future__ import annotations

from agentrun.coordination.rules import BoardRules


def dataflow_lines(board: BoardRules | None) -> tuple[str, ...]:
    """One line per key (``academic, web → findings (append) → critic (wait_for …)``),
    then each wait on agents alone; empty without a board."""
    if board is None:
        return ()
    lines = []
    for key, rule in board.keys.items():
        writers = [a for a, rules in board.writes.items() if any(w.key == key for w in rules)]
        waiters = [
            f"{agent} (wait_for {wait.source})"
            for agent, wait in board.waits.items()
            if wait.reads.keys is None or key in wait.reads.keys
        ]
        line = f"{', '.join(writers) or '(no writer)'} → {key} ({rule.reducer})"
        lines.append(line + (f" → {', '.join(waiters)}" if waiters else ""))
    for agent, wait in board.waits.items():
        if wait.reads.keys is not None and not wait.reads.keys and wait.reads.agents:
            lines.append(
                f"{', '.join(sorted(wait.reads.agents))} → {agent} (wait_for {wait.source})"
            )
    return tuple(lines)
