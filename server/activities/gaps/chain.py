"""Gap ratings across the workshops of a value chain. Pure: stdlib only, no I/O.

Two steps, so that a chain of a million answers is read in a few thousand rows:

1. ``summarize``: the answers of one workshop's closed activities become a vector of
   counts per participant attribute (``dim`` "group" or "segment", ``part`` its id, 0 for
   none, -1 for the whole workshop) and gap. A participant who answered the same question about the same
   gap in two closed activities of a workshop counts once, with the answer of the
   activity that closed last.
2. ``fold``: the counts of the workshops in a view are added up, each workshop's
   contribution to each figure entering only as ``chain_rules.enters`` allows (at least
   k answers; for a cut, complementary suppression within the workshop). ``results``
   then gives the per-activity figures (``tally.results``) with a confidence interval
   and the respondents.

``recount`` does both from raw answers in one call (the tests' reference).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from server.activities.chain_rules import DIMS, NONE, Cut, mean_ci, shown_parts
from server.activities.chain_rules import common_ground as rules_common_ground
from server.activities.gaps.tally import ELEMENTS, SERIOUSNESS, GapCounts, GapResult, results

# An answer as the summary reads it: (workshop, participant, group, segment, gap,
# question, value, order). ``question`` is "seriousness", an element, "segments" (value:
# the segment ids hit) or "dots" (value: the dots); ``order`` sorts the activities of a
# workshop by when they closed (the later wins).
Answer = tuple[int, int, int | None, int | None, int, str, Any, Any]
# A cell of the summary, for one dim: (workshop, part, gap, vector, segments hit); part -1
# is the whole workshop. The vector holds, at these places:
SERIOUSNESS_AT = slice(0, 5)  # answers rating it 1..5
ELEMENT_AT = {e: slice(5 + 4 * i, 9 + 4 * i) for i, e in enumerate(ELEMENTS)}  # answers per level 0..3
SEGMENT_ANSWERS, DOTS, DOT_VOTERS, RESPONDENTS = 17, 18, 19, 20
SIZE = 21
WHOLE = -1
Cell = tuple[int, int, int, list[int], dict]

# Each figure: where its number of answers is, and the places it adds up.
FIGURES = {
    "seriousness": (lambda v: sum(v[SERIOUSNESS_AT]), range(0, 5)),
    **{e: (lambda v, at=at: sum(v[at]), range(at.start, at.stop)) for e, at in ELEMENT_AT.items()},
    "segments": (lambda v: v[SEGMENT_ANSWERS], (SEGMENT_ANSWERS,)),
    "dots": (lambda v: v[DOT_VOTERS], (DOTS, DOT_VOTERS)),
}
SERIOUS = (4, 5)  # "serious" and "very serious": the common-ground rule


def latest(answers: Iterable[Answer]) -> list[Answer]:
    """One answer per participant, gap and question: the one with the highest order."""
    best: dict[tuple[int, int, str], Answer] = {}
    for a in answers:
        key = (a[1], a[4], a[5])
        if key not in best or a[7] > best[key][7]:
            best[key] = a
    return list(best.values())


def summarize(answers: Iterable[Answer]) -> dict[tuple[str, int, int, int], tuple[list[int], dict]]:
    """The summary of some workshops' answers: per (dim, workshop, part, gap) its vector
    and the segments hit (segment id -> answers); part -1 is the whole workshop."""
    cells: dict = {}
    respondents: set[tuple[int, int, int]] = set()

    def cells_of(workshop, group, segment, gap):
        keys = [(d, workshop, p, gap) for d in DIMS for p in (WHOLE,)]
        keys += [(d, workshop, p or NONE, gap) for d, p in zip(DIMS, (group, segment), strict=True)]
        for key in keys:
            if key not in cells:
                cells[key] = ([0] * SIZE, {})
            yield cells[key]

    for workshop, participant, group, segment, gap, question, value, _order in latest(answers):
        if question == "dots":
            if not value:
                continue
        elif value is None and question != "segments":
            continue
        for vector, hits in cells_of(workshop, group, segment, gap):
            if question == "dots":
                vector[DOTS] += value
                vector[DOT_VOTERS] += 1
            elif question == "segments":
                vector[SEGMENT_ANSWERS] += 1
                for s in set(value):
                    hits[s] = hits.get(s, 0) + 1
            elif question == "seriousness":
                vector[value - 1] += 1
            else:
                vector[ELEMENT_AT[question].start + value] += 1
            if (participant, gap, workshop) not in respondents:
                vector[RESPONDENTS] += 1
        respondents.add((participant, gap, workshop))
    return cells


def cells_of_dim(summary: Mapping, dim: str) -> list[Cell]:
    """The cells of one dim, as ``fold`` reads them."""
    return [(w, p, g, v, hits) for (d, w, p, g), (v, hits) in summary.items() if d == dim]


class _Sum:
    """Counts added up: a vector and the segments hit."""

    __slots__ = ("hits", "v")

    def __init__(self):
        self.v, self.hits = [0] * SIZE, Counter()

    def add(self, vector: list[int], hits: Mapping, places) -> None:
        v = self.v
        for i in places:
            v[i] += vector[i]
        if SEGMENT_ANSWERS in places:
            self.hits.update(hits)

    def counts(self) -> GapCounts:
        c, v = GapCounts(), self.v
        c.seriousness.update({s: n for s, n in zip(SERIOUSNESS, v[SERIOUSNESS_AT], strict=True) if n})
        for e, at in ELEMENT_AT.items():
            c.relevance[e].update({level: n for level, n in enumerate(v[at]) if n})
        c.segments.update(+self.hits)
        c.segment_answers, c.dots, c.dot_voters = v[SEGMENT_ANSWERS], v[DOTS], v[DOT_VOTERS]
        return c


@dataclass
class Folded:
    """The counts of a view: what the cut selects (``overall``), every part
    (``parts``), and each workshop alone (``workshops``, for the history), with the
    respondents (people who answered anything about a gap) beside them."""

    overall: dict[int, GapCounts] = field(default_factory=dict)
    parts: dict[int, dict[int, GapCounts]] = field(default_factory=dict)
    workshops: dict[int, dict[int, GapCounts]] = field(default_factory=dict)
    respondents: Counter = field(default_factory=Counter)  # gap -> people
    part_respondents: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    workshop_respondents: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))


def fold(cells: Iterable[Cell], ks: Mapping[int, int], cut: Cut = Cut()) -> Folded:
    """Add up the cells of one dim for the workshops of ``ks`` (workshop -> k).

    ``overall`` and ``workshops`` count what ``cut`` selects (everyone, or one part), each
    workshop's answers to a figure entering when ``chain_rules.enters`` allows; ``parts``
    counts every part of the dim, each by complementary suppression within its workshop."""
    rooms: dict[tuple[int, int], dict[int, tuple[list[int], dict]]] = defaultdict(dict)
    for workshop, part, gap, vector, hits in cells:
        if workshop in ks:
            rooms[(workshop, gap)][part] = (vector, hits)
    overall: dict[int, _Sum] = defaultdict(_Sum)
    workshops: dict[int, dict[int, _Sum]] = defaultdict(lambda: defaultdict(_Sum))
    parts: dict[int, dict[int, _Sum]] = defaultdict(lambda: defaultdict(_Sum))
    out = Folded()
    for (workshop, gap), by_part in rooms.items():
        k = ks[workshop]
        whole = by_part.pop(WHOLE, None)
        chosen = whole if cut.dim is None else by_part.get(cut.part)
        if chosen is not None:
            out.respondents[gap] += chosen[0][RESPONDENTS]
            out.workshop_respondents[workshop][gap] += chosen[0][RESPONDENTS]
        for part, (vector, _hits) in by_part.items():
            out.part_respondents[part][gap] += vector[RESPONDENTS]
        for count, places in FIGURES.values():
            answers = {part: count(vector) for part, (vector, _hits) in by_part.items()}
            shown = shown_parts(answers, k)
            for part in shown:
                parts[part][gap].add(*by_part[part], places)
            enter = cut.part in shown if cut.dim else whole is not None and count(whole[0]) >= k
            if enter and chosen is not None:
                overall[gap].add(*chosen, places)
                workshops[workshop][gap].add(*chosen, places)
    out.overall = {gap: s.counts() for gap, s in overall.items()}
    out.workshops = {w: {gap: s.counts() for gap, s in gaps.items()} for w, gaps in workshops.items()}
    out.parts = {p: {gap: s.counts() for gap, s in gaps.items()} for p, gaps in parts.items()}
    return out


@dataclass(frozen=True)
class ChainGap:
    """One gap's figures in a view: ``tally.GapResult`` plus the people who answered
    anything about it and the confidence interval of the mean."""

    result: GapResult
    respondents: int
    ci: float | None  # half-width of the 95 % interval of the mean; None when the mean is not shown

    def plain(self) -> dict:
        out = asdict(self.result)
        out["distribution"] = None if self.result.distribution is None else list(self.result.distribution)
        out["segments"] = None if self.result.segments is None else {str(s): v for s, v in self.result.segments.items()}
        out.update(respondents=self.respondents, ci=self.ci)
        return out


def chain_results(
    counts: Mapping[int, GapCounts], respondents: Mapping[int, int], gap_order: Sequence[int], k: int
) -> list[ChainGap]:
    """The figures of each gap of ``gap_order`` from folded counts (``k`` only restates the
    minimum: every entered contribution already has it)."""
    out = []
    for r in results(counts, gap_order, k):
        ci = None
        if r.distribution is not None:
            interval = mean_ci(r.distribution, SERIOUSNESS)
            ci = interval[1] if interval else None
        out.append(ChainGap(r, respondents.get(r.gap, 0), ci))
    return out


def serious_share(result: GapResult) -> float | None:
    """The share of seriousness answers at 4 or 5, None when the distribution is not shown."""
    if result.distribution is None or not result.answers:
        return None
    return sum(result.distribution[v - 1] for v in SERIOUS) / result.answers


def common_ground(by_group: Mapping[int, Sequence[GapResult]]) -> list[tuple[int, float, int]]:
    """The gaps every stakeholder group holds serious: (gap, lowest group's share, groups).

    A gap is common ground when at least two stakeholder groups show its distribution
    (each with at least k answers) and in every group that does, at least half of the
    answers say 4 or 5 (``chain_rules.common_ground``)."""
    return rules_common_ground({g: {r.gap: serious_share(r) for r in results} for g, results in by_group.items()})


def recount(answers: Iterable[Answer], ks: Mapping[int, int], gap_order: Sequence[int], cut: Cut, k: int):
    """From raw answers straight to the figures of ``cut`` (the reference the tests use)."""
    folded = fold(cells_of_dim(summarize(answers), cut.dim or "group"), ks, cut)
    return chain_results(folded.overall, folded.respondents, gap_order, k)
