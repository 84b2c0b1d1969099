"""Ordered lists (segments, library items, agenda steps): pure helpers, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class Positioned(Protocol):
    id: int | None
    position: int


T = TypeVar("T", bound=Positioned)


def moved(items: Sequence[T], item_id: int, delta: int) -> list[T]:
    """The items in order with ``item_id`` moved ``delta`` places (clamped at the ends)."""
    order = sorted(items, key=lambda i: (i.position, i.id or 0))
    index = next((n for n, i in enumerate(order) if i.id == item_id), None)
    if index is None:
        return order
    target = max(0, min(len(order) - 1, index + delta))
    item = order.pop(index)
    order.insert(target, item)
    return order


def reordered(items: Sequence[T], ids: Sequence[int]) -> list[T] | None:
    """The items in the order of ``ids``, or None unless ``ids`` names each item once."""
    by_id = {i.id: i for i in items}
    if len(ids) != len(by_id) or set(ids) != set(by_id):
        return None
    return [by_id[i] for i in ids]


def renumber(order: Sequence[T]) -> None:
    for position, item in enumerate(order):
        item.position = position
