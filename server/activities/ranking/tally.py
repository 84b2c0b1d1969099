"""The live tally of a ranking activity, moved ballot by ballot. Pure: no I/O.

Counting pairwise preferences from scratch costs ballots × items² (5,000 ballots over 40
lines: four million steps), too slow to redo a few times a second. So the tally keeps the
pairwise matrix and the per-line sums that Borda, mean rank, top-k share and Kendall's W
need, and moves them when a ballot changes: old ballot out, new ballot in (items² steps).
The methods themselves live in ``methods.py``; this module feeds them.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from server.activities.ranking import methods
from server.activities.ranking.pairwise import among, bradley_terry

Ballot = tuple[int, ...]
Group = int | None


def positions(items: Sequence[int], ballot: Ballot) -> dict[int, float]:
    """Each item's position (1-based); unlisted items share the mean of the positions left."""
    pos = {item: float(p) for p, item in enumerate(ballot, start=1)}
    rest = [i for i in items if i not in pos]
    if rest:
        shared = (len(ballot) + 1 + len(items)) / 2
        for item in rest:
            pos[item] = shared
    return pos


@dataclass
class _Sums:
    ballots: int = 0
    ties: int = 0  # Kendall's tie correction: the sum over ballots of u³ - u (u unlisted items)
    rank_sum: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    top: dict[int, int] = field(default_factory=lambda: defaultdict(int))


class RankingTally:
    """``k``: the k of "share in the top k" (the activity's, in every mode)."""

    def __init__(self, items: Sequence[int], k: int):
        self.items = list(items)
        self.k = k
        self.ballots: dict[int, Ballot] = {}
        self.group_of: dict[int, Group] = {}
        self.pairwise: dict[tuple[int, int], int] = defaultdict(int)
        self.sums = _Sums()
        self.group_sums: dict[Group, _Sums] = defaultdict(_Sums)
        self.wins: dict[int, list[tuple[int, int]]] = defaultdict(list)  # pairwise mode, per participant
        self.ties: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.version = 0
        self.stability_cache: tuple[int, int, dict[int, float]] | None = None
        self.stability_pending: tuple[int, int] | None = None
        self.fit_cache: tuple[int, list[methods.Placement]] | None = None

    # Moving -----------------------------------------------------------------------

    def apply_ballot(self, participant: int, group: Group, old: Ballot | None, new: Ballot | None) -> None:
        if old:
            self._count(old, group, -1)
        if new:
            self._count(new, group, +1)
            self.ballots[participant] = tuple(new)
            self.group_of[participant] = group
        else:
            self.ballots.pop(participant, None)
        self.version += 1

    def _count(self, ballot: Ballot, group: Group, sign: int) -> None:
        pos = positions(self.items, ballot)
        unlisted = len(self.items) - len(ballot)
        for sums in (self.sums, self.group_sums[group]):
            sums.ballots += sign
            sums.ties += sign * (unlisted**3 - unlisted)
            for item, p in pos.items():
                sums.rank_sum[item] += sign * p
            for item in ballot[: self.k]:
                sums.top[item] += sign
        for a in self.items:
            pa = pos[a]
            for b in self.items:
                if pa < pos[b]:
                    self.pairwise[(a, b)] += sign

    def apply_pair(self, participant: int, old: tuple | None, new: tuple | None) -> None:
        """Pairwise mode: ``old``/``new`` are (a, b, choice) with choice "a", "b" or "tie"."""
        for answer, sign in ((old, -1), (new, +1)):
            if answer is None:
                continue
            a, b, choice = answer
            bucket = self.ties if choice == "tie" else self.wins
            pair = (a, b) if choice in ("a", "tie") else (b, a)
            if sign > 0:
                bucket[participant].append(pair)
            else:
                bucket[participant].remove(pair)
        self.version += 1

    # Reading ----------------------------------------------------------------------

    def respondents(self) -> int:
        return len(self.ballots) + len(set(self.wins) | set(self.ties) - set(self.ballots))

    def mean_ranks(self, group: Group | object = ...) -> dict[int, float]:
        sums = self.sums if group is ... else self.group_sums.get(group, _Sums())
        if not sums.ballots:
            return {}
        return {item: sums.rank_sum[item] / sums.ballots for item in self.items}

    def kendall_w(self, min_answers: int = 2) -> float | None:
        """Agreement of the room, 0 (none) to 1 (everyone ranks alike), with ties corrected;
        None with fewer than ``min_answers`` (at least 2) ballots."""
        m, n = self.sums.ballots, len(self.items)
        if m < max(2, min_answers) or n < 2:
            return None
        mean = m * (n + 1) / 2
        s = sum((self.sums.rank_sum[i] - mean) ** 2 for i in self.items)
        denominator = m * m * (n**3 - n) - m * self.sums.ties
        return 12 * s / denominator if denominator else None

    def bradley_terry(self) -> list[methods.Placement]:
        """The room's Bradley–Terry fit of the pairwise answers, made once per change."""
        cached = self.fit_cache
        if cached is None or cached[0] != self.version:
            cached = self.fit_cache = (
                self.version,
                bradley_terry(self.items, list(self.all_wins()), list(self.all_ties())),
            )
        return cached[1]

    def pairwise_respondents(self) -> dict[int, int]:
        """For each line, how many participants compared it with another (pairwise mode)."""
        seen: dict[int, set[int]] = {item: set() for item in self.items}
        for answers in (self.wins, self.ties):
            for participant, pairs in answers.items():
                for a, b in pairs:
                    seen[a].add(participant)
                    seen[b].add(participant)
        return {item: len(participants) for item, participants in seen.items()}

    def all_wins(self) -> Iterable[tuple[int, int]]:
        for pairs in self.wins.values():
            yield from pairs

    def all_ties(self) -> Iterable[tuple[int, int]]:
        for pairs in self.ties.values():
            yield from pairs

    def snapshot(self) -> dict:
        """A plain, comparable picture (tests: live equals recount)."""
        return {
            "ballots": dict(sorted(self.ballots.items())),
            "pairwise": {k: v for k, v in sorted(self.pairwise.items()) if v},
            "wins": sorted(self.all_wins()),
            "ties": sorted(self.all_ties()),
        }

    @classmethod
    def recount(
        cls, items, k, ballots: Iterable[tuple[int, Group, Ballot]], pairs: Iterable[tuple[int, tuple]] = ()
    ) -> RankingTally:
        tally = cls(items, k)
        for participant, group, ballot in ballots:
            tally.apply_ballot(participant, group, None, ballot)
        for participant, answer in pairs:
            tally.apply_pair(participant, None, answer)
        return tally


def live_results(tally: RankingTally, min_answers: int = 1) -> dict[str, list[methods.Placement]]:
    """Every method's placements from the moved sums, cheap enough for each broadcast.

    No figure rests on fewer than ``min_answers`` answers: every ballot places every line
    (lines left out tie below), so the ballot methods need that many ballots; Bradley–Terry
    shows only the lines that many participants compared (see ``too_few_answers``), ranked
    among themselves, their shares scaled to sum to 1 over the lines shown.
    """
    items, n, m = tally.items, len(tally.items), tally.sums.ballots
    out: dict[str, list[methods.Placement]] = {}
    if m and m >= min_answers:
        rank_sum = tally.sums.rank_sum
        out["schulze"] = methods.schulze_from_pairwise(items, tally.pairwise)
        out["borda"] = methods.placements(items, [m * n - rank_sum[i] for i in items])
        out["mean_rank"] = methods.placements(items, [-rank_sum[i] / m for i in items], tolerance=1e-9)
        out["top_k"] = methods.placements(items, [tally.sums.top[i] / m for i in items], tolerance=1e-9)
    if any(tally.wins.values()) or any(tally.ties.values()):
        hidden = set(too_few_answers(tally, min_answers))
        shown = [p for p in tally.bradley_terry() if p.item not in hidden]
        if shown:
            out["bradley_terry"] = shown if not hidden else among(shown)
    return out


def too_few_answers(tally: RankingTally, min_answers: int) -> list[int]:
    """Lines left out of the Bradley–Terry results: compared by fewer than ``min_answers``
    participants (none, in a room without pairwise answers)."""
    if not (any(tally.wins.values()) or any(tally.ties.values())):
        return []
    return [item for item, count in tally.pairwise_respondents().items() if count < min_answers]


STABILITY_LIVE_BALLOTS = 400  # above this, the bootstrap waits until the activity closes


def stability(
    tally: RankingTally, k: int, *, closed: bool, resamples: int = 200, on_ready=None, min_answers: int = 1
) -> dict[int, float]:
    """Each line's share of bootstrap resamples of the ballots in which it stays in the top
    k (Borda); nothing with fewer than ``min_answers`` ballots. Costly on large rooms (seconds
    for 5,000 ballots): computed live only for small rooms, else once the activity closes;
    kept until a ballot changes. With ``on_ready``, a missing result is computed in a
    background thread (the broadcast does not wait) and ``on_ready()`` is called when it is
    there."""
    if len(tally.ballots) < max(1, min_answers) or (len(tally.ballots) > STABILITY_LIVE_BALLOTS and not closed):
        return {}
    cached = tally.stability_cache
    if cached and cached[:2] == (tally.version, k):
        return cached[2]
    version, ballots = tally.version, list(tally.ballots.values())

    def compute() -> dict[int, float]:
        result = methods.stability(tally.items, ballots, methods.borda, k, resamples=resamples)
        tally.stability_cache = (version, k, result)
        return result

    if on_ready is None or len(ballots) <= STABILITY_LIVE_BALLOTS:
        return compute()
    if tally.stability_pending != (version, k):
        tally.stability_pending = (version, k)
        threading.Thread(target=lambda: (compute(), on_ready()), name="minka-stability", daemon=True).start()
    return {}
