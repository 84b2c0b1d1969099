"""Many ratings in one go: the writer's fast path for the busiest write of a live room.

A room of 2,000 phones sends thousands of ratings a second. One at a time, each costs a
savepoint and five statements; here a whole batch is checked in Python first (keys,
participants and earlier answers read with one statement each), then written with two
statements (receipts, answers), so the cost per rating is a fraction. The rules are the
ones of ``service.do_answer`` (same checks, same messages, same acknowledgements); answers
to the segments question, which carry a list, keep the one-at-a-time path.
"""

from __future__ import annotations

import concurrent.futures

from sqlalchemy import select, tuple_
from sqlmodel import Session

from server.activities.gaps import service
from server.activities.receipts import check_key, refuse
from server.db import after_commit, insert_ignore_many, upsert
from server.errors import Invalid
from server.i18n import N_
from server.models import GapAnswer, Participant, Receipt, utcnow

_RECEIPTS, _ANSWERS, _PARTICIPANTS = Receipt.__table__, GapAnswer.__table__, Participant.__table__


class Rating:
    """One rating a phone sent; the writer batches these (see ``server.realtime.writer``)."""

    __slots__ = ("activity_id", "gap_id", "key", "participant_id", "question", "raw", "tallies")

    def __init__(self, tallies, participant_id: int, activity_id: int, gap_id: int, question: str, raw, key: str):
        self.tallies, self.participant_id, self.activity_id = tallies, participant_id, activity_id
        self.gap_id, self.question, self.raw, self.key = gap_id, question, raw, key

    @property
    def batchable(self) -> bool:
        return self.question != "segments"

    def __call__(self, session: Session):  # the one-at-a-time path
        return service.do_answer(
            session, self.tallies, self.participant_id, self.activity_id, self.gap_id, self.question, self.raw, self.key
        )

    @staticmethod
    def run_batch(session: Session, items: list[Rating]) -> list[concurrent.futures.Future]:
        return write_ratings(session, items)


def write_ratings(session: Session, items: list[Rating]) -> list[concurrent.futures.Future]:
    outcomes = [concurrent.futures.Future() for _ in items]
    conn = session.connection()
    pairs = []
    for item, out in zip(items, outcomes, strict=True):
        try:
            item.key = check_key(item.key)
            pairs.append((item.participant_id, item.key))
        except Invalid as exc:
            out.set_exception(exc)
    if not pairs:
        return outcomes
    seen = {
        tuple(r)
        for r in conn.execute(
            select(_RECEIPTS.c.participant_id, _RECEIPTS.c.key).where(
                tuple_(_RECEIPTS.c.participant_id, _RECEIPTS.c.key).in_(pairs)
            )
        )
    }
    pids = sorted({p for p, _ in pairs})
    # Locked until commit on PostgreSQL: a removal in progress is waited for.
    people = {
        r.id: r
        for r in conn.execute(
            select(
                _PARTICIPANTS.c.id,
                _PARTICIPANTS.c.workshop_id,
                _PARTICIPANTS.c.removed,
                _PARTICIPANTS.c.stakeholder_group_id,
            )
            .where(_PARTICIPANTS.c.id.in_(pids))
            .with_for_update()
        )
    }
    activities = sorted({i.activity_id for i in items})
    previous = {
        (p, a, g, q): v
        for p, a, g, q, v in conn.execute(
            select(
                _ANSWERS.c.participant_id,
                _ANSWERS.c.activity_id,
                _ANSWERS.c.gap_id,
                _ANSWERS.c.question,
                _ANSWERS.c.value,
            ).where(
                _ANSWERS.c.activity_id.in_(activities),
                _ANSWERS.c.participant_id.in_(pids),
                _ANSWERS.c.question != "segments",
            )
        )
    }
    now = utcnow()
    receipts, answers, changes = [], {}, []
    for item, out in zip(items, outcomes, strict=True):
        if out.done():
            continue
        try:
            if (item.participant_id, item.key) in seen:
                out.set_result(service.Ack(item.gap_id, item.question, item.raw, duplicate=True))
                continue
            person = people.get(item.participant_id)
            if person is None:
                raise refuse(N_("You are no longer part of this workshop."))
            info = service.activity_info(session, item.activity_id)
            service.check_open(info, person)
            value = service.check_answer(info, item.gap_id, item.question, item.raw)
        except Invalid as exc:
            out.set_exception(exc)
            continue
        seen.add((item.participant_id, item.key))
        slot = (item.participant_id, item.activity_id, item.gap_id, item.question)
        old, previous[slot] = previous.get(slot), value
        receipts.append({"participant_id": item.participant_id, "key": item.key, "created_at": now})
        answers[slot] = {
            "participant_id": slot[0],
            "activity_id": slot[1],
            "gap_id": slot[2],
            "question": slot[3],
            "value": value,
            "segments": [],
            "updated_at": now,
        }
        changes.append((item, info.activity.workshop_id, person.stakeholder_group_id, old, value))
        out.set_result(service.Ack(item.gap_id, item.question, value))
    if receipts:
        insert_ignore_many(session, Receipt, receipts)
        upsert(
            session,
            GapAnswer,
            list(answers.values()),
            keys=["participant_id", "activity_id", "gap_id", "question"],
            update=["value", "segments", "updated_at"],
        )

    def move_tallies() -> None:
        for item, workshop_id, group, old, new in changes:
            item.tallies.apply(
                workshop_id,
                item.activity_id,
                lambda t, i=item, g=group, o=old, n=new: t.apply_answer(
                    i.participant_id, g, i.gap_id, i.question, o, n
                ),
            )

    after_commit(session, move_tallies)
    return outcomes
