"""A toy "local model" for local_vote.yaml: loaded once per pool slot, sampled many times.

It stands in for a real local model (a transformers pipeline, llama.cpp, ...): the
constructor is the expensive part, each call samples one answer, and a higher
temperature makes it slip more often. Sampling is seeded by the agent's name, so
the example gives the same votes on every run.
"""

from __future__ import annotations

import random
import re
import threading
from typing import Any

_copies = 0
_copies_lock = threading.Lock()  # a warm pool builds its copies in parallel threads


class Generator:
    """Solves "covers D km in T hours" questions, sometimes wrongly, like a small model."""

    def __init__(self, slip_rate: float = 0.5) -> None:
        global _copies
        with _copies_lock:
            _copies += 1
            self.copy = _copies
        self.slip_rate = slip_rate
        self.cache: dict[str, tuple[float, float]] = {}  # per-call state that reset() drops

    def __call__(self, prompt: str, context: dict[str, Any]) -> str:
        distance, hours = self._read(str(context["input"]))
        temperature = context.get("settings", {}).get("temperature") or 0.0
        sample = random.Random(context["agent"])
        if sample.random() < temperature * self.slip_rate:
            reasoning = f"{distance:g} km times {hours:g} h is {distance * hours:g}"
            answer = distance * hours
        else:
            reasoning = f"{distance:g} km divided by {hours:g} h is {distance / hours:g} km/h"
            answer = distance / hours
        return f"{reasoning}. The answer is {answer:g}. (model copy {self.copy})"

    def _read(self, question: str) -> tuple[float, float]:
        if question not in self.cache:
            numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", question)]
            if len(numbers) < 2:
                raise ValueError(f"expected a distance and a time in {question!r}")
            self.cache[question] = (numbers[0], numbers[1])
        return self.cache[question]

    def reset(self) -> None:
        """Called after every use: the next borrower starts clean."""
        self.cache.clear()

    def close(self) -> None:
        """Called at the end of the run, or when the pool discards this copy."""
        self.cache = {}
