"""Live tally of a competitive-gap activity, and the results read from it.

Participants rate each gap of the activity: its seriousness (1..5), its relevance
(0 low .. 3 very_high) to the three elements of smart specialization, which segments of
the chain it hits, and, in dot-voting mode, how many dots they spend on it. Every change
of one answer arrives as ``old -> new`` (``None`` = no answer) and is applied in O(size of
the answer), overall and for the participant's stakeholder group, so the facilitator's
screen can refresh on every tap. ``ActivityTally.recount`` builds the same tally from the
stored answers (start-up, or to check the live one).

Pure: stdlib only, no I/O. Inconsistent input (removing an answer that was never
counted, a value out of range, a participant changing group while counted) raises
``ValueError`` before anything is changed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, cast

QUESTIONS = ("seriousness", "specialization", "diversification", "global_context", "segments")
ELEMENTS = ("specialization", "diversification", "global_context")
LEVELS = ("low", "medium", "high", "very_high")
SERIOUSNESS = (1, 2, 3, 4, 5)

Group = int | None
Distribution = tuple[int, int, int, int, int]


@dataclass
class GapCounts:
    """Counts for one gap and one audience slice (all participants, or one group)."""

    seriousness: Counter[int] = field(default_factory=Counter)
    relevance: dict[str, Counter[int]] = field(default_factory=lambda: {e: Counter() for e in ELEMENTS})
    segments: Counter[int] = field(default_factory=Counter)
    segment_answers: int = 0
    dots: int = 0
    dot_voters: int = 0

    def plain(self) -> dict[str, Any]:
        """Plain dicts and ints (counters never keep zero entries)."""
        return {
            "seriousness": dict(self.seriousness),
            "relevance": {e: dict(c) for e, c in self.relevance.items()},
            "segments": dict(self.segments),
            "segment_answers": self.segment_answers,
            "dots": self.dots,
            "dot_voters": self.dot_voters,
        }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate(question: str, value: Any) -> Any:
    """The value normalised (segments -> frozenset), or ValueError."""
    if question not in QUESTIONS:
        raise ValueError(f"unknown question {question!r}")
    if value is None:
        return None
    if question == "segments":
        if not isinstance(value, (set, frozenset)) or not all(_is_int(s) for s in value):
            raise ValueError(f"segments must be a set of segment ids, not {value!r}")
        return frozenset(value)
    low, high = (1, 5) if question == "seriousness" else (0, len(LEVELS) - 1)
    if not _is_int(value) or not low <= value <= high:
        raise ValueError(f"{question} must be an int in {low}..{high}, not {value!r}")
    return value


def _counter(counts: GapCounts, question: str) -> Counter[int]:
    return counts.seriousness if question == "seriousness" else counts.relevance[question]


def _bump(counter: Counter[int], key: int, delta: int) -> None:
    """Add delta to counter[key], dropping the key at zero (so counters compare plainly)."""
    n = counter[key] + delta
    if n:
        counter[key] = n
    else:
        counter.pop(key, None)


def _removable(counts: GapCounts, question: str, value: Any) -> bool:
    if question == "segments":
        return counts.segment_answers > 0 and all(counts.segments[s] > 0 for s in value)
    return _counter(counts, question)[value] > 0


def _add(counts: GapCounts, question: str, value: Any, sign: int) -> None:
    if question == "segments":
        counts.segment_answers += sign
        for segment in value:
            _bump(counts.segments, segment, sign)
    else:
        _bump(_counter(counts, question), value, sign)


class ActivityTally:
    """Live, incremental tally of one gap activity, overall and per stakeholder group.

    ``by_group`` holds only groups with at least one respondent. A participant counts as
    a respondent while they have at least one live answer (not None) or dots > 0.
    """

    def __init__(self, gap_ids: Sequence[int]):
        self.gap_ids: tuple[int, ...] = tuple(gap_ids)
        if len(set(self.gap_ids)) != len(self.gap_ids):
            raise ValueError("duplicate gap ids")
        self.overall: dict[int, GapCounts] = {gap: GapCounts() for gap in self.gap_ids}
        self.by_group: dict[Group, dict[int, GapCounts]] = {}
        self._live: dict[int, int] = {}  # participant -> number of live answers (dots > 0 counts one)
        self._group_of: dict[int, Group] = {}  # participant -> group, while live
        self._group_live: dict[Group, int] = {}  # group -> number of live participants

    def _slices(self, participant: int, group: Group, gap: int, removing: bool) -> tuple[GapCounts, GapCounts]:
        """The overall and the group counts for gap; checks what can be checked up front."""
        if gap not in self.overall:
            raise ValueError(f"gap {gap} is not in this activity")
        if participant in self._group_of and self._group_of[participant] != group:
            raise ValueError(f"participant {participant} is counted in group {self._group_of[participant]}")
        if removing and participant not in self._live:
            raise ValueError(f"participant {participant} has no answer to remove")
        if group not in self.by_group:
            self.by_group[group] = {g: GapCounts() for g in self.gap_ids}
        return self.overall[gap], self.by_group[group][gap]

    def _live_delta(self, participant: int, group: Group, delta: int) -> None:
        before = self._live.get(participant, 0)
        after = before + delta
        if after:
            self._live[participant] = after
            self._group_of[participant] = group
        else:
            self._live.pop(participant, None)
            self._group_of.pop(participant, None)
        if before == 0 and after > 0:
            self._group_live[group] = self._group_live.get(group, 0) + 1
        elif before > 0 and after == 0:
            self._group_live[group] -= 1
        if not self._group_live.get(group):  # no respondent left: every count is zero
            self._group_live.pop(group, None)
            self.by_group.pop(group, None)

    def apply_answer(self, participant: int, group: Group, gap: int, question: str, old: Any, new: Any) -> None:
        """One answer changed from old to new (None = no answer)."""
        old, new = _validate(question, old), _validate(question, new)
        if old == new:
            return
        slices = self._slices(participant, group, gap, removing=old is not None)
        if old is not None and not all(_removable(c, question, old) for c in slices):
            raise ValueError(f"{question}={old!r} on gap {gap} was never counted")
        for counts in slices:
            if old is not None:
                _add(counts, question, old, -1)
            if new is not None:
                _add(counts, question, new, +1)
        self._live_delta(participant, group, (new is not None) - (old is not None))

    def apply_dots(self, participant: int, group: Group, gap: int, old: int, new: int) -> None:
        """The participant's dots on gap changed from old to new (0 = none)."""
        if not (_is_int(old) and _is_int(new) and old >= 0 and new >= 0):
            raise ValueError(f"dots must be ints >= 0, not {old!r} -> {new!r}")
        if old == new:
            return
        slices = self._slices(participant, group, gap, removing=old > 0)
        if old > 0 and not all(c.dots >= old and c.dot_voters > 0 for c in slices):
            raise ValueError(f"{old} dots on gap {gap} were never counted")
        for counts in slices:
            counts.dots += new - old
            counts.dot_voters += (new > 0) - (old > 0)
        self._live_delta(participant, group, (new > 0) - (old > 0))

    def respondents(self) -> int:
        return len(self._live)

    def group_respondents(self, group: Group) -> int:
        return self._group_live.get(group, 0)

    @classmethod
    def recount(
        cls,
        gap_ids: Sequence[int],
        answers: Iterable[tuple[int, Group, int, str, Any]],
        dots: Iterable[tuple[int, Group, int, int]],
    ) -> ActivityTally:
        """The tally of stored answers: (participant, group, gap, question, value) and
        (participant, group, gap, dots) rows, at most one row per participant/gap/question."""
        tally, seen = cls(gap_ids), set()
        rows = [(p, g, gap, q, v) for p, g, gap, q, v in answers] + [(p, g, gap, "dots", n) for p, g, gap, n in dots]
        for participant, group, gap, question, value in rows:
            if (participant, gap, question) in seen:
                raise ValueError(f"two rows of participant {participant} for {question} on gap {gap}")
            seen.add((participant, gap, question))
            if question == "dots":
                tally.apply_dots(participant, group, gap, 0, value)
            else:
                tally.apply_answer(participant, group, gap, question, None, value)
        return tally

    def snapshot(self) -> dict[str, Any]:
        """Everything counted, as plain comparable data (live tally == recount)."""
        return {
            "respondents": self.respondents(),
            "group_respondents": dict(self._group_live),
            "overall": {gap: c.plain() for gap, c in self.overall.items()},
            "by_group": {g: {gap: c.plain() for gap, c in s.items()} for g, s in self.by_group.items()},
        }


@dataclass(frozen=True)
class GapResult:
    """The figures of one gap for one audience slice. A figure resting on fewer answers than
    the minimum is None (not shown); how many answers there were is always given."""

    gap: int
    answers: int  # number of seriousness answers
    mean: float | None  # mean seriousness; None without enough answers
    distribution: Distribution | None  # counts of 1..5; None without enough answers
    relevance: dict[str, str | None]  # element -> aggregated level key (LEVELS); None without enough answers
    segments: dict[int, float] | None  # segment id -> share of segment answers saying it hits; None: too few
    dots: int | None  # None when fewer participants than the minimum put dots on the gap
    dot_share: float | None  # dots / all dots of these counts
    relevance_answers: dict[str, int] = field(default_factory=dict)  # element -> number of answers
    segment_answers: int = 0
    dot_voters: int = 0

    @property
    def mean_or_zero(self) -> float:
        """For sorting: gaps without a shown mean last."""
        return self.mean if self.mean is not None else 0.0

    @property
    def dots_or_zero(self) -> int:
        """For sorting: gaps without shown dots last."""
        return self.dots if self.dots is not None else 0


def aggregate_level(levels: Counter[int]) -> int | None:
    """The lower median of relevance answers (level -> count), None when empty.

    Relevance is ordinal (low < medium < high < very_high): the distances between levels
    mean nothing, so a mean of categories is not meaningful. The median needs only the
    order; on an even count we take the lower of the two middle answers, which never
    claims more than the room said: at least half the answers are at this level or
    above it, and at least half at or below. A unanimous room gets its own level back.
    """
    ordered = sorted((level, n) for level, n in levels.items() if n > 0)
    if not ordered:
        return None
    cumulative = list(accumulate(n for _, n in ordered))
    rank = (cumulative[-1] - 1) // 2  # 0-based position of the lower median
    return ordered[bisect_right(cumulative, rank)][0]


def results(counts: Mapping[int, GapCounts], gap_order: Sequence[int], min_answers: int = 1) -> list[GapResult]:
    """One result per gap of gap_order; dot shares are of all dots in counts.

    Each figure is given only when at least ``min_answers`` answers are behind it: the mean and
    the distribution need that many seriousness answers; each element's relevance level that
    many answers to it; the segment shares that many answers to the segments question; the
    dots that many participants who put dots on the gap. Otherwise the figure is None, so that
    no shown figure can be traced to a few people (see docs/methods.md).
    """
    if min_answers < 1:
        raise ValueError("min_answers must be at least 1")
    total_dots = sum(c.dots for c in counts.values())
    out = []
    for gap in gap_order:
        c = counts[gap] if gap in counts else GapCounts()
        distribution = cast(Distribution, tuple(c.seriousness[v] for v in SERIOUSNESS))
        answers = sum(distribution)
        shown = answers >= min_answers
        mean = sum(v * n for v, n in zip(SERIOUSNESS, distribution, strict=True)) / answers if shown else None
        relevance_answers = {e: sum(c.relevance[e].values()) for e in ELEMENTS}
        levels = {e: aggregate_level(c.relevance[e]) if relevance_answers[e] >= min_answers else None for e in ELEMENTS}
        relevance = {e: None if level is None else LEVELS[level] for e, level in levels.items()}
        segments = None
        if c.segment_answers >= min_answers:
            segments = {s: n / c.segment_answers for s, n in sorted(c.segments.items()) if n > 0}
        dots = c.dots if c.dot_voters >= min_answers else None
        share = None if dots is None else c.dots / total_dots
        out.append(
            GapResult(
                gap,
                answers,
                mean,
                distribution if shown else None,
                relevance,
                segments,
                dots,
                share,
                relevance_answers,
                c.segment_answers,
                c.dot_voters,
            )
        )
    return out


def group_results(tally: ActivityTally, min_group_size: int = 5) -> dict[Group, list[GapResult]]:
    """Results per stakeholder group (None = participants without a group), dot shares
    within the group, each figure given only when at least min_group_size answers of the
    group are behind it (``results``). Groups with fewer respondents than that are left out:
    none of their figures could be shown."""
    groups = sorted(tally.by_group, key=lambda g: (g is None, g or 0))
    large = [g for g in groups if tally.group_respondents(g) >= min_group_size]
    return {g: results(tally.by_group[g], tally.gap_ids, min_group_size) for g in large}


def disagreement(public: list[GapResult], private: list[GapResult]) -> list[tuple[int, float]]:
    """(gap, |mean_public - mean_private|), largest first (ties in public's order), only
    for gaps where both sides have a mean."""
    private_means = {r.gap: r.mean for r in private if r.mean is not None}
    both = [(r.gap, r.mean) for r in public if r.mean is not None and r.gap in private_means]
    pairs = [(gap, abs(mean - private_means[gap])) for gap, mean in both]
    return sorted(pairs, key=lambda pair: -pair[1])
