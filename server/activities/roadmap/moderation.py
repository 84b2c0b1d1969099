"""The facilitator's controls of a roadmap activity (from the console, in the request's
transaction, after the route authorized the workshop and checked CSRF) and the page of an
item's history with a restore button per revision.

Controls (``POST .../live/activities/{id}/kind/<control>``): ``lock_item`` /
``unlock_item`` (``item``), ``lock`` / ``unlock`` (the whole activity), ``hide_comment`` /
``show_comment`` (``comment``), ``accept`` / ``reject`` (``suggestion``), ``restore``
(``revision``). A conflict (a suggestion or restore whose field moved meanwhile) is
refused with the current value named, nothing changed.
"""

from __future__ import annotations

from sqlmodel import Session

from server.activities.receipts import refuse
from server.activities.roadmap import items, reading, service, social, suggestions
from server.activities.roadmap.actors import Actor, as_facilitator
from server.activities.roadmap.fields import FIELD_LABELS
from server.activities.values import an_id
from server.errors import Invalid
from server.i18n import N_, Message
from server.models import Workshop

CONTROLS = (
    "lock_item",
    "unlock_item",
    "lock",
    "unlock",
    "hide_comment",
    "show_comment",
    "accept",
    "reject",
    "restore",
)


def chain_of(session: Session, activity) -> int:
    return session.get(Workshop, activity.workshop_id).value_chain_id


def facilitator(session: Session, user, chain_id: int, activity) -> Actor:
    return as_facilitator(session, user, chain_id, activity.id)


def _item_in(session: Session, activity, item_id) -> int:
    """An item the activity brought in (the console names no other)."""
    found = an_id(item_id)
    if found is None or found not in items.items_of_activity(session, activity.id):
        raise refuse(N_("This roadmap item does not exist."))
    return found


def control(session: Session, user, chain_id: int, activity, name: str, data: dict) -> int | None:
    """Run a control; the item it changed (None: the whole activity)."""
    actor = facilitator(session, user, chain_id, activity)
    if name in ("lock", "unlock"):
        items.lock_activity(session, actor, activity, name == "lock")
        return None
    if name in ("lock_item", "unlock_item"):
        return service.set_locked(
            session, actor, _item_in(session, activity, data.get("item")), name == "lock_item"
        ).item_id
    if name in ("hide_comment", "show_comment"):
        return social.hide_comment(session, actor, data.get("comment"), name == "hide_comment").item_id
    if name == "reject":
        return suggestions.reject(session, actor, data.get("suggestion")).item_id
    if name == "accept":
        outcome = suggestions.accept(session, actor, data.get("suggestion"))
    else:
        outcome = service.restore(session, actor, data.get("revision"))
    if outcome.kind == "conflict":
        raise Invalid({"__all__": Message(N_("This field changed meanwhile; nothing was changed. Look at it again."))})
    return outcome.item_id


def page(session: Session, chain_id: int, activity, name: str, query: dict):
    """The history of an item of the activity (``?item=``), newest first."""
    if name != "history":
        return None
    item_ids = items.items_of_activity(session, activity.id)
    views = reading.item_views(session, item_ids, hidden_comments=True)
    chosen = an_id(query.get("item"))
    if chosen not in item_ids:
        chosen = item_ids[0] if item_ids else None
    revisions = list(reversed(reading.history(session, chosen))) if chosen else []
    return (
        "activities/roadmap/history.html",
        {"items": views, "chosen": chosen, "revisions": revisions, "field_labels": FIELD_LABELS},
    )
