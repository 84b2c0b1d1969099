"""The roadmap across the workshops of a value chain. Pure: stdlib only, no I/O.

Roadmap items belong to the chain, and commitments are public (an organization commits
by name), so this part is not a count of anonymous answers: the items and the
organizations are shown as they are. What stays private is the stakeholder group (or
segment) of the participant who committed; every figure by group follows the rule of
``chain_rules.shown_parts``, workshop by workshop (docs/methods.md, "The roadmap").

``aggregate`` takes the chain's items and commitments (as the store reads them) and the
view (``View``: the workshops in it with their minimum, whether it holds every workshop
of the chain, the cut) and gives the section's plain data (docs/api.md).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from server.activities.chain_rules import GROUP, NONE, Cut, shown_parts

STATUSES = ("proposed", "agreed", "under_way", "done", "dropped")
HORIZONS = ("short", "medium", "long", "none")  # "none": no horizon given
FACILITATOR = "facilitator"  # recorded by a facilitator, naming no group


@dataclass(frozen=True)
class Item:
    id: int
    title: str
    status: str
    horizon: str | None
    position: int = 0
    workshops: frozenset[int] = frozenset()  # the workshops that brought it in or changed it


@dataclass(frozen=True)
class Commitment:
    id: int
    item: int
    organization: str
    role: str
    workshop: int | None  # the workshop of the activity it was made in; None: outside any
    participant: int | None  # who made it, or whom a facilitator recorded it for
    group: int | None = None  # that participant's stakeholder group
    segment: int | None = None  # and segment
    facilitator: bool = False  # a facilitator recorded it
    withdrawn: bool = False


@dataclass(frozen=True)
class View:
    """The workshops in view (id -> k), whether they are every workshop of the chain
    (then commitments made outside any workshop count too), the cut, and the minimum for
    commitments made outside any workshop."""

    ks: Mapping[int, int]
    whole: bool = True
    cut: Cut = field(default_factory=Cut)
    k: int = 5

    def room_k(self, room: int | None) -> int:
        return self.ks.get(room, self.k) if room is not None else self.k


def org_key(name: str) -> str:
    """One organization however it was typed: spaces and case do not matter."""
    return " ".join(name.split()).casefold()


def part_of(c: Commitment, dim: str) -> int | str:
    """The part a commitment counts under: the committing participant's group (or
    segment; 0 when none given), or ``FACILITATOR`` for one a facilitator recorded that
    names no group (no participant, or one without a group)."""
    if c.participant is None:
        return FACILITATOR
    value = c.group if dim == GROUP else c.segment
    if c.facilitator and value is None:
        return FACILITATOR
    return value if value is not None else NONE


def in_view(c: Commitment, view: View) -> bool:
    """Made in a workshop of the view; or outside any workshop, when the view holds them all."""
    return c.workshop in view.ks if c.workshop is not None else view.whole


def entered(commitments: Iterable[Commitment], dim: str, view: View) -> set[tuple[int | None, int]]:
    """The (workshop, part) pairs whose commitments may enter a figure by part: in each
    workshop, the parts ``shown_parts`` keeps from the number of distinct participants
    of each part who made these commitments (the workshop's minimum; complementary
    suppression within the workshop). Facilitators' own records are no part."""
    people: dict[int | None, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for c in commitments:
        part = part_of(c, dim)
        if part != FACILITATOR:
            people[c.workshop][part].add(c.participant)
    out = set()
    for room, parts in people.items():
        counts = {part: len(who) for part, who in parts.items()}
        out.update((room, part) for part in shown_parts(counts, view.room_k(room)))
    return out


def counted(commitments: Iterable[Commitment], view: View) -> list[Commitment]:
    """The commitments the view counts: those in view; under a cut, only the cut's part's,
    from the workshops where that part enters (active and withdrawn ones each by their
    own count of people)."""
    found = [c for c in commitments if in_view(c, view)]
    cut = view.cut
    if cut.dim is None:
        return found
    out = []
    for withdrawn in (False, True):
        same = [c for c in found if c.withdrawn == withdrawn]
        ok = entered(same, cut.dim, view)
        out += [c for c in same if part_of(c, cut.dim) == cut.part and (c.workshop, cut.part) in ok]
    return sorted(out, key=lambda c: c.id)


def _by_organization(commitments: Sequence[Commitment], order: Mapping[int, int]) -> list[dict]:
    orgs: dict[str, dict] = {}
    for c in commitments:
        o = orgs.setdefault(org_key(c.organization), {"organization": c.organization, "roles": Counter(), "items": {}})
        o["roles"][c.role] += 1
        o["items"].setdefault(c.item, [])
        if c.role not in o["items"][c.item]:
            o["items"][c.item].append(c.role)
    out = [
        {
            "organization": o["organization"],
            "commitments": sum(o["roles"].values()),
            "roles": dict(sorted(o["roles"].items())),
            "items": [
                {"item": i, "roles": sorted(roles)}
                for i, roles in sorted(o["items"].items(), key=lambda kv: order.get(kv[0], 0))
            ],
        }
        for o in orgs.values()
    ]
    return sorted(out, key=lambda o: (-o["commitments"], org_key(o["organization"])))


def _by_group(active: Sequence[Commitment], view: View) -> dict:
    ok = entered(active, GROUP, view)
    parts: dict[int, dict] = {}
    facilitator = held_back = 0
    for c in active:
        part = part_of(c, GROUP)
        if part == FACILITATOR:
            facilitator += 1
        elif (c.workshop, part) in ok:
            p = parts.setdefault(part, {"commitments": 0, "people": set()})
            p["commitments"] += 1
            p["people"].add(c.participant)
        else:
            held_back += 1
    return {
        "parts": {
            str(part): {"commitments": p["commitments"], "committers": len(p["people"])}
            for part, p in sorted(parts.items())
        },
        "facilitator": facilitator,
        "held_back": held_back,
    }


def aggregate(items: Sequence[Item], commitments: Iterable[Commitment], view: View) -> dict:
    """The roadmap's part of a chain's results for ``view`` (docs/api.md)."""
    chosen = counted(commitments, view)
    active = [c for c in chosen if not c.withdrawn]
    withdrawn = [c for c in chosen if c.withdrawn]
    with_commitments = {c.item for c in chosen}
    ordered = sorted(items, key=lambda i: (i.position, i.id))
    shown = [i for i in ordered if view.whole or i.workshops & set(view.ks) or i.id in with_commitments]
    order = {i.id: n for n, i in enumerate(ordered)}
    cells: dict[str, dict[str, list[int]]] = {s: {h: [] for h in HORIZONS} for s in STATUSES}
    for i in shown:
        row = cells.setdefault(i.status, {h: [] for h in HORIZONS})
        row[i.horizon if i.horizon in HORIZONS else "none"].append(i.id)
    committed = {c.item for c in active}
    known = {i.id for i in shown}
    active = [c for c in active if c.item in known]
    withdrawn = [c for c in withdrawn if c.item in known]
    return {
        "items": [{"id": i.id, "title": i.title, "status": i.status, "horizon": i.horizon} for i in shown],
        "statuses": list(cells),
        "horizons": list(HORIZONS),
        "matrix": {s: {h: len(ids) for h, ids in row.items()} for s, row in cells.items()},
        "cells": {s: {h: ids for h, ids in row.items() if ids} for s, row in cells.items()},
        "commitments": len(active),
        "withdrawn": len(withdrawn),
        "organizations": _by_organization(active, order),
        "withdrawn_by_organization": _by_organization(withdrawn, order),
        "by_group": _by_group(active, view) if view.cut.dim is None else None,
        "uncommitted": [i.id for i in shown if i.id not in committed],
    }
