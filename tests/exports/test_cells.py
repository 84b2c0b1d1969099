"""The formula neutralizer: no payload stays a formula; harmless text stays as it is."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.exports.cells import TRIGGERS, cell, neutral
from tests.exports.payloads import PAYLOADS


def test_every_payload_is_made_text():
    for payload in PAYLOADS:
        assert neutral(payload).startswith("'"), payload


def test_harmless_text_is_unchanged():
    for text in ("Brecha 1", "Capacitación técnica", "", "'quoted", "1+1", "a=b", "e-mail"):
        assert neutral(text) == text


def test_numbers_and_dates_are_left_alone():
    assert cell(-5) == -5
    assert cell(2.5) == 2.5
    assert cell(None) is None


@given(st.text())
def test_nothing_neutralized_starts_with_a_trigger(text):
    out = neutral(text)
    assert not out or out[0] not in TRIGGERS
    assert out.lstrip(" \u00a0\u3000")[:1] not in TRIGGERS or out.startswith("'")
    assert out in (text, "'" + text)
