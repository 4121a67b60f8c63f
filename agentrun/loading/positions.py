"""YAML reading that remembers where every node sits and rejects duplicate keys.

PyYAML keeps the last of two equal keys without a word, and its constructed
objects forget their line numbers. :func:`parse_yaml` composes the node tree
first, records the position of every key and value by path (the same tuples
pydantic uses as ``loc``), then constructs plain Python data with ``safe_load``
semantics.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from agentrun.loading.yaml_hints import syntax_hint

Loc = tuple[str | int, ...]
"""A path into the document: mapping keys and list indexes, as in pydantic's ``loc``."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"

MAX_FILE_BYTES = 32 * 1024 * 1024
"""Largest paradigm file read (32 MiB): a 50 MB file of millions of keys took tens of
seconds and gigabytes before anything could be said of it. A file of 100,000 agents,
each with a provider, a prompt, an output, a timeout and retries, takes about 18 MB."""
MAX_ALIAS_VALUES = 100_000
"""Values a document may reach through aliases (``*name``, counted once per use), plus
:data:`ALIAS_RATIO` per value written out.

Values written out are bounded by :data:`MAX_FILE_BYTES`; aliases can nest to billions
of values in a few lines, so what they add is bounded on its own, yet grows with the
document: 100,000 agents may each merge a shared ``<<: *defaults``."""
ALIAS_RATIO = 10
"""Values aliases may add per value written out, above :data:`MAX_ALIAS_VALUES`."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and lists (a paradigm needs fewer than ten levels)."""
MAX_NUMBER_DIGITS = 1000
"""Longest unquoted integer; a longer one is refused (quote it to have text)."""
# Characters YAML forbids in a stream: C0 controls other than tab and newlines, DEL,
# C1 controls other than NEL, surrogates, and U+FFFE/U+FFFF.
_FORBIDDEN = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Position(NamedTuple):
    """A 1-based line and column in the file."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class _Block:
    """Where the text of a ``|`` or ``>`` scalar starts: the line after its indicator."""

    first_line: int
    column: int


@dataclass(frozen=True, slots=True)
class Positions:
    """Positions of the keys and values of a document, by path."""

    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)
    blocks: dict[Loc, _Block] = field(default_factory=dict)

    def locate(self, loc: Sequence[str | int]) -> Position:
        """The position of the value at ``loc``, or of its nearest known ancestor."""
        loc = tuple(loc)
        while loc and loc not in self.values:
            loc = loc[:-1]
        return self.values.get(loc, Position(1, 1))

    def locate_key(self, loc: Sequence[str | int]) -> Position:
        """The position of the key holding ``loc``, else of the value (list items have no key)."""
        found = self.keys.get(tuple(loc))
        return found if found is not None else self.locate(loc)

    def locate_in_text(self, loc: Sequence[str | int], text_line: int) -> Position:
        """The position of line ``text_line`` (1-based) of the string at ``loc``.

        Only block scalars (``|`` and ``>``) keep their lines in the file; for any
        other scalar this is the scalar's own position.
        """
        block = self.blocks.get(tuple(loc))
        if block is None:
            return self.locate(loc)
        return Position(block.first_line + max(text_line, 1) - 1, block.column)


class ParsedYaml(NamedTuple):
    """The outcome of :func:`parse_yaml`: data (``None`` when unusable), positions, problems."""

    data: Any
    positions: Positions
    problems: list[tuple[Position, str]]


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader``: standard tags only, nothing that runs code."""


_AnyLoader = _Loader | yaml.CSafeLoader
# libyaml's parser under the same safe constructor is several times faster on large
# files. Its syntax-error wording differs, so a file that fails to parse is parsed
# again by the pure-Python loader, whose messages the tests pin.
_FastLoader: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)


def parse_yaml(text: str) -> ParsedYaml:
    """Parse one YAML document, keeping node positions and reporting duplicate keys.

    Args:
        text: the document.

    Returns:
        The data as ``yaml.safe_load`` builds it, the positions of its nodes, and the
        problems found. A syntax error or an empty document gives ``data=None``.
    """
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        message = (
            f"character U+{ord(bad.group()):04X} is not allowed in YAML;"
            f' remove it, or write it as an escape such as "\\x01" in a double-quoted string'
        )
        return ParsedYaml(None, Positions(), [(Position(line, column), message)])
    if _FastLoader is not None:
        parsed = _parse_with(_FastLoader, text)
        if parsed is not None:
            return parsed
    parsed = _parse_with(_Loader, text, keep_errors=True)
    assert parsed is not None
    return parsed


def _parse_with(
    loader_class: type[_AnyLoader], text: str, *, keep_errors: bool = False
) -> ParsedYaml | None:
    """Parse with ``loader_class``; ``None`` for a syntax error unless ``keep_errors``."""
    positions = Positions()
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            message = "the file is empty; a paradigm needs at least pattern: and agents:"
            return ParsedYaml(None, positions, [(Position(1, 1), message)])
        recorder = _Recorder(loader, positions, text.splitlines())
        recorder.record(node, ())
        problems = list(dict.fromkeys(recorder.problems))  # an alias walks its node again
        if recorder.fatal:
            return ParsedYaml(None, positions, problems)
        data = loader.construct_document(node)
        _drop_keys(data, recorder.not_text)
    except yaml.MarkedYAMLError as exc:
        if not keep_errors:
            return None
        return ParsedYaml(None, positions, [_syntax_problem(exc, text)])
    except RecursionError:
        # The composer recurses per level, so a very deep file fails before the
        # recorder can stop it; the events (a flat stream) say where it gets too deep.
        where = _too_deep(loader_class, text)
        return ParsedYaml(None, positions, [(where, f"nested more than {MAX_DEPTH} levels deep")])
    finally:
        loader.dispose()
    return ParsedYaml(data, positions, problems)


def _too_deep(loader_class: type[_AnyLoader], text: str) -> Position:
    """Where the collections of ``text`` first nest more than :data:`MAX_DEPTH` deep."""
    depth = 0
    loader = loader_class(text)
    try:
        while (event := loader.get_event()) is not None:
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                mark = event.start_mark
                if depth > MAX_DEPTH + 1 and mark is not None:  # the top is not a nesting
                    return Position(mark.line + 1, mark.column + 1)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return Position(1, 1)


def _mark(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


class _Recorder:
    """Walks a node tree, filling ``positions`` and reporting duplicate keys."""

    def __init__(self, loader: _AnyLoader, positions: Positions, lines: list[str]) -> None:
        self.loader = loader
        self.positions = positions
        self.lines = lines
        self.problems: list[tuple[Position, str]] = []
        self.active: set[int] = set()
        self.fatal = False
        self.seen: set[int] = set()
        self.aliased = 0
        self.not_text: list[tuple[Loc, Hashable]] = []
        """Keys that are not strings, by the loc of their mapping."""

    def _refuse(self, node: yaml.Node, message: str) -> None:
        if not self.fatal:
            self.problems.append((_mark(node.start_mark), message))
        self.fatal = True

    def record(
        self, node: yaml.Node, loc: Loc, *, merged: bool = False, aliased: bool = False
    ) -> None:
        """Record ``node`` at ``loc``; under a merge key, never over an explicit key."""
        if self.fatal:
            return
        # A node met again is reached through an alias, and so is all it holds.
        aliased = aliased or id(node) in self.seen
        if aliased:
            self.aliased += 1
            if self.aliased > MAX_ALIAS_VALUES + ALIAS_RATIO * len(self.seen):
                message = f"more than {MAX_ALIAS_VALUES} values once aliases are expanded"
                return self._refuse(node, message)
        else:
            self.seen.add(id(node))
        if len(loc) > MAX_DEPTH:
            return self._refuse(node, f"nested more than {MAX_DEPTH} levels deep")
        if id(node) in self.active:
            # Data that contains itself cannot be validated, interpolated or printed.
            where = self.positions.keys.get(loc) or self.positions.locate(loc[:-1])
            self.problems.append((where, "this alias refers to a node that contains it"))
            self.fatal = True
            return
        self._set(self.positions.values, loc, _mark(node.start_mark), merged)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _INT_TAG and len(node.value) > MAX_NUMBER_DIGITS:
                message = (
                    f"a number of {len(node.value)} digits is too long"
                    f" (at most {MAX_NUMBER_DIGITS}); quote it if it is text"
                )
                self.problems.append((_mark(node.start_mark), message))
                self.fatal = True
                return
            if node.style in ("|", ">"):
                self._set(self.positions.blocks, loc, _block_start(node, self.lines), merged)
            return
        self.active.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                self.record(child, (*loc, index), merged=merged, aliased=aliased)
        elif isinstance(node, yaml.MappingNode):
            self._mapping(node, loc, merged, aliased)
        self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, loc: Loc, merged: bool, aliased: bool) -> None:
        seen: dict[tuple[type, Hashable], Position] = {}
        sources: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                is_list = isinstance(value_node, yaml.SequenceNode)
                sources.extend(value_node.value if is_list else [value_node])
                continue
            key = _key(self.loader, key_node)
            if key is None:
                continue
            where = _mark(key_node.start_mark)
            if not isinstance(key, str):
                # `on:`, `1:`, `null:` are not names; each is reported where it is written.
                if not merged:
                    self.problems.append((where, _not_text(key)))
                    self.not_text.append((loc, key))
                continue
            typed = (type(key), key)
            if typed in seen and not merged:
                first = seen[typed].line
                self.problems.append(
                    (where, f"duplicate key {key!r} (first defined on line {first})")
                )
            seen[typed] = where
            # The last of equal keys wins, as in the data PyYAML builds.
            self._set(self.positions.keys, (*loc, key), where, merged)
            self.record(value_node, (*loc, key), merged=merged, aliased=aliased)
        # Explicit keys win over merged ones (``<<: *base``), so merged ones come last.
        for source in sources:
            self.record(source, loc, merged=True, aliased=aliased)

    @staticmethod
    def _set(table: dict[Loc, Any], loc: Loc, value: Any, merged: bool) -> None:
        if merged:
            table.setdefault(loc, value)
        else:
            table[loc] = value


_STR_TAG = "tag:yaml.org,2002:str"


def _key(loader: _AnyLoader, node: yaml.Node) -> Hashable:
    """The constructed key, if it is a scalar (``None`` for a mapping or list key)."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    if node.tag == _STR_TAG:
        return str(node.value)  # nearly every key: no need to construct it twice
    key: Hashable = loader.construct_object(node)
    return key if key is not None else _NULL


class _Null:
    """Stands for a ``null:`` key, told apart from a mapping or list key (``None``)."""


_NULL = _Null()


def _not_text(key: Hashable) -> str:
    """The problem of a key that YAML reads as something other than text."""
    if isinstance(key, bool):
        why = " (YAML reads unquoted yes, no, on and off as booleans)"
        return f"key {str(key).lower()} must be a string; quote it{why}"
    shown = "null" if key is _NULL else repr(key)
    return f"key {shown} must be a string; quote it"


def _drop_keys(data: Any, where: list[tuple[Loc, Hashable]]) -> None:
    """Remove the keys that are not strings (each already reported) from ``data``."""
    for loc, key in where:
        mapping: Any = data
        for part in loc:
            if isinstance(mapping, dict):
                mapping = mapping.get(part)
            elif isinstance(mapping, list) and isinstance(part, int):
                mapping = mapping[part]
        if isinstance(mapping, dict):
            mapping.pop(None if key is _NULL else key, None)


def _block_start(node: yaml.ScalarNode, lines: list[str]) -> _Block:
    first = node.start_mark.line + 1  # 0-based index of the line after the indicator
    column = node.start_mark.column + 1
    for text in lines[first:]:
        if text.strip():
            column = len(text) - len(text.lstrip(" ")) + 1
            break
    return _Block(first + 1, column)


_TAG = re.compile(r"the tag '(?:tag:yaml\.org,2002:)?([^']*)'")
_TOKENS = {
    "'<scalar>'": "a value",
    "'<block mapping start>'": "a mapping",
    "'<stream end>'": "the end",
}


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[Position, str]:
    """One readable problem from a PyYAML error, at its problem mark, with a hint."""
    mark = exc.problem_mark or exc.context_mark
    where = _mark(mark) if mark is not None else Position(1, 1)
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    started = f" started on line {exc.context_mark.line + 1}" if exc.context_mark else ""
    if "'\\t'" in problem:
        return where, "tab character: YAML indentation must use spaces"
    if problem.startswith("expected <block end>"):
        problem = f"bad indentation: this line does not line up with the block{started}"
        return where, syntax_hint(problem, _line(text, where.line), where.column)
    if "another document" in problem:
        return where, "a paradigm file holds a single YAML document; remove the '---'"
    tag = _TAG.search(problem)
    if tag:
        name = tag.group(1)
        return where, f"unsupported YAML tag '{name if name.startswith('!') else '!!' + name}'"
    for token, words in _TOKENS.items():
        problem = problem.replace(token, words)
    if context and problem:
        context = re.sub(r"^while \w+ an? ", "", context)
        problem = f"{problem} (in the {context}{started})"
    problem = problem or context or "invalid YAML"
    return where, syntax_hint(problem, _line(text, where.line), where.column)


def _line(text: str, number: int) -> str:
    """Line ``number`` (1-based) of ``text``, or ``""`` past its end."""
    lines = text.splitlines()
    return lines[number - 1] if 0 < number <= len(lines) else ""
