"""Display benchmark: does watching a run slow it down?

N ``mock`` agents (default 1,000 and 10,000, each with a 100 ms latency) run in one
``independent`` paradigm through ``agentrun run`` as a child process whose
standard output and error are a pseudo-terminal, once per display:

* ``live``: the Rich live view, redrawn in place (what a person at a terminal sees);
* ``plain``: one line per event, written to the same pseudo-terminal;
* ``quiet``: only the final summary (the floor: the same run with nothing to show).

The parent drains the terminal as a terminal emulator would and measures the child
as a user pays for it: wall time from spawn to exit, and CPU time (user + system)
from the child's resource usage (``wait4``). Each case is repeated (``--repeat``,
default 3), repeats interleaved across displays to spread machine noise, and the
median is printed per agent along with its ratio to ``quiet``.

Usage::

    python bench/bench_display.py [--n 1000 10000] [--repeat 3] [--latency 0.1]
                                  [--displays live plain quiet] [--json PATH]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROWS, COLUMNS = 50, 120
"""The pseudo-terminal's size: a common full-screen terminal window."""
DISPLAYS = ("live", "plain", "quiet")
BASELINE = "quiet"


@dataclass(frozen=True, slots=True)
class Sample:
    """One run of the child."""

    display: str
    n: int
    wall_s: float
    cpu_s: float
    bytes_out: int
    exit_code: int


def write_paradigm(folder: Path, n: int, latency: float) -> Path:
    """N mock agents with ``latency``, pattern independent."""
    path = folder / f"display_{n}.yaml"
    lines = [f"name: display-{n}", "pattern: independent", "input: benchmark", "agents:"]
    lines += [f"  a{i:06d}: {{provider: mock, latency: {latency!r}}}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def child_env() -> dict[str, str]:
    """The environment of a person's terminal: no CI, colour allowed."""
    skip = {"CI", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "GITHUB_STEP_SUMMARY"}
    env = {key: value for key, value in os.environ.items() if key not in skip}
    env["TERM"] = "xterm-256color"
    return env


def run_on_pty(paradigm: Path, display: str, n: int) -> Sample:
    """Run ``agentrun run`` with its output on a fresh pseudo-terminal and measure it."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    command = [sys.executable, "-m", "agentrun", "run", str(paradigm), "--display", display]
    began = time.perf_counter()
    child = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=child_env(),
        start_new_session=True,
    )
    os.close(slave)
    received = 0
    tail = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if child.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has gone
                break
            if not chunk:
                break
            received += len(chunk)
            tail = (tail + chunk)[-4000:]
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - began
    finally:
        os.close(master)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        print(tail.decode(errors="replace"), file=sys.stderr)
    return Sample(
        display=display,
        n=n,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        bytes_out=received,
        exit_code=child.returncode,
    )


def summarise(
    samples: list[Sample], n: int, displays: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Medians per display, per agent, and as ratios to the baseline."""
    table: dict[str, dict[str, float]] = {}
    for display in displays:
        mine = [s for s in samples if s.display == display and s.n == n]
        table[display] = {
            "wall_s": statistics.median(s.wall_s for s in mine),
            "cpu_s": statistics.median(s.cpu_s for s in mine),
            "bytes_out": statistics.median(s.bytes_out for s in mine),
        }
    base = table.get(BASELINE)
    for figures in table.values():
        figures["wall_us_per_agent"] = figures["wall_s"] / n * 1e6
        figures["cpu_us_per_agent"] = figures["cpu_s"] / n * 1e6
        if base is not None:
            figures["wall_ratio"] = figures["wall_s"] / base["wall_s"]
            figures["cpu_ratio"] = figures["cpu_s"] / base["cpu_s"]
    return table


def print_table(n: int, repeat: int, table: dict[str, dict[str, float]]) -> None:
    print(f"\nN = {n:,} agents, medians of {repeat} (child process, output on a pty)")
    print(
        f"  {'display':<8} {'wall':>8} {'CPU':>8} {'wall/agent':>11} {'CPU/agent':>10}"
        f" {'wall÷quiet':>11} {'CPU÷quiet':>10} {'output':>10}"
    )
    for display, figures in table.items():
        print(
            f"  {display:<8} {figures['wall_s']:>7.2f}s {figures['cpu_s']:>7.2f}s"
            f" {figures['wall_us_per_agent']:>9.0f}µs {figures['cpu_us_per_agent']:>8.0f}µs"
            f" {figures.get('wall_ratio', float('nan')):>10.2f}x"
            f" {figures.get('cpu_ratio', float('nan')):>9.2f}x"
            f" {figures['bytes_out'] / 1024:>8.1f}KiB"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--displays", nargs="+", choices=DISPLAYS, default=list(DISPLAYS))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"python {sys.version.split()[0]}, latency {args.latency * 1000:.0f} ms per agent")
    results: dict[str, object] = {"latency_s": args.latency, "repeat": args.repeat, "n": {}}
    with tempfile.TemporaryDirectory() as folder:
        for n in args.n:
            paradigm = write_paradigm(Path(folder), n, args.latency)
            samples = []
            for _ in range(args.repeat):
                for display in args.displays:
                    sample = run_on_pty(paradigm, display, n)
                    if sample.exit_code != 0:
                        print(f"  {display}: exit code {sample.exit_code}", file=sys.stderr)
                        return 1
                    samples.append(sample)
            table = summarise(samples, n, args.displays)
            print_table(n, args.repeat, table)
            results["n"][str(n)] = {  # type: ignore[index]
                "medians": table,
                "samples": [asdict(s) for s in samples],
            }
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
