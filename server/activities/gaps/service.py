"""Use cases of the gap activity: rating and dot voting.

The same functions serve the websocket, htmx and a plain form post. They run inside the
single writer's batches (``server.writer``): ``do_*`` only flush, and the live
tally is updated after commit. Writes carry the phone's idempotency key: a key seen
before is acknowledged again and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlmodel import Session

from server.activities.gaps.spec import GAP_RATING, asked
from server.activities.gaps.tally import ELEMENTS, ActivityTally
from server.activities.receipts import check_key, check_sequence, refuse, seen, take
from server.activities.values import an_id, superseded, whole, whole_in
from server.db import after_commit
from server.i18n import N_
from server.models import (
    Activity,
    ActivityItem,
    ActivityStatus,
    DotVote,
    GapAnswer,
    Participant,
    Segment,
    Workshop,
    utcnow,
)
from server.statements import driver_rows, json_value, upsert

RANGES = {"seriousness": (1, 5), **{e: (0, 3) for e in ELEMENTS}}
KEY_MAX = 64


@dataclass
class Ack:
    """What the phone is told once the write is committed."""

    gap_id: int
    question: str
    value: object
    duplicate: bool = False
    dots_left: int | None = None
    # A newer answer (by the phone's sequence) is stored: ``value`` is that one, ``seq`` its sequence.
    superseded: bool = False
    seq: int | None = None

    def told(self) -> dict:
        """What the phone is told was stored (``ActivityType.ack_json``)."""
        return {"g": self.gap_id, "q": self.question, "v": self.value, "left": self.dots_left}


class ActivityInfo:
    """What the hot path needs of an activity: its row (``workshop_id``, ``kind``,
    ``status``, ``settings``), its gaps in order and, when asked, the chain's segments."""

    __slots__ = ("_segments", "_session", "activity", "gap_ids")

    def __init__(self, activity, gap_ids: tuple[int, ...], session: Session):
        self.activity, self.gap_ids, self._session = activity, gap_ids, session
        self._segments: set[int] | None = None

    @property
    def segment_ids(self) -> set[int]:
        if self._segments is None:
            chain = select(Workshop.value_chain_id).where(Workshop.id == self.activity.workshop_id).scalar_subquery()
            self._segments = set(
                self._session.exec(select(Segment.id).where(Segment.value_chain_id == chain)).scalars()
            )
        return self._segments


_ACTIVITIES = Activity.__table__
_ACTIVITY_ROW = select(
    _ACTIVITIES.c.id,
    _ACTIVITIES.c.workshop_id,
    _ACTIVITIES.c.kind,
    _ACTIVITIES.c.status,
    _ACTIVITIES.c.settings,
    _ACTIVITIES.c.opened_at,
).where(_ACTIVITIES.c.id == bindparam("activity"))
_ITEMS = ActivityItem.__table__
_GAP_IDS = select(_ITEMS.c.gap_id).where(_ITEMS.c.activity_id == bindparam("activity")).order_by(_ITEMS.c.position)
# Gap lists kept across the writer's batches (``session.info["activity_items"]``, given by
# the writer), keyed by activity and the time it was first opened: once an activity has
# run, its gaps can no longer change (``workshops.service.check_pending``).
ITEMS_KEPT = 1000


def activity_info(session: Session, activity_id: int) -> ActivityInfo:
    """The activity's current row (read once per transaction: a close is seen by the next
    batch) and its gaps, or Invalid when it is not a gap activity."""
    cache = session.info.setdefault("activity_info", {})
    if activity_id not in cache:
        if an_id(activity_id) is None:
            raise refuse(N_("This activity does not exist."))
        conn = session.connection()
        row = conn.execute(_ACTIVITY_ROW, {"activity": activity_id}).first()
        if row is None or row.kind != GAP_RATING.key:
            raise refuse(N_("This activity does not exist."))
        kept = session.info.get("activity_items")
        frozen = kept is not None and row.status != ActivityStatus.pending and row.opened_at is not None
        gap_ids = kept.get((activity_id, row.opened_at)) if frozen else None
        if gap_ids is None:
            gap_ids = tuple(conn.execute(_GAP_IDS, {"activity": activity_id}).scalars())
            if frozen:
                if len(kept) >= ITEMS_KEPT:
                    kept.clear()
                kept[(activity_id, row.opened_at)] = gap_ids
        cache[activity_id] = ActivityInfo(row, gap_ids, session)
    return cache[activity_id]


def check_open(info: ActivityInfo, participant: Participant) -> None:
    activity = info.activity
    if participant.removed or participant.workshop_id != activity.workshop_id:
        raise refuse(N_("You are no longer part of this workshop."))
    if activity.status != ActivityStatus.open:
        raise refuse(N_("This activity is closed; your answer was not saved."))


def check_answer(info: ActivityInfo, gap_id: int, question: str, raw) -> object:
    """The answer as stored (int, or a sorted list of segment ids), or Invalid."""
    settings = info.activity.settings
    if settings.get("mode") != "rating":
        raise refuse(N_("This activity uses dot voting."))
    check_gap(info, gap_id)
    if question not in asked(settings):
        raise refuse(N_("This question is not asked in this activity."))
    if question == "segments":
        chosen = [an_id(s) for s in raw] if isinstance(raw, list | tuple) else [None]
        if None in chosen or not set(chosen) <= info.segment_ids:
            raise refuse(N_("Choose segments of this value chain."))
        return sorted(set(chosen))
    value = whole_in(raw, *RANGES[question])  # 3.5, "3.5" or true are not a 3 or a 1
    if value is None:
        raise refuse(N_("Choose one of the options."))
    return value


def check_gap(info: ActivityInfo, gap_id) -> None:
    if an_id(gap_id) is None or gap_id not in info.gap_ids:
        raise refuse(N_("This gap is not part of the activity."))


def _participant(session: Session, participant_id: int):
    """What a write needs of its participant, locked for the rest of the transaction (on
    PostgreSQL: a removal in progress is waited for), read once per batch."""
    known = session.info.setdefault("participants", {})
    if participant_id not in known:
        known[participant_id] = session.connection().execute(_PARTICIPANT, {"participant": participant_id}).first()
    participant = known[participant_id]
    if participant is None:
        raise refuse(N_("You are no longer part of this workshop."))
    return participant


_PARTICIPANTS = Participant.__table__
_PARTICIPANT = (
    select(_PARTICIPANTS.c.workshop_id, _PARTICIPANTS.c.removed, _PARTICIPANTS.c.stakeholder_group_id)
    .where(_PARTICIPANTS.c.id == bindparam("participant"))
    .with_for_update()
)
_ANSWERS = GapAnswer.__table__
_PREVIOUS_ANSWER = select(_ANSWERS.c.value, _ANSWERS.c.segments, _ANSWERS.c.seq).where(
    _ANSWERS.c.participant_id == bindparam("participant"),
    _ANSWERS.c.activity_id == bindparam("activity"),
    _ANSWERS.c.gap_id == bindparam("gap"),
    _ANSWERS.c.question == bindparam("question"),
)


def do_answer(
    session: Session,
    tallies,
    participant_id: int,
    activity_id: int,
    gap_id: int,
    question: str,
    raw,
    key: str,
    seq=None,
) -> Ack:
    """Save one answer about one gap (the latest counts until the activity closes; with
    sequences, the latest the phone sent)."""
    key = check_key(key)
    seq = check_sequence(seq)
    if seen(session, participant_id, key):
        return Ack(gap_id, question, raw, duplicate=True)
    participant = _participant(session, participant_id)
    info = activity_info(session, activity_id)
    check_open(info, participant)
    value = check_answer(info, gap_id, question, raw)
    if not take(session, participant_id, key):
        return Ack(gap_id, question, value, duplicate=True)
    params = {"participant": participant_id, "activity": activity_id, "gap": gap_id, "question": question}
    previous = session.connection().execute(_PREVIOUS_ANSWER, params).first()
    if previous is not None and superseded(previous.seq, seq):
        stored = previous.segments if question == "segments" else previous.value
        return Ack(gap_id, question, stored, superseded=True, seq=previous.seq)
    old = None if previous is None else (frozenset(previous.segments) if question == "segments" else previous.value)
    upsert(
        session,
        GapAnswer,
        {
            "participant_id": participant_id,
            "activity_id": activity_id,
            "gap_id": gap_id,
            "question": question,
            "value": None if question == "segments" else value,
            "segments": value if question == "segments" else [],
            "seq": seq,
            "updated_at": utcnow(),
        },
        keys=["participant_id", "activity_id", "gap_id", "question"],
        update=["value", "segments", "seq", "updated_at"],
    )
    new = frozenset(value) if question == "segments" else value
    group = participant.stakeholder_group_id
    workshop_id = info.activity.workshop_id
    after_commit(
        session,
        lambda: tallies.apply(
            workshop_id, activity_id, lambda t: t.apply_answer(participant_id, group, gap_id, question, old, new)
        ),
    )
    return Ack(gap_id, question, value)


def dots_spent(session: Session, participant_id: int, activity_id: int) -> dict[int, int]:
    return {gap: dots for gap, (dots, _seq) in _dots_rows(session, participant_id, activity_id).items()}


def _dots_rows(session: Session, participant_id: int, activity_id: int) -> dict[int, tuple[int, int | None]]:
    rows = session.execute(
        select(DotVote.gap_id, DotVote.dots, DotVote.seq).where(
            DotVote.participant_id == participant_id, DotVote.activity_id == activity_id
        )
    )
    return {gap: (dots, seq) for gap, dots, seq in rows}


def do_dots(
    session: Session, tallies, participant_id: int, activity_id: int, gap_id: int, raw, key: str, seq=None
) -> Ack:
    """Put ``raw`` dots on a gap. The budget holds whatever arrives at once: the
    participant's row is locked (PostgreSQL) or the writer is alone (SQLite)."""
    key = check_key(key)
    seq = check_sequence(seq)
    if seen(session, participant_id, key):
        return Ack(gap_id, "dots", raw, duplicate=True)
    info = activity_info(session, activity_id)
    settings = info.activity.settings
    participant = session.execute(
        select(Participant).where(Participant.id == participant_id).with_for_update()
    ).scalar_one_or_none()
    if participant is None:
        raise refuse(N_("You are no longer part of this workshop."))
    check_open(info, participant)
    if settings.get("mode") != "dots":
        raise refuse(N_("This activity rates each gap; it has no dots."))
    check_gap(info, gap_id)
    dots = whole(raw)
    if dots is None:
        raise refuse(N_("Choose one of the options."))
    budget, most = int(settings.get("dot_budget", 10)), int(settings.get("dot_max_per_item", 3))
    if not 0 <= dots <= most:
        raise refuse(N_("At most %(n)s dots on one gap."), n=most)
    rows = _dots_rows(session, participant_id, activity_id)
    spent = {gap: n for gap, (n, _seq) in rows.items()}
    old, stored_seq = rows.get(gap_id, (0, None))
    if not take(session, participant_id, key):
        return Ack(gap_id, "dots", old, duplicate=True, dots_left=budget - sum(spent.values()))
    if superseded(stored_seq, seq):
        return Ack(gap_id, "dots", old, dots_left=budget - sum(spent.values()), superseded=True, seq=stored_seq)
    others = sum(spent.values()) - old
    if others + dots > budget:
        raise refuse(N_("You have only %(n)s dots left."), n=budget - others)
    upsert(
        session,
        DotVote,
        {
            "participant_id": participant_id,
            "activity_id": activity_id,
            "gap_id": gap_id,
            "dots": dots,
            "seq": seq,
            "updated_at": utcnow(),
        },
        keys=["participant_id", "activity_id", "gap_id"],
        update=["dots", "seq", "updated_at"],
    )
    group = participant.stakeholder_group_id
    workshop_id = info.activity.workshop_id
    after_commit(
        session,
        lambda: tallies.apply(
            workshop_id, activity_id, lambda t: t.apply_dots(participant_id, group, gap_id, old, dots)
        ),
    )
    return Ack(gap_id, "dots", dots, dots_left=budget - others - dots)


# Reading ---------------------------------------------------------------------------


def my_answers(session: Session, participant_id: int, activity_id: int) -> dict:
    """{gap_id: {question: value}} and dots, to show a participant what they said."""
    mine: dict[int, dict] = {}
    # Read as the driver gives it (db.driver_rows): every phone asks when it (re)connects.
    rows = driver_rows(
        session,
        "SELECT gap_id, question, value, segments FROM gap_answer WHERE participant_id = ? AND activity_id = ?",
        (participant_id, activity_id),
    )
    for gap, question, value, segments in rows:
        mine.setdefault(gap, {})[question] = json_value(segments) if question == "segments" else value
    dots = driver_rows(
        session,
        "SELECT gap_id, dots FROM dot_vote WHERE participant_id = ? AND activity_id = ?",
        (participant_id, activity_id),
    )
    for gap, spent in dots:
        mine.setdefault(gap, {})["dots"] = spent
    return mine


def recount(session: Session, activity_id: int) -> ActivityTally:
    """The tally of an activity computed afresh from the stored answers."""
    info = activity_info(session, activity_id)
    group_of = dict(
        session.execute(
            select(Participant.id, Participant.stakeholder_group_id).where(
                Participant.workshop_id == info.activity.workshop_id
            )
        ).all()
    )
    answers = [
        (p, group_of.get(p), gap, q, frozenset(segs) if q == "segments" else value)
        for p, gap, q, value, segs in session.execute(
            select(
                GapAnswer.participant_id, GapAnswer.gap_id, GapAnswer.question, GapAnswer.value, GapAnswer.segments
            ).where(GapAnswer.activity_id == activity_id)
        )
    ]
    dots = [
        (p, group_of.get(p), gap, n)
        for p, gap, n in session.execute(
            select(DotVote.participant_id, DotVote.gap_id, DotVote.dots).where(DotVote.activity_id == activity_id)
        )
    ]
    return ActivityTally.recount(info.gap_ids, answers, dots)
