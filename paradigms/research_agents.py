"""The research team of ``research_team.yaml``: gatherers, theorists, a critic and a judge.

Every agent is deterministic and offline. Gatherers search ``research_corpus.json``
and write one finding a line, each with its source::

    - (2019) Each 10% increase in tree canopy ... [source: doi:10.5555/uhi.2019.207]

Theorists read those lines (the stage's ``previous``) through one lens each (see
:mod:`research_lenses`); the critic scores the theories against the gathered
evidence; the judge checks the critic's verdict against a rubric.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pace import pause
from research_lenses import (
    Codebook,
    Finding,
    Theory,
    causal,
    parse_theories,
    statistical,
    systems,
)

CORPUS = Path(__file__).with_name("research_corpus.json")
"""The local corpus the gatherers search."""

_FINDING = re.compile(r"^- \((\d{4})\) (.+) \[source: ([^\]]+)\]$", re.MULTILINE)
_SOURCE = re.compile(r"\[source: ([^\]]+)\]")
_TOPIC = re.compile(r"^## Topic: (.+)$", re.MULTILINE)
_EVIDENCE_HEADING = "## Evidence"
_THEORIES_HEADING = "## Theories"
UNSUPPORTED_PENALTY = 2
"""Points a theory loses per claim that cites nothing, or cites a source nobody gathered."""


@dataclass(frozen=True, slots=True)
class Document:
    """One corpus entry."""

    id: str
    topic: str
    type: str
    """``academic``, ``industry`` or ``government``."""
    year: int
    source: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Corpus:
    """The documents and, per topic, the codebook of levers, outcomes and their keywords."""

    documents: tuple[Document, ...]
    codebooks: Mapping[str, Codebook]

    def topic(self, name: str) -> str:
        """The corpus topic a request names (case and spacing ignored).

        Raises:
            LookupError: the corpus does not cover the topic.
        """
        wanted = " ".join(name.lower().split())
        for topic in self.codebooks:
            if topic == wanted:
                return topic
        raise LookupError(
            f"no topic {name.strip()!r}; the corpus covers: {', '.join(self.codebooks)}"
        )


def load_corpus(path: Path = CORPUS) -> Corpus:
    """Read the corpus file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    codebooks = {
        topic: Codebook(
            levers={name: tuple(words) for name, words in entry["levers"].items()},
            outcomes={name: tuple(words) for name, words in entry["outcomes"].items()},
        )
        for topic, entry in data["topics"].items()
    }
    return Corpus(tuple(Document(**doc) for doc in data["documents"]), codebooks)


def gather(topic: str, kind: str, corpus: Corpus | None = None) -> str:
    """The findings of one kind of source on a topic, newest first, one cited line each.

    Raises:
        LookupError: the topic is unknown, or no source of this kind covers it.
    """
    corpus = corpus or load_corpus()
    name = corpus.topic(topic)
    found = sorted(
        (d for d in corpus.documents if d.topic == name and d.type == kind),
        key=lambda d: (-d.year, d.id),
    )
    if not found:
        raise LookupError(f"the corpus holds no {kind} sources on {name!r}")
    lines = [f"{kind} findings on {name} ({len(found)} sources):"]
    lines += [f"- ({d.year}) {d.text} [source: {d.source}]" for d in found]
    return "\n".join(lines)


def academic(topic: str) -> str:
    """Gatherer for peer-reviewed studies."""
    pause(0.6, 1.6, "academic" + topic)  # a search takes time (see pace.py)
    return gather(topic, "academic")


def industry(topic: str) -> str:
    """Gatherer for industry reports (not every topic has them)."""
    pause(0.6, 1.6, "industry" + topic)  # a search takes time (see pace.py)
    return gather(topic, "industry")


def government(topic: str) -> str:
    """Gatherer for government statistics and evaluations."""
    pause(0.6, 1.6, "government" + topic)  # a search takes time (see pace.py)
    return gather(topic, "government")


def parse_findings(texts: Iterable[str]) -> list[Finding]:
    """Every cited finding line in the gatherers' outputs; other lines are ignored."""
    return [
        Finding(int(m.group(1)), m.group(2), m.group(3).strip())
        for text in texts
        for m in _FINDING.finditer(text)
    ]


def _theorise(topic: str, context: Mapping[str, Any], lens: str) -> str:
    pause(0.5, 1.2, lens + topic)
    corpus = load_corpus()
    name = corpus.topic(topic)
    findings = parse_findings(context.get("previous") or ())
    if not findings:
        raise ValueError("the previous stage gathered no cited findings")
    build = {"systems": systems, "statistical": statistical, "causal": causal}[lens]
    return build(name, findings, corpus.codebooks[name]).render()


def systems_theorist(topic: str, context: Mapping[str, Any]) -> str:
    """A theory from the links between factors (see :func:`research_lenses.systems`)."""
    return _theorise(topic, context, "systems")


def statistical_theorist(topic: str, context: Mapping[str, Any]) -> str:
    """A theory from the measured effect sizes (see :func:`research_lenses.statistical`)."""
    return _theorise(topic, context, "statistical")


def causal_theorist(topic: str, context: Mapping[str, Any]) -> str:
    """A theory from the interventions (see :func:`research_lenses.causal`)."""
    return _theorise(topic, context, "causal")


def _section(text: str, heading: str, end: str | None) -> str:
    start = text.find(heading)
    if start < 0:
        raise ValueError(f"the prompt has no {heading!r} section")
    stop = text.find(end, start) if end else -1
    return text[start + len(heading) : stop if stop >= 0 else None]


@dataclass(frozen=True, slots=True)
class Score:
    """How well the gathered evidence backs one theory."""

    lens: str
    statement: str
    distinct_sources: int
    """Gathered sources the theory cites, each counted once."""
    unsupported_claims: int
    """Claims that cite nothing."""
    unknown_sources: int
    """Cited sources that no gatherer found."""
    claims: int
    """All the theory's claims; fewer wins a tie (parsimony)."""

    @property
    def flaws(self) -> int:
        """Unsupported claims and unknown sources together."""
        return self.unsupported_claims + self.unknown_sources

    @property
    def score(self) -> int:
        """One point per distinct source, less a penalty per unsupported claim or unknown source."""
        return self.distinct_sources - UNSUPPORTED_PENALTY * self.flaws

    def as_dict(self) -> dict[str, Any]:
        """The score as JSON-ready data."""
        return {
            "lens": self.lens,
            "statement": self.statement,
            "distinct_sources": self.distinct_sources,
            "unsupported_claims": self.unsupported_claims,
            "unknown_sources": self.unknown_sources,
            "claims": self.claims,
            "score": self.score,
        }


def score_theory(theory: Theory, gathered: set[str]) -> Score:
    """Score a theory against the set of sources the gatherers found."""
    cited = {source for claim in theory.claims for source in claim.sources}
    return Score(
        lens=theory.lens,
        statement=theory.statement,
        distinct_sources=len(cited & gathered),
        unsupported_claims=sum(1 for claim in theory.claims if not claim.sources),
        unknown_sources=len(cited - gathered),
        claims=len(theory.claims),
    )


def _rank(score: Score) -> tuple[int, int, int]:
    """Higher is stronger: score, then fewer flaws, then fewer claims."""
    return score.score, -score.flaws, -score.claims


def _rationale(best: Score, scores: list[Score]) -> str:
    text = (
        f"the {best.lens} theory rests on {best.distinct_sources} distinct gathered sources "
        f"with {best.flaws or 'no'} unsupported claim{'' if best.flaws == 1 else 's'}"
    )
    for other in scores:
        if other is not best and other.score == best.score:
            if other.flaws != best.flaws:
                why = f"fewer unsupported claims ({best.flaws} against {other.flaws})"
            elif other.claims != best.claims:
                why = f"parsimony ({best.claims} claims against {other.claims})"
            else:
                why = "being listed first"
            text += f"; it ties with {other.lens} on score and wins on {why}"
    return text


def critic(prompt: str) -> dict[str, Any]:
    """Score each theory in the prompt against the evidence in it and name the strongest.

    The prompt holds a ``## Topic:`` line, an ``## Evidence`` section (the
    gatherers' findings) and a ``## Theories`` section (the theorists' outputs).
    A theory scores one point per distinct gathered source it cites and loses
    ``UNSUPPORTED_PENALTY`` per claim that cites nothing and per source it cites
    that no gatherer found. Ties go to the theory with fewer such flaws, then to
    the one with fewer claims (the more parsimonious), then to the first listed.

    Raises:
        ValueError: a section is missing or holds no theory.
    """
    topic = _TOPIC.search(prompt)
    gathered = set(_SOURCE.findall(_section(prompt, _EVIDENCE_HEADING, _THEORIES_HEADING)))
    theories = parse_theories(_section(prompt, _THEORIES_HEADING, None))
    if not theories:
        raise ValueError("no theory to critique")
    scores = [score_theory(theory, gathered) for theory in theories]
    best = max(scores, key=_rank)
    return {
        "topic": topic.group(1).strip() if topic else "",
        "theories": [s.as_dict() for s in scores],
        "strongest": best.lens,
        "rationale": _rationale(best, scores),
    }


def judge(prompt: str) -> str:
    """Check a critique against the rubric in the judge prompt; answer ``PASS: ...``/``FAIL: ...``.

    The rubric may ask for "at least N distinct sources" behind the strongest
    theory. Whatever it says, the critique must be JSON, name a theory it scored,
    and name the one with the top score.
    """
    # The tags on lines of their own delimit the output; the instructions also name them inline.
    opening = re.search(r"^<output>$", prompt, re.MULTILINE)
    closings = list(re.finditer(r"^</output>$", prompt, re.MULTILINE))
    if opening is None or not closings or closings[-1].start() < opening.end():
        return "FAIL: no <output> to judge"
    rubric = prompt[: opening.start()]
    try:
        verdict = json.loads(prompt[opening.end() : closings[-1].start()])
        theories = {t["lens"]: t for t in verdict["theories"]}
        strongest = verdict["strongest"]
    except (ValueError, KeyError, TypeError) as exc:
        return f"FAIL: the critique is not the expected JSON ({type(exc).__name__}: {exc})"
    if strongest not in theories:
        return f"FAIL: the strongest theory {strongest!r} is not among those scored"
    top = max(t["score"] for t in theories.values())
    if theories[strongest]["score"] != top:
        return (
            f"FAIL: {strongest} scores {theories[strongest]['score']}, but the top score is {top}"
        )
    wanted = re.search(r"at least (\d+) distinct sources", rubric)
    sources = theories[strongest]["distinct_sources"]
    if wanted and sources < int(wanted.group(1)):
        return (
            f"FAIL: {strongest} rests on {sources} distinct sources, fewer than {wanted.group(1)}"
        )
    return f"PASS: {strongest} has the top score ({top}) from {sources} distinct sources"
