"""A hall reconnecting at once (after a restart) asks the hub for the current screen all
together: one render serves every phone of an audience, not one render each."""

from __future__ import annotations

import asyncio
import threading
import time

from server.realtime.hub import PARTICIPANTS, Connection, Hub
from server.realtime.topics import AudienceKey, Topic
from tests.live_helpers import run_async


class SlowRenderer:
    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, workshop_id, topics, audiences):
        with self.lock:
            self.calls += 1
            n = self.calls
        time.sleep(0.2)  # long enough for every phone to ask meanwhile
        return {key: {Topic.STAGE: f"stage {n} {key.language}"} for key in audiences}


def test_phones_asking_together_share_one_render_per_audience():
    renderer = SlowRenderer()
    hub = Hub(renderer)

    async def hall():
        for pid in range(200):
            hub.attach(Connection(lambda text: asyncio.sleep(0), 1, PARTICIPANTS, pid, language="es"))
        hub.attach(Connection(lambda text: asyncio.sleep(0), 1, PARTICIPANTS, 999, language="en"))
        spanish = [hub.current(1, PARTICIPANTS, "es") for _ in range(200)]
        return await asyncio.gather(*spanish, hub.current(1, PARTICIPANTS, "en"))

    got = run_async(hall())
    assert renderer.calls == 2  # one for Spanish, one for English
    assert {g[Topic.STAGE] for g in got[:200]} == {got[0][Topic.STAGE]} and "es" in got[0][Topic.STAGE]
    assert "en" in got[200][Topic.STAGE]
    assert AudienceKey(PARTICIPANTS, "es") in hub._complete[1]
    # Later phones get the remembered texts, rendering nothing.
    assert run_async(hub.current(1, PARTICIPANTS, "es")) == got[0]
    assert renderer.calls == 2


def test_a_failed_render_fails_those_waiting_for_it_and_the_next_one_renders_again():
    calls = []

    def flaky(workshop_id, topics, audiences):
        calls.append(1)
        time.sleep(0.1)
        if len(calls) == 1:
            raise RuntimeError("database gone")
        return {key: {Topic.STAGE: "stage"} for key in audiences}

    hub = Hub(flaky)

    async def ask_twice():
        hub.attach(Connection(lambda text: asyncio.sleep(0), 1, PARTICIPANTS, 1, language="es"))
        first = await asyncio.gather(*(hub.current(1, PARTICIPANTS, "es") for _ in range(5)), return_exceptions=True)
        return first, await hub.current(1, PARTICIPANTS, "es")

    first, again = run_async(ask_twice())
    assert all(isinstance(outcome, RuntimeError) for outcome in first) and len(calls) == 2
    assert again == {Topic.STAGE: "stage"}
