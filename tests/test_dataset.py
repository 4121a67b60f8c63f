"""Dataset runs through the real command line: cases, results, thresholds, cache, resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fake_llm_server import FakeLLMServer

PARADIGM = """\
pattern: independent
imperatives:
  right:
    equals: "{{ vars.expected }}"
agents:
  bot:
    provider: mock
    output: "{{ input }}"
    imperatives: [right]
"""


def _run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentrun", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _write(tmp_path: Path, cases: list[dict[str, object]]) -> None:
    (tmp_path / "p.yaml").write_text(PARADIGM)
    (tmp_path / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))


def test_cases_results_and_exit_code(tmp_path: Path) -> None:
    _write(
        tmp_path,
        [
            {"id": "ok", "input": "hi", "vars": {"expected": "hi"}},
            {"id": "bad", "input": "bye", "vars": {"expected": "hi"}},
        ],
    )
    proc = _run(
        "run", "p.yaml", "--cases", "cases.jsonl", "--results", "r.jsonl",
        "--report", "rep.json", "--display", "plain", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert "paradigm_sha256" in lines[0]
    statuses = {line["id"]: line["status"] for line in lines[1:]}
    assert statuses == {"ok": "passed", "bad": "failed"}
    report = json.loads((tmp_path / "rep.json").read_text())
    assert report["summary"]["pass_rate"] == 0.5
    assert report["summary"]["failure_reasons"][0]["examples"] == ["bad"]
    proc = _run("run", "p.yaml", "--cases", "cases.jsonl", "--pass-rate", "0.5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bad_case_file_reports_every_problem_and_runs_nothing(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PARADIGM)
    (tmp_path / "cases.jsonl").write_text(
        '{"input": "a", "vars": {"expected": "a"}}\n{not json\n{"input": "b"}\n'
    )
    proc = _run("run", "p.yaml", "--cases", "cases.jsonl", "--results", "r.jsonl", cwd=tmp_path)
    assert proc.returncode == 2
    assert "cases.jsonl:2: invalid JSON:" in proc.stderr
    assert "cases.jsonl:3: case has no 'expected' (used at p.yaml:4:13)" in proc.stderr
    assert not (tmp_path / "r.jsonl").exists()


def test_csv_from_stdin_with_var_override(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PARADIGM)
    csv_text = "id,input,expected\nx,hello,hello\ny,other,hello\n"
    proc = _run(
        "run", "p.yaml", "--cases", "-", "--var", "expected=other", "--report", "-",
        "--display", "quiet", cwd=tmp_path, stdin=csv_text,
    )  # fmt: skip
    report = json.loads(proc.stdout[: proc.stdout.rindex("}") + 1])
    assert report["summary"]["cases"]["passed"] == 1  # --var wins over the case's value
    assert report["summary"]["failure_reasons"][0]["examples"] == ["x"]


def test_cache_hits_skip_the_server_and_resume_reruns_only_failures(tmp_path: Path) -> None:
    with FakeLLMServer() as server:
        (tmp_path / "p.yaml").write_text(
            "pattern: independent\n"
            "agents:\n  bot:\n    provider: openai\n"
            f"    base_url: {server.openai_url}\n    model: m\n"
        )
        cases = [{"id": str(i), "input": f"question {i}"} for i in range(4)]
        (tmp_path / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
        args = ("run", "p.yaml", "--cases", "cases.jsonl", "--cache", "--display", "quiet")
        # Two processes share the cache at once; both must finish.
        first = subprocess.Popen([sys.executable, "-m", "agentrun", *args], cwd=tmp_path)
        second = _run(*args, "--report", "a.json", cwd=tmp_path)
        assert first.wait(timeout=120) == 0
        assert second.returncode == 0, second.stderr
        asked = server.stats()["completed"]
        assert 4 <= asked <= 8
        third = _run(*args, "--report", "b.json", "--results", "r.jsonl", cwd=tmp_path)
        assert third.returncode == 0, third.stderr
        assert server.stats()["completed"] == asked  # every reply came from the cache
        report = json.loads((tmp_path / "b.json").read_text())
        assert report["summary"]["cache"]["hits"] == 4
        resumed = _run(
            "run", "p.yaml", "--cases", "cases.jsonl", "--resume", "r.jsonl",
            "--display", "quiet", cwd=tmp_path,
        )  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        assert server.stats()["completed"] == asked  # nothing failed: nothing rerun
        stats = _run("cache", "stats", "p.yaml", cwd=tmp_path)
        assert json.loads(stats.stdout)["entries"] == 4


def test_compare_finds_a_regression(tmp_path: Path) -> None:
    _write(tmp_path, [{"id": "a", "input": "x", "vars": {"expected": "x"}}])
    assert _run("run", "p.yaml", "--cases", "cases.jsonl", "--results", "base.jsonl",
                cwd=tmp_path).returncode == 0  # fmt: skip
    _write(tmp_path, [{"id": "a", "input": "x", "vars": {"expected": "y"}}])
    assert _run("run", "p.yaml", "--cases", "cases.jsonl", "--results", "new.jsonl",
                cwd=tmp_path).returncode == 1  # fmt: skip
    proc = _run("compare", "base.jsonl", "new.jsonl", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["regressions"] == ["a"]
