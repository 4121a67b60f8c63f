from __future__ import annotations

import math

import pytest

from agentrun.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("30s", 30.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        (".5s", 0.5),
        ("0", 0.0),
        ("45", 45.0),
        (" 10 s ", 10.0),
        ("0ms", 0.0),
        (3, 3.0),
        (2.5, 2.5),
        (0, 0.0),
    ],
)
def test_parse_duration(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["none", "inf", "unlimited", "NONE", " Unlimited "])
def test_parse_duration_unlimited(text: str) -> None:
    assert parse_duration(text) == math.inf


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5 sec", "expected a duration such as 250ms, 30s or 2m, got '5 sec'"),
        ("", "expected a duration such as 250ms, 30s or 2m, got ''"),
        ("1d", "expected a duration such as 250ms, 30s or 2m, got '1d'"),
        ("-1s", "expected a duration such as 250ms, 30s or 2m, got '-1s'"),
        ("2m30s", "expected a duration such as 250ms, 30s or 2m, got '2m30s'"),
        (True, "expected a duration such as 250ms, 30s or 2m, got True"),
        (None, "expected a duration such as 250ms, 30s or 2m, got None"),
        ([1], "expected a duration such as 250ms, 30s or 2m, got [1]"),
        (-1, "a duration cannot be negative, got -1"),
        (math.nan, "a duration cannot be negative, got nan"),
    ],
)
def test_parse_duration_rejects(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0ms"),
        (0.001, "1ms"),
        (0.25, "250ms"),
        (1, "1s"),
        (1.5, "1.5s"),
        (9.99, "9.99s"),
        (10, "10s"),
        (59.9, "59.9s"),
        (60, "1m"),
        (125, "2m05s"),
        (3599, "59m59s"),
        (3600, "1h"),
        (5430, "1h30m"),
        (math.inf, "∞"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["250ms", "30s", "2m", "1h", "1.5s"])
def test_format_parses_back(text: str) -> None:
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)
