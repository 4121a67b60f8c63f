"""agentrun: run multi-agent paradigms with structured concurrency.

The Python API::

    import agentrun

    result = agentrun.run("paradigm.yaml", agentrun.RunOptions(mock=True))
    print(result.status, result.outputs)

Names are resolved on first use, so ``import agentrun`` (and the command line's
start-up) does not load the engine, the HTTP client or the terminal UI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AgentError",
    "AgentResult",
    "AgentStatus",
    "AgentrunError",
    "RunOptions",
    "RunResult",
    "RunStatus",
    "SpecError",
    "TaskGraph",
    "UsageError",
    "__version__",
    "load",
    "run",
    "run_async",
]

_HOMES = {
    "AgentError": "agentrun.errors",
    "AgentResult": "agentrun.results",
    "AgentStatus": "agentrun.results",
    "AgentrunError": "agentrun.errors",
    "RunOptions": "agentrun.api",
    "RunResult": "agentrun.results",
    "RunStatus": "agentrun.results",
    "SpecError": "agentrun.errors",
    "TaskGraph": "agentrun.graph.compiled",
    "UsageError": "agentrun.errors",
    "load": "agentrun.public",
    "run": "agentrun.public",
    "run_async": "agentrun.public",
}

if TYPE_CHECKING:
    from agentrun.api import RunOptions
    from agentrun.errors import AgentError, AgentrunError, SpecError, UsageError
    from agentrun.graph.compiled import TaskGraph
    from agentrun.public import load, run, run_async
    from agentrun.results import AgentResult, AgentStatus, RunResult, RunStatus


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agentrun' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # resolved once; later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
