"""Action-line rankings across the workshops of a value chain. Pure: stdlib only, no I/O.

A ballot ranks the lines its activity offered; the lines it leaves out tie below the
ranked ones (a partial ranking, ``methods.py``); lines its activity did not offer get no
preference either way. ``summarize`` counts one workshop's ballots per participant
attribute (``dim``, ``part``): ballots, voters (distinct participants), per line the
ballots that offered it and that put it in their first ``TOP``, and per pair of lines
the ballots preferring one to the other. ``fold`` adds the workshops of a view up,
each workshop's ballots entering as ``chain_rules.enters`` allows (voters counted).

Two aggregations, side by side:

* **pooled ballots**: Schulze (winning votes) over the pairwise counts of every ballot
  of the view, as if all had voted in one room;
* **one vote per workshop**: each workshop's own Schulze order (of the lines it offered,
  ties kept) is one ballot; Schulze over those ballots. One large workshop cannot decide
  for the chain alone.

With one workshop both give the same order (a single weak-order ballot's Schulze order
is that order).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from server.activities.chain_rules import DIMS, NONE, Cut, shown_parts
from server.activities.ranking import methods

TOP = 3  # "put it in their first three": the common-ground rule and the top share

# A ballot as the summary reads it: (workshop, participant, group, segment, activity,
# offered lines, ranking).
Ballot = tuple[int, int, int | None, int | None, int, tuple[int, ...], tuple[int, ...]]
# What a view reads of the summary, for one dim: (workshop, part, measure, a, b, n).
Part = tuple[int, int, str, int, int, int]


def summarize(ballots: Iterable[Ballot]) -> dict[tuple[str, int, int, str, int, int], int]:
    """The summary of some workshops' ballots: n per (dim, workshop, part, measure, a, b)."""
    counts: Counter = Counter()
    voters: dict[tuple[str, int, int], set[int]] = defaultdict(set)
    rooms: dict[tuple, list[tuple[int, ...]]] = defaultdict(list)
    for workshop, participant, group, segment, _activity, offered, ranking in ballots:
        offered = tuple(offered)
        allowed = set(offered)
        ballot = tuple(i for i in ranking if i in allowed)
        rooms[(workshop, group or NONE, segment or NONE, offered)].append(ballot)
        for dim, part in zip(DIMS, (group or NONE, segment or NONE), strict=True):
            voters[(dim, workshop, part)].add(participant)
    for (workshop, group, segment, offered), room in rooms.items():
        index = {item: i for i, item in enumerate(offered)}
        d = methods._pairwise(index, room)
        tops = Counter(item for ballot in room for item in ballot[:TOP])
        for dim, part in zip(DIMS, (group, segment), strict=True):
            counts[(dim, workshop, part, "ballots", 0, 0)] += len(room)
            for a in offered:
                counts[(dim, workshop, part, "offered", a, 0)] += len(room)
                if tops[a]:
                    counts[(dim, workshop, part, "top", a, 0)] += tops[a]
            for a, i in index.items():
                for b, j in index.items():
                    if d[i][j]:
                        counts[(dim, workshop, part, "pair", a, b)] += d[i][j]
    for (dim, workshop, part), people in voters.items():
        counts[(dim, workshop, part, "voters", 0, 0)] += len(people)
    return dict(counts)


@dataclass
class Room:
    """Ballots added up: how many, per line offered and in the first TOP, per pair."""

    ballots: int = 0
    voters: int = 0
    offered: Counter = field(default_factory=Counter)
    top: Counter = field(default_factory=Counter)
    pair: Counter = field(default_factory=Counter)

    def add(self, measure: str, a: int, b: int, n: int) -> None:
        if measure == "ballots":
            self.ballots += n
        elif measure == "voters":
            self.voters += n
        elif measure == "offered":
            self.offered[a] += n
        elif measure == "top":
            self.top[a] += n
        elif measure == "pair":
            self.pair[(a, b)] += n

    @property
    def items(self) -> list[int]:
        return sorted(a for a, n in self.offered.items() if n)

    def top_share(self, item: int) -> float | None:
        return self.top[item] / self.offered[item] if self.offered[item] else None


@dataclass
class Folded:
    overall: Room = field(default_factory=Room)  # what the cut selects, entered workshops only
    workshops: dict[int, Room] = field(default_factory=lambda: defaultdict(Room))  # the same, per workshop
    parts: dict[int, Room] = field(
        default_factory=lambda: defaultdict(Room)
    )  # every part, by complementary suppression
    voters: int = 0  # people who ranked, in the cut (a count, always shown)


def fold(rows: Iterable[Part], ks: Mapping[int, int], cut: Cut = Cut()) -> Folded:
    rows = [r for r in rows if r[0] in ks]
    voters: dict[int, Counter] = defaultdict(Counter)
    for workshop, part, measure, _a, _b, n in rows:
        if measure == "voters":
            voters[workshop][part] += n
    shown = {w: shown_parts(by_part, ks[w]) for w, by_part in voters.items()}
    whole = {w: sum(by_part.values()) >= ks[w] for w, by_part in voters.items()}
    out = Folded()
    for workshop, part, measure, a, b, n in rows:
        selected = cut.dim is None or part == cut.part
        if measure == "voters" and selected:
            out.voters += n
        parts_in = shown.get(workshop, set())
        if part in parts_in:
            out.parts[part].add(measure, a, b, n)
        if selected and (part in parts_in if cut.dim else whole.get(workshop, False)):
            out.overall.add(measure, a, b, n)
            out.workshops[workshop].add(measure, a, b, n)
    return out


def pooled(room: Room, order: Sequence[int] | None = None) -> list[methods.Placement]:
    """Schulze over every ballot of the room (lines of ``order`` that some ballot offered)."""
    items = [i for i in (order or room.items) if room.offered[i]]
    return methods.schulze_from_pairwise(items, room.pair) if items else []


def workshop_vote(rooms: Mapping[int, Room], order: Sequence[int] | None = None) -> tuple[list[methods.Placement], int]:
    """Schulze over one ballot per workshop, each its own Schulze order (ties kept);
    and how many workshops voted."""
    d: Counter = Counter()
    offered: set[int] = set()
    voted = 0
    for room in rooms.values():
        if not room.ballots:
            continue
        voted += 1
        rank = {p.item: p.rank for p in pooled(room)}
        offered |= rank.keys()
        for a, ra in rank.items():
            for b, rb in rank.items():
                if ra < rb:
                    d[(a, b)] += 1
    items = [i for i in (order or sorted(offered)) if i in offered]
    return (methods.schulze_from_pairwise(items, d) if items else []), voted


@dataclass(frozen=True)
class ChainLine:
    item: int
    pooled_rank: int
    pooled_tied: bool
    workshop_rank: int | None
    workshop_tied: bool
    top_share: float | None  # share of the ballots offering it that put it in their first TOP
    offered: int  # ballots that offered it
    differs: bool  # the two aggregations place it differently


def chain_lines(folded: Folded, order: Sequence[int] | None = None) -> list[ChainLine]:
    """Every line some entered ballot offered, in pooled order, with its place by one
    vote per workshop beside it."""
    by_workshop = {p.item: p for p in workshop_vote(folded.workshops, order)[0]}
    out = []
    for p in pooled(folded.overall, order):
        w = by_workshop.get(p.item)
        out.append(
            ChainLine(
                p.item,
                p.rank,
                p.tied,
                w.rank if w else None,
                w.tied if w else False,
                folded.overall.top_share(p.item),
                folded.overall.offered[p.item],
                w is None or w.rank != p.rank,
            )
        )
    return out


def common_ground(parts: Mapping[int, Room]) -> list[tuple[int, float, int]]:
    """The lines every stakeholder group ranks high: (line, lowest group's top share, groups).

    A line is common ground when at least two stakeholder groups' ballots (each group
    entered, so at least k voters) offered it and in every such group at least half of the
    ballots that offered it put it in their first three. Participants without a group are
    no group. Most shared first."""
    shares: dict[int, list[float]] = defaultdict(list)
    for part, room in parts.items():
        if part == NONE:
            continue
        for item in room.items:
            share = room.top_share(item)
            if share is not None:
                shares[item].append(share)
    found = [(item, min(s), len(s)) for item, s in shares.items() if len(s) >= 2 and min(s) >= 0.5]
    return sorted(found, key=lambda f: (-f[1], f[0]))


def recount(ballots: Iterable[Ballot], ks: Mapping[int, int], cut: Cut) -> Folded:
    """From raw ballots to the folded counts of ``cut`` (the reference the tests use)."""
    summary = summarize(ballots)
    dim = cut.dim or "group"
    return fold([(w, p, m, a, b, n) for (d, w, p, m, a, b), n in summary.items() if d == dim], ks, cut)
