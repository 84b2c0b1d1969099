"""Integrity of live voting under concurrency, retries, closing and removal.

What ``DESIGN.md`` ("Data that must hold", "Real time") promises, checked through the
real single writer on the real database (SQLite file, or PostgreSQL when
MINKA_TEST_DATABASE_URL is set): one ballot per participant and question, a retry never
counts twice and an acknowledged vote is never lost, a dot budget holds whatever
arrives at once, and the live in-memory tally always equals a recount of the database.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import anyio
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlmodel import Session, func, select

from server.activities.gaps.batch import Rating
from server.activities.gaps.service import do_answer, do_dots, recount
from server.db import transaction
from server.errors import Invalid
from server.models import Activity, DotVote, Gap, GapAnswer, Receipt, Segment, StakeholderGroup, Workshop
from server.workshops import live
from server.workshops.participants import do_join
from server.workshops.service import agenda_of, do_add_activity, do_create_workshop
from tests import factories

CLOSED = "This activity is closed; your answer was not saved."
GONE = "You are no longer part of this workshop."
NOT_OPEN = "This activity is not open."
DOTS_LEFT = "You have only %(n)s dots left."
AT_MOST = "At most %(n)s dots on one gap."
BUDGET, MOST = 5, 3


# --- arranging ----------------------------------------------------------------------


@dataclass
class Base:
    """Per test: the facilitator, a chain with 3 gaps and 3 segments, 3 stakeholder groups."""

    app: object
    owner: object
    chain: object
    gap_ids: list[int]
    segment_ids: list[int]
    group_ids: list[int]


@dataclass
class Room:
    workshop_id: int
    rating_id: int  # diagnosis: seriousness, relevance, segments
    dots_id: int  # dot voting, budget 5, at most 3 on a gap
    participants: list[int] = field(default_factory=list)


ENV: Base | None = None  # for the state machine (a unittest-style TestCase gets no fixture arguments)


def _forget_all_tallies(app) -> None:
    # Ids restart after the tables are emptied (PostgreSQL RESTART IDENTITY, SQLite rowids),
    # so a tally an earlier test left in the session-wide app would pose as a new activity's.
    tallies = app.state.tallies
    for workshop_id in set(tallies._workshop_of.values()):
        tallies.forget_workshop(workshop_id)


@pytest.fixture(autouse=True)
def base(app, db, users):
    global ENV
    _forget_all_tallies(app)
    factories.reference_lists(db)
    db.add(StakeholderGroup(key="academia", name_es="Academia", name_en="Academia", position=2))
    db.commit()
    chain = factories.chain(db, users.a)
    gaps = db.exec(select(Gap.id).where(Gap.value_chain_id == chain.id).order_by(Gap.position)).all()
    segments = db.exec(select(Segment.id).where(Segment.value_chain_id == chain.id).order_by(Segment.position)).all()
    groups = db.exec(select(StakeholderGroup.id).order_by(StakeholderGroup.position)).all()
    assert len(gaps) == 3 and len(segments) == 3 and len(groups) == 3
    app.state.writer.start()
    ENV = Base(app, users.a, chain, list(gaps), list(segments), list(groups))
    try:
        yield ENV
    finally:
        ENV = None
        app.state.writer.stop()
        _forget_all_tallies(app)


def facilitator(app):
    """A transaction as a facilitator's request has one (on the writer engine, hub attached)."""
    return transaction(app.state.db.writer, {"hub": app.state.hub})


def join(app, room: Room, group_id: int, segment_id: int, name: str = "Ana") -> int:
    with facilitator(app) as s:
        workshop = s.get(Workshop, room.workshop_id)
        participant, _token = do_join(
            s,
            workshop,
            {
                "name": name,
                "organization": "",
                "stakeholder_group_id": str(group_id),
                "segment_id": str(segment_id),
            },
        )
        pid = participant.id
    room.participants.append(pid)
    return pid


def open_activity(app, room: Room, activity_id: int) -> None:
    with facilitator(app) as s:
        live.do_open(s, s.get(Workshop, room.workshop_id), s.get(Activity, activity_id))


def close_activity(app, room: Room, activity_id: int) -> None:
    with facilitator(app) as s:
        live.do_close(s, s.get(Workshop, room.workshop_id), s.get(Activity, activity_id))


def remove(app, room: Room, participant_id: int) -> None:
    with facilitator(app) as s:
        live.do_remove_participant(s, s.get(Workshop, room.workshop_id), participant_id, app.state.tallies)


def arrange(base: Base, *, participants: int = 3, open_: str | None = "rating") -> Room:
    """A fresh workshop: the diagnosis template's rating activity plus a dots activity;
    participants joined (groups and segments in turn); one activity opened and its live
    tally primed, as the facilitator's console does, so later writes move it."""
    app = base.app
    with facilitator(app) as s:
        workshop = do_create_workshop(
            s,
            base.owner,
            base.chain,
            {
                "title": "Taller",
                "date": "2026-12-01",
                "language": "es",
                "attendance": "full",
                "template": "diagnosis",
                "region": "Cusco",
            },
        )
        rating = agenda_of(s, workshop)[0]
        assert rating.settings["mode"] == "rating" and rating.settings["ask_segments"]
        dots = do_add_activity(
            s,
            base.chain,
            workshop,
            {
                "kind": "gap_rating",
                "title": "Puntos",
                "mode": "dots",
                "dot_budget": str(BUDGET),
                "dot_max_per_item": str(MOST),
            },
            [str(g) for g in base.gap_ids],
        )
        room = Room(workshop.id, rating.id, dots.id)
    for n in range(participants):
        join(app, room, base.group_ids[n % len(base.group_ids)], base.segment_ids[n % len(base.segment_ids)], f"P{n}")
    if open_ is not None:
        open_activity(app, room, room.rating_id if open_ == "rating" else room.dots_id)
    for activity_id in (room.rating_id, room.dots_id):
        app.state.tallies.get(activity_id, room.workshop_id)
    return room


# --- acting -------------------------------------------------------------------------


def key() -> str:
    return uuid.uuid4().hex


def run_in_own_loop(coroutine_function, *args):
    """Run a coroutine on a private event loop in its own thread: the main thread may
    already have one running (Playwright's, when the browser tests ran first)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, coroutine_function, *args).result()


def submit(app, work):
    """One write through the single writer, from a private event loop (as a request would)."""
    return run_in_own_loop(app.state.writer.submit, work)


def submit_all(app, works: list) -> list:
    """Writes submitted at once from one event loop: acks, or the exceptions raised."""

    async def go():
        return await asyncio.gather(*(app.state.writer.submit(w) for w in works), return_exceptions=True)

    return run_in_own_loop(go)


def answer(app, room: Room, participant_id: int, gap_id: int, question: str, raw, k: str):
    tallies = app.state.tallies
    return submit(app, lambda s: do_answer(s, tallies, participant_id, room.rating_id, gap_id, question, raw, k))


def dots(app, room: Room, participant_id: int, gap_id: int, raw, k: str):
    tallies = app.state.tallies
    return submit(app, lambda s: do_dots(s, tallies, participant_id, room.dots_id, gap_id, raw, k))


def refusal(exc: BaseException) -> tuple:
    assert isinstance(exc, Invalid), repr(exc)
    message = exc.errors["__all__"]
    return message.msgid, message.params


# --- reading ------------------------------------------------------------------------


def live_and_recount(app, room: Room, activity_id: int) -> tuple[dict, dict]:
    live_tally = app.state.tallies.get(activity_id, room.workshop_id).snapshot()
    with Session(app.state.db.reader) as s:
        fresh = recount(s, activity_id).snapshot()
    return live_tally, fresh


def assert_tally_is_recount(app, room: Room) -> None:
    for activity_id in (room.rating_id, room.dots_id):
        live_tally, fresh = live_and_recount(app, room, activity_id)
        assert live_tally == fresh, f"activity {activity_id}: live tally differs from the recount"


def stored_answers(app, activity_id: int) -> dict:
    with Session(app.state.db.reader) as s:
        rows = s.exec(select(GapAnswer).where(GapAnswer.activity_id == activity_id)).all()
        return {
            (r.participant_id, r.gap_id, r.question): frozenset(r.segments) if r.question == "segments" else r.value
            for r in rows
        }


def stored_dots(app, activity_id: int) -> dict:
    with Session(app.state.db.reader) as s:
        rows = s.exec(select(DotVote).where(DotVote.activity_id == activity_id)).all()
        return {(r.participant_id, r.gap_id): r.dots for r in rows}


def receipts(app, participant_id: int) -> int:
    with Session(app.state.db.reader) as s:
        return s.exec(select(func.count()).select_from(Receipt).where(Receipt.participant_id == participant_id)).one()


# --- 2. identical and competing votes -------------------------------------------------


def test_twenty_identical_concurrent_votes_store_one(app, base):
    room = arrange(base, participants=2)
    p, gap = room.participants[0], base.gap_ids[1]
    tallies, k = app.state.tallies, key()
    work = lambda s: do_answer(s, tallies, p, room.rating_id, gap, "seriousness", "4", k)  # noqa: E731

    acks = submit_all(app, [work] * 20)

    assert all(not isinstance(a, BaseException) for a in acks), acks
    assert sorted(a.duplicate for a in acks) == [False] + [True] * 19
    assert stored_answers(app, room.rating_id) == {(p, gap, "seriousness"): 4}
    assert receipts(app, p) == 1
    live_tally, fresh = live_and_recount(app, room, room.rating_id)
    assert live_tally["overall"][gap]["seriousness"] == {4: 1}
    assert live_tally["respondents"] == 1
    assert live_tally == fresh


def test_twenty_competing_votes_from_threads_keep_one_row_and_the_last_wins(app, base):
    room = arrange(base, participants=2)
    p, gap = room.participants[1], base.gap_ids[0]
    tallies = app.state.tallies
    ran: list[int] = []  # values in the order the writer committed them
    start = threading.Barrier(20)

    def vote(n: int):
        value = n % 5 + 1

        def work(s):
            ack = do_answer(s, tallies, p, room.rating_id, gap, "seriousness", value, key())
            ran.append(value)
            return ack

        start.wait()
        return submit(app, work)

    with ThreadPoolExecutor(20) as pool:
        acks = list(pool.map(vote, range(20)))

    assert all(not a.duplicate for a in acks) and len(ran) == 20
    assert stored_answers(app, room.rating_id) == {(p, gap, "seriousness"): ran[-1]}
    assert receipts(app, p) == 20
    live_tally, fresh = live_and_recount(app, room, room.rating_id)
    assert live_tally["overall"][gap]["seriousness"] == {ran[-1]: 1}
    assert live_tally == fresh


# --- 3. the dot budget ----------------------------------------------------------------


def test_fifty_concurrent_dot_spends_never_exceed_the_budget(app, base):
    room = arrange(base, participants=2, open_="dots")
    p, tallies = room.participants[0], app.state.tallies
    rng = random.Random(2026)
    ran: list[tuple[int, int, bool]] = []  # (gap, dots, accepted) in the writer's order

    def spend(gap: int, n: int):
        def work(s):
            try:
                ack = do_dots(s, tallies, p, room.dots_id, gap, n, key())
            except Invalid:
                ran.append((gap, n, False))
                raise
            ran.append((gap, n, True))
            return ack

        return work

    wanted = [(rng.choice(base.gap_ids), rng.randint(1, 3)) for _ in range(50)]
    outcomes = submit_all(app, [spend(g, n) for g, n in wanted])

    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert refused, "a budget of 5 with up to 9 dots asked must refuse some"
    for exc in refused:
        msgid, params = refusal(exc)
        assert msgid == DOTS_LEFT and "dots left" in msgid and 0 <= params["n"] < 3
    stored = stored_dots(app, room.dots_id)
    assert 0 < sum(stored.values()) <= BUDGET
    # Replayed one by one in the writer's order, the same spends are accepted and refused.
    spent: dict[int, int] = {}
    for gap, n, accepted in ran:
        assert accepted == (sum(spent.values()) - spent.get(gap, 0) + n <= BUDGET)
        if accepted:
            spent[gap] = n
    assert len(ran) == 50
    assert stored == {(p, gap): n for gap, n in spent.items()}
    for ack in outcomes:
        if not isinstance(ack, BaseException):
            assert 0 <= ack.dots_left <= BUDGET
    live_tally, fresh = live_and_recount(app, room, room.dots_id)
    assert sum(c["dots"] for c in live_tally["overall"].values()) == sum(stored.values())
    assert live_tally == fresh


# --- 5. closing ----------------------------------------------------------------------


def test_a_closed_activity_refuses_votes_but_acknowledges_retries_of_saved_ones(app, base):
    room = arrange(base, participants=2)
    p, gap = room.participants[0], base.gap_ids[2]
    saved_key = key()
    assert not answer(app, room, p, gap, "seriousness", 3, saved_key).duplicate
    before = stored_answers(app, room.rating_id)
    tally_before = app.state.tallies.get(room.rating_id, room.workshop_id).snapshot()

    close_activity(app, room, room.rating_id)

    with pytest.raises(Invalid) as refused:
        answer(app, room, p, gap, "seriousness", 5, key())
    assert refusal(refused.value) == (CLOSED, {})
    with pytest.raises(Invalid) as refused_new:
        answer(app, room, room.participants[1], gap, "specialization", 2, key())
    assert refusal(refused_new.value) == (CLOSED, {})
    # The phone that was told "saved" before the close retries: it must hear "saved" again.
    retry = answer(app, room, p, gap, "seriousness", 3, saved_key)
    assert retry.duplicate
    assert stored_answers(app, room.rating_id) == before == {(p, gap, "seriousness"): 3}
    assert receipts(app, p) == 1 and receipts(app, room.participants[1]) == 0
    assert app.state.tallies.get(room.rating_id, room.workshop_id).snapshot() == tally_before
    assert_tally_is_recount(app, room)

    # Reopened, it takes votes again.
    open_activity(app, room, room.rating_id)
    assert not answer(app, room, p, gap, "seriousness", 5, key()).duplicate
    assert stored_answers(app, room.rating_id) == {(p, gap, "seriousness"): 5}
    assert_tally_is_recount(app, room)


# --- 6. removing a participant ---------------------------------------------------------


def test_a_removed_participant_is_refused_and_no_longer_counts(app, base):
    room = arrange(base, participants=3)
    gone, stays = room.participants[0], room.participants[1]
    gap = base.gap_ids[0]
    answer(app, room, gone, gap, "seriousness", 1, key())
    answer(app, room, gone, gap, "segments", [base.segment_ids[0]], key())
    answer(app, room, stays, gap, "seriousness", 5, key())
    open_activity(app, room, room.dots_id)
    dots(app, room, gone, gap, 3, key())
    dots(app, room, stays, gap, 1, key())
    open_activity(app, room, room.rating_id)
    assert app.state.tallies.get(room.rating_id, room.workshop_id).snapshot()["respondents"] == 2

    remove(app, room, gone)

    with pytest.raises(Invalid) as refused:
        answer(app, room, gone, gap, "seriousness", 2, key())
    assert refusal(refused.value) == (GONE, {})
    assert stored_answers(app, room.rating_id) == {(stays, gap, "seriousness"): 5}
    assert stored_dots(app, room.dots_id) == {(stays, gap): 1}
    rating_live, rating_fresh = live_and_recount(app, room, room.rating_id)
    assert rating_live == rating_fresh
    assert rating_live["respondents"] == 1 and rating_live["overall"][gap]["seriousness"] == {5: 1}
    assert rating_live["overall"][gap]["segment_answers"] == 0
    dots_live, dots_fresh = live_and_recount(app, room, room.dots_id)
    assert dots_live == dots_fresh and dots_live["overall"][gap]["dots"] == 1


def test_a_vote_racing_the_removal_of_its_participant_does_not_count(app, base):
    """The facilitator removes someone while their phone's vote is in the writer's batch.

    Whatever the order, once both have committed the removed participant has no answer
    left: either the vote was refused, or it committed first and the removal deleted it.
    """
    room = arrange(base, participants=2)
    gone, gap = room.participants[0], base.gap_ids[0]
    answer(app, room, gone, gap, "seriousness", 2, key())
    tallies = app.state.tallies
    vote = lambda s: do_answer(s, tallies, gone, room.rating_id, base.gap_ids[1], "seriousness", 4, key())  # noqa: E731

    with ThreadPoolExecutor(1) as pool:
        with facilitator(app) as s:
            live.do_remove_participant(s, s.get(Workshop, room.workshop_id), gone, tallies)
            pending = pool.submit(submit, app, vote)
            wait([pending], timeout=0.3)  # SQLite: waits for the removal; PostgreSQL: may commit first
        try:
            outcome = pending.result(timeout=30)
        except Invalid as exc:
            outcome = exc

    assert not any(p == gone for p, _, _ in stored_answers(app, room.rating_id)), (
        f"the removed participant's answer was stored and counts (the vote got {outcome!r})"
    )
    assert_tally_is_recount(app, room)


# --- 4. a stateful model of a live session ----------------------------------------------


@dataclass
class Sent:
    """A write a phone sent, kept so that it can be sent again with its key."""

    kind: str  # "answer" or "dots"
    participant: int
    gap: int
    question: str
    raw: object
    key: str


class LiveSession(RuleBasedStateMachine):
    """Participants join, vote, change votes, retry, spend dots, get removed; the
    facilitator closes and reopens. The model says what each write must get back and
    what the database must hold; the live tally must always equal a recount."""

    @initialize()
    def new_workshop(self):
        self.base = ENV
        self.app = self.base.app
        self.room = arrange(self.base, participants=0)
        self.status = {self.room.rating_id: "open", self.room.dots_id: "pending"}
        self.answers: dict[tuple[int, int, str], object] = {}
        self.dots: dict[tuple[int, int], int] = {}
        self.removed: set[int] = set()
        self.committed: set[str] = set()
        self.sent: list[Sent] = []

    # -- helpers --

    def active(self) -> list[int]:
        return [p for p in self.room.participants if p not in self.removed]

    def send(self, message: Sent) -> tuple:
        """Send, compare with what the model expects, and update the model."""
        expected = self.expect(message)
        tallies, room = self.app.state.tallies, self.room

        # Ratings go the way phones send them: batched by the writer (server/activities/gaps/batch.py).
        if message.kind == "answer":
            work = Rating(
                tallies, message.participant, room.rating_id, message.gap, message.question, message.raw, message.key
            )
        else:

            def work(s):
                return do_dots(s, tallies, message.participant, room.dots_id, message.gap, message.raw, message.key)

        try:
            ack = submit(self.app, work)
        except Invalid as exc:
            got = ("refused", *refusal(exc))
        else:
            got = ("duplicate",) if ack.duplicate else ("ok",)
        assert got == expected, message
        if got == ("ok",):
            self.committed.add(message.key)
            if message.kind == "answer":
                value = frozenset(message.raw) if message.question == "segments" else int(message.raw)
                self.answers[(message.participant, message.gap, message.question)] = value
            else:
                self.dots[(message.participant, message.gap)] = int(message.raw)
        return got

    def expect(self, message: Sent) -> tuple:
        if message.key in self.committed:
            return ("duplicate",)
        if message.participant in self.removed:
            return ("refused", GONE, {})
        activity = self.room.rating_id if message.kind == "answer" else self.room.dots_id
        if self.status[activity] != "open":
            return ("refused", CLOSED, {})
        if message.kind == "dots":
            n = int(message.raw)
            if n > MOST:
                return ("refused", AT_MOST, {"n": MOST})
            mine = {g: d for (p, g), d in self.dots.items() if p == message.participant}
            others = sum(mine.values()) - mine.get(message.gap, 0)
            if others + n > BUDGET:
                return ("refused", DOTS_LEFT, {"n": BUDGET - others})
        return ("ok",)

    def value(self, question: str, v: int, segments: set[int]):
        if question == "seriousness":
            return 1 + v % 5
        if question == "specialization":
            return v % 4
        return sorted(self.base.segment_ids[i] for i in segments)

    # -- rules --

    @rule(group=st.integers(0, 2), segment=st.integers(0, 2))
    def join(self, group, segment):
        join(self.app, self.room, self.base.group_ids[group], self.base.segment_ids[segment])

    @precondition(lambda self: self.room.participants)
    @rule(
        who=st.integers(0, 50),
        gap=st.integers(0, 2),
        question=st.sampled_from(["seriousness", "specialization", "segments"]),
        v=st.integers(0, 19),
        segments=st.sets(st.integers(0, 2)),
    )
    def vote(self, who, gap, question, v, segments):
        participant = self.room.participants[who % len(self.room.participants)]
        message = Sent(
            "answer", participant, self.base.gap_ids[gap], question, self.value(question, v, segments), key()
        )
        self.sent.append(message)
        self.send(message)

    @precondition(lambda self: self.answers)
    @rule(which=st.integers(0, 50), v=st.integers(0, 19), segments=st.sets(st.integers(0, 2)))
    def change_vote(self, which, v, segments):
        participant, gap, question = sorted(self.answers)[which % len(self.answers)]
        message = Sent("answer", participant, gap, question, self.value(question, v, segments), key())
        self.sent.append(message)
        self.send(message)

    @precondition(lambda self: self.sent)
    @rule(which=st.integers(0, 50))
    def retry(self, which):
        message = self.sent[which % len(self.sent)]
        was_committed = message.key in self.committed
        answers, spent = dict(self.answers), dict(self.dots)
        got = self.send(message)
        if was_committed:
            assert got == ("duplicate",)
            assert (self.answers, self.dots) == (answers, spent)

    @precondition(lambda self: self.room.participants)
    @rule(who=st.integers(0, 50), gap=st.integers(0, 2), n=st.integers(0, MOST + 1))
    def spend_dots(self, who, gap, n):
        participant = self.room.participants[who % len(self.room.participants)]
        message = Sent("dots", participant, self.base.gap_ids[gap], "dots", n, key())
        self.sent.append(message)
        self.send(message)

    @rule(dots_activity=st.booleans())
    def close(self, dots_activity):
        activity = self.room.dots_id if dots_activity else self.room.rating_id
        try:
            close_activity(self.app, self.room, activity)
        except Invalid as exc:
            assert self.status[activity] != "open"
            assert refusal(exc) == (NOT_OPEN, {})
        else:
            assert self.status[activity] == "open"
            self.status[activity] = "closed"

    @rule(dots_activity=st.booleans())
    def reopen(self, dots_activity):
        activity = self.room.dots_id if dots_activity else self.room.rating_id
        open_activity(self.app, self.room, activity)
        for other, status in self.status.items():
            if status == "open":
                self.status[other] = "closed"  # one activity open at a time
        self.status[activity] = "open"

    @precondition(lambda self: self.active())
    @rule(who=st.integers(0, 50))
    def remove(self, who):
        participant = self.active()[who % len(self.active())]
        remove(self.app, self.room, participant)
        self.removed.add(participant)
        self.answers = {k: v for k, v in self.answers.items() if k[0] != participant}
        self.dots = {k: v for k, v in self.dots.items() if k[0] != participant}

    # -- invariants --

    @invariant()
    def live_tally_is_the_recount(self):
        assert_tally_is_recount(self.app, self.room)

    @invariant()
    def database_holds_the_model(self):
        assert stored_answers(self.app, self.room.rating_id) == self.answers
        assert stored_dots(self.app, self.room.dots_id) == self.dots
        with Session(self.app.state.db.reader) as s:
            statuses = dict(
                s.exec(select(Activity.id, Activity.status).where(Activity.workshop_id == self.room.workshop_id)).all()
            )
        assert {a: str(st_) for a, st_ in statuses.items()} == self.status


LiveSession.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLiveSession = LiveSession.TestCase


# --- the batched path of ratings (what the websocket uses) -----------------------------


def test_twenty_identical_batched_ratings_store_one(app, base):
    room = arrange(base, participants=1)
    (p,) = room.participants
    k, tallies = key(), app.state.tallies
    acks = submit_all(
        app, [Rating(tallies, p, room.rating_id, base.gap_ids[0], "seriousness", "4", k) for _ in range(20)]
    )
    assert all(not isinstance(a, BaseException) for a in acks), acks
    assert sorted(a.duplicate for a in acks) == [False] + [True] * 19
    assert stored_answers(app, room.rating_id) == {(p, base.gap_ids[0], "seriousness"): 4}
    assert receipts(app, p) == 1
    assert_tally_is_recount(app, room)


def test_a_batch_refuses_each_bad_rating_alone(app, base):
    room = arrange(base, participants=3)
    a, b, c = room.participants
    remove(app, room, c)
    tallies = app.state.tallies
    works = [
        Rating(tallies, a, room.rating_id, base.gap_ids[0], "seriousness", "5", key()),
        Rating(tallies, a, room.rating_id, base.gap_ids[1], "seriousness", "9", key()),  # out of range
        Rating(tallies, b, room.rating_id, 999_999, "seriousness", "3", key()),  # not a gap of the activity
        Rating(tallies, c, room.rating_id, base.gap_ids[0], "seriousness", "2", key()),  # removed
        Rating(tallies, b, room.rating_id, base.gap_ids[0], "seriousness", "1", "short"),  # bad key
        Rating(tallies, b, room.rating_id, base.gap_ids[0], "seriousness", "2", key()),
        Rating(tallies, b, room.rating_id, base.gap_ids[0], "seriousness", "3", key()),  # the latest counts
    ]
    acks = submit_all(app, works)
    assert [isinstance(x, Invalid) for x in acks] == [False, True, True, True, True, False, False]
    assert refusal(acks[3])[0] == GONE
    assert stored_answers(app, room.rating_id) == {
        (a, base.gap_ids[0], "seriousness"): 5,
        (b, base.gap_ids[0], "seriousness"): 3,
    }
    assert_tally_is_recount(app, room)
    close_activity(app, room, room.rating_id)
    late = submit_all(app, [Rating(tallies, a, room.rating_id, base.gap_ids[0], "seriousness", "1", key())])
    assert refusal(late[0])[0] == CLOSED


def test_a_large_batch_and_its_retries_are_written_exactly(app, base):
    """More ratings in one batch than one multi-row statement holds (64), crossing every
    statement size, then the same batch again (all retries) with some new ratings: every
    rating is stored once, retries change nothing, and the tally equals a recount."""
    room = arrange(base, participants=12)
    tallies, writer = app.state.tallies, app.state.writer
    questions = ("seriousness", "specialization", "diversification", "global_context")
    rng = random.Random(7)
    first = [
        Rating(
            tallies, p, room.rating_id, g, q, str(rng.randint(1, 5) if q == "seriousness" else rng.randint(0, 3)), key()
        )
        for p in room.participants
        for g in base.gap_ids
        for q in questions
    ]
    assert len(first) == 144
    outcomes = writer._write(first)
    assert [o.error for o in outcomes] == [None] * 144
    assert not any(o.value.duplicate for o in outcomes)
    expected = {(r.participant_id, r.gap_id, r.question): int(r.raw) for r in first}
    assert stored_answers(app, room.rating_id) == expected

    again = [Rating(tallies, r.participant_id, r.activity_id, r.gap_id, r.question, "1", r.key) for r in first]
    changed = [
        Rating(tallies, p, room.rating_id, base.gap_ids[0], "seriousness", "5", key()) for p in room.participants
    ]
    outcomes = writer._write(again + changed)
    assert [o.error for o in outcomes] == [None] * (144 + 12)
    assert [o.value.duplicate for o in outcomes] == [True] * 144 + [False] * 12
    expected.update({(p, base.gap_ids[0], "seriousness"): 5 for p in room.participants})
    assert stored_answers(app, room.rating_id) == expected
    assert sum(receipts(app, p) for p in room.participants) == 144 + 12
    assert_tally_is_recount(app, room)


# --- one participant cannot make others' votes fail (issue 8, hole 3) -------------------

HUGE = 1180591620717411303424  # 2**70: overflows the database's integers


def test_overflowing_ids_in_a_batch_are_refused_alone(app, base):
    """Ids over 2**63 never reach the database: refused in the batch, the others stored."""
    room = arrange(base, participants=3)
    a, b, c = room.participants
    tallies, g = app.state.tallies, base.gap_ids
    works = [
        Rating(tallies, a, room.rating_id, g[0], "seriousness", 5, key()),
        Rating(tallies, b, HUGE, g[0], "seriousness", 3, key()),
        Rating(tallies, b, room.rating_id, HUGE, "seriousness", 3, key()),
        Rating(tallies, b, room.rating_id, -HUGE, "seriousness", 3, key()),
        Rating(tallies, b, room.rating_id, g[1], "seriousness", HUGE, key()),
        Rating(tallies, c, room.rating_id, g[2], "specialization", 2, key()),
        Rating(tallies, c, room.rating_id, g[2], "segments", [HUGE], key()),
    ]
    outcomes = app.state.writer._write(works)
    assert [type(o.error).__name__ for o in outcomes] == ["NoneType", *["Invalid"] * 4, "NoneType", "Invalid"]
    assert stored_answers(app, room.rating_id) == {
        (a, g[0], "seriousness"): 5,
        (c, g[2], "specialization"): 2,
    }
    assert_tally_is_recount(app, room)


def test_a_batch_that_fails_in_the_database_fails_only_its_bad_member(app, base, monkeypatch):
    """Should a bad value slip past the checks (simulated here: the check lets anything
    through), the database refuses it; the batch then writes its members one by one,
    each in its own savepoint: the honest ones are stored and acknowledged."""
    from server.activities.gaps import service

    room = arrange(base, participants=3)
    a, b, c = room.participants
    tallies, g = app.state.tallies, base.gap_ids
    checked = service.check_answer
    monkeypatch.setattr(
        service, "check_answer", lambda info, gap, q, raw: raw if raw == HUGE else checked(info, gap, q, raw)
    )
    honest = [Rating(tallies, p, room.rating_id, g[n], "seriousness", n + 2, key()) for n, p in enumerate((a, b, c))]
    bad = Rating(tallies, b, room.rating_id, g[0], "seriousness", HUGE, key())
    outcomes = app.state.writer._write_apart([honest[0], bad, *honest[1:]])
    assert [o.error is None for o in outcomes] == [True, False, True, True]
    assert [o.value.value for o in (outcomes[0], *outcomes[2:])] == [2, 3, 4]
    assert stored_answers(app, room.rating_id) == {(p, g[n], "seriousness"): n + 2 for n, p in enumerate((a, b, c))}
    assert receipts(app, b) == 1  # the bad one left no receipt: its retry is not taken for a success
    assert_tally_is_recount(app, room)


def test_honest_phones_are_acknowledged_when_another_sends_an_overflowing_vote(app, base):
    """Through the running writer, as the websocket submits: the honest votes queued with
    the bad one are all acknowledged."""
    room = arrange(base, participants=3)
    a, b, c = room.participants
    tallies, g = app.state.tallies, base.gap_ids
    works = [
        Rating(tallies, p, room.rating_id, g[n % 3], "seriousness", 1 + n % 5, key()) for n, p in enumerate([a, c] * 20)
    ]
    works.insert(7, Rating(tallies, b, HUGE, g[0], "seriousness", 3, key()))
    works.insert(15, Rating(tallies, b, room.rating_id, g[0], "seriousness", HUGE, key()))
    acks = submit_all(app, works)
    assert [isinstance(x, BaseException) for x in acks].count(True) == 2
    assert isinstance(acks[7], Invalid) and isinstance(acks[15], Invalid)
    assert_tally_is_recount(app, room)


def test_a_batch_whose_commit_fails_is_written_again_one_write_at_a_time(app, base):
    """A write that makes the commit itself fail (as a deferred constraint would) takes
    the whole transaction with it: the others are written again, each on its own."""
    from sqlalchemy import event

    room = arrange(base, participants=2)
    a, b = room.participants
    tallies, g = app.state.tallies, base.gap_ids

    def poison(s):
        def refuse_commit(_session):
            raise RuntimeError("refused at commit")

        event.listen(s, "before_commit", refuse_commit, once=True)

    works = [
        Rating(tallies, a, room.rating_id, g[0], "seriousness", 4, key()),
        poison,
        lambda s: do_answer(s, tallies, b, room.rating_id, g[1], "seriousness", 2, key()),
    ]
    outcomes = app.state.writer._write_apart(works)
    assert [o.error is None for o in outcomes] == [True, False, True]
    assert stored_answers(app, room.rating_id) == {(a, g[0], "seriousness"): 4, (b, g[1], "seriousness"): 2}
    assert_tally_is_recount(app, room)


# --- the phone's order of its answers (issue 8, hole 12; see also tests/activities/test_answer_order.py) ---


def test_an_older_rating_never_replaces_a_newer_one_in_the_service(app, base):
    room = arrange(base, participants=1)
    (p,) = room.participants
    g, tallies = base.gap_ids[0], app.state.tallies

    def rate(value, seq, k=None):
        return submit(app, lambda s: do_answer(s, tallies, p, room.rating_id, g, "seriousness", value, k or key(), seq))

    newer, older = key(), key()
    assert rate(2, 20, newer).value == 2  # committed just before the server died
    late = rate(3, 10, older)  # the retry of the earlier answer, after the restart
    assert late.superseded and late.value == 2 and late.seq == 20
    assert rate(2, 20, newer).duplicate  # the retry of the later one
    assert rate(3, 10, older).duplicate  # and of the earlier one: nothing changes
    assert stored_answers(app, room.rating_id) == {(p, g, "seriousness"): 2}
    assert not rate(4, 21).superseded  # a newer answer replaces it
    assert not rate(5, None).superseded  # an answer without a sequence (a plain form) replaces anything
    assert not rate(1, 5).superseded  # and what comes after it goes in the order it arrives
    assert stored_answers(app, room.rating_id) == {(p, g, "seriousness"): 1}
    assert_tally_is_recount(app, room)


def test_the_batched_path_keeps_the_phones_order_within_and_across_batches(app, base):
    room = arrange(base, participants=2)
    a, b = room.participants
    g, tallies = base.gap_ids, app.state.tallies
    acks = submit_all(
        app,
        [
            Rating(tallies, a, room.rating_id, g[0], "seriousness", 2, key(), 20),
            Rating(tallies, a, room.rating_id, g[0], "seriousness", 3, key(), 10),  # older, after it
            Rating(tallies, b, room.rating_id, g[0], "seriousness", 4, key(), 10),
            Rating(tallies, b, room.rating_id, g[0], "seriousness", 5, key(), 30),  # newer, after it
            Rating(tallies, b, room.rating_id, g[1], "segments", [base.segment_ids[0]], key(), 7),
        ],
    )
    assert [x.superseded for x in acks] == [False, True, False, False, False]
    assert acks[1].value == 2 and acks[1].seq == 20
    later = submit_all(
        app,
        [
            Rating(tallies, a, room.rating_id, g[0], "seriousness", 1, key(), 19),
            Rating(tallies, b, room.rating_id, g[1], "segments", [], key(), 6),
        ],
    )
    assert [x.superseded for x in later] == [True, True]
    assert later[1].value == [base.segment_ids[0]]
    stored = stored_answers(app, room.rating_id)
    assert stored == {
        (a, g[0], "seriousness"): 2,
        (b, g[0], "seriousness"): 5,
        (b, g[1], "segments"): frozenset({base.segment_ids[0]}),
    }
    assert_tally_is_recount(app, room)


def test_dots_keep_the_phones_order(app, base, db):
    room = arrange(base, participants=1, open_="dots")
    (p,) = room.participants
    g, tallies = base.gap_ids[0], app.state.tallies
    assert submit(app, lambda s: do_dots(s, tallies, p, room.dots_id, g, 2, key(), 8)).dots_left == 3
    late = submit(app, lambda s: do_dots(s, tallies, p, room.dots_id, g, 1, key(), 7))
    assert late.superseded and late.value == 2 and late.dots_left == 3
    assert [(d.gap_id, d.dots, d.seq) for d in db.exec(select(DotVote))] == [(g, 2, 8)]
    assert_tally_is_recount(app, room)


def test_cards_posted_at_once_are_written_together_and_each_stays_all_or_none(app, base):
    """Cards of several phones (form posts) in one batch: the honest ones are stored; a
    card with one refused question keeps none of its questions (the writer writes that
    batch again with every card on its own); a card refused whole is refused."""
    from server.activities.gaps.batch import Card

    room = arrange(base, participants=3)
    a, b, c = room.participants
    tallies, g = app.state.tallies, base.gap_ids

    def card(p, gap, **answers):
        return Card([Rating(tallies, p, room.rating_id, gap, q, v, key()) for q, v in answers.items()])

    cards = [
        card(a, g[0], seriousness=4, specialization=2),
        card(b, g[0], seriousness=5, specialization=9),  # relevance out of range: none of it
        card(c, g[1], seriousness=0),  # refused whole
        card(c, g[2], seriousness=1, specialization=3),
    ]
    assert all(x.batchable for x in cards)
    outcomes = app.state.writer._write_apart(cards)
    assert [o.error is None for o in outcomes] == [True, False, False, True]
    assert stored_answers(app, room.rating_id) == {
        (a, g[0], "seriousness"): 4,
        (a, g[0], "specialization"): 2,
        (c, g[2], "seriousness"): 1,
        (c, g[2], "specialization"): 3,
    }
    assert_tally_is_recount(app, room)
    # Without the refused card, the same kind of batch is written in one go.
    batches = app.state.writer.batches
    more = [card(a, g[1], seriousness=2, specialization=1), card(b, g[1], seriousness=3)]
    assert [o.error is None for o in app.state.writer._write_apart(more)] == [True, True]
    assert app.state.writer.batches == batches + 1
