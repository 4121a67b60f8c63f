"""A python agent for the race test: it wins once the loser has written its pids."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def wait_for_file(prompt: str, context: dict[str, Any]) -> str:
    """Return once the file named by ``vars.pidfile`` holds two pids (at most 20 s)."""
    path = Path(context["vars"]["pidfile"])
    for _ in range(2000):
        if path.exists() and len(path.read_text().split()) == 2:
            return "done"
        time.sleep(0.01)
    raise TimeoutError("the loser never started")


def block(prompt: str) -> str:
    """Block the calling thread for ``prompt`` seconds, ignoring any cancellation."""
    time.sleep(float(prompt))
    return "woke up"
