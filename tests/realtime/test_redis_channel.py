"""Redis pub/sub ignores database numbers: the hub's channel is named after its database,
so installations (or test runs) sharing a Redis server do not hear each other's marks."""

from __future__ import annotations

import os
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from server.realtime.redis_backend import RedisBackend
from server.realtime.topics import Removed, Topic

REDIS_URL = os.environ.get("MINKA_TEST_REDIS_URL")
pytestmark = [pytest.mark.services, pytest.mark.skipif(not REDIS_URL, reason="needs Redis (MINKA_TEST_REDIS_URL)")]


def other_database(url: str) -> str:
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(number + 1) % 16}"))


def listening(url: str) -> tuple[RedisBackend, list, threading.Event]:
    heard: list = []
    got = threading.Event()

    def on_remote(workshop_id, marks):
        heard.append((workshop_id, marks))
        got.set()

    backend = RedisBackend(url)
    backend.start(on_remote)
    return backend, heard, got


def test_only_the_same_database_hears_the_marks():
    workshop = 900_000 + os.getpid() % 10_000  # no other run's workshop
    here, heard_here, _ = listening(REDIS_URL)
    same, heard_same, got_same = listening(REDIS_URL)
    elsewhere, heard_elsewhere, _ = listening(other_database(REDIS_URL))
    try:
        time.sleep(0.3)  # all subscribed
        assert here.channel == same.channel != elsewhere.channel
        here.publish(workshop, {Topic.STAGE, Removed(7)})
        assert got_same.wait(5)
        assert (workshop, (Removed(7), Topic.STAGE)) in heard_same
        time.sleep(0.3)
        assert all(w != workshop for w, _marks in heard_elsewhere)
        assert all(w != workshop for w, _marks in heard_here)  # not its own
    finally:
        for backend in (here, same, elsewhere):
            backend.stop()
