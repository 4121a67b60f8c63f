"""Three lenses that turn cited findings into a theory, used by :mod:`research_agents`.

A topic's codebook maps each factor to keywords ("vegetation": tree, canopy, park,
...) and tells levers (what people can act on) from outcomes (what they care
about); a finding is about every factor whose keywords it mentions. Each lens
then reads the same findings differently:

* ``systems``: which factors appear together, which one sits at the centre, and
  whether three of them close a loop;
* ``statistical``: which lever carries the most measured effects, and how large
  they are;
* ``causal``: which lever was changed on purpose (trials, programmes, before and
  after), and which outcomes changing it moved.

A theory is a statement plus claims; a claim cites the sources it rests on, or
is marked ``[unsupported]`` when the lens infers more than the findings show.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import median

_EFFECT = re.compile(r"(\d+(?:\.\d+)?)\s*(°C|%)")
_INTERVENTION = re.compile(
    r"\b(trials?|pilot|programme|program|before-and-after|replaced|adding|switching|control)\b",
    re.IGNORECASE,
)
_THEORY = re.compile(r"^THEORY (\w+): (.+)$")
_CLAIM = re.compile(r"^- (.+?)((?: \[source: [^\]]+\])+| \[unsupported\])$")
_CITED = re.compile(r"\[source: ([^\]]+)\]")


@dataclass(frozen=True, slots=True)
class Codebook:
    """A topic's factors: levers people can act on and outcomes they care about."""

    levers: Mapping[str, Sequence[str]]
    """Lever name -> keywords that mark a finding as being about it."""
    outcomes: Mapping[str, Sequence[str]]
    """Outcome name -> keywords."""

    @property
    def factors(self) -> dict[str, Sequence[str]]:
        """Levers, then outcomes."""
        return {**self.levers, **self.outcomes}


@dataclass(frozen=True, slots=True)
class Finding:
    """One gathered finding: when, what, and where it comes from."""

    year: int
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim of a theory and the sources behind it (none: unsupported)."""

    text: str
    sources: tuple[str, ...] = ()

    def render(self) -> str:
        """The claim as one line, with its citations."""
        cites = "".join(f" [source: {s}]" for s in self.sources) or " [unsupported]"
        return f"- {self.text}{cites}"


@dataclass(frozen=True, slots=True)
class Theory:
    """A lens's statement and the claims it rests on."""

    lens: str
    statement: str
    claims: tuple[Claim, ...]

    def render(self) -> str:
        """The theory as text: ``THEORY lens: statement`` then one claim a line."""
        return "\n".join(
            [f"THEORY {self.lens}: {self.statement}", *(c.render() for c in self.claims)]
        )


def parse_theories(text: str) -> list[Theory]:
    """Read back every rendered theory in ``text``."""
    theories: list[Theory] = []
    claims: list[Claim] = []
    lens = statement = ""
    for line in text.splitlines():
        if heading := _THEORY.match(line.strip()):
            if lens:
                theories.append(Theory(lens, statement, tuple(claims)))
            lens, statement, claims = heading.group(1), heading.group(2), []
        elif lens and (claim := _CLAIM.match(line.strip())):
            claims.append(Claim(claim.group(1), tuple(_CITED.findall(claim.group(2)))))
    if lens:
        theories.append(Theory(lens, statement, tuple(claims)))
    return theories


def _mention(word: str) -> re.Pattern[str]:
    """Where a keyword starts a word: ``tree`` matches "trees", not "street"."""
    boundary = r"(?<![\w-])" if word[0].isalnum() else ""
    return re.compile(boundary + re.escape(word), re.IGNORECASE)


def _first_mention(text: str, words: Sequence[str]) -> int | None:
    """Where the earliest of the keywords appears in the text, if any does."""
    found = [m.start() for w in words if (m := _mention(w).search(text))]
    return min(found) if found else None


def factors_of(finding: Finding, factors: Mapping[str, Sequence[str]]) -> list[str]:
    """The factors a finding mentions, in codebook order."""
    return [
        name for name, words in factors.items() if _first_mention(finding.text, words) is not None
    ]


def _sources(findings: Sequence[Finding]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.source for f in findings))


def _by_factor(
    findings: Sequence[Finding], factors: Mapping[str, Sequence[str]]
) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        for name in factors_of(finding, factors):
            grouped[name].append(finding)
    return grouped


def _most_evidenced(grouped: Mapping[str, Sequence[Finding]], order: Sequence[str]) -> str:
    """The factor with the most distinct sources; ties go to the earlier codebook entry."""
    return max(grouped, key=lambda f: (len(_sources(grouped[f])), -list(order).index(f)))


def systems(topic: str, findings: Sequence[Finding], codebook: Codebook) -> Theory:
    """The hub factor (most links to others), its links, loops through it, and its leverage.

    A loop is supported only by a finding that mentions all three of its factors;
    one inferred from three pairwise links is an unsupported claim.

    Raises:
        ValueError: no finding mentions two factors together.
    """
    factors = codebook.factors
    links: dict[frozenset[str], list[Finding]] = defaultdict(list)
    for finding in findings:
        for pair in combinations(factors_of(finding, factors), 2):
            links[frozenset(pair)].append(finding)
    if not links:
        raise ValueError("no finding links two factors; a systems view has nothing to connect")
    grouped = _by_factor(findings, factors)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for link in links:
        a, b = sorted(link)
        neighbours[a].add(b)
        neighbours[b].add(a)
    order = list(factors)
    hub = max(neighbours, key=lambda f: (len(neighbours[f]), len(grouped[f]), -order.index(f)))
    around = sorted(neighbours[hub], key=order.index)
    claims = [
        Claim(f"{hub} is linked to {other}", _sources(links[frozenset((hub, other))]))
        for other in around
    ]
    for a, b in combinations(around, 2):
        if frozenset((a, b)) in links:
            together = [f for f in findings if {hub, a, b} <= set(factors_of(f, factors))]
            claims.append(Claim(f"{hub}, {a} and {b} form a loop", _sources(together)))
    # Leverage belongs to something people can act on: the hub, or its best-linked lever.
    levers = [f for f in (hub, *around) if f in codebook.levers]
    if levers:
        lever = max(levers, key=lambda f: (len(neighbours[f]), f == hub, -order.index(f)))
        acted_on = [f for f in grouped[lever] if _INTERVENTION.search(f.text)]
        shifted = ", ".join(sorted(neighbours[lever], key=order.index))
        claims.append(Claim(f"acting on {lever} shifts {shifted}", _sources(acted_on)))
    statement = f"in {topic}, {hub} sits at the centre, linked to {len(around)} other factors"
    return Theory("systems", statement, tuple(claims))


def statistical(topic: str, findings: Sequence[Finding], codebook: Codebook) -> Theory:
    """The lever with the most measured effects, each effect cited, and their median per unit.

    Raises:
        ValueError: no finding reports a measured effect of a lever.
    """
    measured = [f for f in findings if _EFFECT.search(f.text)]
    grouped = _by_factor(measured, codebook.levers)
    if not grouped:
        raise ValueError("no finding reports a measured effect of a lever")
    lever = _most_evidenced(grouped, list(codebook.levers))
    claims = []
    by_unit: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for finding in grouped[lever]:
        effects = _EFFECT.findall(finding.text)
        shown = ", ".join(f"{value}{unit}" for value, unit in effects)
        claims.append(Claim(f"a measured effect of {shown} ({finding.year})", (finding.source,)))
        for value, unit in effects:
            by_unit[unit].append((float(value), finding.source))
    for unit, values in sorted(by_unit.items()):
        if len(values) >= 2:
            numbers = [v for v, _ in values]
            summary = (
                f"median effect {median(numbers):g}{unit} "
                f"(range {min(numbers):g} to {max(numbers):g}{unit}, n={len(numbers)})"
            )
            claims.append(Claim(summary, tuple(dict.fromkeys(s for _, s in values))))
    statement = (
        f"{lever} carries the most measured evidence on {topic}: "
        f"{len(grouped[lever])} quantified findings from {len(_sources(grouped[lever]))} sources"
    )
    return Theory("statistical", statement, tuple(claims))


def _acted_on(finding: Finding, codebook: Codebook) -> str | None:
    """The lever an intervention changed: the first one its description mentions."""
    positions = {
        lever: at
        for lever, words in codebook.levers.items()
        if (at := _first_mention(finding.text, words)) is not None
    }
    return min(positions, key=lambda lever: positions[lever]) if positions else None


def causal(topic: str, findings: Sequence[Finding], codebook: Codebook) -> Theory:
    """The lever changed in the most interventions, what each moved, and what observation adds.

    One intervention alone does not show that the effect carries over to other
    settings; the theory then says so as an unsupported claim.

    Raises:
        ValueError: no finding describes an intervention on a lever.
    """
    tested: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if _INTERVENTION.search(finding.text) and (lever := _acted_on(finding, codebook)):
            tested[lever].append(finding)
    if not tested:
        raise ValueError("no finding describes an intervention on a lever")
    lever = _most_evidenced(tested, list(codebook.levers))
    claims = []
    moved: dict[str, None] = {}
    for finding in tested[lever]:
        outcomes = factors_of(finding, codebook.outcomes)
        moved.update(dict.fromkeys(outcomes))
        effects = ", ".join(v + u for v, u in _EFFECT.findall(finding.text)) or "size not given"
        what = " and ".join(outcomes) or "the outcome"
        claims.append(
            Claim(f"acting on {lever} moved {what} ({effects}; {finding.year})", (finding.source,))
        )
    observed = [f for f in _by_factor(findings, codebook.levers)[lever] if f not in tested[lever]]
    if observed:
        claims.append(
            Claim(f"observational studies also tie {lever} to the outcomes", _sources(observed))
        )
    count = len(_sources(tested[lever]))
    if count < 2:
        claims.append(Claim(f"the effect of {lever} carries over to other settings"))
    statement = (
        f"changing {lever} changes {' and '.join(moved) or 'the outcomes'} in {topic}: "
        f"{count} intervention{'s' if count != 1 else ''} acted on it"
    )
    return Theory("causal", statement, tuple(claims))
