"""Use cases of the roadmap: editing an item's fields and list rows, restoring a revision,
locking an item, linking it to action lines and gaps.

Every function takes the session of the caller's transaction (the single writer's batch
for phones, the request's for a facilitator's form), only flushes, and returns an
outcome (``outcomes.py``): ``Applied``, ``Conflict``, ``Suggested`` or ``Done``. Bad input
raises ``Invalid`` (a translated message keyed by the field) before anything is written.

``who`` is an ``actors.Actor`` (``as_facilitator``) or ``AsParticipant(participant_id,
activity_id)``, resolved inside the write after the idempotency key is looked up: a
repeat is answered with the first outcome even after the activity closed.

The rule of an edit is ``merge.decide``; the database applies it with one conditional
UPDATE (``... SET title = :new, v_title = v_title + 1 WHERE id = :item AND v_title =
:base``): of several edits of one field from the same version exactly one matches a row,
on SQLite (one writer at a time) and on PostgreSQL (the row lock makes the others wait,
then re-read the row and find the version moved). An edit that loses reads the field
again and answers a ``Conflict``. Creating items and bringing them into an activity is
in ``items.py``; commitments, comments and +1 in ``social.py``; suggestions in
``suggestions.py``; reading in ``reading.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, false, func, insert, select, update
from sqlmodel import Session

from server.activities.receipts import refuse
from server.activities.roadmap import merge
from server.activities.roadmap.actors import (
    Actor,
    as_participant,
    check_facilitator,
    check_unlocked,
    item_row,
)
from server.activities.roadmap.fields import (
    ITEM_FIELDS,
    ROW_KINDS,
    clean_field,
    clean_row,
    clean_version,
    from_columns,
    to_columns,
)
from server.activities.roadmap.outcomes import Applied, Conflict, Done, Outcome, Who, claim, clean_key, earlier, record
from server.activities.values import an_id
from server.i18n import N_
from server.models import (
    ActionLine,
    Gap,
    RoadmapIndicator,
    RoadmapItem,
    RoadmapItemActionLine,
    RoadmapItemGap,
    RoadmapMilestone,
    RoadmapPartner,
    RoadmapPhase,
    RoadmapRevision,
    utcnow,
)
from server.statements import insert_ignore

ROW_MODELS = {"partner": RoadmapPartner, "milestone": RoadmapMilestone, "indicator": RoadmapIndicator}
MAX_ROWS = 100  # of each kind per item
_ITEM = RoadmapItem.__table__
_REVISION = RoadmapRevision.__table__


@dataclass(frozen=True)
class AsParticipant:
    """A phone's write in a roadmap activity, checked when the write runs."""

    participant_id: int
    activity_id: Any
    user_id: None = None


Who_ = Actor | AsParticipant


def resolve(session: Session, who: Who_) -> Actor:
    if isinstance(who, AsParticipant):
        return as_participant(session, who.participant_id, who.activity_id)
    return who


def keyed(
    session: Session, who: Who_, key, check: Callable[[Actor], Any], write: Callable[[Actor, Any], Outcome]
) -> Outcome:
    """The frame of every write: a repeat answers the first outcome; the actor and the
    input are checked (``check``, which raises ``Invalid``), the key is claimed, the write
    made (``write``), and its outcome kept with the key.

    A phone's write claims its key first: it runs in a savepoint of the writer's batch,
    which a refusal rolls back with the claim. A facilitator's form runs in the request's
    transaction, which a refusal does not roll back (the page shows it): its actor and
    input are checked before anything is written."""
    key = clean_key(key, required=who.participant_id is not None)
    if who.participant_id is not None:  # one statement fewer than looking the key up first
        claimed = claim(session, who.participant_id, None, key)
        if claimed.earlier is not None:
            return claimed.earlier
        actor = resolve(session, who)
        return record(session, claimed, write(actor, check(actor)))
    found = earlier(session, who.participant_id, who.user_id, key)
    if found is not None:
        return found
    actor = resolve(session, who)
    prepared = check(actor)
    claimed = claim(session, actor.participant_id, actor.user_id, key)
    if claimed.earlier is not None:
        return claimed.earlier
    return record(session, claimed, write(actor, prepared))


def phase_keys(session: Session) -> set[str]:
    return set(session.execute(select(RoadmapPhase.key).where(RoadmapPhase.active)).scalars())


# Slots as they are stored ---------------------------------------------------------


def row_value(kind: str, row) -> dict | None:
    """A list row's value (JSON), None when removed."""
    if row is None or row.removed:
        return None
    if kind == "partner":
        return {"organization": row.organization}
    if kind == "milestone":
        return {"text": row.text, "date": row.target_date.isoformat() if row.target_date else None}
    return {"name": row.name, "baseline": row.baseline, "target": row.target, "unit": row.unit}


def row_columns(kind: str, value: dict | None) -> dict:
    if value is None:
        return {"removed": True}
    if kind == "milestone":
        date = dt.date.fromisoformat(value["date"]) if value.get("date") else None
        return {"text": value["text"], "target_date": date, "removed": False}
    return {**value, "removed": False}


def last_change(session: Session, item_id: int, field: str, row_id: int | None) -> Who:
    """Who made the slot's current version (nobody yet: an empty ``Who``)."""
    query = select(
        RoadmapRevision.participant_id, RoadmapRevision.user_id, RoadmapRevision.author, RoadmapRevision.created_at
    ).where(RoadmapRevision.item_id == item_id, RoadmapRevision.field.in_((field, "item")))
    if row_id is not None:
        query = query.where(RoadmapRevision.row_id == row_id)
    found = session.execute(query.order_by(RoadmapRevision.id.desc()).limit(1)).first()
    if found is None:
        return Who()
    return Who(found.participant_id, found.user_id, found.author, found.created_at.isoformat())


def read_slot(session: Session, item_id: int, slot: str) -> merge.Slot:
    """The slot's value and version as committed now (never a row cached in the session)."""
    name, row_id = merge.parse_slot(slot)
    if row_id is None:
        columns = [_ITEM.c[c] for c in to_columns(name, None)] + [_ITEM.c[f"v_{name}"]]  # the field's alone
        row = session.execute(select(*columns).where(_ITEM.c.id == item_id)).mappings().first()
        return merge.Slot(from_columns(name, row), row[f"v_{name}"])
    model = ROW_MODELS[name]
    row = session.get(model, row_id, populate_existing=True)
    if row is None or row.item_id != item_id:
        return merge.ABSENT
    return merge.Slot(row_value(name, row), row.version)


def add_revision(session: Session, actor: Actor, item_id: int, slot: str, revision: merge.Revision) -> int:
    name, row_id = merge.parse_slot(slot)
    # One INSERT ... RETURNING rather than a model through the session's flush: this runs
    # for every edit of a busy room, in the writer every phone's write waits for.
    values = {
        "item_id": item_id,
        "field": name,
        "row_id": row_id,
        "change": revision.change,
        "old": revision.old,
        "new": revision.new,
        "version": revision.version,
        "restored_from": revision.restored_from,
        "workshop_id": actor.workshop_id,
        "created_at": utcnow(),
        **actor.who(),
    }
    return session.connection().execute(insert(_REVISION).values(values).returning(_REVISION.c.id)).scalar_one()


# Applying an edit -------------------------------------------------------------------


def _conflict(session: Session, item_id: int, edit: merge.Edit, current: merge.Slot) -> Conflict:
    name, row_id = merge.parse_slot(edit.slot)
    by = last_change(session, item_id, name, row_id)
    return Conflict(item_id, edit.slot, edit.value, current.value, current.version, by)


def apply_edit(session: Session, actor: Actor, item_id: int, edit: merge.Edit) -> Applied | Conflict:
    """Apply ``edit`` (a field or an existing row) if its slot is still at ``edit.base``."""
    current = read_slot(session, item_id, edit.slot)
    decision = merge.decide({edit.slot: current}, edit)
    if isinstance(decision, merge.Conflict):
        return _conflict(session, item_id, edit, current)
    if decision.revision is None:
        return Applied(item_id, edit.slot, current.value, current.version)
    name, row_id = merge.parse_slot(edit.slot)
    if row_id is None:
        version = _ITEM.c[f"v_{name}"]
        statement = update(_ITEM).where(_ITEM.c.id == item_id, version == edit.base)
        if not actor.facilitator:
            statement = statement.where(_ITEM.c.locked == false())
        statement = statement.values(**to_columns(name, edit.value), **{version.key: version + 1}, updated_at=utcnow())
    else:
        table = ROW_MODELS[name].__table__
        statement = (
            update(table)
            .where(table.c.id == row_id, table.c.item_id == item_id, table.c.version == edit.base)
            .values(**row_columns(name, edit.value), version=table.c.version + 1)
        )
    done = session.connection().execute(statement, execution_options={"preserve_rowcount": True})
    if done.rowcount != 1:  # another edit got there first (or the item was locked meanwhile)
        now = read_slot(session, item_id, edit.slot)
        if now.version == edit.base:
            raise refuse(N_("The facilitator has locked this item; nothing was changed."))
        return _conflict(session, item_id, edit, now)
    revision_id = add_revision(session, actor, item_id, edit.slot, decision.revision)
    return Applied(item_id, edit.slot, edit.value, decision.revision.version, revision_id)


def _suggest_or_apply(session: Session, actor: Actor, item_id: int, edit: merge.Edit) -> Outcome:
    if actor.suggest:
        from server.activities.roadmap.suggestions import suggest

        return suggest(session, actor, item_id, edit)
    return apply_edit(session, actor, item_id, edit)


def edit_field(session: Session, who: Who_, item_id, field: str, base, value, key=None) -> Outcome:
    """Set one of the item's fields (``fields.ITEM_FIELDS``) from the version ``base``."""

    def check(actor: Actor):
        if field not in ITEM_FIELDS:
            raise refuse(N_("This field does not exist."))
        item = item_row(session, actor, item_id)
        check_unlocked(actor, item)
        version = clean_version(base)
        phases = phase_keys(session) if field == "phase" else set()  # a query only where it counts
        return item.id, merge.Edit(field, version, clean_field(field, value, phases))

    return keyed(session, who, key, check, lambda actor, p: _suggest_or_apply(session, actor, *p))


def _row_kind(kind: str) -> None:
    if kind not in ROW_KINDS:
        raise refuse(N_("This field does not exist."))


def add_row(session: Session, who: Who_, item_id, kind: str, value, key=None) -> Outcome:
    """Add a partner, milestone or indicator (a row of its own: adds never conflict)."""

    def check(actor: Actor):
        _row_kind(kind)
        item = item_row(session, actor, item_id)
        check_unlocked(actor, item)
        clean = clean_row(kind, value)
        model = ROW_MODELS[kind]
        count = session.execute(
            select(func.count()).select_from(model).where(model.item_id == item.id, model.removed == false())
        ).scalar_one()
        if count >= MAX_ROWS:
            raise refuse(N_("An item holds at most %(n)s rows of each list."), n=MAX_ROWS)
        return item.id, clean

    def write(actor: Actor, prepared) -> Outcome:
        item_id, clean = prepared
        if actor.suggest:
            return _suggest_or_apply(session, actor, item_id, merge.Edit(f"{kind}:0", 0, clean))
        return insert_row(session, actor, item_id, kind, clean)

    return keyed(session, who, key, check, write)


def insert_row(session: Session, actor: Actor, item_id: int, kind: str, clean: dict) -> Applied:
    row = ROW_MODELS[kind](item_id=item_id, **row_columns(kind, clean))
    session.add(row)
    session.flush()
    slot = merge.row_slot(kind, row.id)
    revision = merge.Revision(slot, None, clean, 1, merge.ADD)
    return Applied(item_id, slot, clean, 1, add_revision(session, actor, item_id, slot, revision))


def edit_row(session: Session, who: Who_, item_id, kind: str, row_id, base, value, key=None) -> Outcome:
    """Change a row from the version ``base``; ``value`` None removes it (``remove_row``)."""

    def check(actor: Actor):
        _row_kind(kind)
        item = item_row(session, actor, item_id)
        check_unlocked(actor, item)
        row = an_id(row_id)
        found = session.get(ROW_MODELS[kind], row) if row is not None else None
        if found is None or found.item_id != item.id:
            raise refuse(N_("This row does not exist."))
        clean = None if value is None else clean_row(kind, value)
        return item.id, merge.Edit(merge.row_slot(kind, row), clean_version(base), clean)

    return keyed(session, who, key, check, lambda actor, p: _suggest_or_apply(session, actor, *p))


def remove_row(session: Session, who: Who_, item_id, kind: str, row_id, base, key=None) -> Outcome:
    return edit_row(session, who, item_id, kind, row_id, base, None, key)


# Facilitator's tools ----------------------------------------------------------------


def restore(session: Session, who: Actor, revision_id, key=None) -> Outcome:
    """Set a field or row back to the value a revision made: a new revision (from the
    slot's current version; a ``Conflict`` only if it moves while this runs)."""

    def check(actor: Actor):
        check_facilitator(actor)
        found = session.get(RoadmapRevision, an_id(revision_id)) if an_id(revision_id) is not None else None
        if found is None:
            raise refuse(N_("This change does not exist."))
        item = item_row(session, actor, found.item_id)
        if found.field not in ITEM_FIELDS and found.field not in ROW_KINDS:
            raise refuse(N_("This change cannot be restored."))
        slot = found.field if found.row_id is None else merge.row_slot(found.field, found.row_id)
        current = read_slot(session, item.id, slot)
        revision = merge.Revision(slot, found.old, found.new, found.version, found.change, id=found.id)
        return item.id, merge.restore({slot: current}, revision)

    return keyed(session, who, key, check, lambda actor, p: apply_edit(session, actor, *p))


def set_locked(session: Session, who: Actor, item_id, locked: bool, key=None) -> Outcome:
    """Lock an item (participants can no longer change its fields and rows) or unlock it."""

    def check(actor: Actor):
        check_facilitator(actor)
        return item_row(session, actor, item_id)

    def write(actor: Actor, item) -> Outcome:
        if item.locked != bool(locked):
            session.connection().execute(update(_ITEM).where(_ITEM.c.id == item.id).values(locked=bool(locked)))
            slot = "locked"
            revision = merge.Revision(slot, item.locked, bool(locked), 0, "lock")
            add_revision(session, actor, item.id, slot, revision)
            cached = session.identity_map.get(session.identity_key(RoadmapItem, item.id))
            if cached is not None:  # a model read earlier in this transaction: read again when used
                session.expire(cached)
        return Done(item.id, "lock", item.id, bool(locked))

    return keyed(session, who, key, check, write)


LINKS = {"action_line": (ActionLine, RoadmapItemActionLine), "gap": (Gap, RoadmapItemGap)}


def set_link(session: Session, who: Who_, item_id, target: str, target_id, linked: bool, key=None) -> Outcome:
    """Link the item to an action line or a gap of its chain (``target``), or unlink it.
    Links are a set: two people linking at once both succeed."""

    def check(actor: Actor):
        if target not in LINKS:
            raise refuse(N_("This field does not exist."))
        item = item_row(session, actor, item_id)
        check_unlocked(actor, item)
        model = LINKS[target][0]
        found = session.get(model, an_id(target_id)) if an_id(target_id) is not None else None
        if found is None or found.value_chain_id != item.value_chain_id:
            raise refuse(N_("Choose items from the chain's library."))
        return item.id, found.id

    def write(actor: Actor, prepared) -> Outcome:
        item, other = prepared
        link = LINKS[target][1]
        column = "action_line_id" if target == "action_line" else "gap_id"
        if linked:
            changed = insert_ignore(session, link, {"item_id": item, column: other})
        else:
            gone = session.connection().execute(
                delete(link.__table__).where(link.item_id == item, getattr(link, column) == other),
                execution_options={"preserve_rowcount": True},
            )
            changed = gone.rowcount == 1
        if changed:
            old, new = (None, True) if linked else (True, None)
            change = "link" if linked else "unlink"
            add_revision(session, actor, item, f"{target}:{other}", merge.Revision("", old, new, 0, change))
        return Done(item, "link", other, bool(linked))

    return keyed(session, who, key, check, write)
