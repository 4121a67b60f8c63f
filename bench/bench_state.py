"""The cost of the shared board: 10,000 agents waiting on keys written by 100 writers.

Each waiter reads one key (``state.kI >= 1``) written by writer I (of 100), so each
commit wakes the 100 waiters of its key and no others. The same run without
``wait_for`` (the 10,000 agents just start) is the floor. Prints wall time and CPU per
agent for both, the median of a few repeats, run in-process after loading and
compiling (the engine's cost, not YAML parsing).

    python bench/bench_state.py [--agents 10000] [--writers 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from agentrun.engine.session import execute
from agentrun.events.records import EventBus
from agentrun.graph.compiled import compile_graph
from agentrun.loading.loader import load_paradigm


def paradigm(agents: int, writers: int, wait: bool) -> str:
    """The benchmark file: writers commit ``1`` to their key; readers wait on one key."""
    lines = ["pattern: independent", "state:"]
    lines += [f"  k{i}: {{reducer: add}}" for i in range(writers)]
    lines.append("agents:")
    lines += [
        f"  w{i}: {{provider: mock, output: '1', latency: 1ms, writes: k{i}}}"
        for i in range(writers)
    ]
    for n in range(agents):
        key = f"k{n % writers}"
        condition = f", wait_for: 'state.{key} >= 1'" if wait else ""
        lines.append(f"  a{n}: {{provider: mock, output: ok{condition}}}")
    return "\n".join(lines) + "\n"


def measure(text: str, folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``text`` (after loading and compiling)."""
    path = folder / "bench.yaml"
    path.write_text(text, encoding="utf-8")
    graph = compile_graph(load_paradigm(path, env={}))
    wall, cpu = time.perf_counter(), time.process_time()
    result = asyncio.run(execute(graph, EventBus()))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert result.status.value == "passed", result.reason
    return wall, cpu


def main() -> None:
    """Print the figures for waiting and not waiting."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--writers", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for wait in (False, True):
            text = paradigm(args.agents, args.writers, wait)
            runs = [measure(text, Path(tmp)) for _ in range(args.repeat)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            total = args.agents + args.writers
            label = "wait_for" if wait else "no wait "
            print(
                f"{label}: {total} agents, wall {wall:.2f}s, "
                f"CPU {cpu:.2f}s = {cpu / total * 1e6:.0f} µs/agent"
            )


if __name__ == "__main__":
    main()
