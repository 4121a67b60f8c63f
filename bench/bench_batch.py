"""Batching benchmark: N ``http`` items through ``batch: {max_size: 32}`` vs sent one by one.

The local fake server (``tests/fake_llm_server.py``) runs in its own process with a fixed
latency per request (default 20 ms), so its CPU is never counted. Three cases, each a
generated ``independent`` paradigm of N agents sharing one ``http`` provider entry with
``max_concurrency: C`` (default 8):

* **batched**: ``batch: {max_size: 32, max_wait: 10ms}`` on ``POST /batch``;
* **--no-batch**: the same paradigm run with batching off (every item alone, one-item lists);
* **plain http**: no ``batch`` key, ``POST /hook`` (the ordinary per-attempt path).

Each case is compiled first (not timed), then ``asyncio.run`` of
:func:`agentrun.engine.session.execute` is timed: wall time with ``time.perf_counter`` and
client CPU with ``time.process_time``. The server is reset before each case and asked
afterwards how many requests it completed. Each case repeats ``--repeat`` times (default 3),
interleaved, and the median is printed with min and max.

Usage::

    python bench/bench_batch.py [--n 1000] [--size 32] [--concurrency 8] [--latency 0.02]
                                [--repeat 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from measure import median_range, spread, timed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fake_llm_server import FakeLLMServer  # noqa: E402

CASES = ("batched", "no-batch", "plain")
BODY = """'{"texts": {{ prompts | tojson }}}'"""


def paradigm(case: str, server: FakeLLMServer, args: argparse.Namespace) -> str:
    """The YAML of one case: N agents on one http provider entry."""
    if case == "plain":
        provider = f"{{type: http, url: '{server.hook_url}', output_path: data.reply"
    else:
        batch = f"{{max_size: {args.size}, max_wait: 10ms, body: {BODY}, output_path: labels}}"
        provider = f"{{type: http, url: '{server.batch_url}', batch: {batch}"
    lines = [
        "pattern: independent",
        "providers:",
        f"  svc: {provider}, max_concurrency: {args.concurrency}}}",
        "agents:",
    ]
    lines += [f"  a{i}: {{provider: svc, prompt: 'item {i}'}}" for i in range(args.n)]
    return "\n".join(lines) + "\n"


def measure(
    case: str, server: FakeLLMServer, folder: Path, args: argparse.Namespace
) -> dict[str, float]:
    """Run one case once: wall, CPU per item, requests the server saw."""
    from agentrun import api
    from agentrun.engine.session import EngineOptions, execute
    from agentrun.events.records import EventBus

    path = folder / f"{case}.yaml"
    path.write_text(paradigm(case, server, args), encoding="utf-8")
    graph = api.compile_paradigm(path, api.RunOptions())
    options = EngineOptions(batch=case != "no-batch")
    server.reset()
    result, figures = timed(lambda: asyncio.run(execute(graph, EventBus([]), options)))
    passed = sum(1 for agent in result.agents if agent.succeeded)
    if passed != args.n:
        failed = next(a for a in result.agents if not a.succeeded)
        raise RuntimeError(f"{case}: {passed} of {args.n} passed; {failed.name}: {failed.error}")
    return {
        "wall_s": figures["wall_s"],
        "cpu_us_per_item": figures["cpu_s"] / args.n * 1e6,
        "requests": float(server.stats()["completed"]),
    }


def main() -> int:
    """Measure every case and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    samples: dict[str, list[dict[str, float]]] = {case: [] for case in CASES}
    with (
        tempfile.TemporaryDirectory() as folder,
        FakeLLMServer(latency=args.latency, record_bodies=False) as server,
    ):
        for _ in range(args.repeat):
            for case in CASES:
                samples[case].append(measure(case, server, Path(folder), args))
    summary: dict[str, Any] = {
        case: {key: spread([s[key] for s in runs]) for key in runs[0]}
        for case, runs in samples.items()
    }
    print(
        f"{args.n} items, max_size {args.size}, max_concurrency {args.concurrency}, "
        f"server latency {args.latency * 1000:.0f} ms, {args.repeat} repeats (median [min, max])"
    )
    print(f"  {'case':<10} {'requests':>9}  {'wall s':<24} {'client CPU us/item':<24}")
    for case in CASES:
        figures = summary[case]
        print(
            f"  {case:<10} {figures['requests']['median']:>9.0f}  "
            f"{median_range(figures['wall_s'], '.3f'):<24} "
            f"{median_range(figures['cpu_us_per_item'], '.0f'):<24}"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
