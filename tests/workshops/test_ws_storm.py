"""A reconnect storm is shed at the door without losing an acknowledged answer: many
phones connect at once to a real server (uvicorn, the real app) whose door lets a few in
each second; the others are told 1013 ("try again later") before anything is read, come
back after a short random wait, as static/phone/transport.js does, and every answer is
acknowledged and stored once, its resend (same key) counted once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time

import pytest
import websockets
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from server.db import transaction
from server.models import GapAnswer, Receipt, Workshop
from server.realtime.admission import TRY_AGAIN_LATER, Doorman
from server.workshops.participants import cookie_name, do_join
from tests.live_helpers import room, run_async

PHONES = 30


def join_many(app, workshop_id: int, n: int, group_id: int, segment_id: int) -> dict[int, str]:
    """n participants joined directly (joining over HTTP is limited per address)."""
    tokens = {}
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        workshop = session.get(Workshop, workshop_id)
        for i in range(n):
            data = {"name": f"Storm {i}", "stakeholder_group_id": str(group_id), "segment_id": str(segment_id)}
            participant, token = do_join(session, workshop, data)
            tokens[participant.id] = token
    return tokens


async def phone(base: str, workshop_id: int, token: str, answer: dict, refusals: list[int]) -> dict:
    """Connect until let in (backing off on 1013), say hello, send the answer and then
    the same answer again (a resend after a reconnection), and return its acks."""
    url = base.replace("http://", "ws://") + f"/ws/p/{workshop_id}"
    headers = {"Cookie": f"{cookie_name(workshop_id)}={token}"}
    for _attempt in range(200):
        async with websockets.connect(url, origin=base, additional_headers=headers, open_timeout=20) as ws:
            try:
                await ws.send(json.dumps({"t": "hello", "a": answer["a"]}))
                await ws.send(json.dumps(answer))
                acks = []
                while len(acks) < 2:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 20))
                    if message["t"] == "ack":
                        acks.append(message)
                        if len(acks) == 1:
                            await ws.send(json.dumps(answer))
                return {"acks": acks, "code": None}
            except websockets.ConnectionClosed:
                if ws.close_code != TRY_AGAIN_LATER:
                    return {"acks": [], "code": ws.close_code}
                refusals.append(float(ws.close_reason))  # its turn, in seconds
        await asyncio.sleep(0.1 + random.random() * 0.4)
    return {"acks": [], "code": "never let in"}


@contextlib.contextmanager
def door_of(app, door: Doorman):
    """``door`` in front of the app for one test. (Not monkeypatch: undoing it on
    Starlette's State deletes the attribute.)"""
    usual = app.state.doorman
    app.state.doorman = door
    try:
        yield door
    finally:
        app.state.doorman = usual


@pytest.fixture
def small_door(app):
    """A door of 10 phones a second, 5 at once, 4 in the doorway, and no line: the others
    are turned away."""
    with door_of(app, Doorman(rate=10, burst=5, in_flight=4)) as door:
        yield door


def test_a_storm_is_shed_with_1013_and_every_acknowledged_answer_is_stored_once(
    app, db, users, live_server, small_door
):
    assert_storm_stored_once(app, db, users, live_server, small_door, refusals_expected=True)


def test_with_a_line_a_storm_comes_in_with_one_handshake_each(app, db, users, live_server):
    # The same storm through the same small door, with a line: nobody is turned away,
    # those the door could not take at once wait and are let in as the others are served.
    with door_of(app, Doorman(rate=10, burst=5, in_flight=4, line=100)) as door:
        assert_storm_stored_once(app, db, users, live_server, door, refusals_expected=False)
        assert door.lined > 0 and door.admitted == PHONES


def assert_storm_stored_once(app, db, users, live_server, door, *, refusals_expected: bool) -> None:
    r = room(app, db, users.a)
    tokens = join_many(app, r.workshop_id, PHONES, r.group_ids["public"], r.segment_ids[0])
    answers = {
        pid: {"t": "answer", "k": f"storm-key-{pid:06d}", "a": r.activity_id, "g": r.gap_ids[0]}
        | {"q": "seriousness", "v": 1 + pid % 5, "s": 1}
        for pid in tokens
    }

    async def storm():
        refusals: list[int] = []
        results = await asyncio.gather(
            *(phone(live_server, r.workshop_id, tokens[pid], answers[pid], refusals) for pid in tokens)
        )
        return results, refusals

    results, turns = run_async(storm())
    refused = len(turns)

    if refusals_expected:
        assert refused > 0  # the door turned some away: 30 at once through a door of 5
        assert all(0 < turn <= 60 for turn in turns)  # each told when to come back
    else:
        assert refused == 0
    assert all(result["code"] is None for result in results), [res["code"] for res in results]
    for pid, result in zip(tokens, results, strict=True):
        assert [ack["ok"] for ack in result["acks"]] == [True, True], result
        assert all(ack["k"] == answers[pid]["k"] and ack["v"] == answers[pid]["v"] for ack in result["acks"])
    db.expire_all()
    stored = db.exec(select(GapAnswer).where(GapAnswer.activity_id == r.activity_id)).all()
    assert sorted((a.participant_id, a.value) for a in stored) == sorted((pid, 1 + pid % 5) for pid in tokens)
    keys = db.exec(select(Receipt.key).where(Receipt.participant_id.in_(list(tokens)))).all()
    assert sorted(keys) == sorted(a["k"] for a in answers.values())  # one receipt each: counted once
    assert door.refused == refused


@pytest.mark.parametrize("rate", [0, 3])
def test_the_door_admits_its_rate_and_refills(rate):
    now = [0.0]
    door = Doorman(rate, burst=3, clock=lambda: now[0])

    def admit(n: int) -> list[bool]:
        return [door.admit() is not None for _ in range(n)]

    first = admit(10)
    if rate == 0:  # no limit
        assert all(first)
        return
    assert first == [True] * 3 + [False] * 7
    now[0] += 1.0  # a second later: three more
    assert admit(4) == [True, True, True, False]
    now[0] += 100.0  # a long quiet spell fills the bucket to its burst, no more
    assert sum(admit(10)) == 3
    assert door.admitted == 9


def test_the_door_waits_for_those_in_the_doorway_to_be_served():
    now = [0.0]
    door = Doorman(0, in_flight=2, timeout=5.0, clock=lambda: now[0])
    a, b = door.admit(), door.admit()
    assert a is not None and b is not None and a != b
    assert door.admit() is None  # two let in, not yet served: the door is shut
    door.release(a)  # one served its first screen
    door.release(a)  # (said twice: no harm)
    c = door.admit()
    assert c is not None and door.admit() is None
    now[0] += 6.0  # b and c never said hello: they leave the doorway after the timeout
    assert door.admit() is not None and door.admit() is not None and door.admit() is None


def test_refused_phones_are_given_turns_at_the_doors_rate():
    now = [100.0]
    door = Doorman(50, burst=1, clock=lambda: now[0])
    assert door.admit() is not None and door.admit() is None
    turns = [door.wait() for _ in range(100)]  # a hall refused at once
    assert turns == pytest.approx([(n + 1) / 50 for n in range(100)])  # one every 1/50 s
    now[0] += 1.0  # a second later the next refused phone comes after those already given a turn
    assert door.wait() == pytest.approx(101 / 50 - 1.0)
    now[0] += 10.0  # all their turns past: the next one is the next slot from now
    assert door.wait() == pytest.approx(1 / 50, rel=0.05)
    for _ in range(10_000):
        last = door.wait()
    assert last == pytest.approx(60.0)  # never told to wait more than a minute


def test_with_a_doorway_turns_are_given_at_the_pace_phones_were_served():
    now = [0.0]
    door = Doorman(400, burst=400, in_flight=8, clock=lambda: now[0])
    for _ in range(50):  # 400 phones served in the last two seconds: 200 a second
        for _ in range(8):
            door.release(door.admit())
        now[0] += 0.04
    assert door.wait() == pytest.approx(1 / 300, rel=0.05)  # half as fast again: the door stays busy
    ticket = door.admit()
    door.release(ticket)
    door.release(ticket)  # released twice (served, then the socket ends): counted once
    assert door.wait() == pytest.approx(2 / 300, rel=0.05)
    now[0] += 10.0  # nobody served lately: a quarter of the rate, not the pace of the few served
    assert door.wait() == pytest.approx(1 / 100)
    assert Doorman(0, in_flight=64).wait() == pytest.approx(1 / 16)  # no rate: a quarter of the doorway


def test_phones_wait_in_line_and_are_let_in_first_come_first_served():
    async def scenario():
        door = Doorman(0, in_flight=2, line=3)
        a, b = door.admit(), door.admit()
        places = [door.join_line() for _ in range(3)]
        assert door.join_line() is None  # the line is full: that phone is turned away
        assert door.admit() is None  # a newcomer does not pass those in line
        await asyncio.sleep(0)
        assert not any(place.done() for place in places)  # the doorway is full
        door.release(a)  # one served: the first in line comes in, no one else
        assert places[0].done() and not places[1].done() and not places[2].done()
        assert door.leave_line(places[1]) is None  # the second gave up (waited too long)
        door.release(b)
        assert places[2].done()  # the third is next, the second no longer in line
        tickets = [places[0].result(), places[2].result()]
        assert len({a, b, *tickets}) == 4
        assert door.admit() is None  # the doorway full again, with the two from the line
        door.release(tickets[0])
        assert door.admit() is not None  # nobody in line: a newcomer comes straight in
        return door

    door = run_async(scenario())
    assert (door.admitted, door.lined, door.refused) == (5, 2, 0)


def test_a_line_held_by_the_rate_moves_without_anyone_being_served():
    # No doorway: only the rate holds the line, and no release will come to move it.
    async def scenario():
        door = Doorman(20, burst=1, line=10)
        assert door.admit() is not None and door.admit() is None
        places = [door.join_line() for _ in range(4)]
        started = time.monotonic()
        tickets = await asyncio.wait_for(asyncio.gather(*places), 5)
        return tickets, time.monotonic() - started

    tickets, took = run_async(scenario())
    assert tickets == sorted(tickets) and len(set(tickets)) == 4  # in the order they came
    assert took >= 3 / 20  # one every 1/20 s: the rate still holds


def test_a_phone_that_waits_too_long_in_line_is_given_a_turn(app, db, users, live_server):
    r = room(app, db, users.a)
    tokens = list(join_many(app, r.workshop_id, 3, r.group_ids["public"], r.segment_ids[0]).values())
    url = live_server.replace("http://", "ws://") + f"/ws/p/{r.workshop_id}"

    def connect(token):
        headers = {"Cookie": f"{cookie_name(r.workshop_id)}={token}"}
        return websockets.connect(url, origin=live_server, additional_headers=headers, open_timeout=10)

    async def scenario(door):
        async with connect(tokens[0]) as first:  # let in; it holds the doorway until its hello
            started = time.monotonic()
            async with connect(tokens[1]) as second:  # held in line, then turned away
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(second.recv(), 5)
                waited = time.monotonic() - started
                code, reason = second.close_code, second.close_reason
            await first.send(json.dumps({"t": "hello", "a": r.activity_id}))
            while json.loads(await first.recv())["t"] != "mine":  # served: out of the doorway
                pass
            async with connect(tokens[2]) as third:  # straight in
                await third.send(json.dumps({"t": "hello", "a": r.activity_id}))
                while json.loads(await third.recv())["t"] != "mine":
                    pass
        return waited, code, reason

    with door_of(app, Doorman(0, in_flight=1, line=5, line_wait=0.5)) as door:
        waited, code, reason = run_async(scenario(door))
        assert code == TRY_AGAIN_LATER and 0 < float(reason) <= 60
        assert waited >= 0.5  # it waited in line first
        assert (door.admitted, door.lined, door.refused) == (2, 0, 1)


# Any interleaving of arrivals, phones served, phones giving up and time passing keeps the
# line's rules: first come first served, the doorway never over its bound, a newcomer never
# let in past a phone still waiting, every phone let in from the line counted once.
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["arrive", "arrive", "arrive", "serve", "serve", "give up", "wait"]),
        st.integers(0, 20),
        st.sampled_from([0.5, 3.0, 6.0]),
    ),
    min_size=5,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(operations=OPERATIONS, in_flight=st.integers(1, 4), line=st.integers(1, 6), rate=st.sampled_from([0, 2]))
def test_the_line_keeps_its_rules_in_any_order_of_events(operations, in_flight, line, rate):
    async def scenario():
        now = [0.0]
        door = Doorman(rate, burst=1, in_flight=in_flight, timeout=5.0, line=line, clock=lambda: now[0])
        inside: list[int] = []  # tickets let in and not yet served
        places: list[asyncio.Future] = []  # in the order phones joined the line
        left: set[int] = set()  # indexes of places that gave up
        counted: set[int] = set()  # indexes of places let in, their tickets put inside
        for operation in operations:
            if operation[0] == "arrive":
                waiting = [p for i, p in enumerate(places) if i not in left and not p.done()]
                ticket = door.admit()
                if ticket is not None:
                    assert not waiting  # nobody passes a phone still in line
                    inside.append(ticket)
                else:
                    place = door.join_line()
                    if place is None:
                        assert len(waiting) >= line  # turned away only with the line full
                    else:
                        places.append(place)
            elif operation[0] == "serve" and inside:
                door.release(inside.pop(operation[1] % len(inside)))
            elif operation[0] == "give up":
                waiting = [i for i, p in enumerate(places) if i not in left and not p.done()]
                if waiting:
                    i = waiting[operation[1] % len(waiting)]
                    left.add(i)
                    assert door.leave_line(places[i]) is None
            elif operation[0] == "wait":
                now[0] += operation[2]  # the doorway's old tickets expire, the rate's tokens come back
                if operation[1] % 2:  # the door's own timer looks at the line (or not yet)
                    door._serve_line()
            await asyncio.sleep(0)
            resolved = [i for i, p in enumerate(places) if i not in left and p.done()]
            still = [i for i, p in enumerate(places) if i not in left and not p.done()]
            assert not still or not resolved or max(resolved) < min(still)  # first come, first served
            tickets = [places[i].result() for i in resolved]
            assert tickets == sorted(tickets)
            inside.extend(places[i].result() for i in resolved if i not in counted)  # let in: to be served
            counted.update(resolved)
            assert door.lined == len(resolved)
            assert len(door._doorway) <= in_flight
        return door

    run_async(scenario())
