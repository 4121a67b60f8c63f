"""A real headless Chromium for the HTML report's tests: the DOM after the page's
script ran, a screenshot, and every console message (there should be none)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Console messages then reach stderr as "INFO:CONSOLE:<line>] "text", source: ...".
    "--enable-logging=stderr",
    "--v=0",
)


@dataclass(frozen=True)
class Page:
    """What Chromium made of a page."""

    dom: str
    console: list[str]


def chromium_path() -> str:
    """The Chromium binary, or a skip naming how to get it."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium on PATH (Debian: apt-get install -y chromium; .ci/run installs it)")


def open_page(
    binary: str, url: str, *, screenshot: Path | None = None, size: str = "1200,900"
) -> Page:
    """Load ``url`` headless; the DOM after its scripts ran and the console's lines."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        action = [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
        ran = subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}", *action, url],
            capture_output=True,
            text=True,
            timeout=50,
            check=False,
        )
    assert ran.returncode == 0, ran.stderr[-2000:]
    console = [line for line in ran.stderr.splitlines() if ":CONSOLE" in line]
    return Page(ran.stdout, console)
