"""Which files under the paths given to ``validate`` and ``run`` are paradigms.

A folder is walked for ``*.yaml`` and ``*.yml`` files, leaving out what is never a
paradigm of the project: hidden folders (``.git``, ``.venv``), ``node_modules``,
virtual environments (a folder holding ``pyvenv.cfg``, or named ``venv`` or
``site-packages``) and YAML files without a top-level ``agents:`` key (CI
workflows, docker-compose files). A file named on the command line is always taken.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from agentrun.errors import UsageError

PARADIGM_SUFFIXES = (".yaml", ".yml")
SKIPPED_FOLDERS = frozenset({"node_modules", "venv", "site-packages", "__pycache__"})

# Block style (`agents:`), quoted (`"agents":`) or a flow mapping (`{agents: ...`).
_AGENTS_KEY = re.compile(r"""^(?:\{\s*)?["']?agents["']?\s*:""", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Discovery:
    """The paradigm files found, and how many files and folders were left out."""

    files: tuple[Path, ...]
    skipped: int
    """YAML files that are not paradigms, plus folders not walked into."""


def discover_paradigms(paths: Iterable[Path]) -> Discovery:
    """Every paradigm file named or found below the given folders.

    Raises:
        UsageError: a path does not exist, or a folder holds no paradigm file.
    """
    files: list[Path] = []
    skipped = 0
    for path in paths:
        if path.is_dir():
            found, left_out = _walk(path)
            if not found:
                raise UsageError(f"no paradigm (*.yaml or *.yml with agents:) under {path}")
            files += found
            skipped += left_out
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(f"no such file or folder: {path}")
    return Discovery(tuple(files), skipped)


def looks_like_paradigm(path: Path) -> bool:
    """Whether a YAML file has a top-level ``agents:`` key (read as text, not parsed)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as stream:
            return _AGENTS_KEY.search(stream.read(1 << 20)) is not None
    except OSError:
        return True  # let validation report why it cannot be read


def _walk(root: Path) -> tuple[list[Path], int]:
    found: list[Path] = []
    skipped = 0
    for folder, dirs, names in os.walk(root):
        kept = [d for d in dirs if not _skip_folder(Path(folder, d))]
        skipped += len(dirs) - len(kept)
        dirs[:] = kept  # os.walk descends only into what is left here
        for name in names:
            path = Path(folder, name)
            if path.suffix not in PARADIGM_SUFFIXES or not path.is_file():
                continue
            if looks_like_paradigm(path):
                found.append(path)
            else:
                skipped += 1
    return sorted(found), skipped


def _skip_folder(path: Path) -> bool:
    return (
        path.name.startswith(".") or path.name in SKIPPED_FOLDERS or (path / "pyvenv.cfg").exists()
    )
