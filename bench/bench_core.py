"""Core benchmark: N ``mock`` agents in one ``independent`` paradigm against a bare TaskGroup.

For every N (default 1,000 and 10,000) the same sleeps run two ways:

* **bare**: ``asyncio.run`` of a ``TaskGroup`` of N tasks, each ``await asyncio.sleep(latency)``;
  the floor that any asyncio program pays for N concurrent waits;
* **agentrun**: a generated paradigm of N ``mock`` agents with that latency, measured as
  a user pays it: loading and compiling the YAML, then running the compiled graph
  (``asyncio.run`` of :func:`agentrun.engine.session.execute` with the chosen display), and
  separately the whole :func:`agentrun.api.run` call.

Every measured case runs in a fresh child process (this script re-invoked with an
internal flag), so one case's garbage, caches and heap never inflate another's, and
the child's ``ru_maxrss`` is a true per-case peak. Inside a child, only the measured
section is timed: wall time with ``time.perf_counter`` and CPU with
``time.process_time`` (user + system of the process). Memory is reported two ways:
the child's peak RSS (interpreter and imports included) and the growth of that
high-water mark during the measured section (what the N agents themselves cost).
The wall time the cyclic garbage collector spends inside each section is counted
too (through ``gc.callbacks``), since it grows with everything a run keeps alive.

Targets (``--check`` turns a FAIL into exit code 1): at 10,000 agents, agentrun's
CPU per agent at most 5x the bare floor (run phase alone, and api.run with loading
included), and its wall time within 1.5 s at 100 ms latency.

Each case is repeated (``--repeat``, default 5), the repeats interleaved across cases
to spread machine noise evenly, and the median with min and max is printed.

Usage::

    python bench/bench_core.py [--n 1000 10000] [--repeat 5] [--latency 0.1]
                               [--display quiet|plain] [--report] [--json PATH] [--check]
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measure import GC, median_range, peak_rss_kib, spread, timed

TARGET_N = 10_000
"""The agent count the targets are stated for."""
TARGET_LATENCY = 0.1
"""The latency the wall-time target is stated for (seconds)."""
TARGET_CPU_RATIO = 5.0
"""agentrun's CPU per agent may be at most this multiple of the bare floor."""
TARGET_WALL_S = 1.5
"""agentrun's wall time at ``TARGET_N`` agents with ``TARGET_LATENCY`` (seconds)."""

CHILD_CASES = ("bare", "phases", "api")
"""The measured child processes: the bare floor, agentrun by phase, agentrun through api.run."""

KIB_PER_MIB = 1024.0


# --------------------------------------------------------------------------- child side


def _child_bare(n: int, latency: float) -> dict[str, dict[str, float]]:
    """N tasks each sleeping ``latency`` in one TaskGroup, in a fresh event loop."""

    async def main() -> int:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(asyncio.sleep(latency)) for _ in range(n)]
        return sum(1 for task in tasks if task.done() and not task.cancelled())

    finished, figures = timed(lambda: asyncio.run(main()))
    if finished != n:
        raise RuntimeError(f"bare: {finished} of {n} sleeps finished")
    return {"total": figures}


def _check_result(result: Any, n: int) -> None:
    """Fail loudly when the run did not do what is being timed."""
    if result.status.value != "passed" or len(result.agents) != n:
        raise RuntimeError(
            f"agentrun: status {result.status.value}, {len(result.agents)} agents of {n}"
        )


def _child_phases(
    paradigm: Path, n: int, display_mode: str, report: bool
) -> dict[str, dict[str, float]]:
    """agentrun phase by phase: load+compile, run (asyncio.run of execute), report."""
    from agentrun import api
    from agentrun.display import choose_display
    from agentrun.engine.session import EngineOptions, execute
    from agentrun.events.records import EventBus
    from agentrun.outputs.json_report import render_report
    from agentrun.redact import Redactor

    phases: dict[str, dict[str, float]] = {}
    graph, phases["load_compile"] = timed(
        lambda: api.compile_paradigm(paradigm, api.RunOptions(), env={})
    )
    with open(os.devnull, "w", encoding="utf-8") as sink:

        def run() -> Any:
            # What api.run does between compiling and writing the outputs.
            display = choose_display(display_mode, sink, {}, Redactor(graph.secrets))
            try:
                return asyncio.run(execute(graph, EventBus([display]), EngineOptions()))
            finally:
                display.close()

        result, phases["run"] = timed(run)
        _check_result(result, n)
        if report:

            def serialise() -> None:
                sink.write(render_report(result, Redactor(graph.secrets)))

            _, phases["report"] = timed(serialise)
    return phases


def _child_api(
    paradigm: Path, n: int, display_mode: str, report: bool
) -> dict[str, dict[str, float]]:
    """agentrun as a Python user calls it: one :func:`agentrun.api.run`."""
    from agentrun import api

    options = api.RunOptions(display=display_mode, report=os.devnull if report else None)
    with open(os.devnull, "w", encoding="utf-8") as sink:
        result, figures = timed(
            lambda: api.run(paradigm, options, stdout=sink, stderr=sink, env={})
        )
    _check_result(result, n)
    return {"total": figures}


def child_main(args: argparse.Namespace) -> int:
    """Measure one case and print its figures as one JSON line on standard output."""
    if args.child != "bare":
        # Imported before the baseline, so +RSS is what the run costs, not the imports.
        import agentrun.api
        import agentrun.display
        import agentrun.engine.session
        import agentrun.outputs.json_report  # noqa: F401
    GC.install()
    rss_before = peak_rss_kib()
    if args.child == "bare":
        phases = _child_bare(args.n[0], args.latency)
    elif args.child == "phases":
        phases = _child_phases(Path(args.paradigm), args.n[0], args.display, args.report)
    else:
        phases = _child_api(Path(args.paradigm), args.n[0], args.display, args.report)
    sample = {
        "case": args.child,
        "n": args.n[0],
        "phases": phases,
        "rss_before_kib": rss_before,
        "rss_peak_kib": peak_rss_kib(),
    }
    print(json.dumps(sample))
    return 0


# --------------------------------------------------------------------------- parent side


@dataclass(frozen=True, slots=True)
class Row:
    """One printed line of the table: a case or phase and where its samples come from."""

    key: str
    """Stable name used in the JSON output."""
    label: str
    child: str
    """Which child case measured it."""
    phases: tuple[str, ...]
    """The phases summed for this row."""
    memory: bool
    """Whether the row shows the child's memory figures."""


def table_rows(report: bool) -> list[Row]:
    """The rows of one N's table, in printing order."""
    agentrun_phases: tuple[str, ...] = (
        ("load_compile", "run", "report")
        if report
        else (
            "load_compile",
            "run",
        )
    )
    rows = [
        Row("bare", "bare TaskGroup (asyncio.run)", "bare", ("total",), True),
        Row("load_compile", "agentrun load+compile", "phases", ("load_compile",), False),
        Row("run", "agentrun run (asyncio.run+execute)", "phases", ("run",), False),
    ]
    if report:
        rows.append(Row("report", "agentrun report to /dev/null", "phases", ("report",), False))
    rows += [
        Row("phases_total", "agentrun sum of the phases", "phases", agentrun_phases, True),
        Row("api", "agentrun api.run (total)", "api", ("total",), True),
    ]
    return rows


def write_paradigm(folder: Path, n: int, latency: float) -> Path:
    """Generate the benchmark paradigm: N mock agents with ``latency``, pattern independent."""
    path = folder / f"bench_{n}.yaml"
    lines = [
        f"name: bench-{n}",
        "pattern: independent",
        "input: benchmark",
        "agents:",
    ]
    lines += [f"  a{i:06d}: {{provider: mock, latency: {latency!r}}}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_child(args: argparse.Namespace, case: str, n: int, paradigm: Path) -> dict[str, Any]:
    """Measure one case in a fresh interpreter and return its parsed figures."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        case,
        "--n",
        str(n),
        "--latency",
        repr(args.latency),
        "--display",
        args.display,
        "--paradigm",
        str(paradigm),
    ]
    if args.report:
        command.append("--report")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {case} N={n} failed ({done.returncode}):\n{done.stderr}")
    sample: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return sample


def summarise(samples: dict[str, list[dict[str, Any]]], n: int, report: bool) -> dict[str, Any]:
    """Medians, min and max of every row of one N, from the raw child samples."""
    rows: dict[str, Any] = {}
    for row in table_rows(report):
        walls = [sum(s["phases"][p]["wall_s"] for p in row.phases) for s in samples[row.child]]
        cpus = [sum(s["phases"][p]["cpu_s"] for p in row.phases) for s in samples[row.child]]
        gcs = [sum(s["phases"][p]["gc_s"] for p in row.phases) for s in samples[row.child]]
        figures: dict[str, Any] = {
            "label": row.label,
            "wall_s": spread(walls),
            "cpu_us_per_agent": spread([cpu / n * 1e6 for cpu in cpus]),
            "gc_ms": spread([seconds * 1e3 for seconds in gcs]),
        }
        if row.memory:
            peaks = [s["rss_peak_kib"] / KIB_PER_MIB for s in samples[row.child]]
            growths = [
                (s["rss_peak_kib"] - s["rss_before_kib"]) / KIB_PER_MIB for s in samples[row.child]
            ]
            figures["peak_rss_mib"] = spread(peaks)
            figures["rss_growth_mib"] = spread(growths)
        rows[row.key] = figures
    # A floor of zero (a coarse clock) must not divide by zero.
    bare_cpu = max(rows["bare"]["cpu_us_per_agent"]["median"], 1e-9)
    bare_wall = max(rows["bare"]["wall_s"]["median"], 1e-9)
    ratios = {
        key: {
            "cpu_per_agent": rows[key]["cpu_us_per_agent"]["median"] / bare_cpu,
            "wall": rows[key]["wall_s"]["median"] / bare_wall,
        }
        for key in ("run", "phases_total", "api")
    }
    return {"rows": rows, "ratios_vs_bare": ratios}


def print_table(n: int, summary: dict[str, Any], report: bool) -> None:
    """Print one N's figures."""
    print(f"\nN = {n:,} agents")
    print(
        f"  {'case':<36} {'wall s median [min-max]':<24} {'CPU us/agent median [min-max]':<30}"
        f" {'GC ms':>6} {'peak RSS MiB':>12} {'+RSS MiB':>8}"
    )
    for row in table_rows(report):
        figures = summary["rows"][row.key]
        memory = ""
        if row.memory:
            memory = (
                f" {figures['peak_rss_mib']['median']:>12.1f}"
                f" {figures['rss_growth_mib']['median']:>8.1f}"
            )
        line = (
            f"  {row.label:<36} {median_range(figures['wall_s'], '.3f'):<24}"
            f" {median_range(figures['cpu_us_per_agent'], '.1f'):<30}"
            f" {figures['gc_ms']['median']:>6.0f}{memory}"
        )
        print(line)
    ratios = summary["ratios_vs_bare"]
    print(
        "  ratio agentrun/bare, CPU per agent:"
        f" run {ratios['run']['cpu_per_agent']:.2f}x,"
        f" load+compile+run {ratios['phases_total']['cpu_per_agent']:.2f}x,"
        f" api.run {ratios['api']['cpu_per_agent']:.2f}x"
    )
    print(
        "  ratio agentrun/bare, wall time:    "
        f" run {ratios['run']['wall']:.2f}x,"
        f" load+compile+run {ratios['phases_total']['wall']:.2f}x,"
        f" api.run {ratios['api']['wall']:.2f}x"
    )


def evaluate_targets(summaries: dict[int, dict[str, Any]], latency: float) -> list[dict[str, Any]]:
    """The PASS/FAIL/SKIP verdicts of the targets, stated at ``TARGET_N`` agents."""
    summary = summaries.get(TARGET_N)
    targets: list[dict[str, Any]] = []
    specs = [
        ("cpu_run", "CPU per agent, run phase (excluding load+compile) <= 5x bare", "run"),
        ("cpu_api", "CPU per agent, api.run total (including load+compile) <= 5x bare", "api"),
    ]
    for key, text, row in specs:
        if summary is None:
            targets.append({"key": key, "text": text, "verdict": "SKIP", "detail": "N not run"})
            continue
        ratio = summary["ratios_vs_bare"][row]["cpu_per_agent"]
        cpu = summary["rows"][row]["cpu_us_per_agent"]["median"]
        bare = summary["rows"]["bare"]["cpu_us_per_agent"]["median"]
        targets.append(
            {
                "key": key,
                "text": text,
                "verdict": "PASS" if ratio <= TARGET_CPU_RATIO else "FAIL",
                "value": ratio,
                "detail": f"{cpu:.1f} us vs {bare:.1f} us = {ratio:.2f}x",
            }
        )
    for key, text, row in [
        ("wall_run", f"wall time, run phase <= {TARGET_WALL_S} s", "run"),
        ("wall_api", f"wall time, api.run total <= {TARGET_WALL_S} s", "api"),
    ]:
        if summary is None or latency != TARGET_LATENCY:
            reason = "N not run" if summary is None else f"stated for latency {TARGET_LATENCY} s"
            targets.append({"key": key, "text": text, "verdict": "SKIP", "detail": reason})
            continue
        wall = summary["rows"][row]["wall_s"]["median"]
        targets.append(
            {
                "key": key,
                "text": text,
                "verdict": "PASS" if wall <= TARGET_WALL_S else "FAIL",
                "value": wall,
                "detail": f"{wall:.3f} s",
            }
        )
    return targets


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (the ``--child`` and ``--paradigm`` flags are internal)."""
    parser = argparse.ArgumentParser(
        description="agentrun core benchmark: N mock agents vs a bare asyncio TaskGroup."
    )
    parser.add_argument("--n", type=int, nargs="+", default=[1_000, 10_000], help="agent counts")
    parser.add_argument("--repeat", type=int, default=5, help="fresh-process runs per case")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds each agent sleeps")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    parser.add_argument(
        "--display",
        choices=("quiet", "plain"),
        default="quiet",
        help="agentrun display, writing to /dev/null (plain counts the cost of its lines)",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="also serialise the JSON report (to /dev/null), so its cost is counted",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a target fails (default: always 0)"
    )
    parser.add_argument("--child", choices=CHILD_CASES, help=argparse.SUPPRESS)
    parser.add_argument("--paradigm", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.n = list(dict.fromkeys(args.n))
    if args.repeat < 1 or min(args.n) < 1 or args.latency < 0:
        parser.error("--repeat and --n must be positive, --latency not negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run every case, print the figures and the targets; return the exit code."""
    args = parse_args(argv)
    if args.child:
        return child_main(args)

    import agentrun

    print(
        f"agentrun {agentrun.__version__} core benchmark: pattern independent, mock agents "
        f"sleeping {args.latency * 1000:g} ms, vs a bare asyncio.TaskGroup of the same sleeps"
    )
    print(
        f"python {platform.python_version()} on {platform.system()} {platform.machine()},"
        f" {os.cpu_count()} CPUs; display {args.display} (to /dev/null),"
        f" report {'serialised to /dev/null' if args.report else 'off'};"
        f" {args.repeat} repeat(s) per case, each in a fresh process"
    )
    print(
        "wall = perf_counter around the measured section; CPU = process_time (user+sys)"
        " of that section / N.\npeak RSS = ru_maxrss of the child process (interpreter and"
        " imports included); +RSS = growth of that peak during the measured section;\n"
        "GC ms = wall time of the cyclic garbage collector inside the section (gc.callbacks)."
    )
    summaries: dict[int, dict[str, Any]] = {}
    raw: dict[int, dict[str, list[dict[str, Any]]]] = {}
    with tempfile.TemporaryDirectory(prefix="agentrun-bench-") as folder:
        for n in args.n:
            paradigm = write_paradigm(Path(folder), n, args.latency)
            samples: dict[str, list[dict[str, Any]]] = {case: [] for case in CHILD_CASES}
            for _ in range(args.repeat):
                for case in CHILD_CASES:
                    samples[case].append(run_child(args, case, n, paradigm))
            raw[n] = samples
            summaries[n] = summarise(samples, n, args.report)
            print_table(n, summaries[n], args.report)

    targets = evaluate_targets(summaries, args.latency)
    print(f"\ntargets at N = {TARGET_N:,} (medians):")
    for target in targets:
        print(f"  {target['verdict']:<4}  {target['text']}: {target['detail']}")

    if args.json:
        document = {
            "config": {
                "n": args.n,
                "repeat": args.repeat,
                "latency_s": args.latency,
                "display": args.display,
                "report": args.report,
            },
            "environment": {
                "agentrun": agentrun.__version__,
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
            },
            "measured": {
                "wall_s": "time.perf_counter around the measured section",
                "cpu_us_per_agent": "time.process_time (user+sys) of that section, / N",
                "peak_rss_mib": "ru_maxrss of the fresh child process, imports included",
                "rss_growth_mib": "growth of ru_maxrss during the measured section",
            },
            "results": {str(n): summaries[n] for n in args.n},
            "samples": {str(n): raw[n] for n in args.n},
            "targets": targets,
        }
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")

    failed = any(target["verdict"] == "FAIL" for target in targets)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
