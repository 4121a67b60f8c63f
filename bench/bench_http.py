"""HTTP benchmark: N ``openai`` agents on a local server, vs bare aiohttp making the same calls.

A fake OpenAI-compatible server (``tests/fake_llm_server.py``) runs in its own process with a
fixed latency (default 50 ms), so its CPU is never counted. Two scenarios:

* **limited**: ``--n1`` calls (default 1,000) at most ``--concurrency`` (default 100) in flight;
* **unlimited**: ``--n2`` calls (default 5,000) with no limit at all.

Each scenario runs these cases:

* **aiohttp floor**: one ``aiohttp.ClientSession`` with a ``TCPConnector(limit=C)``
  (``limit=0`` when unlimited), N tasks in an ``asyncio.TaskGroup`` (behind an
  ``asyncio.Semaphore(C)`` when limited), each posting the chat body agentrun sends, with the
  same ``Authorization`` header, and parsing the JSON reply for its message content;
* **agentrun run**: a generated ``independent`` paradigm of N agents
  ``aK: {provider: llm, model: m}`` sharing one ``openai`` provider entry (with
  ``max_concurrency: C`` when limited), compiled first (timed apart, not part of the ratios),
  then ``asyncio.run`` of :func:`agentrun.engine.session.execute` with an empty event bus;
* **httpx reference**: plain ``httpx.AsyncClient(limits=httpx.Limits(max_connections=C))``
  (``None`` when unlimited) driven exactly like the floor, to show what httpx's own connection
  pool would cost; at the unlimited scenario only with ``--slow``, as it takes minutes there.

Every measured case runs in a fresh child process (this script re-invoked with an internal
flag), so no pool, cache or heap leaks from one case into the next. Inside a child only the
measured section is timed: wall time with ``time.perf_counter`` and CPU with
``time.process_time`` (user + system of the client process, every thread included). The
child also checks that every call got its reply. Around each child the parent resets the
server and then reads how many requests it completed and the peak number in flight.

Each case is repeated (``--repeat``, default 3), repeats interleaved across cases to spread
machine noise, and the median is printed with min and max.

Usage::

    python bench/bench_http.py [--n1 1000] [--n2 5000] [--concurrency 100] [--latency 0.05]
                               [--repeat 3] [--slow] [--json PATH] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measure import median_range, peak_rss_kib, spread, timed

ROOT = Path(__file__).resolve().parents[1]
"""The repository: ``tests/`` holds the fake server, and agentrun is importable from here."""

TARGET_CPU_RATIO = 1.5
"""agentrun's CPU per call in the limited scenario may be at most this multiple of the floor's."""
TARGET_FLAT_RATIO = 1.3
"""agentrun's CPU per call in the unlimited scenario may be at most this multiple of its CPU
per call in the limited scenario."""
DEFAULT_POOL_CAP = 100
"""The connection cap that aiohttp's ``TCPConnector`` and ``httpx.Limits`` apply unless told
otherwise: an unlimited run whose server peak sits at this figure is capped behind the scenes."""

API_KEY = "sk-bench-0000"
"""The key every case sends (the server does not check it)."""
MODEL = "m"
INPUT = "benchmark"
"""The paradigm's input, hence every agent's prompt."""
CHAT_BODY: dict[str, Any] = {"messages": [{"role": "user", "content": INPUT}], "model": MODEL}
"""The body agentrun's openai provider sends for one of the benchmark's agents."""
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
"""Sent by every case; each client adds its own ``Content-Type: application/json``."""

CLIENTS = ("floor", "agentrun", "httpx")
"""The measured child cases."""
LABELS = {
    "floor": "aiohttp floor (ClientSession)",
    "agentrun": "agentrun run (execute, openai)",
    "httpx": "httpx.AsyncClient [reference]",
}
SHORT = {"floor": "aiohttp floor", "agentrun": "agentrun", "httpx": "httpx reference"}
KIB_PER_MIB = 1024.0


# --------------------------------------------------------------------------- child side


def _content(payload: bytes) -> str:
    """The message content of one chat completion reply; raise if it has none."""
    data = json.loads(payload)
    text = data["choices"][0]["message"]["content"]
    if not isinstance(text, str):
        raise RuntimeError(f"reply without content: {payload[:80]!r}")
    return text


async def _drive(n: int, limit: int, call: Callable[[], Awaitable[str]]) -> int:
    """Make ``n`` calls at once in one TaskGroup, at most ``limit`` in flight (0: no limit);
    return how many got a reply with content."""
    semaphore = asyncio.Semaphore(limit) if limit else None

    async def one() -> str:
        if semaphore is None:
            return await call()
        async with semaphore:
            return await call()

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one()) for _ in range(n)]
    return sum(1 for task in tasks if task.result())


async def _floor(url: str, n: int, limit: int) -> int:
    """The bare aiohttp calls."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> str:
            async with session.post(url, json=CHAT_BODY, headers=HEADERS) as response:
                payload = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}: {payload[:80]!r}")
            return _content(payload)

        return await _drive(n, limit, call)


async def _httpx(url: str, n: int, limit: int) -> int:
    """The same calls through httpx's own connection pool."""
    import httpx

    limits = httpx.Limits(max_connections=limit or None)
    # trust_env=False: a proxy setting in the environment must not reroute local calls.
    async with httpx.AsyncClient(limits=limits, timeout=None, trust_env=False) as client:

        async def call() -> str:
            response = await client.post(url, json=CHAT_BODY, headers=HEADERS)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.content[:80]!r}")
            return _content(response.content)

        return await _drive(n, limit, call)


def _child_agentrun(paradigm: Path, n: int) -> dict[str, dict[str, float]]:
    """Compile the paradigm (timed apart), then run it; check every agent passed."""
    from agentrun import api
    from agentrun.engine.session import execute
    from agentrun.events.records import EventBus

    graph, compile_figures = timed(lambda: api.compile_paradigm(paradigm, api.RunOptions()))
    result, run_figures = timed(lambda: asyncio.run(execute(graph, EventBus([]))))
    passed = sum(1 for agent in result.agents if agent.succeeded)
    if result.status.value != "passed" or passed != n:
        failed = next((a for a in result.agents if not a.succeeded), None)
        why = f"; {failed.name}: {failed.error}" if failed is not None else ""
        raise RuntimeError(f"agentrun: status {result.status.value}, {passed} of {n} passed{why}")
    return {"run": run_figures, "compile": compile_figures}


def child_main(args: argparse.Namespace) -> int:
    """Measure one case and print its figures as one JSON line on standard output."""
    n, limit, url = args.n, args.limit, f"{args.url}/chat/completions"
    # Everything a case needs is imported before the clock starts.
    import aiohttp  # noqa: F401
    import httpx  # noqa: F401

    if args.child == "agentrun":
        import agentrun.api
        import agentrun.engine.session
        import agentrun.providers.openai  # noqa: F401

        phases = _child_agentrun(Path(args.paradigm), n)
    else:
        driver = _floor if args.child == "floor" else _httpx
        replies, figures = timed(lambda: asyncio.run(driver(url, n, limit)))
        if replies != n:
            raise RuntimeError(f"{args.child}: {replies} of {n} calls got a reply")
        phases = {"run": figures}
    print(json.dumps({"case": args.child, "n": n, "phases": phases, "rss_kib": peak_rss_kib()}))
    return 0


# --------------------------------------------------------------------------- parent side


@dataclass(frozen=True, slots=True)
class Scenario:
    """One load shape: how many calls and how many may be in flight (0: no limit)."""

    key: str
    n: int
    limit: int
    clients: tuple[str, ...]

    @property
    def shape(self) -> str:
        """``1,000 calls, concurrency 100``."""
        limit = f"concurrency {self.limit}" if self.limit else "no concurrency limit"
        return f"{self.n:,} calls, {limit}"


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    """The limited and the unlimited scenario, with the clients measured in each."""
    unlimited = ("floor", "agentrun", "httpx") if args.slow else ("floor", "agentrun")
    return [
        Scenario("limited", args.n1, args.concurrency, CLIENTS),
        Scenario("unlimited", args.n2, 0, unlimited),
    ]


def write_paradigm(folder: Path, scenario: Scenario, base_url: str) -> Path:
    """The benchmark paradigm: N openai agents sharing one provider entry."""
    path = folder / f"bench_http_{scenario.key}_{scenario.n}.yaml"
    limit = f", max_concurrency: {scenario.limit}" if scenario.limit else ""
    lines = [
        f"name: bench-http-{scenario.key}-{scenario.n}",
        "pattern: independent",
        f"input: {INPUT}",
        "providers:",
        f"  llm: {{type: openai, base_url: {json.dumps(base_url)}, api_key: {API_KEY}{limit}}}",
        "agents:",
    ]
    lines += [f"  a{i:06d}: {{provider: llm, model: {MODEL}}}" for i in range(scenario.n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_child(
    case: str, scenario: Scenario, base_url: str, paradigm: Path, server: Any
) -> dict[str, Any]:
    """Measure one case in a fresh interpreter, with the server's counts around it."""
    server.reset()
    server.configure(record_bodies=False)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        *("--child", case, "--n", str(scenario.n), "--limit", str(scenario.limit)),
        *("--url", base_url, "--paradigm", str(paradigm)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(
            f"child {case} N={scenario.n} failed ({done.returncode}):\n{done.stderr}"
        )
    sample: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    # The server counts a request just after writing its reply: let the last ones settle.
    stats = server.wait_for_stats(lambda current: current["in_flight"] == 0, timeout=10.0)
    sample["server"] = {
        "completed": stats["completed"],
        "aborted": stats["aborted"],
        "peak_in_flight": stats["peak_in_flight"],
    }
    return sample


def summarise_case(samples: list[dict[str, Any]], n: int, phase: str = "run") -> dict[str, Any]:
    """Medians, min and max of one case's samples of one phase."""
    return {
        "wall_s": spread([s["phases"][phase]["wall_s"] for s in samples]),
        "cpu_us_per_call": spread([s["phases"][phase]["cpu_s"] / n * 1e6 for s in samples]),
        "peak_rss_mib": spread([s["rss_kib"] / KIB_PER_MIB for s in samples]),
        "server_completed": spread([s["server"]["completed"] for s in samples]),
        "server_peak_in_flight": spread([s["server"]["peak_in_flight"] for s in samples]),
    }


def summarise(scenario: Scenario, samples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Every row of one scenario and its ratios to the floor."""
    rows = {case: summarise_case(samples[case], scenario.n) for case in scenario.clients}
    compile_figures = summarise_case(samples["agentrun"], scenario.n, "compile")
    floor_cpu = max(rows["floor"]["cpu_us_per_call"]["median"], 1e-9)
    floor_wall = max(rows["floor"]["wall_s"]["median"], 1e-9)
    ratios = {
        case: {
            "cpu_per_call": rows[case]["cpu_us_per_call"]["median"] / floor_cpu,
            "wall": rows[case]["wall_s"]["median"] / floor_wall,
        }
        for case in scenario.clients
        if case != "floor"
    }
    return {
        "n": scenario.n,
        "limit": scenario.limit,
        "rows": rows,
        "agentrun_load_compile": {
            "wall_s": compile_figures["wall_s"],
            "cpu_us_per_call": compile_figures["cpu_us_per_call"],
        },
        "ratios_vs_floor": ratios,
    }


def _counts(figures: dict[str, float]) -> str:
    """A server count over the repeats: one number when they agree, else ``min-max``."""
    low, high = int(figures["min"]), int(figures["max"])
    return f"{low}" if low == high else f"{low}-{high}"


def print_table(scenario: Scenario, summary: dict[str, Any]) -> None:
    """Print one scenario's figures."""
    print(f"\nN = {scenario.shape}")
    print(
        f"  {'case':<32} {'wall s median [min-max]':<26} {'CPU us/call median [min-max]':<30}"
        f" {'RSS MiB':>7} {'completed':>9} {'peak in flight':>14}"
    )
    for case in scenario.clients:
        row = summary["rows"][case]
        print(
            f"  {LABELS[case]:<32} {median_range(row['wall_s'], '.3f'):<26}"
            f" {median_range(row['cpu_us_per_call'], '.1f'):<30}"
            f" {row['peak_rss_mib']['median']:>7.1f} {_counts(row['server_completed']):>9}"
            f" {_counts(row['server_peak_in_flight']):>14}"
        )
    load = summary["agentrun_load_compile"]
    print(
        f"  {'agentrun load+compile (apart)':<32} {median_range(load['wall_s'], '.3f'):<26}"
        f" {median_range(load['cpu_us_per_call'], '.1f'):<30}"
    )
    for case, ratio in summary["ratios_vs_floor"].items():
        print(
            f"  ratio {case}/floor: CPU per call {ratio['cpu_per_call']:.2f}x,"
            f" wall {ratio['wall']:.2f}x"
        )


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def evaluate_targets(
    plan: list[Scenario],
    summaries: dict[str, dict[str, Any]],
    raw: dict[str, dict[str, list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    """The PASS/FAIL verdicts: the two CPU targets, then the server's counts."""
    limited, unlimited = plan
    low = summaries["limited"]["rows"]
    high = summaries["unlimited"]["rows"]
    targets: list[dict[str, Any]] = []

    agentrun_cpu = low["agentrun"]["cpu_us_per_call"]["median"]
    floor_cpu = low["floor"]["cpu_us_per_call"]["median"]
    ratio = agentrun_cpu / max(floor_cpu, 1e-9)
    targets.append(
        {
            "key": "cpu_vs_floor",
            "text": (
                f"agentrun CPU per call at {limited.n:,}/{limited.limit}"
                f" <= {TARGET_CPU_RATIO}x the aiohttp floor"
            ),
            "verdict": _verdict(ratio <= TARGET_CPU_RATIO),
            "value": ratio,
            "detail": f"{agentrun_cpu:.1f} us vs {floor_cpu:.1f} us = {ratio:.2f}x",
        }
    )

    # "Flat with N": agentrun's cost over the floor must not grow with the number of
    # calls. The raw CPU per call cannot be compared across the two shapes: 5,000
    # unlimited calls open thousands of connections where 1,000/100 reuses 100, and
    # the floor itself costs about twice as much per call there. So the rule compares
    # agentrun's ratio to the floor at each size.
    agentrun_high = high["agentrun"]["cpu_us_per_call"]["median"]
    floor_high = high["floor"]["cpu_us_per_call"]["median"]
    ratio_high = agentrun_high / max(floor_high, 1e-9)
    growth = ratio_high / max(ratio, 1e-9)
    targets.append(
        {
            "key": "cpu_flat_with_n",
            "text": (
                f"agentrun CPU per call flat with N: its ratio to the floor at {unlimited.n:,}"
                f" unlimited <= {TARGET_FLAT_RATIO}x its ratio at {limited.n:,}/{limited.limit}"
            ),
            "verdict": _verdict(growth <= TARGET_FLAT_RATIO),
            "value": growth,
            "detail": (
                f"{ratio_high:.2f}x ({agentrun_high:.1f} us vs {floor_high:.1f} us) vs"
                f" {ratio:.2f}x = {growth:.2f}x"
            ),
        }
    )

    for scenario in plan:
        samples = [s for case in scenario.clients for s in raw[scenario.key][case]]
        completed = sorted({s["server"]["completed"] for s in samples})
        targets.append(
            {
                "key": f"server_completed_{scenario.key}",
                "text": f"server completed every call of every run, {scenario.shape}",
                "verdict": _verdict(completed == [scenario.n]),
                "value": completed,
                "detail": f"completed {', '.join(map(str, completed))} of {scenario.n}",
            }
        )
    peaks = [
        s["server"]["peak_in_flight"] for case in limited.clients for s in raw["limited"][case]
    ]
    targets.append(
        {
            "key": "server_peak_limited",
            "text": f"server peak in flight <= {limited.limit} in every limited run",
            "verdict": _verdict(max(peaks) <= limited.limit),
            "value": max(peaks),
            "detail": f"peak {min(peaks)}-{max(peaks)}",
        }
    )
    targets += _uncapped(unlimited, raw["unlimited"])
    return targets


def _uncapped(scenario: Scenario, samples: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Whether each client of the unlimited scenario really ran without a connection cap.

    Rule: with more than twice ``DEFAULT_POOL_CAP`` calls, every run's server peak in flight
    must exceed ``DEFAULT_POOL_CAP``; a pool left at its default cap would hold it there.
    With fewer calls the check cannot tell and is skipped.
    """
    targets: list[dict[str, Any]] = []
    for case in scenario.clients:
        text = f"{SHORT[case]}: the unlimited runs are not capped by a hidden pool limit"
        peaks = [s["server"]["peak_in_flight"] for s in samples[case]]
        if scenario.n <= 2 * DEFAULT_POOL_CAP:
            detail = f"needs more than {2 * DEFAULT_POOL_CAP} calls"
            targets.append(
                {"key": f"uncapped_{case}", "text": text, "verdict": "SKIP", "detail": detail}
            )
            continue
        targets.append(
            {
                "key": f"uncapped_{case}",
                "text": text,
                "verdict": _verdict(min(peaks) > DEFAULT_POOL_CAP),
                "value": min(peaks),
                "detail": (
                    f"server peak in flight {min(peaks)}-{max(peaks)},"
                    f" must exceed {DEFAULT_POOL_CAP} (the default pool cap)"
                ),
            }
        )
    return targets


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (``--child``, ``--n``, ``--limit``, ``--url`` and ``--paradigm`` are
    internal: they drive one measured child)."""
    parser = argparse.ArgumentParser(
        description="agentrun HTTP benchmark: openai agents vs bare aiohttp on a local server."
    )
    parser.add_argument("--n1", type=int, default=1_000, help="calls of the limited scenario")
    parser.add_argument("--n2", type=int, default=5_000, help="calls of the unlimited scenario")
    parser.add_argument(
        "--concurrency", type=int, default=100, help="calls in flight in the limited scenario"
    )
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds the server takes per reply"
    )
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process runs per case")
    parser.add_argument(
        "--slow",
        action="store_true",
        help="also run the httpx reference in the unlimited scenario (takes minutes)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a target fails (default: always 0)"
    )
    parser.add_argument("--child", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--paradigm", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is None and (
        min(args.n1, args.n2, args.concurrency, args.repeat) < 1 or args.latency < 0
    ):
        parser.error("--n1, --n2, --concurrency and --repeat must be positive, --latency >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Start the server, run every case, print the figures and the targets; return the exit code."""
    args = parse_args(argv)
    if args.child:
        return child_main(args)

    sys.path.insert(0, str(ROOT / "tests"))
    from fake_llm_server import FakeLLMServer  # type: ignore[import-not-found,unused-ignore]

    import agentrun

    plan = scenarios(args)
    print(
        f"agentrun {agentrun.__version__} HTTP benchmark: openai agents vs bare aiohttp, against"
        f" a local fake server (its own process, {args.latency * 1000:g} ms per reply)"
    )
    print(
        f"python {platform.python_version()} on {platform.system()} {platform.machine()},"
        f" {os.cpu_count()} CPUs; {args.repeat} repeat(s) per case, each in a fresh process"
    )
    print(
        "wall = perf_counter around asyncio.run of the calls; CPU = process_time (user+sys) of"
        " the client process\nfor that section / calls (the server's CPU is not counted);"
        " RSS = the child's peak resident set;\ncompleted, peak in flight = the server's"
        " counts for each run (one figure when every repeat agrees)."
    )
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
    summaries: dict[str, dict[str, Any]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="agentrun-bench-http-") as folder,
        FakeLLMServer(latency=args.latency, record_bodies=False) as server,
    ):
        server.configure(record_bodies=False)
        for scenario in plan:
            paradigm = write_paradigm(Path(folder), scenario, server.openai_url)
            samples: dict[str, list[dict[str, Any]]] = {case: [] for case in scenario.clients}
            for _ in range(args.repeat):
                for case in scenario.clients:
                    samples[case].append(
                        run_child(case, scenario, server.openai_url, paradigm, server)
                    )
            raw[scenario.key] = samples
            summaries[scenario.key] = summarise(scenario, samples)
            print_table(scenario, summaries[scenario.key])

    targets = evaluate_targets(plan, summaries, raw)
    print("\ntargets (medians):")
    for target in targets:
        print(f"  {target['verdict']:<4}  {target['text']}: {target['detail']}")

    if args.json:
        document = {
            "config": {
                "n1": args.n1,
                "n2": args.n2,
                "concurrency": args.concurrency,
                "latency_s": args.latency,
                "repeat": args.repeat,
                "slow": args.slow,
            },
            "environment": {
                "agentrun": agentrun.__version__,
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
            },
            "measured": {
                "wall_s": "time.perf_counter around asyncio.run of the calls",
                "cpu_us_per_call": "time.process_time (user+sys) of the client process, / calls",
                "peak_rss_mib": "ru_maxrss of the fresh child process, imports included",
                "server_completed": "requests the server completed during the run",
                "server_peak_in_flight": "most requests the server held at once",
            },
            "results": summaries,
            "samples": raw,
            "targets": targets,
        }
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")

    failed = any(target["verdict"] == "FAIL" for target in targets)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
