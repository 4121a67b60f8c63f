"""The exchange pattern: rounds, who hears whom, stop conditions, drop-outs, history, votes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from conftest import Ran
from fake_llm_server import FakeLLMServer

from agentrun import api
from agentrun.coordination.vote import Ballot, canonical_number, count_votes
from agentrun.errors import SpecError, UsageError

PY = "providers:\n  py: {type: python, callable: 'helpers_coordination:%s'}\ndefaults: {provider: py}\n"
ANSWER = "answer: {regex: 'answer (\\S+)', normalize: [number]}\n"


def test_a_debate_stops_on_consensus_and_votes(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        "pattern: exchange\n"
        + PY % "majority_follower"
        + "agents: {s1: {}, s2: {}, s3: {}}\nrounds: 3\nuntil: [consensus]\n"
        + ANSWER
        + "select: {vote: {quorum: majority}}\n"
    )
    report = ran.report
    assert report["stop_reason"] == "consensus"
    assert [r["agreement"] for r in report["rounds"]] == [pytest.approx(2 / 3), 1.0]
    assert report["rounds"][0]["answers"] == {"s1": "4", "s2": "4", "s3": "5"}
    assert report["result"]["answer"] == "4"
    assert report["result"]["from"] == "s1"
    assert ran.result.exit_code == 0


def test_rounds_one_is_the_self_consistency_baseline(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        "pattern: exchange\n"
        + PY % "majority_follower"
        + "agents: {s1: {}, s2: {}, s3: {}}\nrounds: 3\n"
        + ANSWER
        + "select: vote\n",
        rounds=1,
    )
    assert len(ran.report["rounds"]) == 1
    assert ran.report["stop_reason"] == "max_rounds"
    assert ran.report["result"]["votes"] == {"4": 2, "5": 1}


@pytest.mark.parametrize(
    ("topology", "turns", "round2"),
    [
        ("full", "simultaneous", {"a": "b,c,d", "b": "a,c,d"}),
        ("ring", "simultaneous", {"a": "d,b", "b": "a,c"}),
        ("{a: [c], b: [a], c: [], d: [a, b]}", "simultaneous", {"a": "c", "b": "a", "c": ""}),
        ("full", "sequential", {"a": "b,c,d", "c": "a,b,d"}),
    ],
)
def test_who_hears_whom(
    run_paradigm: Callable[..., Ran], topology: str, turns: str, round2: dict[str, str]
) -> None:
    ran = run_paradigm(
        "pattern: exchange\n"
        + PY % "inbox_senders"
        + f"agents: {{a: {{}}, b: {{}}, c: {{}}, d: {{}}}}\nrounds: 2\ntopology: {topology}\n"
        + f"turns: {turns}\n"
    )
    second = {m["from"]: m["output"] for m in ran.report["rounds"][1]["messages"]}
    for agent, heard in round2.items():
        assert second[agent].startswith(f"r2 heard[{heard}]")
    if turns == "sequential":
        first = {m["from"]: m["output"] for m in ran.report["rounds"][0]["messages"]}
        assert first["c"].startswith("r1 heard[a,b]")  # this round's earlier speakers


def test_a_failed_participant_drops_out(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: exchange
        agents:
          a: {provider: mock, output: "answer 1"}
          b: {provider: mock, error: down}
        rounds: 3
        require: 1
        """
    )
    rounds = ran.report["rounds"]
    assert [sorted(m["from"] for m in r["messages"]) for r in rounds] == [["a"], ["a"], ["a"]]
    assert sum(1 for e in ran.events if e["event"] == "agent_started" and e["agent"] == "b") == 1
    assert ran.result.exit_code == 0


def test_no_participants_left_fails_the_pattern(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        "pattern: exchange\nagents:\n  a: {provider: mock, error: down}\nrounds: 3\n"
    )
    assert ran.report["stop_reason"] == "no_participants"
    assert ran.result.exit_code == 3


@pytest.mark.parametrize(
    ("until", "stopped_after", "reason"),
    [
        ("[{contains: DONE, from: b}]", 2, "contains"),
        ("[{contains: DONE, from: a}]", 3, "max_rounds"),
        ("[{state: 'state.n >= 4'}]", 2, "state"),
        ("[{judge: {agent: referee, rubric: two rounds}}]", 2, "judge"),
    ],
)
def test_until_conditions(
    run_paradigm: Callable[..., Ran], until: str, stopped_after: int, reason: str
) -> None:
    ran = run_paradigm(
        f"""
        pattern: exchange
        state:
          n: {{reducer: add}}
        agents:
          a: {{provider: mock, output: "a{{{{ round }}}}", writes: {{n: "1"}}}}
          b: {{provider: mock, output: "{{% if round == 2 %}}DONE{{% else %}}b{{% endif %}}",
              writes: {{n: "1"}}}}
          referee:
            provider: mock
            output: "{{% if inbox[0].round == 2 %}}PASS{{% else %}}FAIL{{% endif %}}: {{{{ rubric }}}}"
        rounds: 3
        until: {until}
        """
    )
    assert ran.report["stop_reason"] == reason
    assert len(ran.report["rounds"]) == stopped_after


def test_round_timeout_goes_on_without_the_late(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        """
        pattern: exchange
        agents:
          quick: {provider: mock, output: "answer 1"}
          stuck: {provider: mock, hang: true}
        rounds: 2
        round_timeout: 200ms
        require: 1
        """
    )
    assert [len(r["messages"]) for r in ran.report["rounds"]] == [1, 1]
    assert ran.result.duration_s < 2


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(latency=0.0, reply="answer 3") as srv:
        yield srv


def test_history_reaches_an_openai_compatible_server(
    run_paradigm: Callable[..., Ran], server: FakeLLMServer
) -> None:
    run_paradigm(
        f"""
        pattern: exchange
        providers:
          llm: {{type: openai, base_url: "{server.openai_url}", api_key: sk-test}}
        agents:
          a: {{provider: llm, model: m, system: be brief, prompt: "solve {{{{ input }}}}"}}
          b: {{provider: llm, model: m, prompt: "solve {{{{ input }}}}", reply: "others: {{{{ inbox | map(attribute='content') | join }}}}"}}
        input: x
        rounds: 2
        """
    )
    later = [r["body"]["messages"] for r in server.requests()][2:]
    a = next(m for m in later if m[0]["role"] == "system")
    assert [m["role"] for m in a] == ["system", "user", "assistant", "user"]
    assert [m["content"] for m in a[1:3]] == ["solve x", "answer 3"]
    b = next(m for m in later if m[0]["role"] == "user")
    assert [m["content"] for m in b] == ["solve x", "answer 3", "others: answer 3"]


def test_rounds_belong_to_the_exchange(write_paradigm: Callable[[str], object]) -> None:
    path = write_paradigm("pattern: independent\nagents: {a: {provider: mock}}\nrounds: 2\n")
    with pytest.raises(SpecError) as caught:
        api.load(path, for_run=True)  # type: ignore[arg-type]
    assert "unknown key 'rounds' at the top level (rounds needs pattern: exchange)" in str(
        caught.value
    )
    valid = write_paradigm("pattern: independent\nagents: {a: {provider: mock}}\n")
    with pytest.raises(UsageError, match="--rounds needs pattern: exchange"):
        api.compile_paradigm(valid, api.RunOptions(rounds=1))  # type: ignore[arg-type]


def test_exchange_rules_at_their_lines(write_paradigm: Callable[[str], object]) -> None:
    path = write_paradigm(
        "pattern: exchange\nagents:\n  a: {provider: mock, wait_for: 'true'}\n"
        "  b: {provider: mock}\nrounds: 2\ntopology: {a: [c]}\nselect: {agent: b}\nrun: [a, b]\n"
    )
    with pytest.raises(SpecError) as caught:
        api.load(path, for_run=True)  # type: ignore[arg-type]
    text = str(caught.value)
    assert ":3:23: wait_for is not allowed on exchange participants" in text
    assert ":6:16: topology: 'c' is not a participant" in text
    assert "select: the selector 'b' is also a participant" in text


@pytest.mark.parametrize(
    ("answers", "quorum", "tie", "winner", "met"),
    [
        (["4", "4", "5"], "plurality", "first", "4", True),
        (["4", "5", None], "plurality", "first", "4", True),
        (["4", "5", None], "plurality", "fail", None, False),
        (["5", "4", "4", "5"], "majority", "first", None, False),
        (["4", "4", None], "majority", "first", "4", True),
        (["4", None, None], "majority", "first", None, False),
        (["4", "4", "4"], "unanimous", "first", "4", True),
        (["4", "4", None], "unanimous", "first", None, False),
        (["4", "4", "5"], 2, "first", "4", True),
        (["4", "5", "6"], 2, "first", None, False),
        (["4", "4", "5", "6"], 0.5, "first", "4", True),
        (["4", "5", "6"], 0.5, "first", None, False),
        ([None, None], "plurality", "first", None, False),
    ],
)
def test_vote_quorum_and_tie_rules(
    answers: list[str | None], quorum: str | int | float, tie: str, winner: str | None, met: bool
) -> None:
    ballots = [Ballot(f"v{i}", a is not None, a, f"out {a}") for i, a in enumerate(answers)]
    verdict = count_votes(ballots, quorum, tie)
    assert (verdict.answer, verdict.quorum_met) == (winner, met)
    assert verdict.abstained == sum(1 for a in answers if a is None)


def test_tie_first_takes_the_earliest_voter() -> None:
    ballots = [Ballot("a", True, "9", "nine"), Ballot("b", True, "3", "three")]
    verdict = count_votes(ballots, "plurality", "first")
    assert (verdict.answer, verdict.winner, verdict.output, verdict.tie) == ("9", "a", "nine", True)


@pytest.mark.parametrize(
    ("text", "number"), [("1,000.00", "1000"), ("$3.50", "3.5"), ("12%", "12"), ("x", None)]
)
def test_numbers_are_canonical(text: str, number: str | None) -> None:
    assert canonical_number(text) == number


def test_a_missed_quorum_is_a_violation_and_exits_1(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        "pattern: independent\n"
        + PY % "fixed_votes"
        + 'vars: {votes: \'{"a": 42, "b": 41, "c": "-"}\'}\n'
        + "agents: {a: {}, b: {}, c: {}}\n"
        + ANSWER
        + "select: {vote: {quorum: majority}}\n"
    )
    assert ran.result.exit_code == 1
    assert ran.report["violation"] == "vote: no answer reached majority: 42×1, 41×1, abstained 1"
    assert ran.report["result"]["quorum_met"] is False


def test_a_vote_of_failed_voters_exits_3(run_paradigm: Callable[..., Ran]) -> None:
    ran = run_paradigm(
        "pattern: independent\nagents:\n  a: {provider: mock, error: down}\n"
        "  b: {provider: mock, error: down}\nselect: vote\nrequire: any\n"
    )
    assert ran.result.exit_code == 3
