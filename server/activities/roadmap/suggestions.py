"""Suggestions: in an activity whose edit mode is "suggest", a participant's change of a
field or a row is kept as a proposal (shown on the field) until the facilitator accepts
it (applied as any edit, from the version the participant saw: a ``Conflict`` when the
field moved since) or rejects it. An accepted suggestion's revision names the participant
who made it and the facilitator who accepted it.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlmodel import Session

from server.activities.receipts import refuse
from server.activities.roadmap import merge
from server.activities.roadmap.actors import Actor, check_facilitator, item_row
from server.activities.roadmap.outcomes import Done, Outcome, Suggested
from server.activities.roadmap.service import apply_edit, insert_row, keyed
from server.activities.values import an_id
from server.i18n import N_
from server.models import RoadmapSuggestion, utcnow

PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"


def suggest(session: Session, actor: Actor, item_id: int, edit: merge.Edit) -> Suggested:
    """Keep a participant's edit as a suggestion (a new row: ``"milestone:0"``)."""
    row = RoadmapSuggestion(
        item_id=item_id,
        change={"slot": edit.slot, "base": edit.base, "value": edit.value},
        participant_id=actor.participant_id,
        author=actor.name[:200],
        activity_id=actor.activity_id,
    )
    session.add(row)
    session.flush()
    return Suggested(item_id, row.id, edit.slot, edit.value)


def pending(session: Session, item_id: int) -> list[RoadmapSuggestion]:
    return list(
        session.execute(
            select(RoadmapSuggestion)
            .where(RoadmapSuggestion.item_id == item_id, RoadmapSuggestion.status == PENDING)
            .order_by(RoadmapSuggestion.id)
        ).scalars()
    )


def _pending(session: Session, actor: Actor, suggestion_id) -> RoadmapSuggestion:
    check_facilitator(actor)
    found = session.get(RoadmapSuggestion, an_id(suggestion_id)) if an_id(suggestion_id) is not None else None
    if found is None:
        raise refuse(N_("This suggestion does not exist."))
    item_row(session, actor, found.item_id)
    if found.status != PENDING:
        raise refuse(N_("This suggestion has already been decided."))
    return found


def _decide(session: Session, actor: Actor, found: RoadmapSuggestion, status: str) -> None:
    found.status, found.decided_by, found.decided_at = status, actor.user_id, utcnow()
    session.add(found)
    session.flush()


def accept(session: Session, who: Actor, suggestion_id, key=None) -> Outcome:
    """Apply the suggestion: ``Applied`` (it is then accepted) or ``Conflict`` (it stays
    pending; the facilitator sees the current value)."""

    def write(actor: Actor, found: RoadmapSuggestion) -> Outcome:
        change = found.change
        on_behalf = replace(actor, participant_id=found.participant_id, name=found.author)
        kind, row_id = merge.parse_slot(change["slot"])
        if row_id == 0:
            outcome = insert_row(session, on_behalf, found.item_id, kind, change["value"])
        else:
            edit = merge.Edit(change["slot"], change["base"], change["value"])
            outcome = apply_edit(session, on_behalf, found.item_id, edit)
        if outcome.kind == "applied":
            _decide(session, actor, found, ACCEPTED)
        return outcome

    return keyed(session, who, key, lambda actor: _pending(session, actor, suggestion_id), write)


def reject(session: Session, who: Actor, suggestion_id, key=None) -> Outcome:
    def write(actor: Actor, found: RoadmapSuggestion) -> Outcome:
        _decide(session, actor, found, REJECTED)
        return Done(found.item_id, "rejected", found.id)

    return keyed(session, who, key, lambda actor: _pending(session, actor, suggestion_id), write)
