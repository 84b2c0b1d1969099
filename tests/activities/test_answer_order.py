"""The phone's own order of its answers (issue 8, hole 12): an answer the phone sent
earlier never replaces one it sent later, whatever order they reach the server in.

The interleaving that lost answers around a restart: the phone answered 3, then 2; the
2 was committed just before the server died, the 3 was not; both were sent again after
the restart, the 2 was acknowledged as a duplicate and the 3 applied. Each answer now
carries the phone's sequence; the older one is answered "superseded" with what is stored.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import select

from server.activities.ranking.service import do_pair, do_rank
from server.models import GapAnswer, PairwiseAnswer, Participant, RankingBallot
from tests.activities.gaps.test_live_integrity import key, submit
from tests.activities.ranking.test_live import ranking_room
from tests.live_helpers import csrf_of, join, room
from tests.workshops.test_ws import Reader, send


def test_ballots_keep_the_phones_order(app, db, users):
    r, aid, lines = ranking_room(app, db, users)
    with TestClient(app) as phone:  # a participant, and the writer running
        join(phone, r)
        p, tallies = db.exec(select(Participant.id)).one(), app.state.tallies
        assert not submit(app, lambda s: do_rank(s, tallies, p, aid, lines[::-1], key(), 5)).superseded
        late = submit(app, lambda s: do_rank(s, tallies, p, aid, lines, key(), 4))
        assert late.superseded and late.ranking == lines[::-1] and late.seq == 5
    db.expunge_all()
    assert db.exec(select(RankingBallot.ranking)).one() == lines[::-1]


def test_pairs_keep_the_phones_order(app, db, users):
    r, aid, lines = ranking_room(app, db, users, mode="pairwise")
    with TestClient(app) as phone:
        join(phone, r)
        p, tallies = db.exec(select(Participant.id)).one(), app.state.tallies
        assert not submit(app, lambda s: do_pair(s, tallies, p, aid, lines[0], lines[1], "b", key(), 9)).superseded
        late = submit(app, lambda s: do_pair(s, tallies, p, aid, lines[0], lines[1], "a", key(), 3))
        assert late.superseded and late.choice == "b"
    db.expunge_all()
    assert db.exec(select(PairwiseAnswer.choice)).one() == "b"


def test_the_interleaving_around_a_restart_over_the_websocket(app, db, users):
    r = room(app, db, users.a)
    g = r.gap_ids[0]
    older = {"t": "answer", "k": "older-key-01", "a": r.activity_id, "g": g, "q": "seriousness", "v": 3, "s": 1001}
    newer = {**older, "k": "newer-key-02", "v": 2, "s": 1002}
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
            reader = Reader(ws)
            send(ws, **newer)  # the later answer is committed; the earlier one was lost on the way
            assert reader.until(lambda m: m["t"] == "ack")["ok"] is True
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:  # after the restart: both sent again
            reader = Reader(ws)
            send(ws, **older)
            late = reader.until(lambda m: m["t"] == "ack")
            assert late == {
                "t": "ack",
                "k": "older-key-01",
                "ok": True,
                "g": g,
                "q": "seriousness",
                "v": 2,  # what is stored, which the phone shows
                "left": None,
                "superseded": True,
                "s": 1002,
            }
            send(ws, **newer)
            again = reader.until(lambda m: m["t"] == "ack")
            assert again["ok"] is True and again["k"] == "newer-key-02" and "superseded" not in again
    db.expunge_all()
    assert [(a.value, a.seq) for a in db.exec(select(GapAnswer))] == [(2, 1002)]


def test_the_interleaving_over_the_http_fallback(app, db, users):
    """The phone's script posts its pending answers when the websocket is down, with
    their sequence; a form posted without JavaScript has none and goes in arrival order."""
    r = room(app, db, users.a)
    g = r.gap_ids[0]
    with TestClient(app) as phone:
        join(phone, r)
        page = phone.get(f"/p/{r.workshop_id}").text
        form = {"activity": r.activity_id, "gap": g, "csrf_token": csrf_of(page)}
        json_headers = {"Accept": "application/json"}
        url = f"/p/{r.workshop_id}/answer"
        newer = phone.post(
            url, data={**form, "key": "newer-key-02", "seriousness": "2", "seq": "1002"}, headers=json_headers
        )
        assert newer.json()["ok"] is True
        older = phone.post(
            url, data={**form, "key": "older-key-01", "seriousness": "3", "seq": "1001"}, headers=json_headers
        )
        assert older.json() == {
            "ok": True,
            "acks": [{"g": g, "q": "seriousness", "v": 2, "left": None, "superseded": True, "s": 1002}],
        }
        db.expunge_all()
        assert db.exec(select(GapAnswer.value)).one() == 2
        key = re.search(r'name="key" value="([^"]+)"', page).group(1)
        plain = phone.post(url, data={**form, "key": key, "seriousness": "4"}, follow_redirects=False)
        assert plain.status_code == 303
    db.expunge_all()
    assert [(a.value, a.seq) for a in db.exec(select(GapAnswer))] == [(4, None)]
