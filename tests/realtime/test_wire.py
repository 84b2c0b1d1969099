"""Frames written straight to the socket (server.realtime.wire) and the connection's two
ways out: at once when the socket takes it and nothing waits, else through its sender
task — in order either way, and only the latest text per topic."""

from __future__ import annotations

import asyncio
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Frame

from server.realtime.connection import Connection
from server.realtime.topics import unbatch
from server.realtime.wire import text_frame
from tests.live_helpers import run_async


class FakeRaw:
    """A socket whose buffer is full (``writable`` False) or not; records what it got."""

    def __init__(self, wire: list[str]):
        self.wire, self.writable = wire, True

    def write(self, frame: bytes) -> bool:
        if not self.writable:
            return False
        self.wire.append(_decode(frame))
        return True


def _decode(frame: bytes) -> str:
    # The frame parser wants a reader: feed it the bytes we wrote.
    data = frame

    def read(n):
        nonlocal data
        out, data = data[:n], data[n:]
        yield from ()
        return out

    gen = Frame.parse(read, mask=False)
    try:
        while True:
            next(gen)
    except StopIteration as done:
        return done.value.data.decode()


def test_a_text_frame_is_a_whole_unmasked_text_frame_of_any_size():
    for text in ("", "a", "ñ" * 70, "x" * 200, "y" * 70_000):
        frame = text_frame(text)
        assert frame[0] == 0x81  # FIN + text
        assert not frame[1] & 0x80  # a server never masks
        assert _decode(frame) == text


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.sampled_from(["results", "counts", "stage"])),
        st.tuples(st.just("queue"), st.none()),
        st.tuples(st.just("full"), st.booleans()),
        st.tuples(st.just("turn"), st.none()),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(ops=OPS)
def test_every_ordered_message_arrives_once_in_order_and_each_topic_ends_on_its_latest(ops):
    async def go():
        wire: list[str] = []
        raw = FakeRaw(wire)

        async def send(text):  # the ordinary, awaited send (it waits for the buffer to drain)
            while not raw.writable:
                await asyncio.sleep(0)
            await asyncio.sleep(0)
            wire.append(text)

        conn = Connection(send, 1, "participants", 1, raw=raw)
        conn.start()
        queued, latest = [], {}
        for n, (op, arg) in enumerate(ops, 1):
            if op == "push":
                text = json.dumps({"topic": arg, "n": n})
                conn.push(arg, text, n)
                latest[arg] = text
            elif op == "queue":
                text = json.dumps({"q": n})
                conn.queue(text)
                queued.append(text)
            elif op == "full":
                raw.writable = not arg
            else:
                await asyncio.sleep(0)
        raw.writable = True
        for _ in range(len(ops) * 4 + 10):
            await asyncio.sleep(0)
        await conn.stop()
        return wire, queued, latest

    sent, queued, latest = run_async(go())
    wire = [m for text in sent for m in unbatch(text)]  # what waited went as one message
    assert [m for m in wire if '"q"' in m] == queued
    for topic, text in latest.items():
        of_topic = [m for m in wire if json.loads(m).get("topic") == topic]
        assert of_topic[-1] == text
        numbers = [json.loads(m)["n"] for m in of_topic]
        assert numbers == sorted(numbers)  # never an older text after a newer one


def test_without_a_raw_socket_everything_goes_through_the_sender_task():
    async def go():
        sent = []

        async def send(text):
            sent.append(text)

        conn = Connection(send, 1, "participants", 1)
        conn.start()
        conn.queue("a")
        conn.push("results", "r", 1)
        assert sent == []  # not yet: the task sends
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await conn.stop()
        return sent

    assert run_async(go()) == ["a", "r"]


def test_with_a_raw_socket_no_task_is_made_until_one_is_needed():
    async def go():
        wire: list[str] = []
        raw = FakeRaw(wire)

        async def send(text):
            wire.append(text)

        conn = Connection(send, 1, "participants", 1, raw=raw)
        conn.start()
        conn.queue("a")
        conn.push("results", "r", 1)
        assert wire == ["a", "r"] and conn._task is None  # written at once, no task
        raw.writable = False
        conn.queue("b")
        assert conn._task is not None  # the buffer is full: the task waits for it
        raw.writable = True
        await asyncio.sleep(0)
        await conn.stop()
        return wire

    assert run_async(go()) == ["a", "r", "b"]


def test_the_served_app_writes_a_phones_frames_straight_to_its_socket(app, db, users, live_server):
    """Under uvicorn's websockets-sansio (what ``minka serve`` and the live server run) a
    phone's connection gets a raw socket, and what it is sent arrives whole: the hello's
    texts, an acknowledgement, a broadcast."""
    from websockets.sync.client import connect

    from server.models import Workshop
    from server.workshops.participants import cookie_name, do_join
    from tests.live_helpers import room

    r = room(app, db, users.a)
    workshop = db.get(Workshop, r.workshop_id)
    data = {"name": "P", "organization": "Org", "stakeholder_group_id": str(r.group_ids["public"])}
    data["segment_id"] = str(r.segment_ids[0])
    token = do_join(db, workshop, data)[1]
    db.commit()
    url = live_server.replace("http", "ws") + f"/ws/p/{r.workshop_id}"
    headers = {"Cookie": f"{cookie_name(r.workshop_id)}={token}", "Origin": live_server}
    with connect(url, additional_headers=headers, open_timeout=20) as ws:
        ws.send(json.dumps({"t": "hello", "a": r.activity_id}))
        got = [json.loads(ws.recv(timeout=20))]
        conns = [c for by_key in app.state.hub._connections[r.workshop_id].values() for c in by_key]
        assert conns and all(c.raw is not None for c in conns)
        ws.send(
            json.dumps(
                {"t": "answer", "k": "key-00001", "a": r.activity_id, "g": r.gap_ids[0], "q": "seriousness", "v": 3}
            )
        )
        while not any(m.get("t") == "ack" for m in got):
            got.append(json.loads(ws.recv(timeout=20)))
    assert any(m.get("t") == "html" for m in got)  # the hello's texts
    ack = next(m for m in got if m.get("t") == "ack")
    assert ack["k"] == "key-00001" and ack["ok"] is True


def test_a_ticks_several_texts_go_as_one_frame_and_an_older_tick_never_overwrites():
    from server.realtime.topics import batch_message

    async def go():
        wire: list[str] = []
        raw = FakeRaw(wire)

        async def send(text):
            wire.append(text)

        conn = Connection(send, 1, "participants", 1, raw=raw)
        conn.start()
        texts = {t: (f'{{"t": "{t}"}}', text_frame(f'{{"t": "{t}"}}')) for t in ("stage", "results")}
        batch = text_frame(batch_message([text for text, _ in texts.values()]))
        conn.push_all(texts, 2, batch)
        conn.push_all({"results": ('{"t": "old"}', text_frame('{"t": "old"}'))}, 1)  # a slice of an older tick
        await conn.stop()
        return wire

    wire = run_async(go())
    assert wire == ['{"t": "batch", "m": [{"t": "stage"}, {"t": "results"}]}']
