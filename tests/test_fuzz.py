"""Fuzzing the loader: mutated paradigms never give a traceback, a hang or an unlocated error.

Seeds are the example paradigms and the tests' good and broken files. Each case
mutates one seed at the byte level (flips, insertions of YAML-significant tokens,
deletions, duplicated lines) or at the structure level (values of other types,
dropped and foreign keys, deep nesting, huge numbers, template snippets), then
loads it as ``agentrun validate`` would and, when it is valid, compiles and
describes its graph. A case passes when loading either succeeds or raises a
``SpecError`` whose every problem has a line, a column and a one-line message.

The default suite runs a bounded, derandomised number of cases (``FUZZ_EXAMPLES``
below, per test); ``make fuzz`` sets ``AGENTRUN_FUZZ_EXAMPLES`` for a long random run.
A case that takes longer than ``WATCHDOG_S`` ends the process with a traceback of
where it hung.
"""

from __future__ import annotations

import faulthandler
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentrun.errors import SpecError
from agentrun.graph.compiled import compile_graph
from agentrun.graph.describe import describe_graph
from agentrun.loading.loader import load_paradigm

ROOT = Path(__file__).parent.parent
SEEDS = sorted(
    [
        *(ROOT / "paradigms").glob("*.yaml"),
        *(ROOT / "tests" / "data" / "good").glob("*.yaml"),
        *(ROOT / "tests" / "data" / "bad").glob("*.yaml"),
    ]
)
LONG_RUN = "AGENTRUN_FUZZ_EXAMPLES" in os.environ
FUZZ_EXAMPLES = int(os.environ.get("AGENTRUN_FUZZ_EXAMPLES", "200"))
"""Cases per test; 200 each in the default suite (600 in all)."""
WATCHDOG_S = 10.0

TOKENS = [
    ": ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "<<: *a\n",
    "? ",
    "|\n",
    ">\n",
    "'",
    '"',
    "\t",
    "\n",
    "\n  ",
    "#",
    "!!python/object:os.system ",
    "!!binary ",
    "%YAML 1.1\n---\n",
    "---\n",
    "...\n",
    "${X}",
    "${X:-",
    "{{",
    "}}",
    "{{ input | nosuch }}",
    "{% for i in x %}",
    "{% endfor %}",
    "{% include 'x' %}",
    "\x00",
    "\x01",
    "\ufeff",
    "\ufffe",
    "9" * 400,
    "1e309",
    ".inf",
    "-.nan",
    "null",
    "~",
    "yes",
    "on",
    "0x1F",
    "12:30:00",
    "2026-11-29",
    "agents",
    "pattern",
    "stages",
    "fallback",
    "imperatives",
    "providers",
    "defaults",
    "timeout",
    "retries",
    "judge",
    "python",
    "callable",
    "command",
    "for_each",
    "require",
]
KEYS = [
    "pattern",
    "agents",
    "stages",
    "run",
    "require",
    "winner",
    "defaults",
    "providers",
    "imperatives",
    "fallback",
    "deadline",
    "input",
    "vars",
    "name",
    "prompt",
    "system",
    "provider",
    "timeout",
    "total_timeout",
    "retries",
    "backoff",
    "output",
    "outputs",
    "latency",
    "fail_times",
    "command",
    "callable",
    "url",
    "body",
    "judge",
    "contains",
    "regex",
    "json_schema",
    "max_latency",
    "for_each",
    "agent",
    "rubric",
    "x-anchor",
    "bogus",
]

_workdir = Path(tempfile.mkdtemp(prefix="agentrun-fuzz-"))


@contextmanager
def _watchdog() -> Iterator[None]:
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def _check(raw: bytes, name: str) -> None:
    """Load ``raw`` as a paradigm file; any outcome but a located SpecError or a graph fails."""
    path = _workdir / name
    path.write_bytes(raw)
    with _watchdog():
        try:
            loaded = load_paradigm(path, env={}, for_run=False)
        except SpecError as exc:
            assert exc.problems, "a SpecError without problems"
            for problem in exc.problems:
                assert problem.line >= 1 and problem.column >= 1, problem
                assert problem.message and "\n" not in problem.message, problem
                assert "Traceback" not in problem.message, problem
            return
        graph = compile_graph(loaded)
        assert describe_graph(graph)


def _byte_mutation(data: st.DataObject, raw: bytes) -> bytes:
    buffer = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        where = data.draw(st.integers(0, len(buffer)), label="where")
        how = data.draw(st.sampled_from(["flip", "token", "delete", "line", "bytes"]))
        if how == "flip" and buffer:
            spot = min(where, len(buffer) - 1)
            buffer[spot] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "token":
            buffer[where:where] = data.draw(st.sampled_from(TOKENS)).encode("utf-8")
        elif how == "delete":
            buffer[where : where + data.draw(st.integers(1, 40))] = b""
        elif how == "line":
            lines = bytes(buffer).splitlines(keepends=True)
            if lines:
                index = min(where, len(lines) - 1)
                lines.insert(index, lines[index] * data.draw(st.integers(1, 3)))
                buffer = bytearray(b"".join(lines))
        else:
            buffer[where:where] = data.draw(st.binary(min_size=1, max_size=8))
    return bytes(buffer)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "30s",
            "-1s",
            "none",
            "5/s",
            "all",
            "majority",
            "{{ input }}",
            "{{ nosuch }}",
            "{{ vars.x | nosuch }}",
            "${UNSET}",
            "a@b",
            "q[0]",
            "module:function",
            "nope:nope",
            "x" * 300,
        ]
    ),
    st.text(max_size=12),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    ),
    max_leaves=8,
)


def _structure_mutation(data: st.DataObject, tree: Any) -> Any:
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        tree = _mutate_somewhere(data, tree, depth=0)
    return tree


def _mutate_somewhere(data: st.DataObject, node: Any, depth: int) -> Any:
    if isinstance(node, dict) and node and data.draw(st.integers(0, 3)) > 0 and depth < 6:
        key = data.draw(st.sampled_from(sorted(node, key=str)))
        action = data.draw(st.sampled_from(["descend", "drop", "add", "nest"]))
        if action == "descend":
            node[key] = _mutate_somewhere(data, node[key], depth + 1)
        elif action == "drop":
            del node[key]
        elif action == "add":
            node[data.draw(st.sampled_from(KEYS))] = data.draw(_values)
        else:
            value: Any = node[key]
            for _ in range(data.draw(st.integers(1, 60))):
                value = [value] if data.draw(st.booleans()) else {"k": value}
            node[key] = value
        return node
    if isinstance(node, list) and node and depth < 6:
        index = data.draw(st.integers(0, len(node) - 1))
        node[index] = _mutate_somewhere(data, node[index], depth + 1)
        return node
    return data.draw(_values)


def _parsed_seeds() -> list[tuple[Path, Any]]:
    seeds = []
    for path in SEEDS:
        try:
            tree = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(tree, dict):
            seeds.append((path, tree))
    return seeds


PARSED = _parsed_seeds()
FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=not LONG_RUN,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_the_seeds_cover_every_kind_of_file() -> None:
    assert len(SEEDS) >= 40 and len(PARSED) >= 20


@FUZZ_SETTINGS
@given(data=st.data())
def test_byte_mutations_never_crash(data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(SEEDS), label="seed")
    _check(_byte_mutation(data, seed.read_bytes()), "bytes.yaml")


@FUZZ_SETTINGS
@given(data=st.data())
def test_structure_mutations_never_crash(data: st.DataObject) -> None:
    path, tree = data.draw(st.sampled_from(PARSED), label="seed")
    mutated = _structure_mutation(data, yaml.safe_load(yaml.safe_dump(tree)))
    text = yaml.safe_dump(mutated, allow_unicode=True, sort_keys=False)
    _check(text.encode("utf-8"), f"structure-{path.stem}.yaml")


@pytest.mark.parametrize("depth", [50, 500, 5000])
def test_deep_nesting_is_an_error_not_a_crash(depth: int) -> None:
    text = "pattern: independent\nagents:\n  a: " + "[" * depth + "]" * depth + "\n"
    _check(text.encode(), f"deep-{depth}.yaml")
