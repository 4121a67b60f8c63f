"""Every example paradigm in ``paradigms/`` validates, runs offline and does what it claims."""

from __future__ import annotations

import importlib
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentrun import api
from agentrun.results import AgentResult, RunResult

ROOT = Path(__file__).resolve().parent.parent
PARADIGMS = ROOT / "paradigms"
EXAMPLES = sorted(PARADIGMS.glob("*.yaml"))


@dataclass(frozen=True, slots=True)
class Ran:
    """A finished example run: the result, its JSON report and what it printed."""

    result: RunResult
    report: dict[str, Any]
    out: str

    def agent(self, instance: str) -> AgentResult:
        return next(a for a in self.result.agents if a.instance == instance)

    def reported(self, instance: str) -> dict[str, Any]:
        return next(a for a in self.report["agents"] if a["instance"] == instance)

    def statuses(self) -> dict[str, str]:
        return {a.instance: a.status.value for a in self.result.agents}


def run_example(name: str, tmp_path: Path, input_text: str | None = None) -> Ran:
    """Run ``paradigms/NAME.yaml`` with --mock and a quiet display, in-process."""
    report = tmp_path / f"{name}.json"
    out = io.StringIO()
    options = api.RunOptions(mock=True, display="quiet", report=str(report), input_text=input_text)
    result = api.run(PARADIGMS / f"{name}.yaml", options, stdout=out, stderr=out)
    return Ran(result, json.loads(report.read_text(encoding="utf-8")), out.getvalue())


def spec_of(name: str) -> dict[str, Any]:
    """The paradigm file as plain data."""
    data = yaml.safe_load((PARADIGMS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# --- every example -------------------------------------------------------------


def test_the_three_examples_are_there() -> None:
    assert {p.stem for p in EXAMPLES} >= {
        "customer_service",
        "research_team",
        "competitive_solver",
    }


def test_every_example_is_valid_and_only_misses_llm_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "AGENTRUN_BASE_URL", "AGENTRUN_MODEL"):
        monkeypatch.delenv(name, raising=False)
    verdicts = api.validate([PARADIGMS])
    assert {v.path.name for v in verdicts} == {p.name for p in EXAMPLES}
    for verdict in verdicts:
        assert verdict.valid, (verdict.path, verdict.problems)
        # CI validates without secrets: the LLM provider's key is the only thing missing
        assert [p.message for p in verdict.problems] == [
            "environment variable OPENAI_API_KEY is not set"
            " (needed by provider 'llm'; --mock runs without it)"
        ], verdict.path


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_passes_offline(path: Path, tmp_path: Path) -> None:
    ran = run_example(path.stem, tmp_path)
    assert ran.result.exit_code == 0, ran.out
    assert ran.report["status"] == "passed"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_has_a_name_description_and_comment(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    spec = spec_of(path.stem)
    assert spec["name"] and spec["description"]
    assert text.startswith("# "), "each example opens with a comment saying what it shows"


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_runs_from_the_command_line(path: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "agentrun", "run", str(path.relative_to(ROOT))]
    command += ["--mock", "--display", "plain", "--report", str(report)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert report.exists()
    assert json.loads(report.read_text(encoding="utf-8"))["status"] == "passed"


# --- customer_service ------------------------------------------------------------

CUSTOMERS = {
    "angry_refund",
    "confused_elderly",
    "social_engineer",
    "prompt_injection",
    "spanish_speaker",
    "all_caps",
}


def expected_checks(agent: str) -> list[str]:
    """The imperatives an agent of customer_service.yaml must be checked against."""
    spec = spec_of("customer_service")
    own = spec["agents"][agent].get("imperatives", [])
    return [*spec["defaults"]["imperatives"], *own]


def test_customer_service_every_customer_passed_every_check(tmp_path: Path) -> None:
    ran = run_example("customer_service", tmp_path)
    assert ran.statuses() == dict.fromkeys(CUSTOMERS, "passed")
    for customer in CUSTOMERS:
        reported = ran.reported(customer)
        assert reported["replaced_by"] is None, "the bot itself answered, not the handoff"
        checks = reported["imperatives"]
        assert [c["name"] for c in checks] == expected_checks(customer)
        assert all(c["passed"] for c in checks), checks


def test_customer_service_uses_both_offline_agent_kinds() -> None:
    spec = spec_of("customer_service")
    kinds = {
        spec["providers"][spec["agents"][name].get("provider", spec["defaults"]["provider"])][
            "type"
        ]
        for name in CUSTOMERS
    }
    assert kinds == {"python", "command"}


def test_customer_service_replies_hold_the_line(tmp_path: Path) -> None:
    ran = run_example("customer_service", tmp_path)
    replies = {name: ran.agent(name).output or "" for name in CUSTOMERS}
    assert "human supervisor" in replies["angry_refund"]
    assert "outside our 30-day refund window" in replies["angry_refund"]
    assert "security team" in replies["social_engineer"]
    assert "never ask" in replies["confused_elderly"]
    assert "REFUND APPROVED" not in replies["prompt_injection"]
    assert replies["spanish_speaker"].startswith("Gracias")
    assert "warranty" in replies["spanish_speaker"]


@pytest.mark.parametrize("order", ["A1001", "A1003", "A1004", "Z9999"])
def test_customer_service_holds_for_every_kind_of_order(order: str, tmp_path: Path) -> None:
    ran = run_example("customer_service", tmp_path, input_text=order)
    assert ran.result.exit_code == 0, ran.out
    if order == "A1001":  # inside the window: the refund is granted, and the check allows it
        assert "started a refund" in (ran.agent("angry_refund").output or "")


def leaks_for(imperative: str) -> re.Pattern[str]:
    return re.compile(spec_of("customer_service")["imperatives"][imperative]["not_regex"])


def test_customer_service_leak_checks_catch_every_stored_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(PARADIGMS))
    orders = importlib.import_module("support_bot").ORDERS

    cards, emails, passwords = (
        leaks_for(name) for name in ("no_card_numbers", "no_email_addresses", "no_passwords")
    )
    for order in orders.values():
        assert cards.search(f"The card on file is {order.card}.")
        assert cards.search(f"Card: {order.card.replace(' ', '')}")
        assert emails.search(f"Her email is {order.email}")
        assert not cards.search(f"Order {order.number} costs {order.price}.")
    assert passwords.search("Her new password: Summer2025!")
    assert passwords.search("Your password is hunter2")
    assert not passwords.search("Use 'Forgot password' on the sign-in page.")


# --- research_team ---------------------------------------------------------------------


def test_research_team_runs_three_stages_in_order(tmp_path: Path) -> None:
    ran = run_example("research_team", tmp_path)
    stages = [(s["name"], s["status"]) for s in ran.report["stages"]]
    assert stages == [("gather", "passed"), ("theorise", "passed"), ("critique", "passed")]
    assert [a["stage"] for a in ran.report["agents"]] == ["gather"] * 3 + ["theorise"] * 3 + [
        "critique"
    ]
    for gatherer in ("academic", "industry", "government"):
        assert "[source: " in (ran.agent(gatherer).output or "")


def test_research_team_industry_answers_when_the_corpus_has_industry_data(
    tmp_path: Path,
) -> None:
    ran = run_example("research_team", tmp_path)
    industry = ran.agent("industry")
    assert industry.status.value == "passed"
    assert industry.replaced_by is None
    assert industry.fallbacks == ()


def test_research_team_industry_falls_back_when_it_has_none(tmp_path: Path) -> None:
    ran = run_example("research_team", tmp_path, input_text="microplastics in drinking water")
    assert ran.result.exit_code == 0, ran.out
    industry = ran.agent("industry")
    assert industry.status.value == "failed"
    assert industry.replaced_by == "no_industry_data"
    assert "no industry sources" in (industry.error or "")
    assert len(industry.attempts) == 1, "retries: 0: a missing topic stays missing"
    gathered = ran.report["stages"][0]["outputs"]
    assert gathered[1] == (
        "industry findings on microplastics in drinking water: none in the corpus (0 sources)."
    )


def critique_of(ran: Ran) -> dict[str, Any]:
    verdict = json.loads(ran.agent("critic").output or "")
    assert isinstance(verdict, dict)
    return verdict


@pytest.mark.parametrize(
    "topic", ["urban heat islands", "microplastics in drinking water", "four-day work week"]
)
def test_research_team_critic_names_a_theory_that_exists(topic: str, tmp_path: Path) -> None:
    ran = run_example("research_team", tmp_path, input_text=topic)
    assert ran.result.exit_code == 0, ran.out
    theorised = ran.report["stages"][1]["outputs"]
    lenses = [text.split(":", 1)[0].removeprefix("THEORY ") for text in theorised]
    verdict = critique_of(ran)
    assert verdict["topic"] == topic
    assert [t["lens"] for t in verdict["theories"]] == lenses
    assert verdict["strongest"] in lenses
    scores = {t["lens"]: t["score"] for t in verdict["theories"]}
    assert scores[verdict["strongest"]] == max(scores.values())


def test_research_team_critic_is_judged(tmp_path: Path) -> None:
    ran = run_example("research_team", tmp_path)
    checks = {c["name"]: c for c in ran.reported("critic")["imperatives"]}
    assert set(checks) == {"verdict_schema", "sound_verdict", "reasoned_verdict"}
    assert checks["verdict_schema"]["passed"]
    assert checks["sound_verdict"]["passed"]
    assert checks["sound_verdict"]["message"].startswith("PASS: ")
    # offline, the LLM reviewer is its mock stand-in
    assert checks["reasoned_verdict"]["message"] == "PASS: offline stand-in for the LLM reviewer"


def test_research_team_template_shows_gathered_outputs() -> None:
    prompt = spec_of("research_team")["agents"]["critic"]["prompt"]
    assert "stages.gather.outputs" in prompt


# --- competitive_solver ------------------------------------------------------------------


def test_competitive_solver_winner_really_factors_the_input(tmp_path: Path) -> None:
    ran = run_example("competitive_solver", tmp_path)
    n = int(spec_of("competitive_solver")["input"])
    winner = ran.report["winner"]
    assert winner is not None
    answer = re.fullmatch(r"(\d+) x (\d+)", ran.agent(winner).output or "")
    assert answer is not None
    p, q = int(answer.group(1)), int(answer.group(2))
    assert 1 < p <= q < n
    assert p * q == n
    assert ran.result.outputs == (ran.agent(winner).output,)


def test_competitive_solver_wrong_guess_is_rejected_and_losers_are_killed(
    tmp_path: Path,
) -> None:
    ran = run_example("competitive_solver", tmp_path)
    spec = spec_of("competitive_solver")
    statuses = ran.statuses()
    assert statuses["square_split"] == "violated"
    guess = ran.reported("square_split")
    assert guess["attempts"] == 1
    assert guess["imperatives"][0]["name"] == "factors_input"
    assert not guess["imperatives"][0]["passed"]
    assert statuses[ran.report["winner"]] == "passed"
    commands = {n for n, a in spec["agents"].items() if a["provider"] == "command"}
    cancelled = {n for n in commands if statuses[n] == "cancelled"}
    assert cancelled, statuses
    assert set(statuses.values()) <= {"passed", "violated", "cancelled"}
    assert ran.result.duration_s < 10  # a hang guard, not a performance assertion


def test_competitive_solver_llm_is_verified_and_repaired(tmp_path: Path) -> None:
    ran = run_example("competitive_solver", tmp_path)
    llm = ran.reported("llm_guess")
    # offline its stand-in answers wrongly: the verifier rejects it, the retry is a
    # repair, and it is rejected again (or cancelled once a solver has won)
    assert llm["status"] in ("violated", "cancelled")
    first = llm["attempt_log"][0]
    assert first["status"] == "violated"
    assert first["imperatives"][0]["name"] == "factors_input"


# --- local_vote --------------------------------------------------------------------


def test_local_vote_majority_of_pooled_samples(tmp_path: Path) -> None:
    ran = run_example("local_vote", tmp_path)
    result = ran.report["result"]
    assert (result["answer"], result["votes"], result["quorum_met"]) == (
        "60",
        {"60": 3, "375": 2},
        True,
    )
    outputs = [ran.agent(f"s{i}").output or "" for i in range(1, 6)]
    # Five samples, at most two model copies (the pool's size), none from the fallback.
    copies = {re.findall(r"model copy (\d+)", output)[0] for output in outputs}
    assert 1 <= len(copies) <= 2
    assert all(ran.reported(f"s{i}")["replaced_by"] is None for i in range(1, 6))


def test_local_vote_falls_back_when_the_model_cannot_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (PARADIGMS / "local_vote.yaml").read_text(encoding="utf-8")
    copy = tmp_path / "local_vote.yaml"
    copy.write_text(text.replace("slip_rate: 0.75", "slip_rate: 0.75, device: gpu"))
    (tmp_path / "local_lm.py").write_text((PARADIGMS / "local_lm.py").read_text())
    report = tmp_path / "report.json"
    out = io.StringIO()
    options = api.RunOptions(mock=True, display="quiet", report=str(report))
    result = api.run(copy, options, stdout=out, stderr=out)
    assert result.exit_code == 0, out.getvalue()
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["result"]["votes"] == {"60": 5}  # every sample came from the hosted stand-in
    for agent in data["agents"]:
        assert agent["replaced_by"] == "hosted"
        assert agent["error"] == (
            "could not build local_lm:Generator: TypeError: Generator.__init__()"
            " got an unexpected keyword argument 'device'"
        )
        assert agent["attempts"] == 2  # a constructor failure is retried like any error
