"""Many ratings in one go: the writer's fast path for the busiest write of a live room.

A room of 2,000 phones sends thousands of ratings a second. One at a time, each costs a
savepoint and five statements; here a whole batch is checked in Python first (keys,
participants and earlier answers read with one statement each), then written with two
statements (receipts, answers), so the cost per rating is a fraction. The rules are the
ones of ``service.do_answer`` (same checks, same messages, same acknowledgements); answers
to the segments question, which carry a list, keep the one-at-a-time path.
"""

from __future__ import annotations

import functools
import json
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func, or_, select
from sqlmodel import Session

from server.activities.gaps import service
from server.activities.receipts import check_key, refuse
from server.db import after_commit, insert_ignore_many, prepare_rows, upsert
from server.errors import Invalid
from server.i18n import N_
from server.models import GapAnswer, Participant, Receipt, utcnow
from server.realtime.writer import Outcome

_RECEIPTS, _ANSWERS, _PARTICIPANTS = Receipt.__table__, GapAnswer.__table__, Participant.__table__
_SLOT = ("participant_id", "activity_id", "gap_id", "question")


def _folded(statement):
    """The same rows as one JSON array of arrays, in a single row (SQLite)."""
    rows = statement.subquery()
    return select(func.json_group_array(func.json_array(*rows.c)))


def _fetch(conn, statements: tuple, params: dict) -> list[tuple]:
    """The rows of ``statements[0]``; on SQLite, fetched folded (``statements[1]``). Each
    row fetched from SQLite lets the event loop take Python's lock, and getting it back
    could wait up to the switch interval: fetched row by row, a batch of votes took
    several times longer under load than alone."""
    if conn.dialect.name == "sqlite":
        return [tuple(row) for row in json.loads(conn.execute(statements[1], params).scalar_one())]
    return [tuple(row) for row in conn.execute(statements[0], params)]


@functools.lru_cache(maxsize=32)
def _rows_statement(table, columns: tuple[str, ...], match: tuple[str, ...], size: int) -> tuple:
    """SELECT ``columns`` of the rows whose ``match`` columns equal one of ``size`` given
    tuples: an OR of equalities, for which both databases search the key once per tuple
    (SQLite scans the whole table for a row-value IN, and probes every combination of
    several IN lists). With its folded form (``_fetch``)."""
    t = table
    tuples = (and_(*(t.c[m] == bindparam(f"{m}_{n}") for m in match)) for n in range(size))
    statement = select(*(t.c[c] for c in columns)).where(or_(*tuples))
    return statement, _folded(statement)


MATCH_CHUNK = 64


def _rows_matching(conn, table, columns: tuple[str, ...], match: tuple[str, ...], wanted: list[tuple]) -> list:
    """Up to 64 tuples per statement, padded to a power of two (repeating the last
    tuple): a handful of statements, each built and compiled once (see ``warm``)."""
    rows = []
    for start in range(0, len(wanted), MATCH_CHUNK):
        chunk = wanted[start : start + MATCH_CHUNK]
        size = 1 << (len(chunk) - 1).bit_length()
        padded = chunk + [chunk[-1]] * (size - len(chunk))
        params = {f"{m}_{n}": v for n, values in enumerate(padded) for m, v in zip(match, values, strict=True)}
        rows.extend(_fetch(conn, _rows_statement(table, columns, match, size), params))
    return rows


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
_PEOPLE = (_PEOPLE_ROWS.with_for_update(), _folded(_PEOPLE_ROWS))


_RECEIPT_COLUMNS = ("participant_id", "key", "created_at")
_ANSWER_COLUMNS = (*_SLOT, "value", "segments", "updated_at")
_UPSERTING = (_SLOT, ("value", "segments", "updated_at"))


def warm(session: Session) -> None:
    """Build and compile this module's statements before the first vote (the writer
    calls it when it starts): the first batch of a busy room must not wait for them."""
    conn = session.connection()
    for size in (1 << n for n in range(MATCH_CHUNK.bit_length())):
        _rows_matching(conn, _RECEIPTS, ("participant_id", "key"), ("participant_id", "key"), [(-1, "")] * size)
        _rows_matching(conn, _ANSWERS, (*_SLOT, "value"), _SLOT, [(-1, -1, -1, "")] * size)
    prepare_rows(session, Receipt, _RECEIPT_COLUMNS)
    prepare_rows(session, GapAnswer, _ANSWER_COLUMNS, _UPSERTING)


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
    def run_batch(session: Session, items: list[Rating]) -> list[Outcome]:
        return write_ratings(session, items)


def write_ratings(session: Session, items: list[Rating]) -> list[Outcome]:
    outcomes = [Outcome() for _ in items]
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
    pids = sorted({p for p, _ in pairs})
    seen = {
        tuple(r) for r in _rows_matching(conn, _RECEIPTS, ("participant_id", "key"), ("participant_id", "key"), pairs)
    }
    people = {row[0]: Person(*row) for row in _fetch(conn, _PEOPLE, {"pids": pids})}
    slots = sorted(
        {
            (i.participant_id, i.activity_id, i.gap_id, i.question)
            for i, out in zip(items, outcomes, strict=True)
            if not out.done()
        }
    )
    previous = {(p, a, g, q): v for p, a, g, q, v in _rows_matching(conn, _ANSWERS, (*_SLOT, "value"), _SLOT, slots)}
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
        receipts.append(dict(zip(_RECEIPT_COLUMNS, (item.participant_id, item.key, now), strict=True)))
        answers[slot] = dict(zip(_ANSWER_COLUMNS, (*slot, value, [], now), strict=True))
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
