"""Instance identities: built from parts, rendered as the labels users know, read back."""

from __future__ import annotations

import pickle

import pytest

from agentrun.identity import InstanceId, Role, identity_of


def test_labels_are_built_from_parts() -> None:
    plain = InstanceId.of("critic")
    staged = InstanceId.of("critic", stage="review", qualified=True)
    item = InstanceId.of("theorist", stage="fan", item=1)
    backup = InstanceId.fallback(item, "backup")
    judge = InstanceId.judge(backup, "referee", 3)
    rescue = InstanceId.rescue("safe")
    assert [plain, staged, item, backup, judge, rescue] == [
        "critic",
        "critic@review",
        "theorist[1]",
        "theorist[1]>backup",
        "theorist[1]>backup/judge:referee#3",
        "rescue:safe",
    ]
    assert (item.agent, item.stage, item.item, item.planned) == ("theorist", "fan", 1, "theorist")
    assert (backup.role, backup.parent, backup.stage, backup.item) == (
        Role.FALLBACK,
        item,
        "fan",
        1,
    )
    assert (judge.role, judge.agent, judge.parent) == (Role.JUDGE, "referee", backup)
    assert rescue.role is Role.RESCUE and rescue.role.top_level
    assert not Role.JUDGE.top_level and not Role.FALLBACK.top_level


@pytest.mark.parametrize(
    "label",
    ["a", "a@s2", "b[0]", "b@s[12]", "a>x>y", "a[2]>x/judge:j#4", "rescue:r", "rescue:r>f"],
)
def test_parsing_a_label_gives_the_same_identity(label: str) -> None:
    parsed = InstanceId.parse(label)
    assert parsed == label
    again = InstanceId.parse(str(label))
    assert (again.agent, again.role, again.stage, again.item, again.planned) == (
        parsed.agent,
        parsed.role,
        parsed.stage,
        parsed.item,
        parsed.planned,
    )


def test_parse_reads_the_parts_back() -> None:
    judge = InstanceId.parse("a@s[2]>x/judge:j#4")
    assert (judge.agent, judge.role) == ("j", Role.JUDGE)
    assert judge.parent is not None and judge.parent.role is Role.FALLBACK
    grand = judge.parent.parent
    assert grand is not None
    assert (grand.agent, grand.stage, grand.item, grand.planned) == ("a", "s", 2, "a@s")


def test_identity_of_keeps_built_identities_and_pickles_with_its_parts() -> None:
    built = InstanceId.of("t", stage="fan", item=0)
    assert identity_of(built) is built
    copy = pickle.loads(pickle.dumps(built))
    assert (copy, copy.agent, copy.stage, copy.item, copy.planned) == ("t[0]", "t", "fan", 0, "t")
