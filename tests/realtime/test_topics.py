"""Hub topics and the hub's own messages are typed; their text forms are made in one place."""

from __future__ import annotations

import json

import pytest

from server.realtime.topics import (
    REMOVED_MESSAGE,
    Removed,
    Topic,
    batch_message,
    html_message,
    mark_text,
    parse_mark,
    unbatch,
    version_of,
)


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


def test_a_batch_carries_several_messages_in_order_and_reads_back():
    texts = [html_message("rm-item-1", "<b>ñ</b>"), html_message("results", ""), REMOVED_MESSAGE]
    batch = batch_message(texts)
    assert json.loads(batch) == {"t": "batch", "m": [json.loads(t) for t in texts]}
    assert [json.loads(t) for t in unbatch(batch)] == [json.loads(t) for t in texts]
    assert unbatch(texts[0]) == [texts[0]]  # a lone message is not a batch


def test_a_versioned_html_message_ends_with_the_digest_of_its_html():
    import hashlib

    html = '<div id="x">é "quoted" }</div>'
    text = html_message("stage", html, versioned=True)
    assert json.loads(text)["v"] == version_of(text) == hashlib.blake2b(html.encode(), digest_size=8).hexdigest()
    assert version_of(html_message("stage", html)) is None
    assert version_of(html_message("stage", html + " ", versioned=True)) != version_of(text)
    assert version_of('{"t": "html", "html": "x\\"v\\": \\"0123456789abcdef\\"}"}') is None  # inside the html
