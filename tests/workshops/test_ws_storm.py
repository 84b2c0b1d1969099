"""A reconnect storm is shed at the door without losing an acknowledged answer: many
phones connect at once to a real server (uvicorn, the real app) whose door lets a few in
each second; the others are told 1013 ("try again later") before anything is read, come
back after a short random wait, as static/phone/transport.js does, and every answer is
acknowledged and stored once, its resend (same key) counted once."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
import websockets
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


@pytest.fixture
def small_door(app):
    """A door of 10 phones a second, 5 at once, 4 in the doorway, for one test. (Not
    monkeypatch: undoing it on Starlette's State deletes the attribute.)"""
    usual = app.state.doorman
    app.state.doorman = Doorman(rate=10, burst=5, in_flight=4)
    yield app.state.doorman
    app.state.doorman = usual


def test_a_storm_is_shed_with_1013_and_every_acknowledged_answer_is_stored_once(
    app, db, users, live_server, small_door
):
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

    assert refused > 0  # the door turned some away: 30 at once through a door of 5
    assert all(0 < turn <= 60 for turn in turns)  # each told when to come back
    assert all(result["code"] is None for result in results), [res["code"] for res in results]
    for pid, result in zip(tokens, results, strict=True):
        assert [ack["ok"] for ack in result["acks"]] == [True, True], result
        assert all(ack["k"] == answers[pid]["k"] and ack["v"] == answers[pid]["v"] for ack in result["acks"])
    db.expire_all()
    stored = db.exec(select(GapAnswer).where(GapAnswer.activity_id == r.activity_id)).all()
    assert sorted((a.participant_id, a.value) for a in stored) == sorted((pid, 1 + pid % 5) for pid in tokens)
    keys = db.exec(select(Receipt.key).where(Receipt.participant_id.in_(list(tokens)))).all()
    assert sorted(keys) == sorted(a["k"] for a in answers.values())  # one receipt each: counted once
    assert small_door.refused == refused


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
    assert (door.admitted, door.refused) == (9, 15)


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
