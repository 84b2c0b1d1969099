"""Ranking methods: published worked examples, hand-computed cases, brute-force references and
properties over random (partly partial) ballots."""

from __future__ import annotations

import functools
import random
from fractions import Fraction
from itertools import combinations, permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.activities.ranking.methods import (
    Placement,
    borda,
    kendall_w,
    mean_rank,
    pairwise_from_ballots,
    placements,
    schulze,
    schulze_from_pairwise,
    stability,
    strongest_paths,
    top_k_share,
)
from server.activities.ranking.pairwise import bradley_terry, next_pair

A, B, C, D, E = 1, 2, 3, 4, 5
LETTERS = {"A": A, "B": B, "C": C, "D": D, "E": E}


def _lettered(spec: list[tuple[int, str]]) -> list[tuple[int, ...]]:
    """[(5, "ACBED"), ...] -> 5 copies of (A, C, B, E, D), ..."""
    return [tuple(LETTERS[c] for c in order) for count, order in spec for _ in range(count)]


def _from_ranks(items: list[int], ranks: list[int]) -> tuple[int, ...]:
    """One judge's ranks of `items` (1 = best) as a ballot."""
    return tuple(item for _, item in sorted(zip(ranks, items, strict=True)))


def _order(placements: list[Placement]) -> list[int]:
    return [p.item for p in placements]


def _ranks(placements: list[Placement]) -> dict[int, int]:
    return {p.item: p.rank for p in placements}


def _matrix(pairs: dict[tuple[int, int], int], items: list[int]) -> list[list[int | None]]:
    return [[None if a == b else pairs[a, b] for b in items] for a in items]


# --- brute-force references ------------------------------------------------------------------


def _naive_positions(items, ballot) -> dict[int, Fraction]:
    n, k = len(items), len(ballot)
    unlisted = Fraction(k + 1 + n, 2)
    return {item: Fraction(ballot.index(item) + 1) if item in ballot else unlisted for item in items}


def _naive_pairwise(items, ballots) -> dict[tuple[int, int], int]:
    d = {(a, b): 0 for a in items for b in items if a != b}
    for ballot in ballots:
        pos = {item: ballot.index(item) if item in ballot else len(ballot) for item in items}
        for a, b in d:
            d[a, b] += pos[a] < pos[b]
    return d


def _naive_borda(items, ballots) -> dict[int, Fraction]:
    n = len(items)
    return {item: sum((n - _naive_positions(items, b)[item] for b in ballots), Fraction(0)) for item in items}


def _naive_schulze_beats(items, ballots) -> set[tuple[int, int]]:
    """Wikipedia's pseudo-code, literally."""
    d = _naive_pairwise(items, ballots)
    p = {(i, j): d[i, j] if d[i, j] > d[j, i] else 0 for i, j in d}
    for i in items:
        for j in items:
            if i != j:
                for k in items:
                    if i != k and j != k:
                        p[j, k] = max(p[j, k], min(p[j, i], p[i, k]))
    return {(i, j) for i, j in p if p[i, j] > p[j, i]}


def _naive_kendall_w(items, ballots) -> Fraction:
    n, m = len(items), len(ballots)
    sums = {item: sum(_naive_positions(items, b)[item] for b in ballots) for item in items}
    s = sum((r - Fraction(m * (n + 1), 2)) ** 2 for r in sums.values())
    ties = sum((n - len(b)) ** 3 - (n - len(b)) for b in ballots)
    return 12 * s / (m * m * (n**3 - n) - m * ties)


# --- Schulze: published examples -------------------------------------------------------------

WIKIPEDIA_SCHULZE = [
    (5, "ACBED"),
    (5, "ADECB"),
    (8, "BEDAC"),
    (3, "CABED"),
    (7, "CAEBD"),
    (2, "CBADE"),
    (7, "DCEBA"),
    (8, "EBADC"),
]


def test_schulze_wikipedia_example():
    """Wikipedia, "Schulze method", section "Example" (45 voters, 5 candidates): the published
    matrices d[*,*] and p[*,*], and the ranking E > A > C > B > D."""
    ballots = _lettered(WIKIPEDIA_SCHULZE)
    assert len(ballots) == 45
    items = [A, B, C, D, E]
    assert _matrix(pairwise_from_ballots(items, ballots), items) == [
        [None, 20, 26, 30, 22],
        [25, None, 16, 33, 18],
        [19, 29, None, 17, 24],
        [15, 12, 28, None, 14],
        [23, 27, 21, 31, None],
    ]
    assert _matrix(strongest_paths(items, ballots), items) == [
        [None, 28, 28, 30, 24],
        [25, None, 28, 33, 24],
        [25, 29, None, 29, 24],
        [25, 28, 28, None, 24],
        [25, 28, 28, 31, None],
    ]
    assert schulze_from_pairwise(items, pairwise_from_ballots(items, ballots)) == schulze(items, ballots)
    assert schulze(items, ballots) == [
        Placement(E, 4.0, 1, False),
        Placement(A, 3.0, 2, False),
        Placement(C, 2.0, 3, False),
        Placement(B, 1.0, 4, False),
        Placement(D, 0.0, 5, False),
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            [
                (5, "ACBD"),
                (2, "ACDB"),
                (3, "ADCB"),
                (4, "BACD"),
                (3, "CBDA"),
                (3, "CDBA"),
                (1, "DACB"),
                (5, "DBAC"),
                (4, "DCBA"),
            ],
            [(D, 1), (A, 2), (C, 3), (B, 4)],
        ),
        (
            [
                (3, "ABDEC"),
                (5, "ADEBC"),
                (1, "ADECB"),
                (2, "BADEC"),
                (2, "BDECA"),
                (4, "CABDE"),
                (6, "CBADE"),
                (2, "DBECA"),
                (5, "DECAB"),
            ],
            [(B, 1), (A, 2), (D, 3), (E, 4), (C, 5)],
        ),
        ([(3, "ABCD"), (2, "DABC"), (2, "DBCA"), (2, "CBDA")], [(B, 1), (D, 1), (A, 3), (C, 3)]),
    ],
    ids=["example-2", "example-3", "example-4-ties"],
)
def test_schulze_electowiki_examples(spec, expected):
    """Electowiki, "Schulze method", path heuristic, Examples 2, 3 and 4 (written up by Markus
    Schulze): published rankings D > A > C > B; B > A > D > E > C; and in Example 4 B and D are
    both potential winners, ranked {B, D} > {A, C}."""
    ballots = _lettered(spec)
    items = sorted({i for b in ballots for i in b})
    result = schulze(items, ballots)
    assert [(p.item, p.rank) for p in result] == expected
    assert [p.tied for p in result] == [sum(r == rank for _, r in expected) > 1 for _, rank in expected]


# --- Borda -----------------------------------------------------------------------------------

MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE = 1, 2, 3, 4
TENNESSEE = (
    [(MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE)] * 42
    + [(NASHVILLE, CHATTANOOGA, KNOXVILLE, MEMPHIS)] * 26
    + [(CHATTANOOGA, KNOXVILLE, NASHVILLE, MEMPHIS)] * 15
    + [(KNOXVILLE, CHATTANOOGA, NASHVILLE, MEMPHIS)] * 17
)


def test_borda_tennessee_example():
    """Wikipedia, "Borda count", Tennessee capital example (42% Memphis, 26% Nashville, 15%
    Chattanooga, 17% Knoxville) as 100 voters, n - p points with 4 candidates:
    Nashville 42·2 + 26·3 + 15·1 + 17·1 = 194, Chattanooga 42 + 52 + 45 + 34 = 173,
    Memphis 42·3 = 126, Knoxville 26 + 30 + 51 = 107 (sum 600 = 100 · 6)."""
    assert borda([MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE], TENNESSEE) == [
        Placement(NASHVILLE, 194.0, 1, False),
        Placement(CHATTANOOGA, 173.0, 2, False),
        Placement(MEMPHIS, 126.0, 3, False),
        Placement(KNOXVILLE, 107.0, 4, False),
    ]


def test_borda_partial_ballots_by_hand():
    """By hand, n = 4. (1,): item 1 gets 3, the three unlisted (4-1-1)/2 = 1 each.
    (2, 3): 2 gets 3, 3 gets 2, the two unlisted (4-2-1)/2 = 0.5 each. Totals 1: 3.5, 2: 4,
    3: 3, 4: 1.5 — each ballot hands out 6 = 4·3/2."""
    assert borda([1, 2, 3, 4], [(1,), (2, 3)]) == [
        Placement(2, 4.0, 1, False),
        Placement(1, 3.5, 2, False),
        Placement(3, 3.0, 3, False),
        Placement(4, 1.5, 4, False),
    ]
    assert borda([1, 2, 3], [(1,), (2,)]) == [
        Placement(1, 2.5, 1, True),
        Placement(2, 2.5, 1, True),
        Placement(3, 1.0, 3, False),
    ]
    assert {p.score for p in borda([1, 2], [])} == {0.0}


# --- mean rank, top-k share ------------------------------------------------------------------


def test_mean_rank_and_top_k_by_hand():
    """By hand, n = 4: (1, 2, 3, 4) and (2,) — item 2's positions 2 and 1, mean 1.5; item 1's
    1 and 3 (unlisted share positions 2..4, average 3), mean 2; item 3: (3 + 3)/2 = 3; item 4:
    (4 + 3)/2 = 3.5. Top-1 share: 1 and 2 each on one ballot of two; top-3: 2 on both, 1 and 3 on one."""
    ballots = [(1, 2, 3, 4), (2,)]
    assert mean_rank([1, 2, 3, 4], ballots) == [
        Placement(2, -1.5, 1, False),
        Placement(1, -2.0, 2, False),
        Placement(3, -3.0, 3, False),
        Placement(4, -3.5, 4, False),
    ]
    assert top_k_share([1, 2, 3, 4], ballots, 1) == [
        Placement(1, 0.5, 1, True),
        Placement(2, 0.5, 1, True),
        Placement(3, 0.0, 3, True),
        Placement(4, 0.0, 3, True),
    ]
    assert [p.score for p in top_k_share([1, 2, 3, 4], ballots, 3)] == [1.0, 0.5, 0.5, 0.0]
    assert {p.score for p in mean_rank([1, 2, 3], [])} == {-2.0}
    with pytest.raises(ValueError):
        top_k_share([1, 2], ballots[:0], 0)


# --- Kendall's W -----------------------------------------------------------------------------


def test_kendall_w_proofwiki_example():
    """ProofWiki, "Kendall's Coefficient of Concordance/Examples/Arbitrary Example 1": judges
    A..D rank X, Y, Z as X: 1 1 2 3, Y: 3 2 3 1, Z: 2 3 1 2; W = 1/16."""
    competitors = [1, 2, 3]  # X, Y, Z
    judges = [[1, 3, 2], [1, 2, 3], [2, 3, 1], [3, 1, 2]]
    assert kendall_w(competitors, [_from_ranks(competitors, r) for r in judges]) == pytest.approx(1 / 16)


def test_kendall_w_strawberry_example():
    """influentialpoints.com, "Kendall coefficient of concordance", worked example I: four
    raters rank strawberries from eight farms; rank sums 31 12 12 15 22 5 22 25, S = 500,
    W = 500 / (504 · 16 / 12) = 0.744."""
    farms = list(range(1, 9))
    raters = [
        [8, 4, 2, 3, 5, 1, 6, 7],
        [7, 3, 1, 4, 5, 2, 6, 8],
        [8, 2, 5, 6, 7, 1, 4, 3],
        [8, 3, 4, 2, 5, 1, 6, 7],
    ]
    w = kendall_w(farms, [_from_ranks(farms, r) for r in raters])
    assert w == pytest.approx(500 / 672)
    assert round(w, 3) == 0.744


def test_kendall_w_small_cases():
    """By hand. Three judges, identical orders of 4 items: W = 1. Judges (1,2,3), (1,3,2),
    (2,1,3) over a, b, c: rank sums 4, 6, 8, mean 6, S = 8, W = 12·8 / (9·24) = 4/9.
    Tie correction, n = 3: (1, 2, 3) and the partial (1,) (items 2, 3 share 2.5): rank sums
    2, 4.5, 5.5, mean 4, S = 6.5, T = 2³ - 2 = 6, W = 12·6.5 / (4·24 - 2·6) = 78/84 = 13/14."""
    assert kendall_w([1, 2, 3, 4], [(1, 2, 3, 4)] * 3) == 1.0
    assert kendall_w([1, 2, 3], [(1, 2, 3), (1, 3, 2), (2, 1, 3)]) == pytest.approx(4 / 9)
    assert kendall_w([1, 2, 3], [(1, 2, 3), (1,)]) == pytest.approx(13 / 14)
    assert kendall_w([1, 2, 3], [(1, 2, 3)]) is None
    assert kendall_w([1], [(1,), (1,)]) is None
    assert kendall_w([1, 2, 3], [(), ()]) is None  # nothing ranked: agreement undefined


# --- Bradley–Terry ---------------------------------------------------------------------------


def test_bradley_terry_two_items_closed_form():
    """Bradley & Terry (1952): with two items the maximum-likelihood strengths are the win
    shares, a wins 3 of 4 -> 0.75 / 0.25 (Hunter 2004's MM reaches it). The default prior pulls
    the ratio below 3 but keeps the order; a tie counts half a win each way."""
    tiny = bradley_terry([1, 2], [(1, 2)] * 3 + [(2, 1)], prior=1e-9)
    assert [(p.item, p.score) for p in tiny] == [(1, pytest.approx(0.75)), (2, pytest.approx(0.25))]
    shrunk = bradley_terry([1, 2], [(1, 2)] * 3 + [(2, 1)])
    assert 1 < shrunk[0].score / shrunk[1].score < 3
    assert sum(p.score for p in shrunk) == pytest.approx(1.0)
    halves = bradley_terry([1, 2], [(1, 2)] * 2, ties=[(1, 2)] * 2, prior=1e-9)
    assert [p.score for p in halves] == [pytest.approx(0.75), pytest.approx(0.25)]


def test_bradley_terry_transitive_data_and_edge_cases():
    """A transitive round robin (each earlier item beats each later one twice) gives that order;
    an undefeated and a winless item stay finite; no answers at all -> everyone tied at 1/n."""
    order = [4, 2, 3, 1]
    wins = [(a, b) for i, a in enumerate(order) for b in order[i + 1 :]] * 2
    result = bradley_terry([1, 2, 3, 4], wins)
    assert _order(result) == order
    assert [p.rank for p in result] == [1, 2, 3, 4]
    assert all(0 < p.score < 1 for p in result)
    assert bradley_terry([1, 2, 3], []) == [Placement(i, pytest.approx(1 / 3), 1, True) for i in (1, 2, 3)]
    assert bradley_terry([], []) == []
    with pytest.raises(ValueError):
        bradley_terry([1, 2], [(1, 1)])
    with pytest.raises(ValueError):
        bradley_terry([1, 2], [(1, 3)])


# --- next_pair -------------------------------------------------------------------------------


def _answer_until_done(items, truth, choose):
    """A participant answering by `truth` (best first) the pairs `choose` picks, until it says
    stop; returns how many answers it took until the Bradley–Terry leader was (for good) the
    true best, and the final order."""
    better = {item: -i for i, item in enumerate(truth)}
    wins, asked, leader_wrong_after = [], set(), []
    while True:
        leader_wrong_after.append(_order(bradley_terry(items, wins))[0] != truth[0])
        if (pair := choose(items, wins, asked)) is None:
            break
        assert frozenset(pair) not in asked
        asked.add(frozenset(pair))
        wins.append(pair if better[pair[0]] > better[pair[1]] else pair[::-1])
    assert len(asked) == len(items) * (len(items) - 1) // 2
    settled = max((i + 1 for i, wrong in enumerate(leader_wrong_after) if wrong), default=0)
    return settled, _order(bradley_terry(items, wins))


def _fixed_order(items, wins, asked):
    return next((p for p in combinations(items, 2) if frozenset(p) not in asked), None)


def test_next_pair():
    """The heuristic, by hand: with no answers the order is by id, so 1 vs 2; if 2 wins, 2 leads,
    1 drops last, the unseen 3 and 4 sit between: 2 vs 3. With every neighbouring pair asked, the
    closest remaining pair nearest the top. Over all 24 orders of 4 items, it finds the best
    item in fewer answers on average than asking the pairs in a fixed order."""
    assert next_pair([1, 2, 3, 4], [], [], set()) == (1, 2)
    assert next_pair([1, 2, 3, 4], [(2, 1)], [], {frozenset((1, 2))}) == (2, 3)
    room = [(4, 1), (4, 2), (4, 3)] * 3  # the room already thinks 4 is best
    assert next_pair([1, 2, 3, 4], room, [], set()) == (4, 1)
    chain = [(1, 2), (2, 3), (3, 4)]
    assert next_pair([1, 2, 3, 4], chain, [], {frozenset(p) for p in chain}) == (1, 3)
    assert next_pair([1, 2, 3], [], [], {frozenset(p) for p in combinations([1, 2, 3], 2)}) is None
    assert next_pair([1], [], [], set()) is None
    assert next_pair([1, 2, 3], [(1, 2)], [(2, 3)], set()) == next_pair([1, 2, 3], [(1, 2)], [(2, 3)], set())

    items = [1, 2, 3, 4]
    smart, fixed = [], []
    for truth in permutations(items):
        settled, final = _answer_until_done(items, list(truth), next_pair_without_ties)
        assert final == list(truth)
        smart.append(settled)
        fixed.append(_answer_until_done(items, list(truth), _fixed_order)[0])
    assert sum(smart) < sum(fixed)


def next_pair_without_ties(items, wins, asked):
    return next_pair(items, wins, [], asked)


# --- stability -------------------------------------------------------------------------------


def test_stability_unanimous_and_seeded():
    """Unanimous ballots: the top 2 always stay the top 2. Mixed ballots: a share in [0, 1],
    identical for the same seed; extra arguments through functools.partial."""
    items = [1, 2, 3, 4]
    assert stability(items, [(3, 1, 4, 2)] * 10, borda, k=2, resamples=30) == {1: 1.0, 2: 0.0, 3: 1.0, 4: 0.0}
    ballots = [(1, 2, 3, 4), (2, 1), (4, 3, 2, 1), (1, 3), (2,)]
    first = stability(items, ballots, schulze, k=1, resamples=50, seed=3)
    assert first == stability(items, ballots, schulze, k=1, resamples=50, seed=3)
    assert all(0.0 <= v <= 1.0 for v in first.values())
    top2 = stability(items, ballots, functools.partial(top_k_share, k=2), k=1, resamples=20)
    assert set(top2) == set(items)


def test_placements_from_scores():
    """Competition ranking 1, 2, 2, 4, sorted by rank then id; a tolerance merges near-equal
    scores into the first item's group."""
    assert [(p.item, p.rank, p.tied) for p in placements([7, 3, 5, 1], [0.5, 2.0, 1.0, 1.0])] == [
        (3, 1, False),
        (1, 2, True),
        (5, 2, True),
        (7, 4, False),
    ]
    assert [p.rank for p in placements([1, 2, 3], [1.0, 1.0 - 1e-12, 0.5], tolerance=1e-9)] == [1, 1, 3]
    assert placements([], []) == []


def test_invalid_input():
    with pytest.raises(ValueError):
        borda([1, 2, 3], [(1, 1)])
    with pytest.raises(ValueError):
        schulze([1, 2, 3], [(1, 9)])
    with pytest.raises(ValueError):
        mean_rank([1, 1], [])
    with pytest.raises(ValueError):
        stability([1, 2], [(1,)], borda, k=1, resamples=0)


# --- properties ------------------------------------------------------------------------------


@st.composite
def elections(draw, min_ballots=0, max_ballots=12):
    """2..7 distinct item ids and ballots over them, about half of them partial."""
    items = draw(st.lists(st.integers(1, 999), min_size=2, max_size=7, unique=True))
    n = len(items)
    ballot = st.tuples(st.permutations(items), st.just(n) | st.integers(0, n)).map(lambda pk: tuple(pk[0][: pk[1]]))
    return items, draw(st.lists(ballot, min_size=min_ballots, max_size=max_ballots))


def _wins_from_ballots(items, ballots):
    return [pair for pair, count in pairwise_from_ballots(items, ballots).items() for _ in range(count)]


@settings(deadline=None)
@given(elections())
def test_fast_counts_match_brute_force(election):
    items, ballots = election
    assert pairwise_from_ballots(items, ballots) == _naive_pairwise(items, ballots)
    assert {p.item: Fraction(p.score) for p in borda(items, ballots)} == _naive_borda(items, ballots)
    result = {p.item: p for p in schulze(items, ballots)}
    for a, b in _naive_schulze_beats(items, ballots):
        assert result[a].rank < result[b].rank
    if len(ballots) >= 2 and any(ballots):
        assert kendall_w(items, ballots) == pytest.approx(float(_naive_kendall_w(items, ballots)))


@settings(deadline=None)
@given(elections(), st.data())
def test_condorcet_winner_is_schulze_winner(election, data):
    items, ballots = election
    d = pairwise_from_ballots(items, ballots)
    for c in items:
        if all(d[c, x] > d[x, c] for x in items if x != c):
            assert [(p.item, p.rank) for p in schulze(items, ballots) if p.rank == 1] == [(c, 1)]
    # force one: more ballots putting c first than there were ballots
    c = data.draw(st.sampled_from(items))
    forced = ballots + [(c,)] * (len(ballots) + 1)
    winner, runner_up = schulze(items, forced)[:2]
    assert (winner.item, winner.rank, winner.tied) == (c, 1, False)
    assert runner_up.rank == 2


@settings(deadline=None)
@given(
    st.lists(st.integers(1, 999), min_size=2, max_size=7, unique=True),
    st.randoms(use_true_random=False),
    st.integers(1, 6),
)
def test_unanimity(items, rnd, copies):
    order = list(items)
    rnd.shuffle(order)
    ballots = [tuple(order)] * copies
    for method in (borda, schulze, mean_rank):
        result = method(items, ballots)
        assert _order(result) == order
        assert [p.rank for p in result] == list(range(1, len(items) + 1))
        assert not any(p.tied for p in result)
    assert [p.score for p in mean_rank(items, ballots)] == [-float(i) for i in range(1, len(items) + 1)]
    assert _order(bradley_terry(items, _wins_from_ballots(items, ballots))) == order
    assert kendall_w(items, ballots) == (1.0 if copies >= 2 else None)


@settings(deadline=None)
@given(elections(), st.data())
def test_relabeling_relabels_results(election, data):
    items, ballots = election
    new_ids = data.draw(st.lists(st.integers(1, 999), min_size=len(items), max_size=len(items), unique=True))
    rename = dict(zip(items, new_ids, strict=True))
    renamed = [tuple(rename[i] for i in b) for b in ballots]
    for method in (borda, schulze, mean_rank, functools.partial(top_k_share, k=2)):
        before, after = method(items, ballots), method(new_ids, renamed)
        assert {rename[p.item]: (p.rank, p.score, p.tied) for p in before} == {
            p.item: (p.rank, p.score, p.tied) for p in after
        }
    bt_before = _ranks(bradley_terry(items, _wins_from_ballots(items, ballots)))
    bt_after = _ranks(bradley_terry(new_ids, _wins_from_ballots(new_ids, renamed)))
    assert {rename[i]: r for i, r in bt_before.items()} == bt_after
    assert kendall_w(items, ballots) == kendall_w(new_ids, renamed)


@settings(deadline=None)
@given(elections())
def test_borda_totals_mean_rank_and_top_k(election):
    items, ballots = election
    n, m = len(items), len(ballots)
    scores = {p.item: p.score for p in borda(items, ballots)}
    assert sum(scores.values()) == m * n * (n - 1) / 2
    if m:  # Borda points are n minus the (averaged) position
        for p in mean_rank(items, ballots):
            assert scores[p.item] == pytest.approx(m * (n + p.score))
    for k in (1, 2, n):
        shares = top_k_share(items, ballots, k)
        assert all(0.0 <= p.score <= 1.0 for p in shares)
        assert sum(p.score for p in shares) <= k + 1e-9


@settings(deadline=None)
@given(elections())
def test_doubling_ballots_keeps_schulze_order(election):
    items, ballots = election
    before, after = _ranks(schulze(items, ballots)), _ranks(schulze(items, ballots * 2))
    for a in items:
        for b in items:
            if before[a] < before[b]:
                assert not after[b] < after[a]


@settings(deadline=None, max_examples=30)
@given(elections(min_ballots=1), st.integers(0, 2**32), st.integers(1, 3))
def test_stability_is_deterministic(election, seed, k):
    items, ballots = election
    first = stability(items, ballots, borda, k=k, resamples=15, seed=seed)
    assert first == stability(items, ballots, borda, k=k, resamples=15, seed=seed)
    assert set(first) == set(items)
    assert all(0.0 <= v <= 1.0 for v in first.values())


@settings(deadline=None)
@given(elections())
def test_placements_are_sorted_and_ranked(election):
    items, ballots = election
    for result in (borda(items, ballots), schulze(items, ballots), mean_rank(items, ballots)):
        assert [(p.rank, p.item) for p in result] == sorted((p.rank, p.item) for p in result)
        assert result[0].rank == 1
        for i, p in enumerate(result):  # competition ranking: rank = 1 + number of better items
            assert p.rank == 1 + sum(q.score > p.score for q in result)
            assert p.tied == any(q.rank == p.rank for j, q in enumerate(result) if j != i)


# --- size ------------------------------------------------------------------------------------


def test_five_thousand_ballots_over_forty_items():
    """Not timed: borda and schulze must use the O(ballots·n² + n³) counting to finish fast."""
    rng = random.Random(7)
    items = list(range(100, 140))
    ballots = []
    for _ in range(5000):
        order = rng.sample(items, len(items))
        ballots.append(tuple(order[: rng.choice((40, 40, rng.randint(1, 40)))]))
    points = borda(items, ballots)
    assert sum(p.score for p in points) == 5000 * 40 * 39 / 2
    result = schulze(items, ballots)
    assert sorted(p.item for p in result) == items
    assert 0.0 <= kendall_w(items, ballots) < 0.05  # random ballots barely agree
