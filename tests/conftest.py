"""Shared fixtures: write a paradigm to a temporary folder and run it through the real API."""

from __future__ import annotations

import io
import json
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# An unexpected exception inside an agent fails only that agent for users; in the
# tests it must surface, so a bug can never pass as an ordinary failure.
os.environ.setdefault("AGENTRUN_DEBUG", "1")

from agentrun import api
from agentrun.results import AgentResult, RunResult

# The example paradigms wait as long as real agents would (paradigms/pace.py); the
# suite runs them at full speed. Set here so that subprocesses inherit it too.
os.environ["EXAMPLE_PACE"] = "0"
os.environ["EXAMPLE_LLM_LATENCY"] = "0s"


class Ran:
    """A finished run: its result, the JSON report, the event log and what it printed."""

    def __init__(
        self, result: RunResult, report: dict[str, Any], events: list[dict[str, Any]], out: str
    ):
        self.result = result
        self.report = report
        self.events = events
        self.out = out

    def agent(self, instance: str) -> AgentResult:
        """The result of one top-level agent instance."""
        return next(a for a in self.result.agents if a.instance == instance)

    def statuses(self) -> dict[str, str]:
        """Instance -> status, for every top-level agent."""
        return {a.instance: a.status.value for a in self.result.agents}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--integration",
        action="store_true",
        help="also run tests marked integration (a real model server; see `make integration`)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--integration"):
        return
    skip = pytest.mark.skip(reason="needs --integration (run `make integration`)")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def write_paradigm(tmp_path: Path) -> Callable[[str], Path]:
    """Write dedented YAML to ``paradigm.yaml`` in a temporary folder and return its path."""

    def write(text: str, name: str = "paradigm.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_paradigm(write_paradigm: Callable[[str], Path], tmp_path: Path) -> Callable[..., Ran]:
    """Write a paradigm, run it with a quiet display, and return what it produced."""

    def run(text: str, **options: Any) -> Ran:
        path = write_paradigm(text)
        report = tmp_path / "report.json"
        events = tmp_path / "events.jsonl"
        out = io.StringIO()
        debug = "AGENTRUN_DEBUG" in os.environ  # the tests surface provider bugs
        opts = api.RunOptions(
            report=str(report), events=str(events), display="plain", debug=debug, **options
        )
        result = api.run(path, opts, stdout=out, stderr=out, env={})
        return Ran(
            result,
            json.loads(report.read_text()),
            [json.loads(line) for line in events.read_text().splitlines()],
            out.getvalue(),
        )

    return run
