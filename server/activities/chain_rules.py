"""Rules every kind follows in the results across the workshops of a value chain.

Pure: stdlib only, no I/O. A chain's results add up the closed activities of its
workshops, each workshop's contribution counted apart ("summaries", per participant
attribute: stakeholder group or segment). These rules decide which contributions enter a
figure, so that no figure, and no difference of two figures, rests on fewer than k
participants (docs/methods.md, "Results across a chain").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

GROUP, SEGMENT = "group", "segment"
DIMS = (GROUP, SEGMENT)
NONE = 0  # the part of participants without a group (or segment)


@dataclass(frozen=True)
class Cut:
    """Which participants a view counts: everyone (``dim`` None), or those of one
    stakeholder group or one segment (``part``; 0 = none given)."""

    dim: str | None = None
    part: int = NONE

    def __post_init__(self):
        if self.dim not in (None, *DIMS):
            raise ValueError(f"unknown dimension {self.dim!r}")


@dataclass(frozen=True)
class ScopeWorkshop:
    id: int
    date: object  # a date: the order of the history
    title: str
    k: int  # the fewest answers behind a shown figure: the installation's, or the workshop's when higher


@dataclass(frozen=True)
class ChainScope:
    """What a kind is asked to count: the chain, its workshops in the view (date order),
    the cut, the installation's minimum and the language of the titles."""

    chain_id: int
    workshops: tuple[ScopeWorkshop, ...]
    cut: Cut = field(default_factory=Cut)
    k: int = 5
    locale: str = "en"

    @property
    def ks(self) -> dict[int, int]:
        return {w.id: w.k for w in self.workshops}

    @property
    def workshop_ids(self) -> list[int]:
        return [w.id for w in self.workshops]

    def dim(self) -> str:
        """The dimension of the summaries to read: the cut's, or groups (the page shows them)."""
        return self.cut.dim or GROUP


def shown_parts(counts: Mapping[int, int], k: int) -> set[int]:
    """The parts of one workshop (its stakeholder groups, or its segments) whose answers
    to one figure may enter a cut, from each part's number of answers.

    A part with fewer than k answers is held back; if the parts held back then hold
    between 1 and k - 1 answers together, the smallest part shown is held back too, and
    so on (complementary suppression): the workshop's total minus the parts shown is
    then 0 or at least k answers, so no subtraction isolates fewer than k people.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    shown = {p for p, n in counts.items() if n >= k}
    hidden = sum(n for p, n in counts.items() if p not in shown)
    while 0 < hidden < k and shown:
        smallest = min(shown, key=lambda p: (counts[p], p))
        shown.discard(smallest)
        hidden += counts[smallest]
    return shown


def enters(counts: Mapping[int, int], cut: Cut, k: int) -> bool:
    """Whether a workshop's answers to one figure enter the view ``cut``: everyone's
    when the workshop gave at least k; one part's when ``shown_parts`` keeps it."""
    if cut.dim is None:
        return sum(counts.values()) >= k
    return cut.part in shown_parts(counts, k)


def entered_parts(counts: Mapping[int, int], k: int) -> set[int]:
    """``shown_parts``, named for reading: the parts whose answers enter their cut."""
    return shown_parts(counts, k)


def common_ground(shares: Mapping, least: float = 0.5) -> list[tuple[int, float, int]]:
    """What every stakeholder group shares: items that at least two groups give a share
    (group -> item -> share, of answers rating a gap 4 or 5, or of ballots putting a line
    in their first places) and that every such group gives at least ``least``; as (item,
    lowest group's share, groups), the most shared first. Participants without a group
    (None or 0) are no group. The rule of docs/methods.md, per activity and per chain."""
    by_item: dict[int, list[float]] = {}
    for group, items in shares.items():
        if group in (None, NONE):
            continue
        for item, share in items.items():
            if share is not None:
                by_item.setdefault(item, []).append(share)
    found = [(item, min(s), len(s)) for item, s in by_item.items() if len(s) >= 2 and min(s) >= least]
    return sorted(found, key=lambda f: (-f[1], f[0]))


Z95 = 1.959963984540054


def mean_ci(distribution: Sequence[int], values: Sequence[int] = (1, 2, 3, 4, 5)) -> tuple[float, float] | None:
    """The mean and the half-width of its 95 % confidence interval (normal approximation,
    sample standard deviation) from counts per value; None without 2 answers."""
    n = sum(distribution)
    if n < 2:
        return None
    mean = sum(v * c for v, c in zip(values, distribution, strict=True)) / n
    var = sum(c * (v - mean) ** 2 for v, c in zip(values, distribution, strict=True)) / (n - 1)
    return mean, Z95 * math.sqrt(var / n)
