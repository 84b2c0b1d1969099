"""Gap ratings across the workshops of a value chain. Pure: stdlib only, no I/O.

Two steps, so that a chain of a million answers is read in a few thousand rows:

1. ``summarize``: the answers of one workshop's closed activities become counts per
   participant attribute (``dim`` "group" or "segment", ``part`` its id, 0 for none),
   gap, measure and value. A participant who answered the same question about the same
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
from server.activities.gaps.tally import ELEMENTS, SERIOUSNESS, GapCounts, GapResult, results

# An answer as the summary reads it: (workshop, participant, group, segment, gap,
# question, value, order). ``question`` is "seriousness", an element, "segments" (value:
# the segment ids hit) or "dots" (value: the dots); ``order`` sorts the activities of a
# workshop by when they closed (the later wins).
Answer = tuple[int, int, int | None, int | None, int, str, Any, Any]
# A summary row: (dim, workshop, part, gap, measure, value, n).
Row = tuple[str, int, int, int, str, int, int]
# What a view reads of the summary, for one dim: (workshop, part, gap, measure, value, n).
Part = tuple[int, int, int, str, int, int]

RESPONDENTS = "respondents"
# The figure a measure belongs to (suppression counts answers per figure), and the measure
# whose count is that figure's number of answers.
FAMILY = {
    "seriousness": "seriousness",
    **{e: e for e in ELEMENTS},
    "segment": "segments",
    "segment_answers": "segments",
    "dots": "dots",
    "dot_voters": "dots",
}
COUNTED_BY = {
    "seriousness": "seriousness",
    **{e: e for e in ELEMENTS},
    "segment_answers": "segments",
    "dot_voters": "dots",
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


def summarize(answers: Iterable[Answer]) -> dict[tuple[str, int, int, int, str, int], int]:
    """The summary of some workshops' answers: n per (dim, workshop, part, gap, measure, value)."""
    counts: Counter = Counter()
    respondents: set[tuple[int, int, int | None, int | None, int]] = set()
    for workshop, participant, group, segment, gap, question, value, _order in latest(answers):
        if question == "dots":
            if not value:
                continue
            measures = [("dots", 0, value), ("dot_voters", 0, 1)]
        elif question == "segments":
            measures = [("segment_answers", 0, 1), *(("segment", s, 1) for s in sorted(set(value)))]
        elif value is None:
            continue
        else:
            measures = [(question, value, 1)]
        respondents.add((workshop, participant, group, segment, gap))
        for dim, part in zip(DIMS, (group or NONE, segment or NONE), strict=True):
            for measure, v, n in measures:
                counts[(dim, workshop, part, gap, measure, v)] += n
    for workshop, _p, group, segment, gap in respondents:
        for dim, part in zip(DIMS, (group or NONE, segment or NONE), strict=True):
            counts[(dim, workshop, part, gap, RESPONDENTS, 0)] += 1
    return dict(counts)


def _add(c: GapCounts, measure: str, value: int, n: int) -> None:
    if measure == "seriousness":
        c.seriousness[value] += n
    elif measure in ELEMENTS:
        c.relevance[measure][value] += n
    elif measure == "segment":
        c.segments[value] += n
    elif measure == "segment_answers":
        c.segment_answers += n
    elif measure == "dots":
        c.dots += n
    elif measure == "dot_voters":
        c.dot_voters += n


@dataclass
class Folded:
    """The counts of a view: everyone's (``overall``), each part's (``parts``), and each
    workshop's alone (``workshops``, for the history), with respondents beside them."""

    overall: dict[int, GapCounts] = field(default_factory=lambda: defaultdict(GapCounts))
    parts: dict[int, dict[int, GapCounts]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(GapCounts)))
    workshops: dict[int, dict[int, GapCounts]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(GapCounts))
    )
    respondents: Counter = field(default_factory=Counter)  # gap -> people
    part_respondents: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    workshop_respondents: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))


def fold(rows: Iterable[Part], ks: Mapping[int, int], cut: Cut = Cut()) -> Folded:
    """Add up the summary rows of one dim for the workshops of ``ks`` (workshop -> k).

    ``overall`` and ``workshops`` count what ``cut`` selects (everyone, or one part), each
    workshop's answers to a figure entering when ``enters`` allows; ``parts`` counts every
    part of the dim, each by complementary suppression within its workshop."""
    rows = [r for r in rows if r[0] in ks]
    answers: dict[tuple[int, int, str], Counter] = defaultdict(Counter)
    for workshop, part, gap, measure, _value, n in rows:
        family = COUNTED_BY.get(measure)
        if family is not None:
            answers[(workshop, gap, family)][part] += n
    shown = {key: shown_parts(by_part, ks[key[0]]) for key, by_part in answers.items()}
    whole = {key: sum(by_part.values()) >= ks[key[0]] for key, by_part in answers.items()}
    out = Folded()
    for workshop, part, gap, measure, value, n in rows:
        selected = cut.dim is None or part == cut.part
        if measure == RESPONDENTS:
            out.part_respondents[part][gap] += n
            if selected:
                out.respondents[gap] += n
                out.workshop_respondents[workshop][gap] += n
            continue
        key = (workshop, gap, FAMILY[measure])
        parts_in = shown.get(key, set())
        if part in parts_in:
            _add(out.parts[part][gap], measure, value, n)
        if selected and (part in parts_in if cut.dim else whole.get(key, False)):
            _add(out.overall[gap], measure, value, n)
            _add(out.workshops[workshop][gap], measure, value, n)
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
    answers say 4 or 5. Participants without a group (part 0) are no group. Sorted by the
    lowest group's share, highest first (the most shared first)."""
    shares: dict[int, list[float]] = defaultdict(list)
    for group, group_results in by_group.items():
        if group == NONE:
            continue
        for r in group_results:
            share = serious_share(r)
            if share is not None:
                shares[r.gap].append(share)
    found = [(gap, min(s), len(s)) for gap, s in shares.items() if len(s) >= 2 and min(s) >= 0.5]
    return sorted(found, key=lambda f: (-f[1], f[0]))


def recount(answers: Iterable[Answer], ks: Mapping[int, int], gap_order: Sequence[int], cut: Cut, k: int):
    """From raw answers straight to the figures of ``cut`` (the reference the tests use)."""
    summary = summarize(answers)
    dim = cut.dim or "group"
    rows = [(w, p, g, m, v, n) for (d, w, p, g, m, v), n in summary.items() if d == dim]
    folded = fold(rows, ks, cut)
    return chain_results(folded.overall, folded.respondents, gap_order, k)
