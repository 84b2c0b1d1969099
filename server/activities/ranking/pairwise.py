"""The pairwise mode of the ranking activity: Bradley–Terry strengths from "which of these two
first?" answers, and which pair to ask next. Pure: stdlib only, no I/O.

The model: line a is preferred to line b with probability s(a) / (s(a) + s(b)). Wins are
(winner, loser) pairs; a "can't decide" counts half a win each way. A prior keeps every
strength finite: each line also wins ``prior`` and loses ``prior`` games against a virtual
opponent of strength 1. That fixes the scale too: a line never compared stays at exactly 1,
and a line stronger than it lies above 1.

The strengths maximise the likelihood (with the prior), fitted by Newton's method on the
log-strengths with a backtracking line search. The log-likelihood is strictly concave there
(the prior's games add a positive term to every diagonal of the negated Hessian), so the
maximum is unique and Newton's method converges to it, quadratically near the end. It stops
when the likelihood equations hold (each line's wins equal the sum of its expected wins) to
``_EQUATIONS`` of the line's number of games, or when a full step moves no log-strength by
more than ``_STEP``; in practice after 5 to 7 steps, at rounding error.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from server.activities.ranking.methods import Placement, _index, placements

BT_TIE = 1e-7  # two strengths tie when their logarithms differ by no more (relative 1e-7)
_EQUATIONS = 1e-12  # converged when each line's wins equal its expected wins within this share of its games
_STEP = 1e-10  # or when a full Newton step moves no log-strength by more than this
_MAX_STEPS = 200  # a guard against a bug, never reached: Newton needs a few dozen at most

Pair = tuple[int, int]


def _log1pexp(x: float) -> float:
    """log(1 + e^x) without overflow."""
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """x with a·x = b, a symmetric positive definite (Cholesky: a = L·Lᵀ)."""
    n = len(b)
    low = [[0.0] * n for _ in range(n)]
    for i in range(n):
        row = low[i]
        for j in range(i + 1):
            other = low[j]
            s = a[i][j] - sum(row[k] * other[k] for k in range(j))
            row[j] = math.sqrt(s) if i == j else s / other[j]
    y = [0.0] * n
    for i in range(n):
        y[i] = (b[i] - sum(low[i][k] * y[k] for k in range(i))) / low[i][i]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (y[i] - sum(low[k][i] * x[k] for k in range(i + 1, n))) / low[i][i]
    return x


def _counts(index: dict[int, int], wins: Iterable[Pair], ties: Iterable[Pair], prior: float):
    """Each line's observed wins (with the prior's) and the games played per pair."""
    won = [prior] * len(index)
    games: dict[tuple[int, int], int] = defaultdict(int)
    for outcomes, share in ((wins, 1.0), (ties, 0.5)):
        for a, b in outcomes:
            if a == b or a not in index or b not in index:
                raise ValueError(f"cannot compare {a} with {b}")
            i, j = index[a], index[b]
            won[i] += share
            won[j] += 1.0 - share
            games[min(i, j), max(i, j)] += 1
    return won, [(i, j, count) for (i, j), count in sorted(games.items())]  # sorted: same sums in any order


def bradley_terry_strengths(
    items: Sequence[int], wins: Iterable[Pair], ties: Iterable[Pair] = (), prior: float = 0.5
) -> dict[int, float]:
    """The maximum-likelihood strengths, on the scale where the virtual opponent has strength 1."""
    if prior <= 0:
        raise ValueError("prior must be positive")
    index = _index(items)
    n = len(index)
    won, games = _counts(index, wins, ties, prior)
    played = [2 * prior] * n  # each line's games, the prior's two included
    for i, j, count in games:
        played[i] += count
        played[j] += count

    def log_likelihood(theta: list[float]) -> float:
        value = sum(w * t - 2 * prior * _log1pexp(t) for w, t in zip(won, theta, strict=True))
        for i, j, count in games:
            value -= count * (theta[j] + _log1pexp(theta[i] - theta[j]))
        return value

    theta = [0.0] * n
    current = log_likelihood(theta)
    for _ in range(_MAX_STEPS):
        # Gradient (observed minus expected wins) and the negated Hessian.
        gradient, hessian = [0.0] * n, [[0.0] * n for _ in range(n)]
        for i in range(n):
            p = _sigmoid(theta[i])
            gradient[i] = won[i] - 2 * prior * p
            hessian[i][i] = 2 * prior * p * (1 - p)
        for i, j, count in games:
            p = _sigmoid(theta[i] - theta[j])
            gradient[i] -= count * p
            gradient[j] -= count * (1 - p)
            w = count * p * (1 - p)
            hessian[i][i] += w
            hessian[j][j] += w
            hessian[i][j] -= w
            hessian[j][i] -= w
        if all(abs(g) <= _EQUATIONS * n_i for g, n_i in zip(gradient, played, strict=True)):
            break
        step = _solve(hessian, gradient)
        if max(map(abs, step), default=0.0) <= _STEP:
            theta = [t + s for t, s in zip(theta, step, strict=True)]
            break
        # Backtrack until the likelihood does not fall (a rounding-sized slack near the top).
        slope = sum(g * s for g, s in zip(gradient, step, strict=True))
        scale, slack = 1.0, 1e-12 * (1.0 + abs(current))
        while True:
            trial = [t + scale * s for t, s in zip(theta, step, strict=True)]
            value = log_likelihood(trial)
            if value >= current + 1e-4 * scale * slope - slack or scale < 1e-12:
                break
            scale /= 2
        theta, current = trial, value
    else:  # pragma: no cover
        raise RuntimeError("Bradley–Terry did not converge")
    return {item: math.exp(theta[i]) for item, i in index.items()}


def bradley_terry(
    items: Sequence[int], wins: Iterable[Pair], ties: Iterable[Pair] = (), prior: float = 0.5
) -> list[Placement]:
    """Bradley–Terry placements. Score: the strengths scaled to sum to 1 (each line's estimated
    share of preference). Ranked by strength; two lines tie when their strengths differ by
    less than a relative BT_TIE (compared as logarithms, so a tie means the same thing at the
    top and at the bottom of a long list)."""
    strength = bradley_terry_strengths(items, wins, ties, prior)
    total = sum(strength.values())
    ranked = placements(items, [math.log(strength[item]) for item in items], tolerance=BT_TIE)
    return [replace(p, score=strength[p.item] / total) for p in ranked]


def among(fitted: list[Placement]) -> list[Placement]:
    """Some lines of a fit, ranked among themselves: ties as in ``bradley_terry``, the scores
    scaled to sum to 1 over these lines."""
    total = sum(p.score for p in fitted)
    ranked = placements([p.item for p in fitted], [math.log(p.score) for p in fitted], tolerance=BT_TIE)
    share = {p.item: p.score / total for p in fitted}
    return [replace(p, score=share[p.item]) for p in ranked]


def next_pair(
    items: Sequence[int],
    wins: Iterable[Pair],
    ties: Iterable[Pair],
    asked: set[frozenset[int]],
    fitted: list[Placement] | None = None,
) -> Pair | None:
    """The next pair to show a participant in pairwise mode, chosen to settle the top first.

    Heuristic: fit Bradley–Terry on the answers so far (this participant's and the room's; or
    take ``fitted``, the same fit already made) and order the items by strength (ties by id).
    Take the first pair of neighbours in that order, from the top down, not yet asked of this
    participant; once every neighbouring pair was asked, the unasked pair whose lower item sits
    highest, closest strengths first. Returns (upper, lower), None when every pair was asked
    (the caller caps how many it asks). Deterministic: the UI may swap sides at random.
    """
    if fitted is None:
        fitted = bradley_terry(items, wins, ties)
    order = [p.item for p in fitted]
    for upper, lower in itertools.pairwise(order):
        if frozenset((upper, lower)) not in asked:
            return upper, lower
    log_strength = [math.log(p.score) for p in fitted]
    candidates = [
        (j, abs(log_strength[i] - log_strength[j]), i)
        for j in range(len(order))
        for i in range(j)
        if frozenset((order[i], order[j])) not in asked
    ]
    if not candidates:
        return None
    j, _, i = min(candidates)
    return order[i], order[j]
