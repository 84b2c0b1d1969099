"""'Connected now' is exact across processes: each hub (a process) writes its phones to
Redis, every hub counts the union, and a process that dies without a word drops out
after the presence's time to live. Real Redis; the hubs' tickers run as in a server."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from server.realtime.hub import CONSOLE, PARTICIPANTS, Connection, Hub
from server.realtime.topics import Topic

REDIS_URL = os.environ.get("MINKA_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs Redis (MINKA_TEST_REDIS_URL)")
WORKSHOP = 700_000 + os.getpid() % 10_000  # no other run's workshop


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


class CountingRenderer:
    """Renders the console's counts as the number connected, as the real one reads it."""

    def __init__(self):
        self.hub: Hub | None = None

    def __call__(self, workshop_id, topics, audiences):
        online = len(self.hub.online(workshop_id))
        return {key: {Topic.COUNTS: f"online={online}"} for key in audiences if key.role == CONSOLE}


def make_hub(ttl: float = 10.0) -> Hub:
    from server.realtime.redis_backend import RedisBackend

    renderer = CountingRenderer()
    hub = Hub(renderer, backend=RedisBackend(REDIS_URL), phone_interval=0, interval=0.05)
    renderer.hub = hub
    hub.phones.presence.ttl = ttl
    hub.start()
    return hub


class Socket:
    def __init__(self, loop, hub: Hub, role: str, participant_id: int | None = None):
        self.got: list[str] = []
        self.hub, self.loop = hub, loop
        self.conn = Connection(self._send, WORKSHOP, role, participant_id, language="es")

        async def attach():
            hub.attach(self.conn)

        asyncio.run_coroutine_threadsafe(attach(), loop).result(5)

    async def _send(self, text: str) -> None:
        self.got.append(text)

    def leave(self) -> None:
        asyncio.run_coroutine_threadsafe(self.hub.detach(self.conn), self.loop).result(5)


def wait_for(check, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def shows(console: Socket, n: int) -> bool:
    return bool(console.got) and console.got[-1] == f"online={n}"


def test_every_process_counts_the_phones_of_all(loop):
    here, there = make_hub(), make_hub()
    try:
        time.sleep(0.3)  # both subscribed
        console_here, console_there = Socket(loop, here, CONSOLE), Socket(loop, there, CONSOLE)
        phones = [Socket(loop, here, PARTICIPANTS, pid) for pid in (1, 2, 3)]
        phones += [Socket(loop, there, PARTICIPANTS, pid) for pid in (4, 5)]
        phones.append(Socket(loop, there, PARTICIPANTS, 1))  # participant 1's second phone
        assert wait_for(lambda: shows(console_here, 5) and shows(console_there, 5)), (console_here.got[-3:],)
        assert here.online(WORKSHOP) == there.online(WORKSHOP) == {1, 2, 3, 4, 5}
        assert here.online_here(WORKSHOP) == {1, 2, 3}

        phones[3].leave()  # participant 4 closes the page (on the other process)
        phones[0].leave()  # one of participant 1's two phones: still connected
        assert wait_for(lambda: shows(console_here, 4) and shows(console_there, 4)), (console_here.got[-3:],)
        assert here.online(WORKSHOP) == {1, 2, 3, 5}

        # The other process stops cleanly: its phones (5, and 1's second one) leave the
        # count at once, and this process is told to draw its counts again.
        there.stop()
        assert wait_for(lambda: shows(console_here, 2)), console_here.got[-3:]
        assert here.online(WORKSHOP) == {2, 3}
    finally:
        here.stop()
        if there._thread is not None:
            there.stop()
    # A clean stop takes each process's phones out at once.
    survivor = make_hub()
    try:
        assert survivor.online(WORKSHOP) == set()
    finally:
        survivor.stop()


def test_a_killed_process_drops_out_after_its_time_to_live(loop):
    here, doomed = make_hub(ttl=1.0), make_hub(ttl=1.0)
    try:
        time.sleep(0.3)
        console = Socket(loop, here, CONSOLE)
        Socket(loop, here, PARTICIPANTS, 11)
        for pid in (12, 13, 14):
            Socket(loop, doomed, PARTICIPANTS, pid)
        assert wait_for(lambda: shows(console, 4)), console.got[-3:]

        # Killed: its ticker and listener stop with no goodbye (its Redis keys stay behind).
        doomed._stop.set()
        doomed._thread.join(5)
        doomed.backend._stop.set()
        assert shows(console, 4)
        # Within the time to live and a heartbeat of the survivor, the counts are redrawn.
        assert wait_for(lambda: shows(console, 1), seconds=5), console.got[-3:]
        assert here.online(WORKSHOP) == {11}
    finally:
        here.stop()
        doomed.backend.presence._mine.clear()  # it said nothing when it died
