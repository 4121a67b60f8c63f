"""Render typical prompts many times: the cost of the template budget on the hot path.

Usage: ``python bench/bench_templates.py [--renders N]``; prints one line per template
with the microseconds per render (best of three rounds).
"""

from __future__ import annotations

import argparse
import time

from agentrun.templates import TemplateEngine

CONTEXT = {
    "input": "Summarise the quarterly report in three bullet points.",
    "vars": {"tone": "formal", "audience": "board", "limit": 3},
    "agents": {
        "writer": {"output": "A draft of about two hundred words. " * 8, "status": "passed"},
        "critic": {"output": "Two issues: length and tone.", "status": "passed"},
    },
    "previous": {"output": "The previous stage said hello."},
    "attempt": 2,
    "violations": ["too long", "missing numbers"],
}

TEMPLATES = {
    "plain": "You are a careful assistant. Answer briefly.",
    "input": "{{ input }}",
    "typical": (
        "You write for the {{ vars.audience }} in a {{ vars.tone }} tone.\n"
        "Task: {{ input }}\n"
        "Draft so far:\n{{ agents.writer.output }}\n"
        "Critique: {{ agents.critic.output | trim }}\n"
        "{% if attempt > 1 %}This is attempt {{ attempt }}; fix:\n"
        "{% for v in violations %}- {{ v }}\n{% endfor %}{% endif %}"
        "Use at most {{ vars.limit + 0 }} points."
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", type=int, default=100_000)
    renders = parser.parse_args().renders
    engine = TemplateEngine()
    for name, source in TEMPLATES.items():
        engine.render(source, CONTEXT)  # compile once, outside the timing
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(renders):
                engine.render(source, CONTEXT)
            best = min(best, time.perf_counter() - start)
        print(f"{name:8} {renders} renders: {best:.3f}s ({best / renders * 1e6:.2f} us/render)")


if __name__ == "__main__":
    main()
