"""A refused form post's flash (workshops/refusals.py): only Minka's own, fresh refusals of
this workshop are ever shown; anything else reads as nothing. And the questions a gap
rating asks (activities/gaps/spec.py): chosen per activity, older settings understood, an
answer to a question not asked refused by the server."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from server.activities.gaps.spec import GAP_RATING, asked
from server.i18n import N_, Message
from server.models import GapAnswer
from server.workshops import refusals
from tests.live_helpers import csrf_of, join, room

SECRET = "s3cret"
CLOSED = N_("This activity is closed; your answer was not saved.")


def test_a_refusal_reads_back_on_its_card():
    token = refusals.sign(SECRET, 7, 12, Message(N_("Enter a number from %(min)s to %(max)s."), min=1, max=5))
    assert refusals.read(SECRET, 7, token) == {12: Message(N_("Enter a number from %(min)s to %(max)s."), min=1, max=5)}
    assert refusals.read(SECRET, 7, refusals.sign(SECRET, 7, "ranking", CLOSED)) == {"ranking": Message(CLOSED)}


def test_another_workshop_an_old_token_or_another_secret_read_as_nothing():
    token = refusals.sign(SECRET, 7, 12, CLOSED, now=1_000_000)
    assert refusals.read(SECRET, 7, token, now=1_000_000 + refusals.MAX_AGE) != {}
    assert refusals.read(SECRET, 7, token, now=1_000_001 + refusals.MAX_AGE) == {}  # too old
    assert refusals.read(SECRET, 7, token, now=1_000_000 - 3600) == {}  # from the future
    assert refusals.read(SECRET, 8, token, now=1_000_000) == {}
    assert refusals.read("another", 7, token, now=1_000_000) == {}
    assert refusals.read(SECRET, 7, None) == {} and refusals.read(SECRET, 7, "") == {}


@given(st.text(max_size=300))
def test_any_made_up_token_reads_as_nothing(text):
    assert refusals.read(SECRET, 7, text) == {}


@given(st.integers(min_value=0, max_value=10_000), st.characters(min_codepoint=33, max_codepoint=126))
def test_a_token_changed_anywhere_reads_as_nothing(at, char):
    token = refusals.sign(SECRET, 7, 12, CLOSED)
    at %= len(token)
    changed = token[:at] + char + token[at + 1 :]
    if changed != token:
        assert refusals.read(SECRET, 7, changed) == {}


def test_the_questions_asked_and_older_settings():
    assert asked({}) == ("seriousness", "specialization", "diversification", "global_context", "segments")
    assert asked({"ask_specialization": False, "ask_segments": False}) == (
        "seriousness",
        "diversification",
        "global_context",
    )
    # Stored before each relevance question had its own switch: one switch for the three.
    assert asked({"ask_relevance": False, "ask_segments": True}) == ("seriousness", "segments")
    old = GAP_RATING.stored({"mode": "rating", "ask_relevance": False})
    assert "ask_relevance" not in old and not old["ask_specialization"] and old["ask_segments"]


def test_an_answer_to_a_question_not_asked_is_refused(app, db, users):
    r = room(app, db, users.a, ask_specialization=False, ask_segments=False)
    with TestClient(app, headers={"Accept-Language": "en"}) as phone:
        join(phone, r)
        page = phone.get(f"/p/{r.workshop_id}").text
        assert 'data-q="specialization"' not in page and 'data-q="diversification"' in page
        assert 'data-q="segments"' not in page
        key = re.search(r'name="key" value="([^"]+)"', page).group(1)
        form = {"activity": r.activity_id, "gap": r.gap_ids[0], "key": key, "csrf_token": csrf_of(page)}
        refused = phone.post(
            f"/p/{r.workshop_id}/answer",
            data={**form, "specialization": "2"},
            headers={"Accept": "application/json"},
        )
        assert refused.status_code == 422
        assert refused.json()["error"] == "This question is not asked in this activity."
        page = phone.post(f"/p/{r.workshop_id}/answer", data={**form, "seriousness": "4", "specialization": "1"})
        assert "This question is not asked in this activity." in page.text  # the card, all or nothing
        assert page.history[0].status_code == 303
        assert "This question is not asked" not in phone.get(f"/p/{r.workshop_id}").text  # shown once
        ok = phone.post(f"/p/{r.workshop_id}/answer", data={**form, "key": key + "2", "diversification": "3"})
        assert ok.status_code == 200
    db.expunge_all()
    assert [(a.question, a.value) for a in db.exec(select(GapAnswer))] == [("diversification", 3)]
