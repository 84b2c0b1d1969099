"""Who writes to the roadmap, and what they may touch.

An ``Actor`` is made inside the write (in the writer's transaction) by ``as_participant``
(a phone in a roadmap activity: the participant must belong to the activity's workshop,
the activity must be open and not locked) or ``as_facilitator`` (a user the route has
already authorized for the chain, through ``valuechains.service.access_chain``). Items
are then checked against it: a participant touches only the items its activity brought
in; a facilitator any item of the chain. A locked item refuses participants' edits (its
fields and rows); commitments, comments and +1 still go in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlmodel import Session

from server.activities.receipts import refuse
from server.activities.roadmap.spec import ROADMAP
from server.activities.values import an_id
from server.i18n import N_
from server.models import Activity, ActivityStatus, Participant, RoadmapActivityItem, RoadmapItem, Workshop


@dataclass(frozen=True)
class Actor:
    chain_id: int
    participant_id: int | None = None
    user_id: int | None = None
    name: str = ""
    organization: str = ""
    activity_id: int | None = None
    workshop_id: int | None = None
    suggest: bool = False  # a participant in an activity whose edits are suggestions

    @property
    def facilitator(self) -> bool:
        return self.user_id is not None

    def who(self) -> dict:
        """The columns naming the actor on a revision, commitment, comment."""
        return {
            "participant_id": self.participant_id,
            "user_id": self.user_id,
            "author": self.name[:200],
            "activity_id": self.activity_id,
        }


_ITEM = RoadmapItem.__table__
_BROUGHT = RoadmapActivityItem.__table__


def activity_locked(activity: Activity) -> bool:
    """The activity-level lock (``settings["locked"]``): participants change nothing."""
    return bool((activity.settings or {}).get("locked"))


def roadmap_activity(session: Session, activity_id) -> Activity:
    activity = session.get(Activity, activity_id) if an_id(activity_id) is not None else None
    if activity is None or activity.kind != ROADMAP.key:
        raise refuse(N_("This activity does not exist."))
    return activity


def as_participant(session: Session, participant_id: int, activity_id) -> Actor:
    """A participant writing in an open, unlocked roadmap activity of their workshop."""
    activity = roadmap_activity(session, activity_id)
    # The few columns needed, not the model: loading a Participant was a fifth of a busy
    # room's write time.
    participant = session.execute(
        select(
            Participant.id, Participant.workshop_id, Participant.removed, Participant.name, Participant.organization
        ).where(Participant.id == participant_id)
    ).first()
    if participant is not None and participant.workshop_id != activity.workshop_id:
        raise refuse(N_("This activity does not exist."))  # another workshop's: nothing to learn of it
    if participant is None or participant.removed:
        raise refuse(N_("You are no longer part of this workshop."))
    if activity.status != ActivityStatus.open:
        raise refuse(N_("This activity is closed; your answer was not saved."))
    if activity_locked(activity):
        raise refuse(N_("The facilitator has locked the roadmap for now; nothing was changed."))
    workshop = session.get(Workshop, activity.workshop_id)
    return Actor(
        chain_id=workshop.value_chain_id,
        participant_id=participant.id,
        name=participant.name,
        organization=participant.organization,
        activity_id=activity.id,
        workshop_id=workshop.id,
        suggest=(activity.settings or {}).get("edit_mode") == "suggest",
    )


def as_facilitator(session: Session, user, chain_id: int, activity_id: int | None = None) -> Actor:
    """A facilitator the route authorized for the chain; ``activity_id`` (a roadmap activity
    of one of the chain's workshops) when acting from the console, for the record."""
    workshop_id = None
    if activity_id is not None:
        activity = roadmap_activity(session, activity_id)
        workshop = session.get(Workshop, activity.workshop_id)
        if workshop.value_chain_id != chain_id:
            raise refuse(N_("This activity does not exist."))
        workshop_id = workshop.id
    return Actor(chain_id=chain_id, user_id=user.id, name=user.name, activity_id=activity_id, workshop_id=workshop_id)


def item_row(session: Session, actor: Actor, item_id):
    """The item's id, chain and lock (read fresh, as columns: one query, no model to load,
    on every write of a busy room), if the actor may touch it (else "does not exist":
    nothing is told apart)."""
    wanted = an_id(item_id)
    if wanted is None:
        raise refuse(N_("This roadmap item does not exist."))
    query = select(_ITEM.c.id, _ITEM.c.value_chain_id, _ITEM.c.locked).where(_ITEM.c.id == wanted)
    if not actor.facilitator:  # and its activity brought it in
        brought = and_(_BROUGHT.c.item_id == _ITEM.c.id, _BROUGHT.c.activity_id == actor.activity_id)
        query = query.add_columns(_BROUGHT.c.id.label("brought")).select_from(_ITEM.outerjoin(_BROUGHT, brought))
    item = session.execute(query).first()
    if item is None or item.value_chain_id != actor.chain_id or (not actor.facilitator and item.brought is None):
        raise refuse(N_("This roadmap item does not exist."))
    return item


def check_unlocked(actor: Actor, item) -> None:
    if item.locked and not actor.facilitator:
        raise refuse(N_("The facilitator has locked this item; nothing was changed."))


def check_facilitator(actor: Actor) -> None:
    if not actor.facilitator:
        raise refuse(N_("Only the facilitator can do this."))
