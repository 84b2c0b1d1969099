"""Commitments, comments and +1 on roadmap items.

A commitment is kept as made: an organization, a role (lead, partner, funder, other), an
optional note, who made it (a participant, or a facilitator on behalf of someone) and
when. It is never edited; withdrawing it is a record of its own (``RoadmapWithdrawal``,
at most one per commitment). A participant withdraws only what they made; a facilitator
any. Comments can be hidden (and shown again) by a facilitator, who is recorded. A +1 is
one row per participant and item. None of these is stopped by an item's lock (only by
the activity's).
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlmodel import Session

from server.activities.receipts import refuse
from server.activities.roadmap.actors import Actor, check_facilitator, item_row
from server.activities.roadmap.fields import ROLES, clean_choice, clean_text
from server.activities.roadmap.outcomes import Done, Outcome
from server.activities.roadmap.service import Who_, keyed
from server.activities.values import an_id
from server.i18n import N_
from server.models import (
    Participant,
    RoadmapComment,
    RoadmapCommitment,
    RoadmapSupport,
    RoadmapWithdrawal,
    utcnow,
)
from server.statements import insert_ignore

MAX_COMMITMENTS = 200  # per item
MAX_COMMENTS = 500  # per item


def _count(session: Session, model, item_id: int) -> int:
    return session.execute(select(func.count()).select_from(model).where(model.item_id == item_id)).scalar_one()


def commit(
    session: Session, who: Who_, item_id, organization, role, note="", *, on_behalf_of=None, key=None
) -> Outcome:
    """``organization`` commits to the item as ``role``. A participant who leaves the
    organization empty commits their own (as they gave it when joining). A facilitator
    may name the participant they record it for (``on_behalf_of``, of the activity's
    workshop)."""

    def check(actor: Actor):
        item = item_row(session, actor, item_id)
        clean_role = clean_choice("role", role, ROLES, optional=False)
        org = clean_text("organization", organization)
        if not org and not actor.facilitator:
            org = actor.organization.strip()
        if not org:
            raise refuse(N_("Name the organization that commits."))
        behalf = None
        if on_behalf_of not in (None, ""):
            check_facilitator(actor)
            found = session.get(Participant, an_id(on_behalf_of)) if an_id(on_behalf_of) is not None else None
            if found is None or actor.workshop_id is None or found.workshop_id != actor.workshop_id:
                raise refuse(N_("This participant is not part of this workshop."))
            behalf = found.id
        if _count(session, RoadmapCommitment, item.id) >= MAX_COMMITMENTS:
            raise refuse(N_("This item holds at most %(n)s commitments."), n=MAX_COMMITMENTS)
        return item.id, org, clean_role, clean_text("note", note), behalf

    def write(actor: Actor, prepared) -> Outcome:
        item, org, clean_role, clean_note, behalf = prepared
        made = RoadmapCommitment(item_id=item, organization=org, role=clean_role, note=clean_note, **actor.who())
        if behalf is not None:
            made.participant_id = behalf
        session.add(made)
        session.flush()
        return Done(item, "commitment", made.id, {"organization": org, "role": clean_role})

    return keyed(session, who, key, check, write)


def withdraw(session: Session, who: Who_, commitment_id, note="", key=None) -> Outcome:
    """Withdraw a commitment (recorded; the commitment itself stays as it was made)."""

    def check(actor: Actor):
        found = session.get(RoadmapCommitment, an_id(commitment_id)) if an_id(commitment_id) is not None else None
        if found is None:
            raise refuse(N_("This commitment does not exist."))
        item_row(session, actor, found.item_id)
        if not actor.facilitator and found.participant_id != actor.participant_id:
            raise refuse(N_("Only who made a commitment, or the facilitator, can withdraw it."))
        return found, clean_text("note", note)

    def write(actor: Actor, prepared) -> Outcome:
        found, clean_note = prepared
        row = {"commitment_id": found.id, "note": clean_note, "made_at": utcnow(), **actor.who()}
        insert_ignore(session, RoadmapWithdrawal, row)  # withdrawn once; again changes nothing
        return Done(found.item_id, "withdrawal", found.id)

    return keyed(session, who, key, check, write)


def comment(session: Session, who: Who_, item_id, text, key=None) -> Outcome:
    def check(actor: Actor):
        item = item_row(session, actor, item_id)
        clean = clean_text("comment", text, required=True)
        if _count(session, RoadmapComment, item.id) >= MAX_COMMENTS:
            raise refuse(N_("This item holds at most %(n)s comments."), n=MAX_COMMENTS)
        return item.id, clean

    def write(actor: Actor, prepared) -> Outcome:
        item, clean = prepared
        row = RoadmapComment(item_id=item, text=clean, **actor.who())
        session.add(row)
        session.flush()
        return Done(item, "comment", row.id)

    return keyed(session, who, key, check, write)


def hide_comment(session: Session, who: Actor, comment_id, hidden: bool = True, key=None) -> Outcome:
    """Hide a comment from everyone but facilitators (or show it again); who hid it is kept."""

    def check(actor: Actor):
        check_facilitator(actor)
        found = session.get(RoadmapComment, an_id(comment_id)) if an_id(comment_id) is not None else None
        if found is None:
            raise refuse(N_("This comment does not exist."))
        item_row(session, actor, found.item_id)
        return found

    def write(actor: Actor, found: RoadmapComment) -> Outcome:
        found.hidden = bool(hidden)
        found.hidden_by = actor.user_id if hidden else None
        found.hidden_at = utcnow() if hidden else None
        session.add(found)
        session.flush()
        return Done(found.item_id, "hidden", found.id, bool(hidden))

    return keyed(session, who, key, check, write)


def support(session: Session, who: Who_, item_id, on: bool = True, key=None) -> Outcome:
    """A participant's +1 on an item (``on``), or taking it back. ``value``: the item's +1s now."""

    def check(actor: Actor):
        if actor.participant_id is None:
            raise refuse(N_("Only participants can +1 an item."))
        return item_row(session, actor, item_id).id

    def write(actor: Actor, item: int) -> Outcome:
        if on:
            insert_ignore(
                session,
                RoadmapSupport,
                {"item_id": item, "participant_id": actor.participant_id, "created_at": utcnow()},
            )
        else:
            session.connection().execute(
                delete(RoadmapSupport).where(
                    RoadmapSupport.item_id == item, RoadmapSupport.participant_id == actor.participant_id
                )
            )
        count = _count(session, RoadmapSupport, item)
        return Done(item, "support", item, {"on": bool(on), "count": count})

    return keyed(session, who, key, check, write)
