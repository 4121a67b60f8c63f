"""Functions the ``python`` provider tests call by reference (``helpers_funcs:name``)."""

from __future__ import annotations

import asyncio
import datetime
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from agentrun.errors import ProviderError

RELEASE = threading.Event()
"""Set by a test to let ``block_forever`` return once the test no longer waits for it."""


def shout(prompt: str) -> str:
    return prompt.upper()


async def async_echo(prompt: str) -> str:
    await asyncio.sleep(0)
    return f"async:{prompt}"


def with_context(prompt: str, context: dict[str, Any]) -> dict[str, Any]:
    context["vars"]["mutated"] = True  # must not leak into the run's own context
    return {"prompt": prompt, **context}


async def async_with_context(prompt: str, context: dict[str, Any]) -> str:
    return f"{context['agent']}#{context['attempt']}:{prompt}"


def with_default(prompt: str, suffix: object = "!") -> str:
    return f"{prompt}:{type(suffix).__name__}"


def varargs(*args: Any) -> int:
    return len(args)


def returns_list(prompt: str) -> list[str]:
    return [prompt, "é"]


def returns_date(prompt: str) -> dict[str, Any]:
    return {"when": datetime.date(2024, 1, 2)}


def returns_none(prompt: str) -> None:
    return None


def raises(prompt: str) -> str:
    raise ValueError(f"bad prompt {prompt!r}")


async def async_raises(prompt: str) -> str:
    raise KeyError("missing")


def raises_final(prompt: str) -> str:
    error = ProviderError("quota exhausted")
    error.retryable = False
    raise error


def block_forever(prompt: str) -> str:
    RELEASE.wait()
    return "released"


async def async_hang(prompt: str) -> str:
    await asyncio.Event().wait()
    return "never"


class AsyncCallable:
    """An object whose ``__call__`` is a coroutine function."""

    async def __call__(self, prompt: str) -> str:
        return f"object:{prompt}"


async_object = AsyncCallable()

not_callable = 42


def returns_generator(prompt: str) -> Iterator[str]:
    yield from prompt.split()


async def returns_async_generator(prompt: str) -> AsyncIterator[str]:
    for word in prompt.split():
        yield word
