"""Dataset benchmark: N cases of one ``mock`` agent, run as a user runs them, against a bare floor.

Two kinds of whole process are measured, each started fresh for every repeat:

* **bare**: a ``python -c`` that does the same N sleeps of ``latency`` seconds with the
  same number in flight (a pool refilled as each sleep ends, as the local executor
  does); the floor any asyncio program pays for that work, interpreter start included;
* **startup**: ``agentrun --version``, the interpreter and agentrun's imports alone, shown
  spread over the N cases so that the share of the fixed cost is visible;
* **agentrun**: ``agentrun run p.yaml --cases cases.jsonl --display quiet --report r.json
  --case-concurrency C``, the console entry point a user types, from start to exit:
  imports, loading, reading the cases, the run, the aggregate report.

Both are measured from the outside, through ``os.wait4``: wall time from spawn to exit,
CPU as the child's user + system time, and the child's ``ru_maxrss`` as its peak RSS.
So the figures are what the process cost, imports and all, not a section of it.

Targets (``--check`` turns a FAIL into exit code 1): at 10,000 cases, agentrun's CPU per
case at most 3x the bare floor's; at 100,000 cases, agentrun's peak RSS under 300 MB.

Each case is repeated (``--repeat``, default 3, interleaved) and the median with min
and max is printed; the large-N memory run repeats ``--rss-repeat`` times (default 1).

Usage::

    python bench/bench_dataset.py [--n 10000] [--rss-n 100000] [--repeat 3]
        [--rss-repeat 1] [--latency 0.01] [--case-concurrency 32] [--json PATH] [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from measure import median_range, spread

TARGET_N = 10_000
"""The case count the CPU target is stated for."""
TARGET_CPU_RATIO = 3.0
"""agentrun's CPU per case may be at most this multiple of the bare floor's."""
TARGET_RSS_N = 100_000
"""The case count the memory target is stated for."""
TARGET_RSS_MB = 300.0
"""agentrun's peak RSS at ``TARGET_RSS_N`` cases must stay under this (10**6 bytes)."""

BARE = """\
import asyncio, sys

async def main(n, latency, concurrency):
    pending, started = set(), 0
    while started < n or pending:
        while started < n and len(pending) < concurrency:
            pending.add(asyncio.create_task(asyncio.sleep(latency)))
            started += 1
        _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    return started

done = asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])))
assert done == int(sys.argv[1]), done
"""
"""The floor: N sleeps, ``concurrency`` in flight, refilled as each ends."""


STARTUP = [sys.executable, "-m", "agentrun", "--version"]
"""What agentrun pays before any case: the interpreter and its imports (the startup row,
spread over N cases to compare it with the per-case figures)."""


def write_inputs(folder: Path, n: int, latency: float) -> tuple[Path, Path]:
    """The paradigm (one mock agent sleeping ``latency``) and a JSONL file of N cases."""
    paradigm = folder / "p.yaml"
    paradigm.write_text(
        "name: bench-dataset\npattern: independent\nagents:\n"
        f"  bot: {{provider: mock, latency: {latency!r}, output: '{{{{ input }}}}'}}\n",
        encoding="utf-8",
    )
    cases = folder / f"cases_{n}.jsonl"
    with cases.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(json.dumps({"id": f"c{i:06d}", "input": f"question {i}"}) + "\n")
    return paradigm, cases


def agentrun_command(paradigm: Path, cases: Path, report: Path, concurrency: int) -> list[str]:
    """``agentrun run`` as a user types it (through this interpreter's console module)."""
    return [
        sys.executable, "-m", "agentrun", "run", str(paradigm), "--cases", str(cases),
        "--display", "quiet", "--report", str(report), "--case-concurrency", str(concurrency),
    ]  # fmt: skip


def measure(command: list[str], cwd: Path) -> dict[str, float]:
    """Run ``command`` to its end; its wall seconds, CPU seconds and peak RSS (MiB)."""
    began = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    stderr = child.stderr.read() if child.stderr else ""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])} ... exited {child.returncode}:\n{stderr}")
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    rss_kib = usage.ru_maxrss / 1024 if sys.platform == "darwin" else usage.ru_maxrss
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": rss_kib / 1024,
    }


def run_agentrun(folder: Path, paradigm: Path, cases: Path, n: int, conc: int) -> dict[str, float]:
    """One agentrun process over N cases; checks the report says every case passed."""
    report = folder / "r.json"
    report.unlink(missing_ok=True)
    sample = measure(agentrun_command(paradigm, cases, report, conc), folder)
    counts = json.loads(report.read_text(encoding="utf-8"))["summary"]["cases"]
    if counts["passed"] != n:
        raise RuntimeError(f"agentrun: {counts} of {n} cases")
    return sample


def run_bare(folder: Path, n: int, latency: float, conc: int) -> dict[str, float]:
    """One bare-floor process: the same sleeps with the same concurrency."""
    return measure([sys.executable, "-c", BARE, str(n), repr(latency), str(conc)], folder)


def summarise(samples: list[dict[str, float]], n: int) -> dict[str, Any]:
    """Medians with min and max of one case's samples."""
    return {
        "wall_s": spread([s["wall_s"] for s in samples]),
        "cpu_us_per_case": spread([s["cpu_s"] / n * 1e6 for s in samples]),
        "peak_rss_mib": spread([s["peak_rss_mib"] for s in samples]),
    }


def print_rows(title: str, rows: dict[str, dict[str, Any]]) -> None:
    """One table: a line per measured kind of process."""
    print(f"\n{title}")
    print(
        f"  {'process':<12} {'wall s median [min-max]':<26} {'CPU us/case median [min-max]':<30}"
        f" {'peak RSS MiB median [min-max]'}"
    )
    for name, figures in rows.items():
        print(
            f"  {name:<12} {median_range(figures['wall_s'], '.2f'):<26}"
            f" {median_range(figures['cpu_us_per_case'], '.1f'):<30}"
            f" {median_range(figures['peak_rss_mib'], '.1f')}"
        )


def verdicts(cpu: dict[str, Any] | None, rss: dict[str, Any] | None) -> list[dict[str, Any]]:
    """PASS, FAIL or SKIP for the two targets."""
    found: list[dict[str, Any]] = []
    text = f"CPU per case at {TARGET_N:,} cases <= {TARGET_CPU_RATIO:g}x bare"
    if cpu is None:
        found.append({"key": "cpu", "text": text, "verdict": "SKIP", "detail": "N not run"})
    else:
        ours = cpu["agentrun"]["cpu_us_per_case"]["median"]
        floor = max(cpu["bare"]["cpu_us_per_case"]["median"], 1e-9)
        ratio = ours / floor
        found.append(
            {
                "key": "cpu",
                "text": text,
                "verdict": "PASS" if ratio <= TARGET_CPU_RATIO else "FAIL",
                "value": ratio,
                "detail": f"{ours:.1f} us vs {floor:.1f} us = {ratio:.2f}x",
            }
        )
    text = f"peak RSS at {TARGET_RSS_N:,} cases < {TARGET_RSS_MB:g} MB"
    if rss is None:
        found.append({"key": "rss", "text": text, "verdict": "SKIP", "detail": "N not run"})
    else:
        mib = rss["agentrun"]["peak_rss_mib"]["max"]
        megabytes = mib * 1024 * 1024 / 1e6
        found.append(
            {
                "key": "rss",
                "text": text,
                "verdict": "PASS" if megabytes < TARGET_RSS_MB else "FAIL",
                "value": megabytes,
                "detail": f"{megabytes:.0f} MB ({mib:.0f} MiB), the largest of the repeats",
            }
        )
    return found


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="agentrun dataset benchmark: N cases of one mock agent vs a bare asyncio floor."
    )
    parser.add_argument("--n", type=int, default=TARGET_N, help="cases of the CPU comparison")
    parser.add_argument("--rss-n", type=int, default=TARGET_RSS_N, help="cases of the RSS run")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per CPU case")
    parser.add_argument("--rss-repeat", type=int, default=1, help="fresh processes of the RSS run")
    parser.add_argument("--latency", type=float, default=0.01, help="seconds each agent sleeps")
    parser.add_argument(
        "--case-concurrency", type=int, default=32, help="cases in flight (agentrun and bare)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a target fails (default: always 0)"
    )
    args = parser.parse_args(argv)
    if min(args.n, args.rss_n, args.repeat, args.case_concurrency) < 1 or args.rss_repeat < 0:
        parser.error("counts must be positive (--rss-repeat 0 skips the RSS run)")
    if args.latency < 0:
        parser.error("--latency must not be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run every case, print the figures and the targets; return the exit code."""
    args = parse_args(argv)
    import agentrun

    conc = args.case_concurrency
    print(
        f"agentrun {agentrun.__version__} dataset benchmark: one mock agent sleeping"
        f" {args.latency * 1000:g} ms per case, {conc} cases in flight, vs a bare asyncio"
        " pool of the same sleeps"
    )
    print(
        f"python {platform.python_version()} on {platform.system()} {platform.machine()},"
        f" {os.cpu_count()} CPUs; {args.repeat} repeat(s) per case, each a fresh process"
    )
    print(
        "every figure is of the whole process, from the outside (os.wait4): wall = spawn to"
        " exit,\nCPU = user+sys of the child / N, peak RSS = ru_maxrss of the child"
        " (interpreter and imports included)."
    )
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="agentrun-bench-dataset-") as name:
        folder = Path(name)
        paradigm, cases = write_inputs(folder, args.n, args.latency)
        samples: dict[str, list[dict[str, float]]] = {"bare": [], "agentrun": [], "startup": []}
        for _ in range(args.repeat):
            samples["bare"].append(run_bare(folder, args.n, args.latency, conc))
            samples["agentrun"].append(run_agentrun(folder, paradigm, cases, args.n, conc))
            samples["startup"].append(measure(STARTUP, folder))
        cpu = {kind: summarise(found, args.n) for kind, found in samples.items()}
        results[str(args.n)] = {"rows": cpu, "samples": samples}
        print_rows(f"N = {args.n:,} cases", cpu)
        ratio = cpu["agentrun"]["cpu_us_per_case"]["median"] / max(
            cpu["bare"]["cpu_us_per_case"]["median"], 1e-9
        )
        print(f"  ratio agentrun/bare, CPU per case: {ratio:.2f}x")
        beyond = (
            cpu["agentrun"]["cpu_us_per_case"]["median"]
            - cpu["startup"]["cpu_us_per_case"]["median"]
        )
        print(
            f"  agentrun without its startup (the startup row): {beyond:.1f} us/case,"
            f" {beyond / max(cpu['bare']['cpu_us_per_case']['median'], 1e-9):.2f}x bare"
        )
        rss = None
        if args.rss_repeat:
            paradigm, cases = write_inputs(folder, args.rss_n, args.latency)
            big = [
                run_agentrun(folder, paradigm, cases, args.rss_n, conc)
                for _ in range(args.rss_repeat)
            ]
            rss = {"agentrun": summarise(big, args.rss_n)}
            results[str(args.rss_n)] = {"rows": rss, "samples": {"agentrun": big}}
            print_rows(f"N = {args.rss_n:,} cases (memory)", rss)

    targets = verdicts(
        cpu if args.n == TARGET_N else None, rss if args.rss_n == TARGET_RSS_N else None
    )
    print("\ntargets (medians; RSS: the largest repeat):")
    for target in targets:
        print(f"  {target['verdict']:<4}  {target['text']}: {target['detail']}")
    if args.json:
        document = {
            "config": {k: getattr(args, k) for k in ("n", "rss_n", "repeat", "rss_repeat")}
            | {"latency_s": args.latency, "case_concurrency": conc},
            "environment": {
                "agentrun": agentrun.__version__,
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
            },
            "results": results,
            "targets": targets,
        }
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    failed = any(target["verdict"] == "FAIL" for target in targets)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
