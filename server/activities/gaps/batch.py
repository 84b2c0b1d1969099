"""Many ratings in one go: the writer's fast path for the busiest write of a live room.

A room of 2,000 phones sends thousands of ratings a second. One at a time, each costs a
savepoint and five statements; here a whole batch is checked in Python first (keys,
participants and earlier answers read with one statement each), then written with two
statements (receipts, answers), so the cost per rating is a fraction. The rules are the
ones of ``service.do_answer`` (same checks, same messages, same acknowledgements); answers
to the segments question, which carry a list, keep the one-at-a-time path.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlmodel import Session

from server.activities.gaps import service
from server.activities.receipts import check_key, check_sequence, refuse
from server.activities.values import an_id, superseded
from server.db import after_commit
from server.errors import Invalid
from server.i18n import N_
from server.models import GapAnswer, Participant, Receipt, utcnow
from server.statements import (
    MATCH_CHUNK,
    fetch_all,
    folded,
    insert_ignore_many,
    prepare_rows,
    rows_matching,
    upsert,
)
from server.writer import Outcome

_RECEIPTS, _ANSWERS, _PARTICIPANTS = Receipt.__table__, GapAnswer.__table__, Participant.__table__
_SLOT = ("participant_id", "activity_id", "gap_id", "question")


class Person(NamedTuple):
    id: int
    workshop_id: int
    removed: bool
    stakeholder_group_id: int | None


# Built once (the lists are expanding parameters): building a select per batch cost
# more than running it. Participants are locked until commit on PostgreSQL: a removal
# in progress is waited for (SQLite's writer is alone anyway).
_PEOPLE_ROWS = select(
    _PARTICIPANTS.c.id, _PARTICIPANTS.c.workshop_id, _PARTICIPANTS.c.removed, _PARTICIPANTS.c.stakeholder_group_id
).where(_PARTICIPANTS.c.id.in_(bindparam("pids", expanding=True)))
_PEOPLE = (_PEOPLE_ROWS.with_for_update(), folded(_PEOPLE_ROWS))


_RECEIPT_COLUMNS = ("participant_id", "key", "created_at")
_ANSWER_COLUMNS = (*_SLOT, "value", "segments", "seq", "updated_at")
_UPSERTING = (_SLOT, ("value", "segments", "seq", "updated_at"))
# A level's answer names no segments: one list for every row (never changed), so that its
# JSON is made once per batch (see ``server.statements._write_rows``).
_NO_SEGMENTS: list = []
_PREVIOUS = (*_SLOT, "value", "seq")


def warm(session: Session) -> None:
    """Build and compile this module's statements before the first vote (the writer
    calls it when it starts): the first batch of a busy room must not wait for them."""
    conn = session.connection()
    for size in (1 << n for n in range(MATCH_CHUNK.bit_length())):  # each size rows_matching uses
        rows_matching(conn, _RECEIPTS, ("participant_id", "key"), ("participant_id", "key"), [(-1, "")] * size)
        rows_matching(conn, _ANSWERS, _PREVIOUS, _SLOT, [(-1, -1, -1, "")] * size)
    prepare_rows(session, Receipt, _RECEIPT_COLUMNS)
    prepare_rows(session, GapAnswer, _ANSWER_COLUMNS, _UPSERTING)


class Rating:
    """One rating a phone sent; the writer batches these (see ``server.writer``)."""

    __slots__ = ("activity_id", "gap_id", "key", "participant_id", "question", "raw", "seq", "tallies")

    def __init__(
        self, tallies, participant_id: int, activity_id: int, gap_id: int, question: str, raw, key: str, seq=None
    ):
        self.tallies, self.participant_id, self.activity_id = tallies, participant_id, activity_id
        self.gap_id, self.question, self.raw, self.key, self.seq = gap_id, question, raw, key, seq

    @property
    def batchable(self) -> bool:
        return self.question != "segments"

    def __call__(self, session: Session):  # the one-at-a-time path
        return service.do_answer(
            session,
            self.tallies,
            self.participant_id,
            self.activity_id,
            self.gap_id,
            self.question,
            self.raw,
            self.key,
            self.seq,
        )

    @staticmethod
    def run_batch(session: Session, items: list[Rating]) -> list[Outcome]:
        return write_ratings(session, items)


def write_ratings(session: Session, items: list[Rating]) -> list[Outcome]:
    outcomes = [Outcome() for _ in items]
    conn = session.connection()
    pairs = []
    for item, out in zip(items, outcomes, strict=True):
        try:
            item.key, item.seq = check_key(item.key), check_sequence(item.seq)
            # Ids the database cannot hold never reach it (they would fail the whole batch).
            if an_id(item.activity_id) is None:
                raise refuse(N_("This activity does not exist."))
            if an_id(item.gap_id) is None:
                raise refuse(N_("This gap is not part of the activity."))
            pairs.append((item.participant_id, item.key))
        except Invalid as exc:
            out.set_exception(exc)
    if not pairs:
        return outcomes
    pids = sorted({p for p, _ in pairs})
    seen = {
        tuple(r) for r in rows_matching(conn, _RECEIPTS, ("participant_id", "key"), ("participant_id", "key"), pairs)
    }
    people = {row[0]: Person(*row) for row in fetch_all(conn, _PEOPLE, {"pids": pids})}
    slots = list(
        {
            (i.participant_id, i.activity_id, i.gap_id, i.question)
            for i, out in zip(items, outcomes, strict=True)
            if not out.done()
        }
    )
    previous = {(p, a, g, q): (v, s) for p, a, g, q, v, s in rows_matching(conn, _ANSWERS, _PREVIOUS, _SLOT, slots)}
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
        receipts.append(dict(zip(_RECEIPT_COLUMNS, (item.participant_id, item.key, now), strict=True)))
        slot = (item.participant_id, item.activity_id, item.gap_id, item.question)
        old, stored_seq = previous.get(slot, (None, None))
        if superseded(stored_seq, item.seq):  # the phone sent a newer answer, stored already
            out.set_result(service.Ack(item.gap_id, item.question, old, superseded=True, seq=stored_seq))
            continue
        previous[slot] = (value, item.seq)
        answers[slot] = dict(zip(_ANSWER_COLUMNS, (*slot, value, _NO_SEGMENTS, item.seq, now), strict=True))
        changes.append((item, info.activity.workshop_id, person.stakeholder_group_id, old, value))
        out.set_result(service.Ack(item.gap_id, item.question, value))
    if receipts:
        insert_ignore_many(session, Receipt, receipts)
        upsert(session, GapAnswer, list(answers.values()), keys=list(_UPSERTING[0]), update=list(_UPSERTING[1]))

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


class CardSplit(Exception):
    """Some questions of a card were refused and others not: the batch must be written
    again with each card on its own (all or none), which the writer does."""


class Card:
    """The questions of one gap card posted as a form (a phone without the websocket).
    Cards of many phones posted at once are written together, through the same
    ``write_ratings`` as the websocket's ratings; a card with a segments question, which
    is written on its own, is not batched."""

    def __init__(self, ratings: list[Rating]):
        self.ratings = ratings
        self.batchable = all(r.batchable for r in ratings)

    def __call__(self, session: Session) -> list:
        return write_card(session, self.ratings)

    @staticmethod
    def run_batch(session: Session, cards: list[Card]) -> list[Outcome]:
        flat = [r for card in cards for r in card.ratings]
        written = dict(zip(map(id, flat), write_ratings(session, flat), strict=True))
        outcomes = []
        for card in cards:
            done = [written[id(r)] for r in card.ratings]
            errors = [o.error for o in done if o.error is not None]
            outcome = Outcome()
            if not errors:
                outcome.set_result([o.value for o in done])
            elif len(errors) == len(done):
                outcome.set_exception(errors[0])
            else:  # all or none: what was written of this card must go
                raise CardSplit()
            outcomes.append(outcome)
        return outcomes


def write_card(session: Session, ratings: list[Rating]) -> list:
    """The ratings of one gap card posted as a form, written together (all or none: the
    first refusal is raised, and the writer's savepoint undoes the rest). The same rules
    as over the websocket: ratings through ``write_ratings``, segments one at a time."""
    together = [r for r in ratings if r.batchable]
    outcomes = dict(zip(map(id, together), write_ratings(session, together), strict=True)) if together else {}
    return [outcomes[id(r)].result() if r.batchable else r(session) for r in ratings]
