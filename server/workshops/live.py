"""The facilitator's live controls: open, close, reopen, next step, reveal, timer,
joining lock, removing a participant. Each queues the live events it causes; they go
out after commit."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, delete, func, select

from server.activities.kinds import KINDS
from server.db import after_commit
from server.errors import Invalid, NotFound
from server.i18n import N_, Message
from server.models import (
    Activity,
    ActivityStatus,
    DotVote,
    GapAnswer,
    PairwiseAnswer,
    Participant,
    RankingBallot,
    Segment,
    StakeholderGroup,
    Workshop,
    WorkshopStatus,
    utcnow,
)
from server.outbox import notify
from server.realtime.topics import Removed, Topic
from server.workshops.service import agenda_of

MAX_TIMER_MINUTES = 120


def _runs_live(activity: Activity) -> bool:
    """Whether the activity's kind can run live yet (the catalogue says so)."""
    spec = KINDS.get(activity.kind)
    return spec is not None and spec.live


def _all(session: Session, workshop: Workshop) -> None:
    notify(session, workshop.id, Topic.STAGE, Topic.RESULTS, Topic.COUNTS)


def current_activity(session: Session, workshop: Workshop) -> Activity | None:
    if workshop.current_activity_id is None:
        return None
    return session.get(Activity, workshop.current_activity_id)


def check_not_ended(workshop: Workshop) -> None:
    if workshop.status == WorkshopStatus.ended:
        raise Invalid({"__all__": Message(N_("This workshop has ended."))})


def do_open(session: Session, workshop: Workshop, activity: Activity, opened=None) -> None:
    """Open (or reopen) an activity; the one open before it closes. Phones follow at once.
    ``opened(activity)``: its kind's step on opening (``ActivityType.opened``: a roadmap
    brings its items in), in the same transaction."""
    check_not_ended(workshop)
    if not _runs_live(activity):
        raise Invalid({"__all__": Message(N_("This type of activity cannot run live yet."))})
    for other in agenda_of(session, workshop):
        if other.status == ActivityStatus.open and other.id != activity.id:
            _close(other)
            session.add(other)
    activity.status = ActivityStatus.open
    activity.opened_at = activity.opened_at or utcnow()
    activity.closed_at = None
    workshop.current_activity_id = activity.id
    workshop.status = WorkshopStatus.live
    session.add_all([activity, workshop])
    session.flush()
    if opened is not None:
        opened(activity)
    _all(session, workshop)


def _close(activity: Activity) -> None:
    activity.status = ActivityStatus.closed
    activity.closed_at = utcnow()
    activity.timer_ends_at = None


def do_close(session: Session, workshop: Workshop, activity: Activity) -> None:
    if activity.status != ActivityStatus.open:
        raise Invalid({"__all__": Message(N_("This activity is not open."))})
    _close(activity)
    session.add(activity)
    session.flush()
    _all(session, workshop)


def do_next(session: Session, workshop: Workshop, opened=None) -> Activity | None:
    """Close the current activity and open the next one of the agenda that can run."""
    check_not_ended(workshop)
    agenda = agenda_of(session, workshop)
    current = current_activity(session, workshop)
    start = agenda.index(current) + 1 if current in agenda else 0
    following = [a for a in agenda[start:] if _runs_live(a) and a.status == ActivityStatus.pending]
    if current is not None and current.status == ActivityStatus.open:
        _close(current)
        session.add(current)
    if not following:
        session.flush()
        _all(session, workshop)
        return None
    do_open(session, workshop, following[0], opened)
    return following[0]


def do_reveal(session: Session, workshop: Workshop, activity: Activity, shown: bool) -> None:
    """Show the results on phones, or hide them: only the results change on the screens."""
    activity.revealed = shown
    session.add(activity)
    session.flush()
    notify(session, workshop.id, Topic.REVEAL)


def do_projector(session: Session, workshop: Workshop, activity: Activity, shown: bool) -> None:
    """Show the results on the projector before phones (``shown``), or let the projector
    follow the phones again: it shows results once revealed, and only then."""
    activity.projector_results = shown
    session.add(activity)
    session.flush()
    notify(session, workshop.id, Topic.RESULTS)


def do_headline(session: Session, workshop: Workshop, activity: Activity, method: str | None, kind) -> None:
    """Which of its methods (``kind.headlines``: a ranking's) the room sees first; the
    others stay one tap away. ``kind`` is the activity's ``ActivityType``, or None."""
    if kind is None or method not in kind.headlines:
        raise Invalid({"__all__": Message(N_("Choose one of the options."))})
    activity.settings = {**activity.settings, "headline": method}
    session.add(activity)
    session.flush()
    notify(session, workshop.id, Topic.RESULTS)


def do_timer(session: Session, workshop: Workshop, activity: Activity, minutes: str | None) -> None:
    """Start a countdown of ``minutes`` (phones and projector show it), or stop it."""
    if not minutes:
        activity.timer_ends_at = None
    else:
        try:
            value = float(minutes)
        except ValueError:
            value = -1
        if not 0 < value <= MAX_TIMER_MINUTES:
            raise Invalid(
                {"minutes": Message(N_("Enter a number from %(min)s to %(max)s."), min=1, max=MAX_TIMER_MINUTES)}
            )
        activity.timer_ends_at = utcnow() + dt.timedelta(minutes=value)
    session.add(activity)
    session.flush()
    notify(session, workshop.id, Topic.STAGE)


def do_joining(session: Session, workshop: Workshop, open_: bool) -> None:
    check_not_ended(workshop)
    workshop.joining_open = open_
    session.add(workshop)
    session.flush()
    _all(session, workshop)


def do_end(session: Session, workshop: Workshop) -> None:
    """End the workshop: open activities close, joining stops, the code is released (a typed
    code no longer finds it, another workshop may draw it); phones say it has ended."""
    check_not_ended(workshop)
    for activity in agenda_of(session, workshop):
        if activity.status == ActivityStatus.open:
            _close(activity)
            session.add(activity)
    workshop.status = WorkshopStatus.ended
    workshop.join_code = None
    workshop.joining_open = False
    session.add(workshop)
    session.flush()
    _all(session, workshop)


def do_remove_participant(session: Session, workshop: Workshop, participant_id: int, tallies) -> None:
    """Take someone out of the workshop: their phone stops, their answers stop counting."""
    participant = session.get(Participant, participant_id)
    if participant is None or participant.workshop_id != workshop.id:
        raise NotFound()
    participant.removed = True
    session.add(participant)
    activity_ids = select(Activity.id).where(Activity.workshop_id == workshop.id)
    for model in (GapAnswer, DotVote, RankingBallot, PairwiseAnswer):
        session.exec(
            delete(model).where(col(model.participant_id) == participant.id, col(model.activity_id).in_(activity_ids))
        )
    session.flush()
    after_commit(session, lambda: tallies.forget_workshop(workshop.id))
    _all(session, workshop)
    notify(session, workshop.id, Topic.ROSTER, Removed(participant.id))


def participants_of(session: Session, workshop: Workshop) -> list[Participant]:
    query = select(Participant).where(Participant.workshop_id == workshop.id, Participant.removed == False)  # noqa: E712
    return list(session.exec(query.order_by(Participant.joined_at)))


def attendance_of(session: Session, workshop: Workshop) -> tuple[list[Participant], dict, dict]:
    """The attendance list: the participants (not removed), in the order they joined, with
    the stakeholder groups and the chain's segment names by id."""
    groups = {g.id: g for g in session.exec(select(StakeholderGroup))}
    segments = {
        s.id: s.name for s in session.exec(select(Segment).where(Segment.value_chain_id == workshop.value_chain_id))
    }
    return participants_of(session, workshop), groups, segments


def joined_count(session: Session, workshop_id: int) -> int:
    query = (
        select(func.count())
        .select_from(Participant)
        .where(
            Participant.workshop_id == workshop_id,
            Participant.removed == False,  # noqa: E712
        )
    )
    return session.exec(query).one()
