"""``agentrun init``: a commented starter paradigm and the Python module its agents call.

Each starter runs at once with ``--mock`` (no key, no network): a ``python`` agent
from the module written beside it, an LLM agent with its offline stand-in, and a
``mock`` fallback, so a new user sees every moving part before changing any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from agentrun.errors import UsageError

STARTER_PATTERNS = ("independent", "pipeline", "competitive")

_HEADER = """\
# A starter paradigm: {summary}
# Run it offline now:   agentrun run {file} --mock
# Check it after edits: agentrun validate {file}
# Without --mock the `llm` agent calls a real OpenAI-compatible server: set
# OPENAI_API_KEY (and AGENTRUN_BASE_URL / AGENTRUN_MODEL for another server).
version: 1
name: {name}
description: {description}
pattern: {pattern}

providers:
  llm:
    type: openai
    base_url: ${{AGENTRUN_BASE_URL:-https://api.openai.com/v1}}
    api_key: ${{OPENAI_API_KEY}}
    model: ${{AGENTRUN_MODEL:-gpt-4o-mini}}

defaults:
  timeout: 30s                        # each attempt's time limit
  retries: 1                          # one more attempt after an error or a broken imperative
  backoff: {{initial: 200ms, max: 2s}}  # the wait before a retry
"""

_INDEPENDENT = """\
input: What is the capital of France?  # or: --input "..." on the command line

imperatives:                          # rules every output named below must pass
  mentions_paris: {{contains: Paris, case_sensitive: false}}
  short: {{max_length: 200}}
  one_sentence:
    python: {module}:is_one_sentence  # your own check, in {module}.py

agents:                               # all run at once; one failing does not stop the others
  rule_based:
    description: Your own Python code (see {module}.py).
    provider: python
    callable: {module}:answer
    imperatives: [mentions_paris, one_sentence]
  model:
    description: A language model; --mock swaps it for the stand-in below.
    provider: llm
    prompt: "{{{{ input }}}} Answer in one sentence."
    imperatives: [mentions_paris, short]
    fallback: [canned]                # answers in its place if every attempt fails
    mock: {{output: "The capital of France is Paris.", latency: 400ms}}
  canned:
    provider: mock
    output: Paris is the capital of France.

require: all                          # every agent must pass (or be replaced by a fallback)
deadline: 2m                          # the whole run's time limit
"""

_PIPELINE = """\
input: solar panels on every school roof  # or: --input "..." on the command line

imperatives:
  has_points: {{regex: '(?m)^- '}}
  one_sentence:
    python: {module}:is_one_sentence

agents:
  brainstorm:
    description: Your own Python code (see {module}.py) lists points for and against.
    provider: python
    callable: {module}:brainstorm
    imperatives: [has_points]
  summarise:
    description: A language model reads the points; --mock swaps it for the stand-in.
    provider: llm
    prompt: |
      Summarise in one sentence whether this is a good idea:
      {{{{ previous | join('\\n') }}}}
    imperatives: [one_sentence]
    fallback: [canned]
    mock: {{output: "On balance the points favour {{{{ input }}}}.", latency: 400ms}}
  canned:
    provider: mock
    output: The points for and against are listed above.

stages:                               # in order; a stage sees the one before as `previous`
  - {{name: gather, agents: [brainstorm]}}
  - {{name: decide, agents: [summarise]}}

deadline: 2m
"""

_COMPETITIVE = """\
input: "91"                           # a number to factor

imperatives:
  correct:
    python: {module}:is_factorisation

winner:                               # the first output to pass these wins; the rest are cancelled
  imperatives: [correct]

agents:
  search:
    description: Your own Python code (see {module}.py), by trial division.
    provider: python
    callable: {module}:factor
  model:
    description: A language model; its answer wins only if it is correct.
    provider: llm
    prompt: 'Factor {{{{ input }}}} into two numbers p <= q. Reply "p x q" only.'
    mock: {{output: "7 x 13", latency: 600ms}}

deadline: 1m
"""

_MODULE = '''\
"""The Python side of {file}: agents and checks are plain functions.

An agent takes the rendered prompt (and, with a second parameter, the context:
input, vars, previous outputs) and returns its output. A check takes the output
(and the context) and returns True/False, or (passed, reason).
"""

from __future__ import annotations

from typing import Any


def answer(prompt: str) -> str:
    """An agent: replace this with your own logic."""
    if "france" in prompt.lower():
        return "The capital of France is Paris."
    return "I do not know."


def brainstorm(prompt: str) -> str:
    """An agent listing points for and against the idea in the prompt."""
    return f"- for: {{prompt}} saves money over time\\n- against: {{prompt}} costs money up front"


def factor(prompt: str) -> str:
    """An agent factoring the number in the prompt by trial division."""
    n = int(prompt.strip())
    p = next((d for d in range(2, int(n**0.5) + 1) if n % d == 0), n)
    return f"{{p}} x {{n // p}}"


def is_one_sentence(output: str) -> tuple[bool, str]:
    """A check: exactly one sentence."""
    sentences = [s for s in output.replace("!", ".").replace("?", ".").split(".") if s.strip()]
    return len(sentences) == 1, f"{{len(sentences)}} sentences"


def is_factorisation(output: str, context: dict[str, Any]) -> tuple[bool, str]:
    """A check: ``p x q`` multiplies back to the input, with neither factor 1."""
    try:
        p, q = (int(part) for part in output.split("x"))
    except ValueError:
        return False, f"not 'p x q': {{output!r}}"
    n = int(context["input"])
    return p * q == n and 1 < p <= q < n, f"{{p}} x {{q}} = {{p * q}}, not {{n}}"
'''

_PATTERNS = {
    "independent": (
        _INDEPENDENT,
        "every agent answers the same input at once (the independent pattern).",
        "Agents answer the same question at once; each answer must pass its imperatives.",
    ),
    "pipeline": (
        _PIPELINE,
        "stages run in order, each reading the one before (the pipeline pattern).",
        "A Python agent lists points, then a language model summarises them.",
    ),
    "competitive": (
        _COMPETITIVE,
        "agents race; the first correct answer wins (the competitive pattern).",
        "Python code and a language model race to factor a number; a check decides.",
    ),
}


@dataclass(frozen=True, slots=True)
class Starter:
    """The files ``init`` wrote."""

    paradigm: Path
    module: Path


def write_starter(pattern: str, output: Path) -> Starter:
    """Write a starter paradigm to ``output`` and its Python module beside it.

    Raises:
        UsageError: an unknown pattern, or either file exists already.
    """
    if pattern not in _PATTERNS:
        raise UsageError(f"unknown pattern {pattern!r}; choose one of {', '.join(_PATTERNS)}")
    if output.suffix not in (".yaml", ".yml"):
        raise UsageError(f"--output must end in .yaml or .yml, got {str(output)!r}")
    module_name = re.sub(r"\W", "_", output.stem).lstrip("0123456789") + "_agents"
    module = output.with_name(f"{module_name}.py")
    for path in (output, module):
        if path.exists():
            raise UsageError(f"{path} exists already; choose another name with --output FILE")
    body, summary, description = _PATTERNS[pattern]
    fields = {
        "file": output.name,
        "module": module_name,
        "name": re.sub(r"[^a-z0-9]+", "-", output.stem.lower()).strip("-") or "starter",
        "summary": summary,
        "description": description,
        "pattern": pattern,
    }
    text = _HEADER.format(**fields) + "\n" + body.format(**fields)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        module.write_text(_MODULE.format(file=output.name), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    return Starter(output, module)
