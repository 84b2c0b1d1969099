"""The chain's library: competitive gaps and action lines with a stable identity.

Workshops draw their items from here, so results can be followed across workshops. An
item that an activity uses is archived (hidden from new activities), never deleted.
Gaps and action lines share these use cases; ``LibraryKind`` says which table.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, SQLModel, select

from server.db import current, lock
from server.errors import Conflict, Invalid, NotFound, clean_id, clean_text
from server.i18n import N_, Message
from server.models import ActionLine, ActivityItem, Gap, ValueChain, WorkArea
from server.ordering import moved, renumber
from server.valuechains.service import split_lines

MAX_ITEMS = 200


@dataclass(frozen=True)
class LibraryKind:
    slug: str  # in URLs
    model: type[SQLModel]
    item_column: str  # ActivityItem column pointing at it


GAPS = LibraryKind("gaps", Gap, "gap_id")
ACTION_LINES = LibraryKind("action-lines", ActionLine, "action_line_id")
KINDS = {k.slug: k for k in (GAPS, ACTION_LINES)}


def kind_named(slug: str) -> LibraryKind:
    try:
        return KINDS[slug]
    except KeyError:
        raise NotFound() from None


def items_of(session: Session, chain: ValueChain, kind: LibraryKind, *, archived: bool | None = None):
    model = kind.model
    query = select(model).where(model.value_chain_id == chain.id).execution_options(populate_existing=True)
    if archived is not None:
        query = query.where(model.archived == archived)
    return list(session.exec(query.order_by(model.position, model.id)))


def access_item(session: Session, chain: ValueChain, kind: LibraryKind, item_id: int):
    item = session.get(kind.model, item_id)
    if item is None or item.value_chain_id != chain.id:
        raise NotFound()
    return item


def _still(session: Session, chain: ValueChain, item):
    """Lock the chain's library; the item as it is now, unless removed meanwhile."""
    lock(session, chain)
    now = current(session, item)
    if now is None:
        raise Conflict()
    return now


def work_areas(session: Session) -> list[WorkArea]:
    return list(session.exec(select(WorkArea).order_by(WorkArea.position, WorkArea.id)))


def check_item(session: Session, chain: ValueChain, kind: LibraryKind, data: dict, *, item=None) -> dict:
    errors: dict = {}
    clean: dict = {
        "title": clean_text(data, "title", errors, max_length=300),
        "description": clean_text(data, "description", errors, required=False, max_length=4000),
    }
    if "title" not in errors:
        model = kind.model
        query = select(model.id).where(model.value_chain_id == chain.id, model.title == clean["title"])
        other = session.exec(query).first()
        if other is not None and (item is None or other != item.id):
            errors["title"] = Message(N_("The library already has an item with this title."))
    if kind is GAPS:
        mechanisms = split_lines(str(data.get("mechanisms") or ""))
        if len(mechanisms) > 20 or any(len(m) > 200 for m in mechanisms):
            errors["mechanisms"] = Message(N_("Up to 20 mechanisms of at most 200 characters each."))
        clean["mechanisms"] = mechanisms
    else:
        area_id = clean_id(data, "work_area_id", errors, required=False)
        if area_id is not None and session.get(WorkArea, area_id) is None:
            errors["work_area_id"] = Message(N_("Choose one of the options."))
        clean["work_area_id"] = area_id
    if errors:
        raise Invalid(errors)
    return clean


def do_add_item(session: Session, chain: ValueChain, kind: LibraryKind, data: dict):
    lock(session, chain)
    clean = check_item(session, chain, kind, data)
    existing = items_of(session, chain, kind)
    if len(existing) >= MAX_ITEMS:
        raise Invalid({"title": Message(N_("A library holds at most %(n)s items."), n=MAX_ITEMS)})
    item = kind.model(value_chain_id=chain.id, position=len(existing), **clean)
    session.add(item)
    session.flush()
    return item


def do_update_item(session: Session, chain: ValueChain, kind: LibraryKind, item, data: dict):
    item = _still(session, chain, item)
    clean = check_item(session, chain, kind, data, item=item)
    for field, value in clean.items():
        setattr(item, field, value)
    session.add(item)
    session.flush()
    return item


def do_move_item(session: Session, chain: ValueChain, kind: LibraryKind, item, delta: int) -> None:
    item = _still(session, chain, item)
    order = moved(items_of(session, chain, kind), item.id, delta)
    renumber(order)
    session.add_all(order)
    session.flush()


def item_in_use(session: Session, kind: LibraryKind, item) -> bool:
    column = getattr(ActivityItem, kind.item_column)
    return session.exec(select(ActivityItem.id).where(column == item.id).limit(1)).first() is not None


def do_remove_item(session: Session, chain: ValueChain, kind: LibraryKind, item) -> str:
    """Delete an unused item; archive one that workshops used. Returns what was done."""
    item = _still(session, chain, item)
    if item_in_use(session, kind, item):
        item.archived = True
        session.add(item)
        session.flush()
        return "archived"
    session.delete(item)
    session.flush()
    renumber(items_of(session, chain, kind))
    session.flush()
    return "deleted"


def do_restore_item(session: Session, chain: ValueChain, item) -> None:
    item = _still(session, chain, item)
    item.archived = False
    session.add(item)
    session.flush()
