"""Make a paradigm's folder importable for a while, leaving ``sys.path`` as it was."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def importable_from(folder: Path) -> Iterator[None]:
    """Put ``folder`` first on ``sys.path`` until the block ends, then take it off again.

    ``python`` agents and checks name modules that sit beside the paradigm. An entry
    that was already on the path is left alone; one added here is removed (and only
    that one, even if other code changed the path meanwhile).
    """
    entry = str(folder)
    if entry in sys.path:
        yield
        return
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        try:
            sys.path.remove(entry)
        except ValueError:
            pass  # someone else removed it already
