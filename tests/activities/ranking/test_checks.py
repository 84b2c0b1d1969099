"""Independent checks of the ranking maths: each expected result comes from a reference
computed here, from the definition, by a different route than ``methods.py`` takes.

* Schulze: pairwise counts ballot by ballot, strongest paths by Floyd–Warshall on winning
  votes (Schulze 2011, section 2.2), and the ranking by peeling off the unbeaten items.
* Bradley–Terry: Hunter's (2004) MM iteration run until it stops moving (no iteration cap),
  and the maximum-likelihood equations themselves.
* Stability: the bootstrap must depend on the multiset of ballots only.
"""

from __future__ import annotations

import functools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.activities.ranking import methods, pairwise
from server.activities.ranking.methods import (
    borda,
    schulze,
    schulze_from_pairwise,
    stability,
)
from server.activities.ranking.pairwise import bradley_terry, bradley_terry_strengths, next_pair
from server.activities.ranking.tally import RankingTally, live_results

# --- Schulze, from the definition --------------------------------------------------------


def reference_pairwise(items, ballots) -> dict[tuple[int, int], int]:
    """d[a, b]: ballots that prefer a to b. A listed item is preferred to every item after it
    and to every unlisted one; two unlisted items express nothing."""
    d = {(a, b): 0 for a in items for b in items if a != b}
    for ballot in ballots:
        for position, a in enumerate(ballot):
            for b in items:
                if b != a and b not in ballot[:position]:
                    d[a, b] += 1
    return d


def reference_beats(items, ballots) -> set[tuple[int, int]]:
    """The Schulze relation with winning votes: a beats b when the strongest path from a to b
    is stronger than the strongest path back. A link a -> b exists when d[a,b] > d[b,a], and
    its strength is d[a,b] (winning votes); a path is as strong as its weakest link;
    Floyd–Warshall over widest paths."""
    d = reference_pairwise(items, ballots)
    p = {(a, b): (d[a, b] if d[a, b] > d[b, a] else 0) for a, b in d}
    for via in items:
        for a in items:
            for b in items:
                if len({a, b, via}) == 3:
                    p[a, b] = max(p[a, b], min(p[a, via], p[via, b]))
    return {(a, b) for a, b in p if p[a, b] > p[b, a]}


def reference_schulze_ranks(items, ballots) -> dict[int, int]:
    """Competition ranks by the relation itself: the items no remaining item beats share the
    next place; remove them and repeat (the relation is a strict partial order, so this ends)."""
    beats = reference_beats(items, ballots)
    left, ranks = set(items), {}
    while left:
        top = {a for a in left if not any((b, a) in beats for b in left)}
        assert top, "the Schulze relation has a cycle"
        place = len(items) - len(left) + 1
        ranks.update(dict.fromkeys(top, place))
        left -= top
    return ranks


def _ranks(placements) -> dict[int, int]:
    return {p.item: p.rank for p in placements}


@pytest.mark.parametrize(
    "ballots",
    [[(2, 3, 1), (1, 2, 3)], [(2, 3), (1,)]],
    ids=["full", "partial"],
)
def test_schulze_issue_examples(ballots):
    """Issue #9's minimal examples. By hand from the definition: d[2,3] = 2, d[3,2] = 0, and
    1 splits 1–1 with both 2 and 3; so the only link is 2 -> 3, 2 beats 3 and nothing beats
    1 or 2. Winners {1, 2} (tied first), then 3. Counting beaten items put 2 alone first."""
    items = [1, 2, 3]
    assert reference_beats(items, ballots) == {(2, 3)}
    assert reference_schulze_ranks(items, ballots) == {1: 1, 2: 1, 3: 3}
    result = schulze(items, ballots)
    assert _ranks(result) == {1: 1, 2: 1, 3: 3}
    assert [p.tied for p in result] == [True, True, False]
    live = RankingTally.recount(items, len(items), [(n, None, b) for n, b in enumerate(ballots)])
    assert live_results(live)["schulze"] == result  # the live tally runs the same code


@st.composite
def elections(draw, max_items=7, max_ballots=12):
    """2..7 items and ballots over them, most of them partial, with many repeats (ties in
    pairwise counts and path strengths are where ranking by counts went wrong)."""
    items = draw(st.lists(st.integers(1, 99), min_size=2, max_size=max_items, unique=True))
    n = len(items)
    ballot = st.tuples(st.permutations(items), st.integers(0, n)).map(lambda pk: tuple(pk[0][: pk[1]]))
    pool = draw(st.lists(ballot, min_size=1, max_size=4))
    return items, draw(st.lists(st.sampled_from(pool) | ballot, max_size=max_ballots))


@settings(deadline=None, max_examples=400)
@given(elections())
def test_schulze_top_place_is_the_unbeaten_set(election):
    items, ballots = election
    beats = reference_beats(items, ballots)
    unbeaten = {a for a in items if not any((b, a) in beats for b in items)}
    result = schulze(items, ballots)
    assert {p.item for p in result if p.rank == 1} == unbeaten
    assert _ranks(result) == reference_schulze_ranks(items, ballots)
    for p in result:  # a shared place is flagged; the score is the number of lines placed below
        assert p.tied == (sum(q.rank == p.rank for q in result) > 1)
        assert p.score == sum(q.rank > p.rank for q in result)
    counts = methods.pairwise_from_ballots(items, ballots)
    assert schulze_from_pairwise(items, counts) == result


# --- Bradley–Terry --------------------------------------------------------------------------


def reference_mm(items, wins, ties=(), prior=0.5) -> dict[int, float]:
    """Hunter's (2004) MM for Bradley–Terry with Minka's prior (each item also wins and loses
    `prior` games against a virtual opponent of strength 1), iterated until no strength moves
    by more than 1e-14 relative: there is no iteration cap."""
    won = {i: prior for i in items}
    games: dict[frozenset, int] = {}
    for outcomes, share in ((wins, 1.0), (ties, 0.5)):
        for a, b in outcomes:
            won[a] += share
            won[b] += 1 - share
            games[frozenset((a, b))] = games.get(frozenset((a, b)), 0) + 1
    s = dict.fromkeys(items, 1.0)
    while True:
        new = {}
        for i in items:
            denominator = 2 * prior / (s[i] + 1)
            for pair, count in games.items():
                if i in pair:
                    (j,) = pair - {i}
                    denominator += count / (s[i] + s[j])
            new[i] = won[i] / denominator
        if max(abs(math.log(new[i] / s[i])) for i in items) < 1e-14:
            return new
        s = new


def likelihood_residuals(items, wins, ties, prior, strength) -> dict[int, float]:
    """For each item, observed wins (ties half, the prior's `prior`) minus expected wins under
    `strength`: zero at the maximum-likelihood fit."""
    residual = dict.fromkeys(items, 0.0)
    for i in items:
        residual[i] += prior - 2 * prior * strength[i] / (strength[i] + 1)
    for outcomes, share in ((wins, 1.0), (ties, 0.5)):
        for a, b in outcomes:
            expected_a = strength[a] / (strength[a] + strength[b])
            residual[a] += share - expected_a
            residual[b] += (1 - share) - (1 - expected_a)
    return residual


ISSUE_WINS = [(1, 4)] * 3 + [(2, 3)] * 3 + [(3, 2)] * 10 + [(3, 4)] * 10 + [(4, 1)] * 9 + [(4, 3)] * 3
CHAIN_4 = [(1, 2)] * 20 + [(2, 3)] * 20 + [(3, 4)] * 20


@pytest.mark.parametrize(
    ("items", "wins"),
    [([1, 2, 3, 4, 5], ISSUE_WINS), ([1, 2, 3, 4], CHAIN_4)],
    ids=["issue-example", "chain-of-4"],
)
def test_bradley_terry_matches_the_converged_reference(items, wins):
    """The fitted strengths equal the reference MM's, run to convergence, within 1e-9
    relative; the shown order follows them. In the issue's example item 4 (1.0014 on the
    reference scale) is stronger than the never-compared item 5 (exactly 1) and must be
    shown above it; on the chain the 200-step cap left the last strength 13 % off."""
    reference = reference_mm(items, wins)
    fitted = bradley_terry_strengths(items, wins)
    for i in items:
        assert fitted[i] == pytest.approx(reference[i], rel=1e-9)
    total = sum(reference.values())
    result = bradley_terry(items, wins)
    for p in result:
        assert p.score == pytest.approx(reference[p.item] / total, rel=1e-9)
    assert [p.item for p in result] == sorted(items, key=lambda i: -reference[i])
    assert len({p.rank for p in result}) == len(items)


def test_bradley_terry_issue_example_order():
    result = bradley_terry([1, 2, 3, 4, 5], ISSUE_WINS)
    assert [p.item for p in result] == [3, 4, 5, 2, 1]
    assert bradley_terry_strengths([1, 2, 3, 4, 5], ISSUE_WINS)[5] == pytest.approx(1.0, abs=1e-12)


def test_a_forty_item_chain_is_fully_ordered():
    """Each neighbour beats the next 20 times: 40 distinct places, in chain order (the
    absolute 1e-9 tolerance on strengths summing to 1 tied the bottom of the chain)."""
    items = list(range(1, 41))
    wins = [(i, i + 1) for i in range(1, 40)] * 20
    result = bradley_terry(items, wins)
    assert [(p.item, p.rank, p.tied) for p in result] == [(i, i, False) for i in items]
    residuals = likelihood_residuals(items, wins, [], 0.5, bradley_terry_strengths(items, wins))
    assert max(map(abs, residuals.values())) < 1e-8


def test_equal_strengths_tie_on_a_relative_scale():
    """Two items each beating the other once, and an unseen one: all three exactly 1 on the
    reference scale, so all tie; symmetric items far below 1/n tie too."""
    assert {p.rank for p in bradley_terry([1, 2, 3], [(1, 2), (2, 1)])} == {1}
    chain = [(1, 2), (1, 3)] * 30
    result = bradley_terry([1, 2, 3], chain)
    assert [(p.item, p.rank, p.tied) for p in result] == [(1, 1, False), (2, 2, True), (3, 2, True)]


def test_pair_selection_uses_the_converged_fit():
    """With no pair asked yet the first pair is the top two of the fit: 3 and 4 (the capped
    fit put the never-compared 5 second)."""
    assert next_pair([1, 2, 3, 4, 5], ISSUE_WINS, [], set()) == (3, 4)


@st.composite
def comparisons(draw):
    items = draw(st.lists(st.integers(1, 60), min_size=1, max_size=12, unique=True))
    pairs = st.tuples(st.sampled_from(items), st.sampled_from(items)).filter(lambda ab: ab[0] != ab[1])
    if len(items) < 2:
        return items, [], [], draw(st.floats(0.01, 5))
    wins = draw(st.lists(pairs, max_size=60))
    ties = draw(st.lists(pairs, max_size=10))
    heavy = draw(st.lists(st.tuples(pairs, st.integers(1, 400)), max_size=3))  # lopsided counts
    wins += [pair for pair, count in heavy for _ in range(count)]
    return items, wins, ties, draw(st.floats(0.01, 5))


@settings(deadline=None, max_examples=300)
@given(comparisons())
def test_bradley_terry_solves_the_likelihood_equations(data):
    """For every item, observed wins = expected wins, within 1e-9 of the item's number of
    games (its answers plus the prior's two): the fit is the maximum-likelihood one. The
    shown scores are the strengths scaled to sum 1, and the order follows them."""
    items, wins, ties, prior = data
    strength = bradley_terry_strengths(items, wins, ties, prior=prior)
    games = dict.fromkeys(items, 2 * prior)
    for a, b in [*wins, *ties]:
        games[a] += 1
        games[b] += 1
    for item, residual in likelihood_residuals(items, wins, ties, prior, strength).items():
        assert abs(residual) <= 1e-9 * games[item], (item, residual)
    result = bradley_terry(items, wins, ties, prior=prior)
    total = sum(strength.values())
    for p in result:
        assert p.score == pytest.approx(strength[p.item] / total, rel=1e-9)
    for p in result:
        for q in result:
            if math.log(strength[p.item] / strength[q.item]) > pairwise.BT_TIE:
                assert p.rank < q.rank


# --- stability ------------------------------------------------------------------------------

SEVEN = [(1, 2, 3, 4), (2, 1, 4, 3), (3, 1, 2, 4), (1, 3), (4, 2, 1, 3), (2, 3), (1, 4, 2)]


@pytest.mark.parametrize("method", [borda, schulze, functools.partial(methods.top_k_share, k=2)])
def test_stability_does_not_depend_on_the_order_of_the_ballots(method):
    """The same seven ballots, reversed or shuffled, give the same shares."""
    items = [1, 2, 3, 4]
    first = stability(items, SEVEN, method, k=2)
    assert stability(items, SEVEN[::-1], method, k=2) == first
    assert stability(items, SEVEN[3:] + SEVEN[:3], method, k=2) == first


def test_lines_tied_at_the_kth_place_count_as_in_the_top_k():
    """Three lines always tied second with k = 2: all three are in the top 2 in every resample."""
    ballots = [(1,)] * 5
    assert stability([1, 2, 3, 4], ballots, borda, k=2, resamples=10) == {1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0}


def test_live_stability_equals_stability_of_the_recount_in_any_order():
    from server.activities.ranking.tally import stability as live_stability

    items = [1, 2, 3, 4]
    rows = [(n, None, ballot) for n, ballot in enumerate(SEVEN)]
    forward = RankingTally.recount(items, 4, rows)
    backward = RankingTally.recount(items, 4, rows[::-1])
    assert live_stability(forward, 2, closed=True) == live_stability(backward, 2, closed=True)


@settings(deadline=None, max_examples=50)
@given(comparisons(), st.randoms(use_true_random=False))
def test_bradley_terry_does_not_depend_on_the_order_of_the_answers(data, rnd):
    """The same answers in another order give exactly the same figures (live tally = recount)."""
    items, wins, ties, prior = data
    shuffled_wins, shuffled_ties = list(wins), list(ties)
    rnd.shuffle(shuffled_wins)
    rnd.shuffle(shuffled_ties)
    assert bradley_terry(items, shuffled_wins, shuffled_ties, prior) == bradley_terry(items, wins, ties, prior)
