"""Read ``KEY=VALUE`` files (``--env-file``, and a ``.env`` beside the paradigm)."""

from __future__ import annotations

import re
from pathlib import Path

from agentrun.errors import UsageError

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_env_file(path: Path) -> dict[str, str]:
    """The variables a dotenv-style file sets.

    Blank lines and ``#`` comments are skipped; ``export`` prefixes are allowed;
    single-quoted values are literal; double-quoted values understand ``\\n``,
    ``\\t``, ``\\"`` and ``\\\\``; an unquoted value ends at `` #``.

    Raises:
        UsageError: the file cannot be read, or a line is not ``KEY=VALUE``
            (the message names the line, never its value).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read env file {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise UsageError(f"{path}:{number}: expected KEY=VALUE")
        key, raw = match.groups()
        variables[key] = _value(raw)
    return variables


def _value(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        inner = raw[1:-1]
        escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
        return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), inner)
    comment = raw.find(" #")
    return raw[:comment].rstrip() if comment >= 0 else raw


def layered_environment(
    process_env: dict[str, str], paradigm: Path, env_file: Path | None
) -> dict[str, str]:
    """The environment a paradigm is loaded with.

    The process environment wins over ``--env-file``, which wins over a ``.env``
    beside the paradigm: a file never overrides what the caller set explicitly.
    """
    layered: dict[str, str] = {}
    beside = paradigm.parent / ".env"
    if beside.is_file():
        layered.update(read_env_file(beside))
    if env_file is not None:
        layered.update(read_env_file(env_file))
    layered.update(process_env)
    return layered
