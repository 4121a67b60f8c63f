"""Unknown names are reported together with structural errors, worded as once fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentrun.errors import SpecError
from agentrun.loading.loader import load_text
from agentrun.loading.raw_refs import check_raw_references

BAD = Path(__file__).parent / "data" / "bad"


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_text(text, Path("p.yaml"), env={})
    return [str(p).removeprefix("p.yaml:") for p in info.value.problems]


def unknown(lines: list[str]) -> list[str]:
    return [line for line in lines if ": unknown agent " in line or ": unknown imperative " in line]


@pytest.mark.parametrize(
    ("name", "fixes"),
    [
        (
            "structural_and_references",
            [("retries: many", "retries: 1"), ("timout", "timeout"), ("most", "majority")],
        ),
        ("own_keys_and_references", [("rounds: three", "rounds: 3")]),
        ("wrong_type_and_references", [("timeout: soon", "timeout: 5s")]),
    ],
)
def test_raw_references_read_as_the_semantic_checks_once_the_shape_is_fixed(
    name: str, fixes: list[tuple[str, str]]
) -> None:
    broken = (BAD / f"{name}.yaml").read_text(encoding="utf-8")
    fixed = broken
    for old, new in fixes:
        assert old in fixed
        fixed = fixed.replace(old, new)
    before = problems(broken)
    after = problems(fixed)
    assert unknown(before)
    assert len(unknown(before)) < len(before)  # a structural error came with them
    assert unknown(before) == unknown(after)
    assert set(after) - set(unknown(after)) <= {p for p in after if "warning:" in p}


@pytest.mark.parametrize(
    "text",
    [
        "pattern: independent\nagents: [a, b]\nrun: [ghost]\nfallback: ghost\n",
        "pattern: pipeline\nimperatives: [x]\nagents:\n  a: {provider: mock, imperatives: [y]}\n"
        "stages: {agents: [ghost]}\n",
        "pattern: independent\nimperatives:\n  j: {judge: ghost}\nagents:\n"
        "  a: {provider: mock, fallback: 3, imperatives: j, retries: x}\n",
        "pattern: independent\nagents:\n  a: 3\n  b: {provider: mock, fallback: [1, a]}\n"
        "run: [a, 2]\ndefaults: [x]\nwinner: x\nstages: [x]\n",
    ],
)
def test_malformed_targets_and_lists_are_left_to_validation(text: str) -> None:
    found = problems(text)
    assert found
    assert unknown(found) == []


def test_names_are_checked_against_whatever_the_raw_mappings_hold() -> None:
    data = {
        "agents": {"a": {"fallback": ["b", 7]}, "c": "not a mapping", 1: {}},
        "imperatives": {"i": {"judge": {"agent": "d"}}},
        "defaults": {"imperatives": ["i", "j"]},
        "stages": [{"agents": ["a", "c", "e"]}, "x"],
        "run": ["a", None, "f"],
    }
    found = [(f.loc, f.message) for f in check_raw_references(data)]
    assert found == [
        (("agents", "a", "fallback", 0), "unknown agent 'b' (defined: a, c)"),
        (("defaults", "imperatives", 1), "unknown imperative 'j' (defined: i)"),
        (("imperatives", "i", "judge", "agent"), "unknown agent 'd' (defined: a, c)"),
        (("run", 2), "unknown agent 'f' (defined: a, c)"),
        (("stages", 0, "agents", 2), "unknown agent 'e' (defined: a, c)"),
    ]


def test_an_alias_used_twice_reports_its_unknown_name_once() -> None:
    text = (
        "pattern: independent\nx-base: &base\n  provider: mock\n  imperatives: [ghost]\n"
        "agents:\n  a: {<<: *base, retries: x}\n  b: {<<: *base}\n"
    )
    assert problems(text) == [
        "4:17: unknown imperative 'ghost' (no imperatives are defined)",
        "6:27: retries: expected an integer, got 'x'",
    ]


def test_a_valid_file_is_checked_by_the_semantic_checks_alone() -> None:
    text = "pattern: independent\nagents:\n  a: {provider: mock}\nrun: [a, ghost]\n"
    assert problems(text) == ["4:10: unknown agent 'ghost' (defined: a)"]
