"""The ``compare`` and ``cache`` commands (typer), kept beside the dataset code they call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from agentrun.dataset import cache as response_cache
from agentrun.dataset.compare import FORMATS, load_side, render
from agentrun.dataset.compare import compare as compare_runs
from agentrun.errors import UsageError

cache_app = typer.Typer(
    help="Inspect or empty the response cache.", add_completion=False, rich_markup_mode=None
)

_WHERE = typer.Argument(help="A paradigm file (its .agentrun folder) or a cache folder.")


def compare(
    base: Annotated[str, typer.Argument(help="The earlier results file or report.")],
    new: Annotated[str, typer.Argument(help="The later results file or report.")],
    output_format: Annotated[
        str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")
    ] = "table",
) -> int:
    """Compare two dataset runs. Exit 0 no regression, 1 a case regressed, 2 bad input."""
    if output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {output_format!r}")
    result = compare_runs(load_side(base), load_side(new))
    print(render(result, output_format), end="")
    return 1 if result.regressions else 0


def _folder(where: Path | None, cache_dir: str | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    if where is None:
        return Path(".agentrun")
    return response_cache.cache_dir_for(where, None) if where.is_file() else where


@cache_app.command()
def stats(
    where: Annotated[Path | None, _WHERE] = None,
    cache_dir: Annotated[str | None, typer.Option("--cache-dir", help="The cache folder.")] = None,
) -> int:
    """Print the number of cached replies, by provider type, and the size on disk."""
    print(json.dumps(response_cache.stats(_folder(where, cache_dir)), indent=2))
    return 0


@cache_app.command()
def clear(
    where: Annotated[Path | None, _WHERE] = None,
    cache_dir: Annotated[str | None, typer.Option("--cache-dir", help="The cache folder.")] = None,
) -> int:
    """Delete every cached reply."""
    folder = _folder(where, cache_dir)
    print(f"cleared {response_cache.clear(folder)} cached replies from {folder}")
    return 0
