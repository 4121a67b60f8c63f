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

Loc = tuple[str | int, ...]
"""A path into the document: mapping keys and list indexes, as in pydantic's ``loc``."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_NODES = 100_000
"""Most values a document may hold once aliases are expanded (aliases can nest to billions)."""


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
    except yaml.MarkedYAMLError as exc:
        if not keep_errors:
            return None
        return ParsedYaml(None, positions, [_syntax_problem(exc)])
    finally:
        loader.dispose()
    return ParsedYaml(data, positions, problems)


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
        self.visits = 0

    def record(self, node: yaml.Node, loc: Loc, *, merged: bool = False) -> None:
        """Record ``node`` at ``loc``; under a merge key, never over an explicit key."""
        self.visits += 1
        if self.visits > MAX_NODES:
            if not self.fatal:
                message = f"more than {MAX_NODES} values once aliases are expanded"
                self.problems.append((_mark(node.start_mark), message))
            self.fatal = True
            return
        if id(node) in self.active:
            # Data that contains itself cannot be validated, interpolated or printed.
            where = self.positions.keys.get(loc) or self.positions.locate(loc[:-1])
            self.problems.append((where, "this alias refers to a node that contains it"))
            self.fatal = True
            return
        self._set(self.positions.values, loc, _mark(node.start_mark), merged)
        if isinstance(node, yaml.ScalarNode):
            if node.style in ("|", ">"):
                self._set(self.positions.blocks, loc, _block_start(node, self.lines), merged)
            return
        self.active.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                self.record(child, (*loc, index), merged=merged)
        elif isinstance(node, yaml.MappingNode):
            self._mapping(node, loc, merged)
        self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, loc: Loc, merged: bool) -> None:
        seen: dict[Hashable, Position] = {}
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
            if key in seen and not merged:
                first = seen[key].line
                self.problems.append(
                    (where, f"duplicate key {key!r} (first defined on line {first})")
                )
            seen[key] = where
            # The last of equal keys wins, as in the data PyYAML builds.
            self._set(self.positions.keys, (*loc, key), where, merged)
            self.record(value_node, (*loc, key), merged=merged)
        # Explicit keys win over merged ones (``<<: *base``), so merged ones come last.
        for source in sources:
            self.record(source, loc, merged=True)

    @staticmethod
    def _set(table: dict[Loc, Any], loc: Loc, value: Any, merged: bool) -> None:
        if merged:
            table.setdefault(loc, value)
        else:
            table[loc] = value


_STR_TAG = "tag:yaml.org,2002:str"


def _key(loader: _AnyLoader, node: yaml.Node) -> str | int | None:
    """The constructed key, if it is one a ``loc`` can hold."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    if node.tag == _STR_TAG:
        return str(node.value)  # nearly every key: no need to construct it twice
    key = loader.construct_object(node)
    return key if isinstance(key, str | int) else str(key)


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


def _syntax_problem(exc: yaml.MarkedYAMLError) -> tuple[Position, str]:
    """One readable problem from a PyYAML error, at its problem mark."""
    mark = exc.problem_mark or exc.context_mark
    where = _mark(mark) if mark is not None else Position(1, 1)
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    started = f" started on line {exc.context_mark.line + 1}" if exc.context_mark else ""
    if "'\\t'" in problem:
        return where, "tab character: YAML indentation must use spaces"
    if problem.startswith("expected <block end>"):
        return where, f"bad indentation: this line does not line up with the block{started}"
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
        return where, f"{problem} (in the {context}{started})"
    return where, problem or context or "invalid YAML"
