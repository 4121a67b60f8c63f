"""A key the servers and programs echo back never reaches any output, not even in part.

The key straddles every place where text is cut short (an error message, a body
preview, a stderr tail, a check message) and arrives split across streamed pieces.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer

KEY = "sk-canary-9f3b27c1d4e5a6b7c8d9e0f1a2b3c4d5"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0) as srv:
        yield srv


def fragments(text: str, size: int = 10) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def escaped(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def paradigm(server: FakeLLMServer) -> str:
    key = "${CANARY_API_KEY}"
    # Each key sits across a cut: 300 characters of an error, 80 of a body preview,
    # 500 of a stderr tail, 60 of a check message, and a 7-character stream piece.
    status = f"m;status=500;error={escaped('e' * 285)}{key}"
    malformed = f"m;malformed;error={escaped('b' * 70)}{key}"
    streamed = f"m;piece=7;reply={escaped('here it is: ')}{key}{escaped(' done')}"
    stderr = f"import sys; sys.stderr.write('x' * 20 + {key!r} + 'y' * 470); sys.exit(1)"
    return f"""
pattern: independent
providers:
  llm: {{type: openai, base_url: "{server.openai_url}", api_key: "{key}"}}
  live: {{type: openai, base_url: "{server.openai_url}", api_key: "{key}", stream: true}}
  claude: {{type: anthropic, base_url: "{server.base_url}", api_key: "{key}"}}
imperatives:
  exact: {{equals: nothing like it}}
agents:
  status: {{provider: llm, model: "{status}"}}
  claude_status: {{provider: claude, model: "{status}"}}
  malformed: {{provider: llm, model: "{malformed}"}}
  streamed: {{provider: live, model: "{streamed}"}}
  stderr: {{command: [{json.dumps(sys.executable)}, -c, "{stderr}"]}}
  checked: {{output: "{"c" * 40}{key}", imperatives: [exact]}}
"""


def test_the_key_never_appears_in_any_output(server: FakeLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "canary.yaml"
    path.write_text(paradigm(server))
    summary = tmp_path / "summary.md"
    env = {**os.environ, "CANARY_API_KEY": KEY, "GITHUB_STEP_SUMMARY": str(summary)}
    outputs = {name: tmp_path / name for name in ("report.json", "events.jsonl", "junit.xml")}
    flags = ("--report", "report.json", "--events", "events.jsonl", "--junit", "junit.xml")
    ran = subprocess.run(
        [sys.executable, "-m", "agentrun", "run", str(path), "--display", "plain"]
        + [str(outputs[f]) if f in outputs else f for f in flags],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    texts = {"stdout": ran.stdout, "stderr": ran.stderr, "summary": summary.read_text()}
    texts |= {name: file.read_text() for name, file in outputs.items()}
    report = json.loads(texts["report.json"])
    errors = {a["name"]: a["error"] or "" for a in report["agents"]}
    # Each path was taken: the errors carry text from around the key, masked.
    assert errors["status"].startswith("provider 'llm': HTTP 500: eeee")
    assert errors["claude_status"].startswith("provider 'claude': HTTP 500: eeee")
    assert "reply is not JSON (HTTP 200): 'bbbb" in errors["malformed"]
    assert errors["stderr"].startswith("command exited with status 1: ")
    assert "got 'cccc" in errors["checked"]
    streamed = [
        e for e in map(json.loads, texts["events.jsonl"].splitlines()) if e["event"] == "streamed"
    ]
    assert "".join(e["delta"] for e in streamed) == "here it is: *** done"
    for name, text in texts.items():
        leaked = sorted(f for f in fragments(KEY) if f in text)
        assert not leaked, f"{name} shows part of the key: {leaked[:3]}"
    assert "***" in texts["report.json"]


@pytest.mark.parametrize("source", ["env-file", "dotenv", "literal", "default"])
def test_the_key_never_appears_whatever_its_source(
    server: FakeLLMServer, tmp_path: Path, source: str
) -> None:
    """The same key from every other place a value can come from, HTML report included."""
    text = paradigm(server)
    env = {k: v for k, v in os.environ.items() if k != "CANARY_API_KEY"}
    extra: list[str] = []
    if source == "env-file":
        (tmp_path / "secrets.env").write_text(f"CANARY_API_KEY={KEY}\n")
        extra = ["--env-file", str(tmp_path / "secrets.env")]
    elif source == "dotenv":
        (tmp_path / ".env").write_text(f"CANARY_API_KEY={KEY}\n")
    elif source == "literal":
        text = text.replace("${CANARY_API_KEY}", KEY)
    else:
        text = text.replace("${CANARY_API_KEY}", "${CANARY_UNSET:-" + KEY + "}")
    path = tmp_path / "canary.yaml"
    path.write_text(text)
    outputs = {name: tmp_path / name for name in ("report.json", "events.jsonl", "page.html")}
    ran = subprocess.run(
        [sys.executable, "-m", "agentrun", "run", str(path), "--display", "plain",
         "--report", str(outputs["report.json"]), "--events", str(outputs["events.jsonl"]),
         "--html", str(outputs["page.html"]), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )  # fmt: skip
    texts = {"stdout": ran.stdout, "stderr": ran.stderr}
    texts |= {name: file.read_text() for name, file in outputs.items()}
    assert ran.returncode in (1, 3), ran.stderr  # the key was there: the agents ran
    assert "***" in texts["report.json"]
    for name, written in texts.items():
        leaked = sorted(f for f in fragments(KEY) if f in written)
        assert not leaked, f"{source}: {name} shows part of the key: {leaked[:3]}"
