"""The flags of ``agentrun run`` that make it a dataset run (many cases)."""

from __future__ import annotations

from typing import Annotated

import typer

from agentrun.dataset.prepare import DatasetOptions

Cases = Annotated[
    str | None,
    typer.Option(
        "--cases", metavar="PATH", help="Run once per case of a JSONL, CSV or YAML file (- stdin)."
    ),
]
Repeat = Annotated[int, typer.Option("--repeat", metavar="N", min=1, help="Run each case N times.")]
Limit = Annotated[
    int | None, typer.Option("--limit", metavar="N", min=1, help="Run the first N cases.")
]
Filter = Annotated[
    str | None,
    typer.Option("--filter", metavar="REGEX", help="Run the cases whose id matches this regex."),
]
Shuffle = Annotated[bool, typer.Option("--shuffle", help="Run cases in random order (--seed).")]
CaseConcurrency = Annotated[
    int | None,
    typer.Option("--case-concurrency", metavar="N", min=1, help="Cases in flight at once."),
]
Results = Annotated[
    str | None,
    typer.Option("--results", metavar="PATH", help="Stream one JSON line per finished case here."),
]
PassRate = Annotated[
    float | None,
    typer.Option("--pass-rate", metavar="RATE", help="Pass-rate threshold, 0 to 1."),
]
Cache = Annotated[
    bool | None, typer.Option("--cache/--no-cache", help="Reuse cached LLM and HTTP replies.")
]
CacheRefresh = Annotated[
    bool, typer.Option("--cache-refresh", help="Ask anew and overwrite the cached replies.")
]
CacheDir = Annotated[
    str | None, typer.Option("--cache-dir", metavar="PATH", help="Folder of the response cache.")
]
Resume = Annotated[
    str | None,
    typer.Option("--resume", metavar="PATH", help="Keep the passed cases of this results file."),
]
Rerun = Annotated[
    str, typer.Option("--rerun", metavar="WHAT", help="With --resume: failed (default) or errors.")
]


def cache_mode(cache: bool | None, refresh: bool) -> str | None:
    """``refresh``, ``on``, ``off``, or ``None`` when the paradigm decides."""
    if refresh:
        return "refresh"
    return None if cache is None else "on" if cache else "off"


__all__ = ["DatasetOptions", "cache_mode"]
