"""Redaction across the edges of streamed pieces, and before any cut."""

from __future__ import annotations

import pytest

from agentrun.redact import Redactor, StreamRedactor, clip, redacting

SECRETS = ("sk-abcdef", "abc", 'tok"en\\1')
TEXT = 'x sk-abcdef y abc z sk-abcdeg "tok\\"en\\\\1" sk-ab'


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 100])
def test_pieces_of_any_size_redact_as_the_whole(size: int) -> None:
    redact = Redactor(SECRETS)
    stream = StreamRedactor(redact)
    pieces = [TEXT[i : i + size] for i in range(0, len(TEXT), size)]
    out = "".join(stream.feed(piece) for piece in pieces) + stream.flush()
    assert out == redact(TEXT)
    assert "abc" not in out and "tok" not in out


def test_what_is_held_back_is_shorter_than_the_longest_secret() -> None:
    stream = StreamRedactor(Redactor(["0123456789"]))
    assert stream.feed("a" * 20) == "a" * 11
    assert stream.feed("01234") == "a" * 5
    assert stream.feed("56789 end") == "a" * 4 + "***"
    assert stream.flush() == " end"


def test_clip_redacts_before_it_cuts() -> None:
    text = "m" * 50 + "sk-abcdefghij"
    assert clip(text, 60) == "m" * 50 + "sk-abcdef…"
    with redacting(["sk-abcdefghij"]):
        assert clip(text, 60) == "m" * 50 + "***"
    assert clip(text, 60) == "m" * 50 + "sk-abcdef…"  # only inside the run that knows it


def test_a_secret_is_also_masked_inside_json_strings() -> None:
    redact = Redactor(['pa"ss\\word'])
    assert redact('{"v": "pa\\"ss\\\\word"}') == '{"v": "***"}'
