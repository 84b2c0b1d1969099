"""Action-line rankings across the workshops of a value chain. Pure: stdlib only, no I/O.

A ballot ranks the lines its activity offered; the lines it leaves out tie below the
ranked ones (a partial ranking, ``methods.py``); lines its activity did not offer get no
preference either way. ``summarize`` counts one workshop's ballots per participant
attribute (``dim``, ``part``; -1 the whole workshop): ballots, voters (distinct
participants), per line the ballots that offered it and that put it in their first
``TOP``, per pair of lines the ballots preferring one to the other, and the cell's own
Schulze order (kept, so one vote per workshop needs no Schulze per workshop at reading). ``fold`` adds the workshops of a view up,
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
from operator import add

from server.activities.chain_rules import DIMS, NONE, Cut, shown_parts
from server.activities.chain_rules import common_ground as rules_common_ground
from server.activities.ranking import methods

TOP = 3  # "put it in their first three": the common-ground rule and the top share

# A ballot as the summary reads it: (workshop, participant, group, segment, activity,
# offered lines, ranking).
Ballot = tuple[int, int, int | None, int | None, int, tuple[int, ...], tuple[int, ...]]
# A cell of the summary, for one dim: (workshop, part, data); part -1 is the whole
# workshop. ``data``: "lines" (the workshop's lines, in id order), "ballots", "voters"
# (distinct participants), "offered" and "top" (per line), "pair" (row-major: ballots
# preferring line i to line j) and "order" (the cell's own Schulze order: [line, rank, tied]).
Cell = tuple[int, int, dict]
WHOLE = -1


def _cell(lines: list[int], rooms: list[tuple[tuple[int, ...], list[tuple[int, ...]]]], voters: int) -> dict:
    """One cell's counts from its ballots, grouped by the lines their activity offered."""
    n = len(lines)
    at = {line: i for i, line in enumerate(lines)}
    offered, top, pair = [0] * n, [0] * n, [0] * (n * n)
    ballots = 0
    for offer, room in rooms:
        ballots += len(room)
        index = {item: i for i, item in enumerate(offer)}
        d = methods._pairwise(index, room)
        for item in offer:
            offered[at[item]] += len(room)
        for ballot in room:
            for item in ballot[:TOP]:
                top[at[item]] += 1
        for a, i in index.items():
            row = at[a] * n
            for b, j in index.items():
                if d[i][j]:
                    pair[row + at[b]] += d[i][j]
    data = {"lines": lines, "ballots": ballots, "voters": voters, "offered": offered, "top": top, "pair": pair}
    room = Room()
    room.add(data)
    data["order"] = [[p.item, p.rank, p.tied] for p in pooled(room)]
    return data


def summarize(ballots: Iterable[Ballot]) -> dict[tuple[str, int, int], dict]:
    """The summary of some workshops' ballots: per (dim, workshop, part) its cell's data;
    part -1 is the whole workshop."""
    rooms: dict[tuple[str, int, int], dict[tuple[int, ...], list]] = defaultdict(lambda: defaultdict(list))
    voters: dict[tuple[str, int, int], set[int]] = defaultdict(set)
    lines: dict[int, set[int]] = defaultdict(set)
    for workshop, participant, group, segment, _activity, offered, ranking in ballots:
        offered = tuple(offered)
        allowed = set(offered)
        ballot = tuple(i for i in ranking if i in allowed)
        lines[workshop] |= allowed
        for dim, part in ((d, p) for d in DIMS for p in (WHOLE,)):
            rooms[(dim, workshop, part)][offered].append(ballot)
            voters[(dim, workshop, part)].add(participant)
        for dim, part in zip(DIMS, (group or NONE, segment or NONE), strict=True):
            rooms[(dim, workshop, part)][offered].append(ballot)
            voters[(dim, workshop, part)].add(participant)
    return {
        key: _cell(sorted(lines[key[1]]), list(by_offer.items()), len(voters[key])) for key, by_offer in rooms.items()
    }


def cells_of_dim(summary: Mapping, dim: str) -> list[Cell]:
    return [(w, p, data) for (d, w, p), data in summary.items() if d == dim]


class Room:
    """Ballots added up, cell by cell: per set of lines, the counts per line and pair."""

    def __init__(self):
        self.ballots = self.voters = self.cells = 0
        self.blocks: dict[tuple[int, ...], list[list[int]]] = {}
        self.order: list | None = None  # the cell's own order, when the room is one cell
        self._counts: tuple[Counter, Counter, Counter] | None = None

    def add(self, data: dict) -> None:
        self.ballots += data["ballots"]
        self.voters += data["voters"]
        self.cells += 1
        self.order = data.get("order") if self.cells == 1 else None
        key = tuple(data["lines"])
        block = self.blocks.get(key)
        if block is None:
            self.blocks[key] = [list(data["offered"]), list(data["top"]), list(data["pair"])]
        else:
            for i, name in enumerate(("offered", "top", "pair")):
                block[i] = list(map(add, block[i], data[name]))
        self._counts = None

    def _count(self) -> tuple[Counter, Counter, Counter]:
        if self._counts is None:
            offered, top, pair = Counter(), Counter(), Counter()
            for lines, (o, t, p) in self.blocks.items():
                n = len(lines)
                for i, a in enumerate(lines):
                    offered[a] += o[i]
                    top[a] += t[i]
                    row = p[i * n : (i + 1) * n]
                    for j, b in enumerate(lines):
                        if row[j]:
                            pair[(a, b)] += row[j]
            self._counts = (+offered, +top, pair)
        return self._counts

    @property
    def offered(self) -> Counter:
        return self._count()[0]

    @property
    def top(self) -> Counter:
        return self._count()[1]

    @property
    def pair(self) -> Counter:
        return self._count()[2]

    @property
    def items(self) -> list[int]:
        return sorted(a for a, n in self.offered.items() if n)

    def top_share(self, item: int) -> float | None:
        offered = self.offered[item]
        return self.top[item] / offered if offered else None


@dataclass
class Folded:
    overall: Room = field(default_factory=Room)  # what the cut selects, entered workshops only
    workshops: dict[int, Room] = field(default_factory=dict)  # the same, per workshop
    parts: dict[int, Room] = field(
        default_factory=lambda: defaultdict(Room)
    )  # every part, by complementary suppression
    voters: int = 0  # people who ranked, in the cut (a count, always shown)


def fold(cells: Iterable[Cell], ks: Mapping[int, int], cut: Cut = Cut()) -> Folded:
    """Add up the cells of one dim for the workshops of ``ks``; a workshop's ballots enter
    as ``chain_rules.enters`` allows, its voters counted."""
    by_workshop: dict[int, dict[int, dict]] = defaultdict(dict)
    for workshop, part, data in cells:
        if workshop in ks:
            by_workshop[workshop][part] = data
    out = Folded()
    for workshop, parts in by_workshop.items():
        k = ks[workshop]
        whole = parts.pop(WHOLE, None)
        chosen = whole if cut.dim is None else parts.get(cut.part)
        shown = shown_parts({part: data["voters"] for part, data in parts.items()}, k)
        for part in shown:
            out.parts[part].add(parts[part])
        if chosen is None:
            continue
        out.voters += chosen["voters"]
        enter = cut.part in shown if cut.dim else chosen["voters"] >= k
        if enter:
            out.overall.add(chosen)
            room = out.workshops[workshop] = Room()
            room.add(chosen)
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
        if room.order is not None:
            rank = {item: r for item, r, _tied in room.order}
        else:
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


def chain_lines(folded: Folded, order: Sequence[int] | None = None) -> tuple[list[ChainLine], int]:
    """Every line some entered ballot offered, in pooled order, with its place by one
    vote per workshop beside it; and how many workshops voted."""
    vote, voted = workshop_vote(folded.workshops, order)
    by_workshop = {p.item: p for p in vote}
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
    return out, voted


def common_ground(parts: Mapping[int, Room]) -> list[tuple[int, float, int]]:
    """The lines every stakeholder group ranks high: (line, lowest group's top share, groups).

    A line is common ground when at least two stakeholder groups' ballots (each group
    entered, so at least k voters) offered it and in every such group at least half of the
    ballots that offered it put it in their first three (``chain_rules.common_ground``)."""
    return rules_common_ground({part: {i: room.top_share(i) for i in room.items} for part, room in parts.items()})


def recount(ballots: Iterable[Ballot], ks: Mapping[int, int], cut: Cut) -> Folded:
    """From raw ballots to the folded counts of ``cut`` (the reference the tests use)."""
    return fold(cells_of_dim(summarize(ballots), cut.dim or "group"), ks, cut)
