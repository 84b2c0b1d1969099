"""The hub's audiences are per role and per language: each screen gets its own language,
only the languages someone watches in are rendered, and every connection of an audience
gets the same text."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from server.realtime.hub import CONSOLE, PARTICIPANTS, PROJECTOR, Connection, Hub
from server.realtime.topics import ALL_TOPICS, AudienceKey, Removed, Topic

REDIS_URL = os.environ.get("MINKA_TEST_REDIS_URL")


class Renderer:
    """Texts naming their audience and a counter; records what each call was asked for."""

    def __init__(self):
        self.calls: list[tuple[frozenset, frozenset]] = []
        self.lock = threading.Lock()

    def __call__(self, workshop_id, topics, audiences):
        with self.lock:
            self.calls.append((frozenset(topics), frozenset(audiences)))
            n = len(self.calls)
        if Topic.REVEAL in topics:  # as the screens' renderer: a reveal renders the results
            topics = (set(topics) - {Topic.REVEAL}) | {Topic.RESULTS}
        return {
            key: {t: f"{key.role}/{key.language}/{t}/{n}" for t in topics if t != Topic.ROSTER} for key in audiences
        }

    def asked(self) -> list[frozenset]:
        with self.lock:
            return [audiences for _topics, audiences in self.calls]


class Screen:
    """One connection whose received texts are kept, attached in the given loop."""

    def __init__(self, loop, hub, role, language, participant_id=None, workshop_id=1):
        self.got: list[str] = []
        self.hub = hub
        self.loop = loop
        self.conn = Connection(self._send, workshop_id, role, participant_id, language=language)

        async def attach():
            hub.attach(self.conn)

        asyncio.run_coroutine_threadsafe(attach(), loop).result(5)

    async def _send(self, text: str) -> None:
        self.got.append(text)

    def leave(self) -> None:
        asyncio.run_coroutine_threadsafe(self.hub.detach(self.conn), self.loop).result(5)

    def current(self) -> dict[str, str]:
        key = self.conn.key
        return asyncio.run_coroutine_threadsafe(
            self.hub.current(self.conn.workshop_id, key.role, key.language), self.loop
        ).result(5)


def settle(loop, screens, count: int, timeout: float = 3.0) -> None:
    """Wait until each screen has received at least ``count`` texts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01), loop).result(5)
        if all(len(s.got) >= count for s in screens):
            return
    raise AssertionError([s.got for s in screens])


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_each_screen_gets_its_own_language_and_only_languages_in_use_are_rendered(loop):
    render = Renderer()
    hub = Hub(render, phone_interval=0)
    phone_es = Screen(loop, hub, PARTICIPANTS, "es", 1)
    phone_en = Screen(loop, hub, PARTICIPANTS, "en", 2)
    console_en = Screen(loop, hub, CONSOLE, "en")
    hub._dirty.clear()  # the phones' counts marks

    hub.mark_dirty(1, Topic.STAGE)
    hub.flush()
    settle(loop, [phone_es, phone_en, console_en], 1)

    assert render.asked() == [
        {AudienceKey(PARTICIPANTS, "es"), AudienceKey(PARTICIPANTS, "en"), AudienceKey(CONSOLE, "en")}
    ]  # one render for the tick: no projector, no Spanish console
    assert phone_es.got == ["participants/es/stage/1"]
    assert phone_en.got == ["participants/en/stage/1"]
    assert console_en.got == ["console/en/stage/1"]
    assert hub.renders == 1


def test_the_connections_of_one_audience_get_the_very_same_text(loop):
    render = Renderer()
    hub = Hub(render, phone_interval=0)
    phones = [Screen(loop, hub, PARTICIPANTS, "en", n) for n in range(3)]
    other = Screen(loop, hub, PARTICIPANTS, "es", 9)
    hub._dirty.clear()
    hub.mark_dirty(1, Topic.RESULTS)
    hub.flush()
    settle(loop, [*phones, other], 1)
    first = phones[0].got[0]
    assert all(p.got[0] is first for p in phones)  # one object, not three equal strings
    assert other.got[0] != first


def test_what_changed_in_one_tick_goes_to_a_connection_as_one_message_in_order(loop):
    import json

    def render(workshop_id, topics, audiences):
        texts = {t: json.dumps({"t": "html", "id": t, "html": ""}) for t in ("piece:b", "piece:a", "stage")}
        return {key: {t: texts[t] for t in texts if t in topics} for key in audiences}

    hub = Hub(render, phone_interval=0)
    phone = Screen(loop, hub, PARTICIPANTS, "en", 1)
    hub._dirty.clear()
    hub.mark_dirty(1, "piece:b", "piece:a", "stage")
    hub.flush()
    settle(loop, [phone], 1)
    time.sleep(0.05)
    assert len(phone.got) == 1  # one send, not three
    batch = json.loads(phone.got[0])
    assert batch["t"] == "batch" and [m["id"] for m in batch["m"]] == ["piece:b", "piece:a", "stage"]
    hub.mark_dirty(1, "stage")
    hub.flush()
    settle(loop, [phone], 2)
    assert json.loads(phone.got[1]) == {"t": "html", "id": "stage", "html": ""}  # a lone change goes alone


def test_a_language_nobody_watches_any_more_is_no_longer_rendered_nor_remembered(loop):
    render = Renderer()
    hub = Hub(render, phone_interval=0)
    phone_es = Screen(loop, hub, PARTICIPANTS, "es", 1)
    phone_en = Screen(loop, hub, PARTICIPANTS, "en", 2)
    phone_en.current()  # remembered in English
    assert AudienceKey(PARTICIPANTS, "en") in hub._last[1]
    phone_en.leave()
    assert AudienceKey(PARTICIPANTS, "en") not in hub._last[1]
    hub._dirty.clear()
    hub.mark_dirty(1, Topic.STAGE)
    hub.flush()
    settle(loop, [phone_es], 1)
    assert render.asked()[-1] == {AudienceKey(PARTICIPANTS, "es")}
    assert phone_en.got == []


def test_a_connecting_screen_is_rendered_alone_in_its_language_then_served_from_memory(loop):
    render = Renderer()
    hub = Hub(render, phone_interval=0)
    console_es = Screen(loop, hub, CONSOLE, "es")
    console_en = Screen(loop, hub, CONSOLE, "en")

    texts = console_en.current()
    assert render.calls == [(ALL_TOPICS, frozenset({AudienceKey(CONSOLE, "en")}))]
    assert texts["stage"] == "console/en/stage/1"
    assert console_en.current() == texts  # remembered: no second render
    assert len(render.calls) == 1
    # The Spanish console is not covered by the English one's render.
    assert console_es.current()["stage"] == "console/es/stage/2"
    # A partial tick updates both remembered sets, each in its language.
    hub._dirty.clear()
    hub.mark_dirty(1, Topic.COUNTS)
    hub.flush()
    assert console_en.current()["counts"] == "console/en/counts/3"
    assert console_es.current()["counts"] == "console/es/counts/3"
    assert console_en.current()["stage"] == "console/en/stage/1"


def test_phones_in_every_language_count_as_online_and_hear_their_removal(loop):
    hub = Hub(Renderer(), phone_interval=0)
    phone_es = Screen(loop, hub, PARTICIPANTS, "es", 1)
    phone_en = Screen(loop, hub, PARTICIPANTS, "en", 2)
    Screen(loop, hub, PROJECTOR, "en")
    assert hub.online(1) == {1, 2}
    hub._dirty.clear()
    hub.mark_dirty(1, Removed(2))
    hub.flush()
    settle(loop, [phone_en], 1)
    assert phone_en.got[0] == '{"t": "removed"}'
    assert phone_en.conn.closed
    assert not phone_es.conn.closed


def test_phones_results_are_held_back_for_every_language_alike(loop):
    render = Renderer()
    hub = Hub(render, phone_interval=60)
    phone_es = Screen(loop, hub, PARTICIPANTS, "es", 1)
    phone_en = Screen(loop, hub, PARTICIPANTS, "en", 2)
    hub._dirty.clear()
    hub.mark_dirty(1, Topic.RESULTS)
    hub.flush()
    settle(loop, [phone_es, phone_en], 1)
    hub.mark_dirty(1, Topic.RESULTS)
    hub.flush()  # within phone_interval: held, for both languages
    time.sleep(0.1)
    assert len(phone_es.got) == len(phone_en.got) == 1
    assert Topic.RESULTS in hub._dirty[1]


def test_a_reveal_reaches_phones_at_once_though_results_were_just_sent(loop):
    render = Renderer()
    hub = Hub(render, phone_interval=60)
    phone = Screen(loop, hub, PARTICIPANTS, "es", 1)
    hub._dirty.clear()
    hub.mark_dirty(1, Topic.RESULTS)
    hub.flush()
    settle(loop, [phone], 1)
    hub.mark_dirty(1, Topic.REVEAL)
    hub.flush()  # within phone_interval, but a reveal is not held
    settle(loop, [phone], 2)
    assert phone.got[1].startswith("participants/es/results/")
    assert Topic.RESULTS not in hub._dirty.get(1, ())


def test_a_new_stage_or_a_reveal_goes_out_at_once_and_live_figures_wait_for_the_tick(loop):
    render = Renderer()
    hub = Hub(render, interval=30, phone_interval=0)
    phone = Screen(loop, hub, PARTICIPANTS, "es", 1)
    hub._dirty.clear()
    hub.start()
    try:
        for urgent in (Topic.REVEAL, Topic.STAGE):
            before = len(phone.got)
            hub.mark_dirty(1, urgent)  # the next tick is 30 s away
            settle(loop, [phone], before + 1)
        hub.mark_dirty(1, Topic.RESULTS)
        time.sleep(0.5)
        assert len(phone.got) == 2 and Topic.RESULTS in hub._dirty[1]
    finally:
        hub.stop()


@pytest.mark.services
@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (MINKA_TEST_REDIS_URL)")
def test_with_redis_each_process_renders_the_languages_of_its_own_connections(loop):
    from server.realtime.redis_backend import RedisBackend

    here_render, there_render = Renderer(), Renderer()
    here = Hub(here_render, backend=RedisBackend(REDIS_URL), phone_interval=0, interval=0.05)
    there = Hub(there_render, backend=RedisBackend(REDIS_URL), phone_interval=0, interval=0.05)
    here.start()
    there.start()
    try:
        time.sleep(0.3)  # both subscribed
        phone_es = Screen(loop, here, PARTICIPANTS, "es", 1, workshop_id=424242)
        phone_en = Screen(loop, there, PARTICIPANTS, "en", 2, workshop_id=424242)
        time.sleep(0.2)
        here.mark_dirty(424242, Topic.STAGE)  # a write served by this process
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (
            any("stage" in t for t in phone_es.got) and any("stage" in t for t in phone_en.got)
        ):
            time.sleep(0.05)
        assert "participants/es/stage" in phone_es.got[-1]
        assert "participants/en/stage" in phone_en.got[-1]
        assert all(audiences == {AudienceKey(PARTICIPANTS, "es")} for audiences in here_render.asked())
        assert all(audiences == {AudienceKey(PARTICIPANTS, "en")} for audiences in there_render.asked())
    finally:
        here.stop()
        there.stop()
