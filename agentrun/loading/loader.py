"""Load a paradigm file: YAML with positions, environment interpolation, validation.

Every problem of a file is collected in one pass and raised together as a
:class:`~agentrun.errors.SpecError`, each located at the YAML node it is about.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import ValidationError

from agentrun.coordination.checks import check_board
from agentrun.errors import Problem, Severity, SpecError
from agentrun.loading.interpolate import InterpolatedTree, interpolate_tree
from agentrun.loading.model_base import or_default
from agentrun.loading.pattern_keys import other_pattern_hint, split_pattern_keys
from agentrun.loading.positions import MAX_FILE_BYTES, Loc, Position, Positions, parse_yaml
from agentrun.loading.prompt_files import read_prompt_files
from agentrun.loading.raw_refs import check_raw_references
from agentrun.loading.resolve import ResolveMode, check_references
from agentrun.loading.semantics import Finding, check_paradigm, pattern_of
from agentrun.loading.spec import AgentSpec, Paradigm
from agentrun.loading.spec_errors import translate_errors
from agentrun.loading.template_checks import check_templates

if TYPE_CHECKING:
    from agentrun.patterns.base import Pattern
    from agentrun.registry import Registry


@dataclass(frozen=True)
class LoadedParadigm:
    """A paradigm file that passed validation, with what its later users need."""

    spec: Paradigm
    """The validated paradigm."""
    path: Path
    """The file it came from."""
    name: str
    """``spec.name``, else the file's stem."""
    warnings: tuple[Problem, ...]
    """Problems of severity warning (the file is still usable)."""
    secrets: frozenset[str]
    """Secret values interpolated from the environment; never to be printed."""
    positions: Positions
    """Where each node of the file sits, to locate errors found at run time."""
    registry: Registry
    """The provider and check types the file was validated against."""
    pattern: Pattern
    """The registered pattern the file names."""


def load_paradigm(
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    for_run: bool = True,
    extra_vars: Collection[str] = (),
    offline: bool = False,
    registry: Registry | None = None,
    patterns: Mapping[str, Pattern] | None = None,
    resolve: ResolveMode = "import",
) -> LoadedParadigm:
    """Read, interpolate and validate a paradigm file.

    Args:
        path: the YAML file.
        env: environment for ``${VAR}`` references (default ``os.environ``).
        for_run: when false (``agentrun validate``), a missing environment variable
            is a warning instead of an error.
        extra_vars: names given with ``--var``; templates may use them as ``vars.NAME``.
        offline: the run swaps network providers for the mock (``--mock``), so their
            missing variables are warnings.
        registry: the provider and check types (default: built-ins and plugins).
        patterns: the patterns a file may name (default: the built-ins).
        resolve: how ``python`` functions are checked: ``import`` their modules (runs
            their top-level code), only ``find`` their files, or ``skip`` the check.

    Returns:
        The validated paradigm with its warnings, secrets and node positions.

    Raises:
        SpecError: the file cannot be read or is invalid; holds every problem found.
    """
    text = _read(path)
    return load_text(
        text,
        path,
        env=env,
        for_run=for_run,
        extra_vars=extra_vars,
        offline=offline,
        registry=registry,
        patterns=patterns,
        resolve=resolve,
    )


def load_text(
    text: str,
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    for_run: bool = True,
    extra_vars: Collection[str] = (),
    offline: bool = False,
    registry: Registry | None = None,
    patterns: Mapping[str, Pattern] | None = None,
    resolve: ResolveMode = "import",
) -> LoadedParadigm:
    """Like :func:`load_paradigm`, for text already read from ``path``.

    Raises:
        SpecError: the text is not a valid paradigm; holds every problem found.
    """
    where = str(path)
    registry = or_default(registry)
    if patterns is None:
        patterns = registry.patterns
    parsed = parse_yaml(text)
    positions = parsed.positions
    problems = [Problem(where, pos.line, pos.column, msg) for pos, msg in parsed.problems]
    data = _top_mapping(parsed.data, where, positions, problems)
    tree = interpolate_tree(
        data,
        os.environ if env is None else env,
        secret_fields=registry.secret_fields,
        template_fields=registry.template_fields,
    )
    problems += _interpolation_problems(tree, data, where, positions, registry, for_run, offline)
    spec = _validated(
        tree.data,
        _Where(where, path, positions),
        registry,
        patterns,
        extra_vars,
        problems,
        resolve=resolve,
        unset=[loc for loc, _ in tree.missing],
    )
    problems = _redacted(sorted(problems, key=lambda p: (p.line, p.column)), tree.secrets)
    if spec is None or any(p.severity is Severity.ERROR for p in problems):
        raise SpecError(problems)
    return LoadedParadigm(
        spec=spec,
        path=path,
        name=spec.name or path.stem,
        warnings=tuple(problems),
        secrets=tree.secrets,
        positions=positions,
        registry=registry,
        pattern=pattern_of(spec, patterns),
    )


def _top_mapping(
    data: object, where: str, positions: Positions, problems: list[Problem]
) -> dict[Any, Any]:
    """The document's top-level mapping without its ``x-`` keys, or a SpecError."""
    if data is None and problems:
        raise SpecError(problems)
    if not isinstance(data, dict):  # a document that is `null`, a list, a number
        pos = positions.locate(())
        kind = "a list" if isinstance(data, list) else f"{data!r}"
        message = (
            f"expected a mapping (keys such as pattern: and agents:) at the top level, got {kind}"
        )
        raise SpecError([*problems, Problem(where, pos.line, pos.column, message)])
    # `x-` keys hold YAML anchors for reuse (as in docker-compose files) and nothing else.
    return {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}


def _interpolation_problems(
    tree: InterpolatedTree,
    data: dict[str, Any],
    where: str,
    positions: Positions,
    registry: Registry,
    for_run: bool,
    offline: bool,
) -> list[Problem]:
    """Missing environment variables (errors or warnings) and invalid ``${...}`` values."""
    problems: list[Problem] = []
    for loc, name in tree.missing:
        pos = positions.locate(loc)
        provider = _network_provider_at(data, loc, registry)
        message = f"environment variable {name} is not set"
        if provider is not None:
            message += f" (needed by provider {provider!r}; --mock runs without it)"
        # validate needs no secrets, and --mock never uses a network provider's settings.
        optional = not for_run or (offline and provider is not None)
        level = Severity.WARNING if optional else Severity.ERROR
        problems.append(Problem(where, pos.line, pos.column, message, level))
    for loc, message in tree.invalid:
        pos = positions.locate(loc)
        problems.append(Problem(where, pos.line, pos.column, message))
    return problems


class _Where(NamedTuple):
    """Where a paradigm's text came from, to locate its problems."""

    name: str
    path: Path
    positions: Positions


def _validated(
    data: Any,
    where: _Where,
    registry: Registry,
    patterns: Mapping[str, Pattern],
    extra_vars: Collection[str],
    problems: list[Problem],
    *,
    resolve: ResolveMode,
    unset: list[Loc],
) -> Paradigm | None:
    """The spec model of ``data`` (prompt files read, the pattern's own keys attached), or
    ``None``; its problems, and those of its references to functions and programs, are
    added to ``problems``."""
    context = {"registry": registry, "patterns": patterns}
    split = split_pattern_keys(data, patterns)
    spec: Paradigm | None = None
    try:
        spec = Paradigm.model_validate(split.rest, context=context)
    except ValidationError as exc:
        for pos, message in translate_errors(exc, split.rest, where.positions, registry):
            message = other_pattern_hint(message, patterns)
            problems.append(Problem(where.name, pos.line, pos.column, message))
    own = _own_keys(split, context, where, registry, problems)
    if spec is None or own is _INVALID:
        _add_raw_references(data, where, problems)
        return None  # the pattern's rules need its keys
    spec, file_findings = read_prompt_files(spec, where.path)
    spec._pattern_keys = own
    findings = [
        *file_findings,
        *check_paradigm(spec, registry, patterns),
        *check_templates(spec, extra_vars, registry, patterns),
        *check_board(spec, patterns),
        *check_references(spec, where.path, registry, resolve, unset),
    ]
    problems += [_located(where.name, finding, where.positions) for finding in findings]
    return spec


def _add_raw_references(data: Any, where: _Where, problems: list[Problem]) -> None:
    """Add the unknown names of a paradigm that failed validation, except where a problem
    already points (one problem per place)."""
    taken = {(p.line, p.column) for p in problems}
    for finding in check_raw_references(data):
        problem = _located(where.name, finding, where.positions)
        if (problem.line, problem.column) not in taken:
            taken.add((problem.line, problem.column))
            problems.append(problem)


_INVALID = object()
"""The pattern's own keys did not validate."""


def _own_keys(
    split: Any, context: dict[str, Any], where: _Where, registry: Registry, problems: list[Problem]
) -> Any:
    """The validated keys the file's pattern owns (``None`` without a ``keys_model``), or
    ``_INVALID`` with their problems added to ``problems``."""
    if split.model is None:
        return None
    try:
        return split.model.model_validate(split.own, context=context)
    except ValidationError as exc:
        for pos, message in translate_errors(exc, split.own, where.positions, registry):
            problems.append(Problem(where.name, pos.line, pos.column, message))
        return _INVALID


def _network_provider_at(
    data: dict[str, Any], loc: tuple[Any, ...], registry: Registry
) -> str | None:
    """The network provider whose settings hold ``loc`` (an entry, or a type-specific key
    of an agent using a network type), or ``None``."""
    network = registry.network_types
    if len(loc) < 2 or loc[0] not in ("providers", "agents"):
        return None
    section = data.get(loc[0])
    owner = section.get(loc[1]) if isinstance(section, dict) else None
    if not isinstance(owner, dict):
        return None
    if loc[0] == "providers":
        return str(loc[1]) if owner.get("type") in network else None
    if len(loc) > 2 and loc[2] in AgentSpec.open_keys(registry):
        provider = owner.get("provider")
        entries = data.get("providers")
        entry = entries.get(provider) if isinstance(entries, dict) else None
        kind = entry.get("type") if isinstance(entry, dict) else provider
        return str(provider) if kind in network else None
    return None


def _read(path: Path) -> str:
    """The file's text, or a SpecError saying plainly why it cannot be read."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        message = "no such file"
    except IsADirectoryError:
        message = "is a directory, not a paradigm file"
    except PermissionError:
        message = "cannot read the file: permission denied"
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
    else:
        if len(data) > MAX_FILE_BYTES:
            limit = MAX_FILE_BYTES // (1024 * 1024)
            raise SpecError([Problem(str(path), 1, 1, f"the file is larger than {limit} MiB")])
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            byte = data[exc.start]
            message = f"the file is not UTF-8 text (byte 0x{byte:02x} on line {line})"
    raise SpecError([Problem(str(path), 1, 1, message)])


def _located(where: str, finding: Finding, positions: Positions) -> Problem:
    pos = _finding_position(finding, positions)
    return Problem(where, pos.line, pos.column, finding.message, finding.severity)


def _finding_position(finding: Finding, positions: Positions) -> Position:
    if finding.text_line is not None:
        return positions.locate_in_text(finding.loc, finding.text_line)
    if finding.at_key:
        return positions.locate_key(finding.loc)
    return positions.locate(finding.loc)


def _redacted(problems: list[Problem], secrets: frozenset[str]) -> list[Problem]:
    """Problems with every secret value replaced by ``***`` (a bad value may be one)."""
    if not secrets:
        return problems
    ordered = sorted(secrets, key=len, reverse=True)  # longest first: one may contain another

    def scrub(message: str) -> str:
        for secret in ordered:
            message = message.replace(secret, "***")
        return message

    return [_replace_message(p, scrub(p.message)) for p in problems]


def _replace_message(problem: Problem, message: str) -> Problem:
    return Problem(problem.path, problem.line, problem.column, message, problem.severity)
