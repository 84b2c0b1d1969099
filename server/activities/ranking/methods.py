"""Ranking methods for the action-line ranking activity.

A ballot is a tuple of item (action line) ids, most preferred first. It may be partial: the items
it leaves out tie below every listed one. With n items and a ballot listing k of them:

* position: a listed item's position is p (1-based); the n - k unlisted items share the positions
  k+1 .. n, each getting their average (k + 1 + n) / 2 ("averaged" ties, as in fractional ranking);
* Borda points: n - p for a listed item, (n - k - 1) / 2 for each unlisted one, i.e. n minus the
  position, so every ballot hands out n(n-1)/2 points in total;
* pairwise: a listed item is preferred to every item after it and to every unlisted item; two
  unlisted items express no preference.

Every method returns placements sorted by rank, then item id. Ranks are competition ranks
(1, 2, 2, 4). Pure: stdlib only, no I/O. A ballot naming an unknown item, or one item twice,
raises ValueError.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

Ballot = tuple[int, ...]


@dataclass(frozen=True)
class Placement:
    item: int
    score: float  # higher is better; its meaning depends on the method
    rank: int  # 1-based competition rank: tied items share it (1, 2, 2, 4)
    tied: bool  # shares its rank with another item


# --- shared plumbing -----------------------------------------------------------------------


def _index(items: Sequence[int]) -> dict[int, int]:
    index = {item: i for i, item in enumerate(items)}
    if len(index) != len(items):
        raise ValueError("items must be distinct")
    return index


def _prepare(items: Sequence[int], ballots: Iterable[Sequence[int]]) -> tuple[dict[int, int], list[Ballot]]:
    """Index the items and check the ballots (the checks run in C: ballots can be many)."""
    index = _index(items)
    checked = list(map(tuple, ballots))
    if list(map(len, map(set, checked))) != list(map(len, checked)):
        raise ValueError("a ballot lists an item twice")
    unknown = set().union(*checked) - index.keys()
    if unknown:
        raise ValueError(f"ballots name unknown items {sorted(unknown)}")
    return index, checked


def placements(items: Sequence[int], scores: Sequence[float], tolerance: float = 0.0) -> list[Placement]:
    """Placements from one score per item (higher is better), sorted by rank then id: competition
    ranks, scores within `tolerance` of the first item of their group tie."""
    order = sorted(range(len(items)), key=lambda i: (-scores[i], items[i]))
    ranks = [0] * len(items)
    lead = rank = 0
    for position, i in enumerate(order):
        if position == 0 or scores[lead] - scores[i] > tolerance:
            lead, rank = i, position + 1
        ranks[i] = rank
    sizes = Counter(ranks)
    result = [Placement(items[i], float(scores[i]), ranks[i], sizes[ranks[i]] > 1) for i in range(len(items))]
    return sorted(result, key=lambda p: (p.rank, p.item))


def _doubled_rank_sums(index: dict[int, int], ballots: list[Ballot]) -> tuple[list[int], list[tuple[int, int]]]:
    """Twice each item's sum of (averaged) positions over the ballots, in integers, and the
    (length, count) of each ballot length.

    Counts how many ballots of each length put each item at each position (a position table,
    counted in C), then weights the table: far cheaper than walking every ballot in Python.
    """
    n = len(index)
    by_length: dict[int, list[Ballot]] = defaultdict(list)
    for ballot in ballots:
        by_length[len(ballot)].append(ballot)
    sums = [0] * n
    for k, group in by_length.items():
        unlisted = k + 1 + n  # twice the average of the positions k+1 .. n
        for p in range(1, k + 1):
            for item, count in Counter(map(itemgetter(p - 1), group)).items():
                sums[index[item]] += count * (2 * p - unlisted)
        for i in range(n):  # everyone starts unlisted; the loop above corrects the listed ones
            sums[i] += len(group) * unlisted
    return sums, [(k, len(group)) for k, group in by_length.items()]


def _pairwise(index: dict[int, int], ballots: list[Ballot]) -> list[list[int]]:
    """d[a][b]: the number of ballots preferring a to b, by matrix index.

    Each row is packed in one integer with a field of `width` bits per item (wide enough for the
    number of ballots, so fields never overflow into each other): a ballot then costs one
    big-integer addition per listed item, adding "everyone not yet listed" to that item's row.
    """
    n = len(index)
    width = max(1, len(ballots).bit_length())
    unit = [1 << (width * i) for i in range(n)]
    everyone = sum(unit)
    rows = [0] * n
    for ballot, count in Counter(ballots).items():
        below = everyone
        for item in ballot:
            i = index[item]
            below -= unit[i]
            rows[i] += count * below
    mask = (1 << width) - 1
    return [[(row >> (width * j)) & mask for j in range(n)] for row in rows]


def _strongest_paths(d: list[list[int]]) -> list[list[int]]:
    """Schulze's strongest path strengths: widest paths (Floyd–Warshall) over the pairwise
    defeats, a defeat's strength being its number of winning votes. O(n³)."""
    n = len(d)
    p = [[d[i][j] if d[i][j] > d[j][i] else 0 for j in range(n)] for i in range(n)]
    for k in range(n):
        via = p[k]
        for i in range(n):
            to_k = p[i][k]
            if i != k and to_k:  # paths i -> k -> j are as strong as their weaker half
                through_k = [to_k if onward > to_k else onward for onward in via]
                p[i] = list(map(max, p[i], through_k))
    return p


# --- methods on ballots --------------------------------------------------------------------


def borda(items: Sequence[int], ballots: Iterable[Ballot]) -> list[Placement]:
    """Borda count: on each ballot an action line gets one point for every action line ranked
    below it; lines left off a ballot share the points of the places left. Most points wins.

    Score: Borda points (n - p for position p; (n - k - 1) / 2 for each unlisted item).
    """
    index, ballots = _prepare(items, ballots)
    n, m = len(index), len(ballots)
    doubled_sums, _ = _doubled_rank_sums(index, ballots)
    return placements(items, [(2 * m * n - s) / 2 for s in doubled_sums])


def mean_rank(items: Sequence[int], ballots: Iterable[Ballot]) -> list[Placement]:
    """Average position: where participants placed the action line on average (1 = first);
    lines left off a ballot count as sharing the places left. Lowest average wins.

    Score: MINUS the mean position, so that higher is better (-1.0 = first on every ballot).
    With no ballots every item sits at -(n + 1) / 2.
    """
    index, ballots = _prepare(items, ballots)
    n, m = len(index), len(ballots)
    if not m:
        return placements(items, [-(n + 1) / 2] * n)
    doubled_sums, _ = _doubled_rank_sums(index, ballots)
    return placements(items, [-s / (2 * m) for s in doubled_sums])


def top_k_share(items: Sequence[int], ballots: Iterable[Ballot], k: int) -> list[Placement]:
    """Top-k share: the share of participants who put the action line among their first k.

    Score: that share, 0..1 (0 for every item with no ballots).
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    _, ballots = _prepare(items, ballots)
    hits: Counter[int] = Counter()
    for p in range(k):
        hits.update(ballot[p] for ballot in ballots if len(ballot) > p)
    m = len(ballots)
    return placements(items, [hits[item] / m if m else 0.0 for item in items])


def pairwise_from_ballots(items: Sequence[int], ballots: Iterable[Ballot]) -> dict[tuple[int, int], int]:
    """d[(a, b)]: how many ballots prefer a to b, for every ordered pair of distinct items."""
    index, ballots = _prepare(items, ballots)
    d = _pairwise(index, ballots)
    return {(a, b): d[i][j] for a, i in index.items() for b, j in index.items() if i != j}


def strongest_paths(items: Sequence[int], ballots: Iterable[Ballot]) -> dict[tuple[int, int], int]:
    """p[(a, b)]: Schulze's strength of the strongest path from a to b (0 when there is none)."""
    index, ballots = _prepare(items, ballots)
    p = _strongest_paths(_pairwise(index, ballots))
    return {(a, b): p[i][j] for a, i in index.items() for b, j in index.items() if i != j}


def schulze(items: Sequence[int], ballots: Iterable[Ballot]) -> list[Placement]:
    """Schulze method: every pair of action lines is compared by how many participants prefer
    one to the other; a line beats another when its chain of pairwise wins leading to it is
    stronger than any chain leading back (strongest paths, defeats weighed by winning votes).

    Ranked by that relation itself (Schulze 2011, section 4.1): the lines no other line beats
    share first place; they are set aside and the lines no remaining line beats come next, and
    so on. The relation is transitive, so every round finds at least one line. Lines of one
    round never beat each other and are marked tied.

    Score: the number of lines ranked below it.
    """
    index, ballots = _prepare(items, ballots)
    return _schulze(items, _pairwise(index, ballots))


def schulze_from_pairwise(items: Sequence[int], pairwise: Mapping[tuple[int, int], int]) -> list[Placement]:
    """Schulze from counts already kept: pairwise[(a, b)] ballots prefer a to b (missing = 0)."""
    _index(items)
    return _schulze(items, [[pairwise.get((a, b), 0) for b in items] for a in items])


def _schulze(items: Sequence[int], d: list[list[int]]) -> list[Placement]:
    p = _strongest_paths(d)
    left, below = set(range(len(items))), [0] * len(items)
    while left:
        unbeaten = {i for i in left if not any(p[j][i] > p[i][j] for j in left)}
        if not unbeaten:  # cannot happen: the relation is transitive (Schulze 2011, 4.1)
            raise RuntimeError("the Schulze relation has a cycle")
        left -= unbeaten
        for i in unbeaten:
            below[i] = len(left)
    return placements(items, below)


def kendall_w(items: Sequence[int], ballots: Iterable[Ballot]) -> float | None:
    """Kendall's W: how much participants agree, from 0 (no agreement) to 1 (everyone gave the
    same order). Lines left off a ballot count as tied, sharing the places left.

    W = 12 S / (m²(n³ - n) - m Σ T), S the sum of squared deviations of the rank sums from their
    mean m(n + 1)/2, T = t³ - t for the t items a ballot leaves unlisted (the tie correction).
    None with fewer than 2 ballots or items, or when every ballot is all ties.
    """
    index, ballots = _prepare(items, ballots)
    n, m = len(index), len(ballots)
    if m < 2 or n < 2:
        return None
    doubled_sums, lengths = _doubled_rank_sums(index, ballots)
    four_s = sum((s - m * (n + 1)) ** 2 for s in doubled_sums)
    ties = sum(count * ((n - k) ** 3 - (n - k)) for k, count in lengths)
    denominator = m * m * (n**3 - n) - m * ties
    return 3 * four_s / denominator if denominator else None


def stability(
    items: Sequence[int],
    ballots: Iterable[Ballot],
    method: Callable[[Sequence[int], list[Ballot]], list[Placement]],
    k: int,
    resamples: int = 200,
    seed: int = 0,
) -> dict[int, float]:
    """Stability: how sure the top k is. The ballots are redrawn at random (with replacement)
    many times and the ranking recomputed; the value is the share of redraws in which the action
    line still made the top k.

    Bootstrap with random.Random(seed), so the same input gives the same answer. The ballots are
    sorted first: the answer depends on the ballots, not on the order they were stored or
    arrived in. A line counts as in the top k when its (competition) rank is k or better, so
    lines tied at the k-th place all count. Each share is an estimate with a standard error of
    sqrt(share · (1 - share) / resamples), at most 0.5 / sqrt(resamples). For methods with extra
    arguments pass e.g. functools.partial(top_k_share, k=3).
    """
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    ballots = sorted(map(tuple, ballots))
    rng = random.Random(seed)
    hits = dict.fromkeys(items, 0)
    for _ in range(resamples):
        for placement in method(items, rng.choices(ballots, k=len(ballots))):
            if placement.rank <= k:
                hits[placement.item] += 1
    return {item: count / resamples for item, count in hits.items()}
