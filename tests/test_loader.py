from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from agentrun.errors import Problem, Severity, SpecError
from agentrun.loading.loader import LoadedParadigm, load_paradigm, load_text
from agentrun.loading.positions import Position, parse_yaml

DATA = Path(__file__).parent / "data"
BAD_FILES = sorted((DATA / "bad").glob("*.yaml"))
CORPUS_ENV = {"AGENTRUN_TEST_TOKEN": "tok-very-secret-123"}
MINIMAL = "pattern: independent\nagents:\n  a: {provider: mock}\n"


def problems_of(path: Path, **kwargs: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_paradigm(path, **kwargs)
    return [str(p).removeprefix(f"{path}:") for p in info.value.problems]


def test_the_corpus_is_large() -> None:
    assert len(BAD_FILES) >= 30
    assert all(path.with_suffix(".expected").is_file() for path in BAD_FILES)


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda path: path.stem)
def test_bad_file(path: Path) -> None:
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert problems_of(path, env=CORPUS_ENV) == expected


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda path: path.stem)
def test_problems_are_sorted_and_never_show_a_secret(path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_paradigm(path, env=CORPUS_ENV)
    positions = [(p.line, p.column) for p in info.value.problems]
    assert positions == sorted(positions)
    assert "tok-very-secret-123" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert problems_of(path) == ["1:1: no such file"]


def test_directory(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == ["1:1: is a directory, not a paradigm file"]


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_paradigm(path).spec.pattern == "independent"


def test_research_example() -> None:
    path = DATA / "good" / "research.yaml"
    loaded = load_paradigm(path, env={"OPENAI_API_KEY": "sk-fake-research-key"})
    assert isinstance(loaded, LoadedParadigm)
    assert loaded.name == "research-team"
    assert loaded.path == path
    assert loaded.warnings == ()
    assert loaded.secrets == {"sk-fake-research-key"}
    spec = loaded.spec
    assert spec.pattern == "pipeline"
    assert spec.providers["llm"].api_key == "sk-fake-research-key"
    assert spec.providers["llm"].base_url == "https://api.openai.com/v1"
    assert spec.defaults.backoff is not None and spec.defaults.backoff.initial == 0.5
    assert spec.deadline == 120.0
    assert [stage.name for stage in spec.stages or ()] == ["gather", "critique"]
    assert loaded.positions.locate(("agents", "critic")) == Position(32, 15)
    assert loaded.positions.locate_key(("agents", "critic")) == Position(32, 3)


def test_validate_mode_turns_missing_variables_into_warnings() -> None:
    path = DATA / "good" / "research.yaml"
    loaded = load_paradigm(path, env={}, for_run=False)
    assert [str(w) for w in loaded.warnings] == [
        f"{path}:20:14: warning: environment variable OPENAI_API_KEY is not set"
        " (needed by provider 'llm'; --mock runs without it)"
    ]
    assert loaded.warnings[0].severity is Severity.WARNING
    assert loaded.spec.providers["llm"].api_key == ""
    assert loaded.secrets == frozenset()


def test_missing_variable_is_an_error_for_a_run() -> None:
    path = DATA / "good" / "research.yaml"
    assert problems_of(path, env={}) == [
        "20:14: environment variable OPENAI_API_KEY is not set"
        " (needed by provider 'llm'; --mock runs without it)"
    ]


def test_merge_keys_and_extra_vars() -> None:
    path = DATA / "good" / "race.yaml"
    loaded = load_paradigm(path, env={}, extra_vars=["greeting"])
    slow = loaded.spec.agents["slow"]
    assert (slow.provider, slow.retries, slow.timeout, slow.latency) == ("mock", 0, 1.0, 0.25)
    assert slow.imperatives == ["short", "fair"]
    assert loaded.name == "race"
    # Explicit keys keep their own position; merged ones point at the anchor's.
    assert loaded.positions.locate(("agents", "slow", "retries")) == Position(19, 14)
    assert loaded.positions.locate(("agents", "slow", "provider")) == Position(12, 15)


def test_vars_must_be_declared_or_given() -> None:
    path = DATA / "good" / "race.yaml"
    assert problems_of(path, env={}) == ["21:13: template uses undefined variable 'vars.greeting'"]


def test_warnings_and_inferred_providers() -> None:
    path = DATA / "good" / "tools.yaml"
    loaded = load_paradigm(path, env={"HOOK_SECRET": "hook-secret-value"})
    assert [str(w).removeprefix(f"{path}:") for w in loaded.warnings] == [
        "14:3: warning: agent 'spare' is never used"
    ]
    assert loaded.secrets == {"hook-secret-value"}
    assert loaded.spec.agents["poster"].headers == {"Authorization": "Bearer hook-secret-value"}


def test_block_template_positions() -> None:
    text = (
        "pattern: independent\n"
        "agents:\n"
        "  a:\n"
        "    provider: mock\n"
        "    output: |\n"
        "      first line\n"
        "\n"
        "        indented {{ inptu }}\n"
    )
    with pytest.raises(SpecError) as info:
        load_text(text, Path("t.yaml"), env={})
    assert [str(p) for p in info.value.problems] == [
        "t.yaml:8:7: template uses undefined name 'inptu' (did you mean 'input'?)"
    ]


def test_load_text_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTRUN_TEST_OUTPUT", "from the environment")
    text = MINIMAL.replace("mock}", "mock, output: '${AGENTRUN_TEST_OUTPUT}'}")
    loaded = load_text(text, Path("env.yaml"))
    assert loaded.spec.agents["a"].output == "from the environment"
    assert loaded.secrets == frozenset()


SECRET = "sk-super-secret-value-42"


@pytest.mark.parametrize(
    "agent",
    [
        "{provider: mock, retries: '${MY_API_KEY}'}",
        "{provider: mock, timeout: '${MY_API_KEY}'}",
        "{provider: mock, hang: '${MY_API_KEY}'}",
        "{provider: mock, output: '{{ ${MY_API_KEY} }'}",
        "{provider: mock, fallback: ['${MY_API_KEY}']}",
        "{provider: '${MY_API_KEY}'}",
        "{provider: mock, imperatives: ['${MY_API_KEY}']}",
        "{provider: mock, output: '{{ agents[\"${MY_API_KEY}\"].output }}'}",
        "{provider: openai, api_key: '${MY_API_KEY}', outputs: '${MY_API_KEY}'}",
        "{provider: http, url: x, headers: {A: '${OTHER}'}, retries: '${OTHER}'}",
    ],
)
def test_a_secret_never_appears_in_a_problem(agent: str) -> None:
    text = f"pattern: independent\nagents:\n  a: {agent}\n"
    env = {"MY_API_KEY": SECRET, "OTHER": SECRET}
    with pytest.raises(SpecError) as info:
        load_text(text, Path("s.yaml"), env=env)
    assert info.value.problems
    for problem in info.value.problems:
        assert SECRET not in problem.message
    assert SECRET not in str(info.value)


def test_spec_error_holds_warnings_too() -> None:
    text = MINIMAL + "  b: {provider: mock, output: '${NOPE}', retries: x}\n"
    with pytest.raises(SpecError) as info:
        load_text(text, Path("w.yaml"), env={}, for_run=False)
    assert [str(p) for p in info.value.problems] == [
        "w.yaml:4:31: warning: environment variable NOPE is not set",
        "w.yaml:4:51: retries: expected an integer, got 'x'",
    ]


def test_problem_format() -> None:
    problem = Problem("p.yaml", 3, 5, "oops", Severity.WARNING)
    assert str(problem) == "p.yaml:3:5: warning: oops"


def test_parse_yaml_records_keys_values_and_blocks() -> None:
    parsed = parse_yaml("a:\n  - x\n  - {b: 1}\nc: |\n  one\n  two\n")
    assert parsed.problems == []
    assert parsed.data == {"a": ["x", {"b": 1}], "c": "one\ntwo\n"}
    positions = parsed.positions
    assert positions.locate(()) == Position(1, 1)
    assert positions.locate_key(("a",)) == Position(1, 1)
    assert positions.locate(("a", 1, "b")) == Position(3, 9)
    assert positions.locate_key(("a", 1, "b")) == Position(3, 6)
    assert positions.locate_key(("a", 0)) == Position(2, 5)  # a list item has no key
    assert positions.locate(("a", 1, "missing", 3)) == Position(3, 5)
    assert positions.locate(("nothing",)) == Position(1, 1)
    assert positions.locate_in_text(("c",), 2) == Position(6, 3)
    assert positions.locate_in_text(("a", 0), 2) == Position(2, 5)


@pytest.mark.parametrize(
    ("text", "where"),
    [("a: &x [1, *x]\n", Position(1, 4)), ("a: &x\n  b: 1\n  c: *x\n", Position(3, 3))],
)
def test_parse_yaml_rejects_recursive_aliases(text: str, where: Position) -> None:
    parsed = parse_yaml(text)
    assert parsed.data is None
    assert parsed.problems == [(where, "this alias refers to a node that contains it")]


def test_durations_everywhere_become_seconds() -> None:
    text = MINIMAL + "deadline: none\n"
    assert load_text(text, Path("d.yaml"), env={}).spec.deadline == math.inf


def test_a_long_secret_is_not_shown_in_part() -> None:
    secret = "sk-" + "x" * 80
    text = "pattern: independent\nagents:\n  a: {provider: mock, retries: '${LONG_TOKEN}'}\n"
    with pytest.raises(SpecError) as info:
        load_text(text, Path("l.yaml"), env={"LONG_TOKEN": secret})
    assert (
        str(info.value) == "l.yaml:3:32: retries: expected an integer, got a value of 83 characters"
    )


def test_alias_bombs_are_stopped() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    parsed = parse_yaml("\n".join(lines) + "\n")
    assert parsed.data is None
    assert [message for _, message in parsed.problems] == [
        "more than 100000 values once aliases are expanded"
    ]


def test_offline_run_needs_no_network_secrets(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "pattern: independent\n"
        "providers:\n  llm: {type: openai, api_key: '${NO_SUCH_KEY}'}\n"
        "agents:\n  a: {provider: llm, model: m}\n"
        "  b: {provider: mock, output: '${NO_SUCH_TEXT}'}\n"
    )
    with pytest.raises(SpecError) as info:
        load_paradigm(path, env={}, offline=True)
    # the mock's own variable is still needed; the swapped provider's key is not
    assert [str(p).split(": ", 1)[1] for p in info.value.problems] == [
        "warning: environment variable NO_SUCH_KEY is not set (needed by provider 'llm'; --mock runs without it)",
        "environment variable NO_SUCH_TEXT is not set",
    ]


@pytest.mark.parametrize(
    ("field", "where"),
    [
        ("price: {input: 1, output: .inf}", "n.yaml:3:61: price.output"),
        ("price: {input: .nan, output: 1}", "n.yaml:3:50: price.input"),
    ],
)
def test_non_finite_prices_are_refused(field: str, where: str) -> None:
    text = (
        "pattern: independent\nproviders:\n"
        f"  llm: {{type: openai, api_key: k, {field}}}\n"
        "agents:\n  a: {provider: llm, model: m}\n"
    )
    with pytest.raises(SpecError) as info:
        load_text(text, Path("n.yaml"), env={})
    assert str(info.value) == f"{where}: Input should be a finite number"


def test_a_non_finite_backoff_multiplier_is_refused() -> None:
    text = "pattern: independent\nagents:\n  a: {provider: mock, backoff: {multiplier: .inf}}\n"
    with pytest.raises(SpecError) as info:
        load_text(text, Path("m.yaml"), env={})
    assert str(info.value) == "m.yaml:3:45: backoff.multiplier: Input should be a finite number"
