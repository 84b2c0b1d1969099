"""Ranking as an ActivityType: its raw rows (for exports)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from server.activities.ranking.kind import ROW_COLUMNS
from server.activities.ranking.service import do_pair, do_rank
from server.models import Participant
from tests.activities.gaps.test_live_integrity import key, submit
from tests.activities.ranking.test_live import ranking_room
from tests.live_helpers import join


def test_raw_rows_of_ballots(app, db, users):
    r, aid, lines = ranking_room(app, db, users)
    with TestClient(app) as a, TestClient(app) as b:
        join(a, r, name="A")
        join(b, r, name="B")
        pa, pb = db.exec(select(Participant.id).order_by(Participant.id)).all()
        tallies = app.state.tallies
        submit(app, lambda s: do_rank(s, tallies, pb, aid, lines[::-1], key(), 3))
        submit(app, lambda s: do_rank(s, tallies, pa, aid, lines[:1], key()))
    with Session(app.state.db.reader) as session:
        rows = app.state.registry["ranking"].raw_rows(session, aid)
    assert all(tuple(row) == ROW_COLUMNS for row in rows)
    assert [(row["participant_id"], row["answer"], row["ranking"], row["seq"]) for row in rows] == [
        (pa, "ballot", lines[:1], None),
        (pb, "ballot", lines[::-1], 3),
    ]
    assert all(row["item_a"] is None and row["choice"] is None for row in rows)


def test_raw_rows_of_pairs_are_stored_in_order(app, db, users):
    r, aid, lines = ranking_room(app, db, users, mode="pairwise")
    with TestClient(app) as phone:
        join(phone, r)
        p, tallies = db.exec(select(Participant.id)).one(), app.state.tallies
        submit(app, lambda s: do_pair(s, tallies, p, aid, lines[1], lines[0], "a", key()))
    with Session(app.state.db.reader) as session:
        rows = app.state.registry["ranking"].raw_rows(session, aid)
    first, second = sorted(lines[:2])
    assert [(row["answer"], row["item_a"], row["item_b"], row["choice"], row["ranking"]) for row in rows] == [
        ("pair", first, second, "a" if lines[1] == first else "b", None)  # lines[1] comes first
    ]
