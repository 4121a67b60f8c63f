"""Cancelled runs leave nothing behind: no connection, child, task or file descriptor.

Each scenario runs in this process against the real local HTTP server (its own child
process) with 1,000 HTTP agents and 100 command agents, ends by cancellation (a
deadline, a competitor that won, an interrupt), and then counts what is left.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer

from agentrun import api

HTTP_AGENTS = 1000
COMMAND_AGENTS = 100


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0) as srv:
        yield srv


def _paradigm(
    tmp_path: Path, server: FakeLLMServer, pattern: str, extra: dict[str, object]
) -> Path:
    agents: dict[str, object] = {
        f"h{i}": {"provider": "llm", "model": "m;hang"} for i in range(HTTP_AGENTS)
    }
    sleep = [sys.executable, "-c", "import time; time.sleep(60)"]
    agents.update(
        {f"c{i}": {"provider": "command", "command": sleep} for i in range(COMMAND_AGENTS)}
    )
    document = {
        "pattern": pattern,
        "input": "hi",
        "providers": {
            "llm": {
                "type": "openai",
                "base_url": server.openai_url,
                "api_key": "sk-test",
                "max_concurrency": HTTP_AGENTS,
            }
        },
        "defaults": {"retries": 0},
        "agents": agents,
        **extra,
    }
    path = tmp_path / f"{pattern}.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML
    return path


def _open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def _children() -> set[int]:
    found: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        text = Path(f"/proc/self/task/{task}/children").read_text()
        found.update(int(pid) for pid in text.split())
    return found


def _connections_to(port: int) -> int:
    """This process's TCP connections to ``port`` (whatever their state but LISTEN)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[9] in inodes:
                count += 1
    return count


async def _run_then_count_tasks(
    path: Path, server: FakeLLMServer, interrupt: bool
) -> tuple[str, int]:
    graph = api.compile_paradigm(path, api.RunOptions())
    run = asyncio.ensure_future(api.run_graph(graph, api.RunOptions(), show=False))
    if interrupt:  # once every request is in flight
        # No event tells us: the server's count is polled over HTTP.
        while (await asyncio.to_thread(server.stats))["in_flight"] < HTTP_AGENTS:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        run.cancel()  # what SIGINT does to the run's task
    try:
        status = (await run).status.value
    except asyncio.CancelledError:
        status = "cancelled"
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    return status, len(pending)


# Starting 1,000 connections and 100 programs takes a second or two on a busy machine:
# the deadline and the winner leave time for the crowd to be there when they strike.
SCENARIOS = {
    "deadline": ("independent", {"deadline": "4s"}, False, "failed"),
    "race": (
        "competitive",
        {"agents": {"winner": {"provider": "mock", "output": "first", "latency": "4s"}}},
        False,
        "passed",
    ),
    "interrupt": ("independent", {}, True, "interrupted"),
}


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("pattern", "extra", "interrupt", "status"), SCENARIOS.values(), ids=list(SCENARIOS)
)
def test_a_cancelled_run_leaves_nothing_behind(
    tmp_path: Path,
    server: FakeLLMServer,
    pattern: str,
    extra: dict[str, object],
    interrupt: bool,
    status: str,
) -> None:
    path = _paradigm(tmp_path, server, pattern, {k: v for k, v in extra.items() if k != "agents"})
    if "agents" in extra:  # the race's winner joins the hanging crowd
        document = json.loads(path.read_text(encoding="utf-8"))
        document["agents"].update(extra["agents"])
        path.write_text(json.dumps(document), encoding="utf-8")
    server.reset()
    assert server.port is not None
    connections_before = _connections_to(server.port)  # the fixture's own admin client
    children_before = _children()
    fds_before = _open_fds()
    outcome, pending = asyncio.run(_run_then_count_tasks(path, server, interrupt))
    assert outcome == status
    assert pending == 0
    assert _connections_to(server.port) == connections_before
    assert _children() == children_before
    assert _open_fds() == fds_before
    stats = server.stats()
    assert stats["peak_in_flight"] >= HTTP_AGENTS // 2, "the crowd was not there to cancel"
    deadline = time.monotonic() + 5  # the server hears of each abort a moment later
    while stats["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.05)
        stats = server.stats()
    assert stats["in_flight"] == 0
