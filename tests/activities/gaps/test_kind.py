"""Gap rating as an ActivityType: its raw rows (for exports) and its one write path."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from server.activities.gaps import batch
from server.activities.gaps.kind import ROW_COLUMNS
from server.activities.gaps.service import do_answer, do_dots
from server.models import Participant
from tests.activities.gaps.test_live_integrity import key, submit
from tests.live_helpers import csrf_of, join, room


def test_raw_rows_are_one_row_per_stored_answer_with_the_documented_columns(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        p, tallies, g = db.exec(select(Participant.id)).one(), app.state.tallies, r.gap_ids
        submit(app, lambda s: do_answer(s, tallies, p, r.activity_id, g[0], "seriousness", 4, key(), 7))
        submit(app, lambda s: do_answer(s, tallies, p, r.activity_id, g[0], "specialization", 2, key()))
        submit(app, lambda s: do_answer(s, tallies, p, r.activity_id, g[1], "segments", r.segment_ids[:2], key()))
        submit(app, lambda s: do_answer(s, tallies, p, r.activity_id, g[1], "seriousness", 5, key()))
        submit(app, lambda s: do_answer(s, tallies, p, r.activity_id, g[1], "seriousness", 3, key()))  # replaces
    kind = app.state.registry["gap_rating"]
    with Session(app.state.db.reader) as session:
        rows = kind.raw_rows(session, r.activity_id)
    assert all(tuple(row) == ROW_COLUMNS for row in rows)
    assert [(row["gap_id"], row["question"], row["value"], row["segments"], row["seq"]) for row in rows] == [
        (g[0], "seriousness", 4, [], 7),
        (g[0], "specialization", 2, [], None),
        (g[1], "segments", None, sorted(r.segment_ids[:2]), None),
        (g[1], "seriousness", 3, [], None),
    ]
    assert {row["participant_id"] for row in rows} == {p}
    assert all(row["updated_at"] is not None for row in rows)


def test_raw_rows_of_dot_voting(app, db, users):
    r = room(app, db, users.a, mode="dots")
    with TestClient(app) as phone:
        join(phone, r)
        p, tallies, g = db.exec(select(Participant.id)).one(), app.state.tallies, r.gap_ids
        submit(app, lambda s: do_dots(s, tallies, p, r.activity_id, g[2], 3, key()))
        submit(app, lambda s: do_dots(s, tallies, p, r.activity_id, g[0], 1, key(), 12))
    with Session(app.state.db.reader) as session:
        rows = app.state.registry["gap_rating"].raw_rows(session, r.activity_id)
    assert [(row["gap_id"], row["question"], row["value"], row["seq"]) for row in rows] == [
        (g[0], "dots", 1, 12),
        (g[2], "dots", 3, None),
    ]


def test_an_activity_without_answers_has_no_rows(app, db, users):
    r = room(app, db, users.a)
    with Session(app.state.db.reader) as session:
        assert app.state.registry["gap_rating"].raw_rows(session, r.activity_id) == []


def post_card(app, r, **answers):
    """A phone joins and posts its first gap card as a form (by fetch: JSON back)."""
    with TestClient(app) as phone:
        join(phone, r)
        page = phone.get(f"/p/{r.workshop_id}").text
        form = {
            "activity": r.activity_id,
            "gap": r.gap_ids[0],
            "key": re.search(r'name="key" value="([^"]+)"', page).group(1),
            "csrf_token": csrf_of(page),
            **answers,
        }
        return phone.post(f"/p/{r.workshop_id}/answer", data=form, headers={"Accept": "application/json"})


def test_a_card_posted_as_a_form_is_written_by_the_websocket_s_rating_step(app, db, users, monkeypatch):
    """One write path: the form's ratings are ``batch.Rating``s written by ``write_ratings``,
    as over the websocket (the segments question goes through the Rating's own step)."""
    written = []
    real = batch.write_ratings
    monkeypatch.setattr(batch, "write_ratings", lambda s, items: written.extend(items) or real(s, items))
    r = room(app, db, users.a)
    response = post_card(app, r, seriousness="4", specialization="3")
    assert response.json()["ok"] is True
    assert [(w.question, w.raw) for w in written] == [("seriousness", "4"), ("specialization", "3")]
    assert all(isinstance(w, batch.Rating) for w in written)


def test_a_refused_question_saves_nothing_of_its_card(app, db, users):
    """All or none, as before: a card whose relevance is out of range keeps no seriousness."""
    r = room(app, db, users.a)
    response = post_card(app, r, seriousness="4", specialization="9")
    assert response.status_code == 422 and response.json()["ok"] is False
    with Session(app.state.db.reader) as session:
        assert app.state.registry["gap_rating"].raw_rows(session, r.activity_id) == []
