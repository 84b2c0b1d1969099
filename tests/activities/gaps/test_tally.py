"""The gap activity tally: hand examples, the report's relevance table, and properties
(live incremental tally == recount of the final answers)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.activities.gaps.tally import (
    ELEMENTS,
    LEVELS,
    QUESTIONS,
    ActivityTally,
    GapResult,
    aggregate_level,
    disagreement,
    group_results,
    results,
)

METHOD_JSON = Path(__file__).resolve().parents[3] / "server" / "data" / "method.json"
LOW, MEDIUM, HIGH, VERY_HIGH = range(4)


def _result(gap: int, mean: float | None) -> GapResult:
    return GapResult(gap, 0 if mean is None else 1, mean, (0, 0, 0, 0, 0), {}, {}, 0, 0.0)


# --- aggregate_level ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([], None),
        ([HIGH], HIGH),
        ([MEDIUM] * 7, MEDIUM),
        ([LOW, HIGH], LOW),
        ([MEDIUM, HIGH, HIGH, VERY_HIGH], HIGH),
        ([VERY_HIGH, LOW, LOW, VERY_HIGH], LOW),
        ([LOW, MEDIUM, VERY_HIGH], MEDIUM),
        ([VERY_HIGH, VERY_HIGH, LOW], VERY_HIGH),
    ],
)
def test_aggregate_level_is_the_lower_median(answers, expected):
    assert aggregate_level(Counter(answers)) == expected


def test_aggregate_level_ignores_zero_counts():
    assert aggregate_level(Counter({LOW: 0, HIGH: 1})) == HIGH
    assert aggregate_level(Counter({MEDIUM: 0})) is None


# --- results -----------------------------------------------------------------------


def test_mean_distribution_relevance_segments_and_dots():
    tally = ActivityTally([10, 20])
    for p, value in enumerate([2, 4, 4, 5]):
        tally.apply_answer(p, None, 10, "seriousness", None, value)
    for p, level in enumerate([LOW, HIGH]):
        tally.apply_answer(p, None, 10, "specialization", None, level)
    for p, segments in enumerate([frozenset({1, 2}), frozenset({2}), frozenset(), frozenset({2, 3})]):
        tally.apply_answer(p, None, 10, "segments", None, segments)
    tally.apply_dots(0, None, 10, 0, 3)
    tally.apply_dots(1, None, 20, 0, 1)
    tally.apply_dots(2, None, 20, 0, 0)  # no-op

    first, second = results(tally.overall, [10, 20])
    assert first.gap == 10
    assert first.answers == 4
    assert first.mean == pytest.approx(3.75)
    assert first.distribution == (0, 1, 0, 2, 1)
    assert first.relevance == {"specialization": "low", "diversification": None, "global_context": None}
    assert first.segments == {1: 0.25, 2: 0.75, 3: 0.25}
    assert (first.dots, first.dot_share) == (3, 0.75)
    assert tally.overall[10].dot_voters == 1

    assert second.answers == 0 and second.mean is None
    assert second.distribution is None  # no answers: no figure
    assert second.segments is None and second.segment_answers == 0
    assert (second.dots, second.dot_share) == (1, 0.25)
    assert first.relevance_answers == {"specialization": 2, "diversification": 0, "global_context": 0}


def test_results_without_any_dots_and_for_unknown_gaps():
    tally = ActivityTally([1])
    tally.apply_answer(1, None, 1, "seriousness", None, 3)
    [one, missing] = results(tally.overall, [1, 99])
    assert one.dots is None and one.dot_share is None and one.mean == 3.0
    assert missing.gap == 99 and missing.answers == 0 and missing.mean is None


def test_changing_an_answer_moves_the_count():
    tally = ActivityTally([1])
    tally.apply_answer(7, 2, 1, "seriousness", None, 2)
    tally.apply_answer(7, 2, 1, "seriousness", 2, 5)
    assert results(tally.overall, [1])[0].distribution == (0, 0, 0, 0, 1)
    assert results(tally.by_group[2], [1])[0].distribution == (0, 0, 0, 0, 1)
    tally.apply_answer(7, 2, 1, "segments", None, frozenset({4}))
    tally.apply_answer(7, 2, 1, "segments", frozenset({4}), frozenset({5}))
    assert tally.overall[1].segments == Counter({5: 1}) and tally.overall[1].segment_answers == 1


def test_respondents_stop_counting_when_every_answer_is_withdrawn():
    tally = ActivityTally([1, 2])
    tally.apply_answer(1, 5, 1, "seriousness", None, 3)
    tally.apply_dots(1, 5, 2, 0, 2)
    tally.apply_answer(2, None, 2, "segments", None, frozenset())  # an empty answer is an answer
    assert tally.respondents() == 2
    assert tally.group_respondents(5) == 1 and tally.group_respondents(None) == 1
    tally.apply_answer(1, 5, 1, "seriousness", 3, None)
    assert tally.respondents() == 2
    tally.apply_dots(1, 5, 2, 2, 0)
    assert tally.respondents() == 1
    assert tally.group_respondents(5) == 0 and 5 not in tally.by_group
    # once gone, the participant may come back in another group
    tally.apply_answer(1, 6, 1, "seriousness", None, 1)
    assert tally.group_respondents(6) == 1


def test_inconsistent_changes_are_rejected_without_changing_anything():
    tally = ActivityTally([1])
    tally.apply_answer(1, 5, 1, "seriousness", None, 3)
    before = tally.snapshot()
    with pytest.raises(ValueError):
        tally.apply_answer(1, 5, 1, "seriousness", 4, 2)  # 4 was never counted
    with pytest.raises(ValueError):
        tally.apply_answer(2, 5, 1, "seriousness", 3, None)  # not participant 2's answer
    with pytest.raises(ValueError):
        tally.apply_answer(1, 6, 1, "specialization", None, HIGH)  # group changed while counted
    with pytest.raises(ValueError):
        tally.apply_dots(1, 5, 1, 2, 0)
    with pytest.raises(ValueError):
        tally.apply_answer(1, 5, 2, "seriousness", None, 3)  # unknown gap
    for question, value in [
        ("seriousness", 0),
        ("seriousness", 6),
        ("diversification", 4),
        ("global_context", True),
        ("segments", [1]),
        ("mood", 1),
    ]:
        with pytest.raises(ValueError):
            tally.apply_answer(1, 5, 1, question, None, value)
    with pytest.raises(ValueError):
        tally.apply_dots(1, 5, 1, 0, -1)
    assert tally.snapshot() == before


def test_recount_rejects_duplicate_rows():
    with pytest.raises(ValueError):
        ActivityTally.recount([1], [(1, None, 1, "seriousness", 2), (1, None, 1, "seriousness", 3)], [])
    with pytest.raises(ValueError):
        ActivityTally.recount([1], [], [(1, None, 1, 2), (1, None, 1, 1)])
    with pytest.raises(ValueError):
        ActivityTally([1, 1])


def test_group_results_hide_small_groups():
    tally = ActivityTally([1])
    members = {1: [10, 11, 12], 2: [20, 21], None: [30, 31, 32, 33]}
    for group, participants in members.items():
        for p in participants:
            tally.apply_answer(p, group, 1, "seriousness", None, 4 if group == 1 else 2)
            tally.apply_dots(p, group, 1, 0, 1)
    by_group = group_results(tally, min_group_size=3)
    assert list(by_group) == [1, None]
    assert by_group[1][0].mean == 4.0 and by_group[1][0].dot_share == 1.0
    assert by_group[None][0].answers == 4
    assert list(group_results(tally, min_group_size=2)) == [1, 2, None]
    assert group_results(tally, min_group_size=5) == {}


def test_each_figure_needs_its_own_answers():
    """Issue #9: a group of 3 respondents (enough for the old per-group threshold of 3) where
    one person rated gap 2 showed that person's answer (answers = 1, mean = 5.0). The
    threshold holds per figure: gap 1 (3 answers) is shown, gap 2 only says how many answered;
    relevance levels and segment shares need their own answers too."""
    tally = ActivityTally([1, 2])
    for p in (1, 2, 3):
        tally.apply_answer(p, 7, 1, "seriousness", None, 2)
        tally.apply_answer(p, 7, 1, "specialization", None, HIGH)
    tally.apply_answer(1, 7, 2, "seriousness", None, 5)
    tally.apply_answer(1, 7, 2, "segments", None, frozenset({4}))
    tally.apply_dots(1, 7, 2, 0, 3)
    first, second = group_results(tally, min_group_size=3)[7]
    assert (first.answers, first.mean, first.distribution) == (3, 2.0, (0, 3, 0, 0, 0))
    assert first.relevance == {"specialization": "high", "diversification": None, "global_context": None}
    assert (second.answers, second.mean, second.distribution) == (1, None, None)
    assert (second.segments, second.segment_answers) == (None, 1)
    assert (second.dots, second.dot_share, second.dot_voters) == (None, None, 1)
    assert group_results(tally, min_group_size=4) == {}  # no figure could be shown
    room = results(tally.overall, [1, 2], min_answers=3)
    assert room[0].mean == 2.0 and room[1].mean is None  # the room's figures too
    with pytest.raises(ValueError):
        results(tally.overall, [1], min_answers=0)


def test_disagreement_is_largest_first_and_needs_both_means():
    public = [_result(1, 3.0), _result(2, 4.5), _result(3, None), _result(4, 2.0), _result(5, 1.0)]
    private = [_result(1, 3.5), _result(2, 2.5), _result(3, 4.0), _result(4, 3.5), _result(6, 1.0)]
    assert disagreement(public, private) == [(2, 2.0), (4, 1.5), (1, 0.5)]
    assert disagreement([], private) == []


# --- the report's table ------------------------------------------------------------


def test_a_unanimous_room_reproduces_the_reports_relevance_table():
    gaps = json.loads(METHOD_JSON.read_text(encoding="utf-8"))["gaps"]
    gap_ids = list(range(100, 100 + len(gaps)))
    tally = ActivityTally(gap_ids)
    for participant in range(7):
        for gap_id, gap in zip(gap_ids, gaps, strict=True):
            for element in ELEMENTS:
                level = LEVELS.index(gap["relevance"][element])
                tally.apply_answer(participant, participant % 3, gap_id, element, None, level)
    table = {gap_id: gap["relevance"] for gap_id, gap in zip(gap_ids, gaps, strict=True)}
    assert {r.gap: r.relevance for r in results(tally.overall, gap_ids)} == table
    for group_result in group_results(tally, min_group_size=1).values():
        assert {r.gap: r.relevance for r in group_result} == table


# --- properties --------------------------------------------------------------------

GAPS = (1, 2, 3)
PARTICIPANTS = range(6)

_values = {
    "seriousness": st.none() | st.integers(1, 5),
    "segments": st.none() | st.frozensets(st.integers(1, 4), max_size=4),
    **{element: st.none() | st.integers(0, 3) for element in ELEMENTS},
}
_answer_ops = st.sampled_from(QUESTIONS).flatmap(
    lambda q: st.tuples(st.just("answer"), st.sampled_from(PARTICIPANTS), st.sampled_from(GAPS), st.just(q), _values[q])
)
_dot_ops = st.tuples(
    st.just("dots"), st.sampled_from(PARTICIPANTS), st.sampled_from(GAPS), st.just("dots"), st.integers(0, 5)
)
_groups = st.lists(st.none() | st.integers(1, 3), min_size=len(PARTICIPANTS), max_size=len(PARTICIPANTS))


def _run(groups, operations):
    """Apply the operations live; return the tally and the final answers and dots."""
    tally = ActivityTally(GAPS)
    answers: dict[tuple[int, int, str], object] = {}
    dots: dict[tuple[int, int], int] = {}
    for kind, participant, gap, question, value in operations:
        if kind == "answer":
            old = answers.pop((participant, gap, question), None)
            tally.apply_answer(participant, groups[participant], gap, question, old, value)
            if value is not None:
                answers[participant, gap, question] = value
        else:
            old = dots.pop((participant, gap), 0)
            tally.apply_dots(participant, groups[participant], gap, old, value)
            if value:
                dots[participant, gap] = value
    return tally, answers, dots


@settings(max_examples=80, deadline=None)
@given(groups=_groups, operations=st.lists(_answer_ops | _dot_ops, max_size=60))
def test_live_tally_equals_recount_of_the_final_answers(groups, operations):
    tally, answers, dots = _run(groups, operations)
    recounted = ActivityTally.recount(
        GAPS,
        [(p, groups[p], gap, q, v) for (p, gap, q), v in answers.items()],
        [(p, groups[p], gap, n) for (p, gap), n in dots.items()],
    )
    assert tally.snapshot() == recounted.snapshot()


@settings(max_examples=80, deadline=None)
@given(groups=_groups, operations=st.lists(_answer_ops | _dot_ops, max_size=60))
def test_result_invariants(groups, operations):
    tally, answers, dots = _run(groups, operations)
    live = {p for p, _, _ in answers} | {p for p, _ in dots}
    assert tally.respondents() == len(live)
    for group in set(groups):
        assert tally.group_respondents(group) == len({p for p in live if groups[p] == group})
    slices = [tally.overall, *tally.by_group.values()]
    for counts in slices:
        gap_results = results(counts, GAPS)
        for r in gap_results:
            assert (r.distribution is None) == (r.mean is None) == (r.answers == 0)
            assert r.distribution is None or sum(r.distribution) == r.answers
            assert r.mean is None or 1 <= r.mean <= 5
            assert (r.segments is None) == (r.segment_answers == 0)
            assert all(0 < share <= 1 for share in (r.segments or {}).values())
            assert all(level is None or level in LEVELS for level in r.relevance.values())
        total = sum(r.dot_share or 0 for r in gap_results)
        assert total == pytest.approx(1.0) if any(r.dots for r in gap_results) else total == 0
    assert set(group_results(tally, min_group_size=1)) == set(tally.by_group)
