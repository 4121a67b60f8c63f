"""``--resume RESULTS``: keep what an earlier run of the same paradigm and cases passed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentrun.dataset.cases import DatasetCase
from agentrun.dataset.records import ERRORED, PASSED
from agentrun.dataset.results_file import read_results
from agentrun.errors import UsageError

RERUN_CHOICES = ("failed", "errors")


def split(
    path: str,
    head: Mapping[str, Any],
    planned: list[tuple[DatasetCase, int]],
    rerun: str = "failed",
) -> tuple[list[dict[str, Any]], list[tuple[DatasetCase, int]]]:
    """(records kept from ``path``, the planned cases still to run).

    ``failed`` reruns failed, errored, interrupted and missing cases; ``errors`` keeps
    failed ones too and reruns only infrastructure failures and missing cases.

    Raises:
        UsageError: the file is not a results file of this paradigm and these cases.
    """
    if rerun not in RERUN_CHOICES:
        raise UsageError(f"--rerun must be one of {', '.join(RERUN_CHOICES)}, got {rerun!r}")
    old, records = read_results(path)
    for key, what in (("paradigm_sha256", "paradigm"), ("cases_sha256", "cases")):
        if old.get(key) != head[key]:
            raise UsageError(
                f"--resume: {path} holds results of another {what} (its hash differs); "
                "run without --resume, or point --results elsewhere"
            )
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for record in records:
        latest[(str(record.get("id")), int(record.get("repeat") or 0))] = record
    keep = {PASSED} if rerun == "failed" else {status for status in _ALL if status != ERRORED}
    wanted = {(case.id, repeat) for case, repeat in planned}
    kept = [r for key, r in latest.items() if key in wanted and r.get("status") in keep]
    done = {(str(r["id"]), int(r.get("repeat") or 0)) for r in kept}
    return kept, [(case, repeat) for case, repeat in planned if (case.id, repeat) not in done]


_ALL = ("passed", "failed", "errored")
