"""Hub topics and the hub's own messages are typed; their text forms are made in one place."""

from __future__ import annotations

import json
import time

import pytest

from server.realtime.topics import REMOVED_MESSAGE, Removed, Topic, html_message, mark_text, parse_mark
from tests.conftest import REDIS_URL


def test_marks_go_through_redis_and_back():
    for mark in (Topic.STAGE, Topic.RESULTS, Topic.COUNTS, Removed(42)):
        assert parse_mark(mark_text(mark)) == mark
    assert mark_text(Removed(42)) == "removed:42" and mark_text(Topic.RESULTS) == "results"
    with pytest.raises(ValueError):
        parse_mark("nonsense")


def test_a_topic_is_its_string_for_the_texts_the_hub_keeps():
    assert {Topic.RESULTS: 1}["results"] == 1 and Topic.STAGE in {"stage"}


def test_the_hub_s_messages():
    assert json.loads(REMOVED_MESSAGE) == {"t": "removed"}
    assert json.loads(html_message("stage", "<p>ñ</p>")) == {"t": "html", "id": "stage", "html": "<p>ñ</p>"}


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (MINKA_TEST_REDIS_URL)")
def test_installations_on_other_redis_databases_do_not_hear_each_other():
    """Pub/sub ignores database numbers; the channel carries it, so workshop 5 of one
    installation never wakes workshop 5 of another sharing the Redis server."""
    import threading

    from server.realtime.redis_backend import RedisBackend

    base = REDIS_URL.rsplit("/", 1)[0]
    heard: dict[str, list] = {"same": [], "other": []}
    got = threading.Event()
    sender = RedisBackend(f"{base}/11")
    same, other = RedisBackend(f"{base}/11"), RedisBackend(f"{base}/12")
    same.start(lambda w, t: (heard["same"].append(w), got.set()))
    other.start(lambda w, t: heard["other"].append(w))
    try:
        time.sleep(0.3)  # subscribed
        sender.publish(5, {"stage"})
        assert got.wait(5)
        time.sleep(0.3)
        assert heard == {"same": [5], "other": []}
    finally:
        same.stop()
        other.stop()
