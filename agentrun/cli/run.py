"""``agentrun run``: one paradigm, several, a folder of them, or one from standard input."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from agentrun import api, batch
from agentrun.cli import dataset_flags
from agentrun.cli.completion import paradigm_files
from agentrun.cli.flags import parse_deadline, parse_vars, read_input
from agentrun.dataset.prepare import declares_cases
from agentrun.dataset.run import run_from_cli
from agentrun.display import DISPLAY_MODES, styled_output
from agentrun.display.problems import render_problems
from agentrun.errors import Problem, SpecError, UsageError

_Files = Annotated[
    list[str],
    typer.Argument(
        metavar="FILE",
        help="Paradigm files or folders of them; - reads one from standard input.",
        autocompletion=paradigm_files,
    ),
]

_InputText = Annotated[
    str | None,
    typer.Option("--input", metavar="TEXT", help="Input text (replaces the paradigm's input)."),
]

_InputFile = Annotated[
    str | None,
    typer.Option(
        "--input-file", metavar="PATH", help="Read the input from a file, or - for stdin."
    ),
]

_Var = Annotated[
    list[str] | None,
    typer.Option("--var", metavar="KEY=VALUE", help="Template variable (repeatable)."),
]

_Mock = Annotated[
    bool,
    typer.Option(
        "--mock", help="Swap every network provider (openai, anthropic, http) for the mock."
    ),
]

_EnvFile = Annotated[
    str | None,
    typer.Option(
        "--env-file", metavar="PATH", help="Read KEY=VALUE variables for ${VAR} from this file."
    ),
]

_Report = Annotated[
    str | None,
    typer.Option(
        "--report",
        metavar="PATH",
        help="Write the JSON report here (- for stdout); a folder for several paradigms.",
    ),
]

_Events = Annotated[
    str | None,
    typer.Option(
        "--events",
        metavar="PATH",
        help="Write every event as JSON lines here; a folder for several paradigms.",
    ),
]

_Junit = Annotated[
    str | None,
    typer.Option("--junit", metavar="FILE", help="Write JUnit XML here (one testcase per agent)."),
]

_Html = Annotated[
    str | None,
    typer.Option(
        "--html", metavar="PATH", help="Write a self-contained HTML report with a timeline."
    ),
]

_ShowOutput = Annotated[
    bool, typer.Option("--show-output", "-v", help="Plain display: print each agent's output.")
]

_Rounds = Annotated[
    int | None,
    typer.Option("--rounds", metavar="N", help="Replace an exchange's rounds (1: no exchange)."),
]

_Display = Annotated[
    str,
    typer.Option("--display", metavar="MODE", help=f"One of {', '.join(DISPLAY_MODES)}."),
]

_MaxConcurrency = Annotated[
    int | None,
    typer.Option(
        "--max-concurrency", min=1, metavar="N", help="At most N provider calls in flight."
    ),
]

_Deadline = Annotated[
    str | None,
    typer.Option(
        "--deadline", metavar="DURATION", help="Time limit of the whole pattern (e.g. 2m)."
    ),
]

_NoBatch = Annotated[
    bool,
    typer.Option("--no-batch", help="Send every request alone, even for providers with batch:."),
]

_Seed = Annotated[
    int | None,
    typer.Option("--seed", metavar="N", help="Seed of the retry jitter, for reproducibility."),
]


def run(
    files: _Files,
    input_text: _InputText = None,
    input_file: _InputFile = None,
    var: _Var = None,
    mock: _Mock = False,
    env_file: _EnvFile = None,
    report: _Report = None,
    events: _Events = None,
    junit: _Junit = None,
    html: _Html = None,
    display: _Display = "auto",
    show_output: _ShowOutput = False,
    max_concurrency: _MaxConcurrency = None,
    deadline: _Deadline = None,
    seed: _Seed = None,
    rounds: _Rounds = None,
    no_batch: _NoBatch = False,
    cases: dataset_flags.Cases = None,
    repeat: dataset_flags.Repeat = 1,
    limit: dataset_flags.Limit = None,
    case_filter: dataset_flags.Filter = None,
    shuffle: dataset_flags.Shuffle = False,
    case_concurrency: dataset_flags.CaseConcurrency = None,
    results: dataset_flags.Results = None,
    pass_rate: dataset_flags.PassRate = None,
    cache: dataset_flags.Cache = None,
    cache_refresh: dataset_flags.CacheRefresh = False,
    cache_dir: dataset_flags.CacheDir = None,
    resume: dataset_flags.Resume = None,
    rerun: dataset_flags.Rerun = "failed",
) -> int:
    """Run paradigms. Exit 0 passed, 1 an imperative was violated, 3 errors or timeouts,
    2 invalid paradigm or flags, 130 interrupted; for several, the most serious of these
    (130, then 2, 1, 3). With --cases (or cases: in the paradigm), once per case."""
    _check_flags(files, display, input_file, cases)
    options = api.RunOptions(
        input_text=read_input(input_text, input_file),
        variables=parse_vars(var or []),
        mock=mock,
        report=report,
        events=events,
        junit=junit,
        html=html,
        display=display,
        max_concurrency=max_concurrency,
        deadline=parse_deadline(deadline),
        seed=seed,
        env_file=env_file,
        show_output=show_output,
        rounds=rounds,
        on_warning=_warn,
        no_batch=no_batch,
    )
    cache_mode = dataset_flags.cache_mode(cache, cache_refresh)
    dataset = dataset_flags.DatasetOptions(
        cases, repeat, limit, case_filter, shuffle, case_concurrency, results,
        pass_rate, cache_mode, cache_dir, resume, rerun,
    )  # fmt: skip
    return _dispatch(files, options, dataset)


def _check_flags(files: list[str], display: str, input_file: str | None, cases: str | None) -> None:
    """Refuse flags that contradict each other before anything is read."""
    if display not in DISPLAY_MODES:
        raise UsageError(f"--display must be one of {', '.join(DISPLAY_MODES)}, got {display!r}")
    for flag, value in (("--input-file", input_file), ("--cases", cases)):
        if batch.STDIN in files and value == batch.STDIN:
            raise UsageError(f"standard input cannot hold both the paradigm and {flag} -")


def _warn(problem: Problem) -> None:
    """A warning of the paradigm, shown like validate shows it, on stderr."""
    render_problems([problem], styled_output(sys.stderr, os.environ))


def _dispatch(
    files: list[str], options: api.RunOptions, dataset: dataset_flags.DatasetOptions
) -> int:
    """One paradigm (once, or per case), or several in turn."""
    if dataset.pass_rate is not None and not 0 <= dataset.pass_rate <= 1:
        raise UsageError(f"--pass-rate must be between 0 and 1, got {dataset.pass_rate:g}")
    single = len(files) == 1 and not Path(files[0]).is_dir()
    if single and files[0] != batch.STDIN and (dataset.requested or declares_cases(Path(files[0]))):
        if options.html is not None:
            raise UsageError("--html takes a single run; a dataset's runs are in --results")
        return run_from_cli(Path(files[0]), options, dataset)
    if dataset.requested:
        raise UsageError("dataset flags (--cases, --repeat, ...) take one paradigm file")
    if single:
        return batch.run_source(files[0], options).exit_code
    return _run_several(batch.expand_sources(files), options)


def _run_several(sources: list[str], options: api.RunOptions) -> int:
    """Each paradigm under a heading, then one line per paradigm and the combined code."""
    errors = styled_output(sys.stderr, os.environ)

    def start(source: str) -> None:
        print(f"== {source}", flush=True)

    def invalid(exc: SpecError) -> None:
        render_problems(exc.problems, errors)

    done = batch.run_many(sources, options, on_start=start, on_invalid=invalid)
    for outcome in done.outcomes:
        print(f"{outcome.source}: {outcome.status} (exit {outcome.exit_code})")
    not_run = len(sources) - len(done.outcomes)
    tail = f", {not_run} not run" if not_run else ""
    print(f"{len(done.outcomes)} paradigms run{tail}; exit {done.exit_code}", flush=True)
    return done.exit_code
