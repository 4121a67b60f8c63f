"""independent: same input to every agent at once, failures isolated, `require` applied."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import Ran

FOUR = """
pattern: independent
input: refund please
require: {require}
agents:
  polite: {{provider: mock, output: "Sorry about that: {{{{ input }}}}"}}
  broken: {{provider: mock, error: "service down"}}
  slow: {{provider: mock, output: late, latency: 50ms}}
  rude: {{provider: mock, output: "no refunds, idiot", imperatives: [courteous]}}
imperatives:
  courteous: {{not_contains: idiot, case_sensitive: false}}
"""


def test_failures_are_isolated_and_statuses_exact(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(FOUR.format(require="all"))
    assert ran.statuses() == {
        "polite": "passed",
        "broken": "failed",
        "slow": "passed",
        "rude": "violated",
    }
    assert ran.agent("polite").output == "Sorry about that: refund please"
    assert ran.agent("broken").error == "service down"
    assert ran.agent("rude").error == "broke courteous (contains forbidden 'idiot')"
    assert ran.report["status"] == "failed"
    assert ran.result.exit_code == 1  # an imperative was violated


@pytest.mark.parametrize(
    ("require", "status"),
    [("all", "failed"), ("any", "passed"), ("majority", "failed"), (2, "passed"), (3, "failed")],
)
def test_require(run_paradigm: Callable[..., Ran], require: object, status: str) -> None:
    assert run_paradigm(FOUR.format(require=require)).report["status"] == status


def test_errors_alone_exit_3(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        agents:
          a: {provider: mock, error: boom}
          b: {provider: mock, hang: true, timeout: 50ms}
        """
    )
    assert ran.statuses() == {"a": "failed", "b": "timeout"}
    assert ran.agent("b").error == "timeout of 50ms exceeded"
    assert ran.result.exit_code == 3


def test_fallbacks_and_judges_do_not_run_on_their_own(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        agents:
          main: {provider: mock, error: down, fallback: [backup]}
          backup: {provider: mock, output: "backup answer"}
        """
    )
    assert [a.instance for a in ran.result.agents] == ["main"]
    main = ran.agent("main")
    assert main.status.value == "failed"
    assert main.replaced_by == "backup"
    assert main.output == "backup answer"
    assert ran.report["status"] == "passed"
    assert ran.report["agents"][0]["fallbacks"][0]["status"] == "passed"


def test_deadline_times_out_every_unfinished_agent(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: independent
        deadline: 100ms
        agents:
          quick: {provider: mock, output: ok}
          stuck: {provider: mock, hang: true}
          stuck2: {provider: mock, hang: true, retries: 5, timeout: 10s}
        """
    )
    assert ran.statuses() == {"quick": "passed", "stuck": "timeout", "stuck2": "timeout"}
    assert ran.agent("stuck2").error == "deadline of 100ms exceeded"
    assert len(ran.agent("stuck2").attempts) == 1  # the deadline leaves no room for retries


def test_events_tell_the_same_story(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(FOUR.format(require="any"))
    kinds = [e["event"] for e in ran.events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    finished = {e["instance"]: e["status"] for e in ran.events if e["event"] == "agent_finished"}
    assert finished == ran.statuses()
    checks = [e for e in ran.events if e["event"] == "check"]
    assert checks == [
        {
            "event": "check",
            "t": checks[0]["t"],
            "instance": "rude",
            "attempt": 1,
            "check": {
                "name": "courteous",
                "passed": False,
                "message": "contains forbidden 'idiot'",
            },
        }
    ]
