"""The ranking activity end to end: ballots over the websocket and as plain forms,
validation, one ballot per participant, results (live and as JSON), pairwise mode."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from server.activities.ranking.service import recount
from server.db import transaction
from server.models import Activity, RankingBallot, Workshop
from server.realtime.topics import AudienceKey
from server.workshops import live
from server.workshops.service import activity_items, agenda_of
from tests.conftest import login
from tests.live_helpers import Room, csrf_of, join, room
from tests.workshops.test_ws import Reader, send


def ranking_room(app, db, users, **settings) -> tuple[Room, int, list[int]]:
    r = room(app, db, users.a, template="prioritization", open_first=False)
    ranking = agenda_of(db, db.get(Workshop, r.workshop_id))[1]
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        activity = session.get(Activity, ranking.id)
        activity.settings = {**activity.settings, **settings}
        session.add(activity)
        live.do_open(session, session.get(Workshop, r.workshop_id), activity)
    lines = [line.id for line in activity_items(db, ranking)]
    return r, ranking.id, lines


def test_ballots_over_the_websocket_and_their_checks(app, db, users):
    r, aid, lines = ranking_room(app, db, users, mode="top_k", k=2)
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}", headers={"Accept-Language": "en"}) as ws:
            reader = Reader(ws)
            send(ws, t="hello", a=aid)
            assert 'data-kind="ranking"' in reader.until(lambda m: m.get("id") == "stage")["html"]
            assert reader.until(lambda m: m["t"] == "mine")["ranking"] == []
            for bad, message in (
                ([lines[0], lines[0]], "only once"),
                ([lines[0], 99999], "Rank the lines"),
                (lines[:3], "at most 2"),
                ([], "at least one"),
            ):
                send(ws, t="rank", k=f"bad-key-{len(bad)}-{bad[:1]}", a=aid, order=bad)
                ack = reader.until(lambda m: m["t"] == "ack")
                assert ack["ok"] is False and message in ack["error"], ack
            send(ws, t="rank", k="good-key-001", a=aid, order=[lines[2], lines[0]])
            assert reader.until(lambda m: m["t"] == "ack") == {
                "t": "ack",
                "k": "good-key-001",
                "ok": True,
                "order": [lines[2], lines[0]],
            }
            send(ws, t="rank", k="good-key-002", a=aid, order=[lines[1]])
            assert reader.until(lambda m: m["t"] == "ack")["ok"] is True
    (ballot,) = db.exec(select(RankingBallot)).all()
    assert ballot.ranking == [lines[1]]  # the latest counts


def test_one_ballot_per_participant_per_activity_is_a_database_rule(app, db, users):
    r, aid, lines = ranking_room(app, db, users)
    with TestClient(app) as phone:
        join(phone, r)
    from server.models import Participant

    pid = db.exec(select(Participant)).one().id
    db.add(RankingBallot(activity_id=aid, participant_id=pid, ranking=lines))
    db.commit()
    db.add(RankingBallot(activity_id=aid, participant_id=pid, ranking=lines[::-1]))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_ranking_without_javascript(app, db, users):
    r, aid, lines = ranking_room(app, db, users)
    with TestClient(app) as phone:
        join(phone, r)
        page = phone.get(f"/p/{r.workshop_id}").text
        token = csrf_of(page)
        form = {"activity": aid, "key": "nojs-key-1", "csrf_token": token}
        # Each arrow button posts the draft and gets the page back with the changed order.
        step = phone.post(f"/p/{r.workshop_id}/rank", data={**form, "order": "", "op": f"in:{lines[1]}"})
        step = phone.post(f"/p/{r.workshop_id}/rank", data={**form, "order": str(lines[1]), "op": f"in:{lines[0]}"})
        step = phone.post(
            f"/p/{r.workshop_id}/rank", data={**form, "order": f"{lines[1]},{lines[0]}", "op": f"up:{lines[0]}"}
        )
        assert f'name="order" value="{lines[0]},{lines[1]}"' in step.text
        assert db.exec(select(RankingBallot)).all() == []  # nothing saved yet
        saved = phone.post(f"/p/{r.workshop_id}/rank", data={**form, "order": f"{lines[0]},{lines[1]}", "op": "save"})
        assert saved.status_code == 200 and "saved=ranking" in str(saved.url)
    assert db.exec(select(RankingBallot)).one().ranking == [lines[0], lines[1]]


def test_results_live_and_as_json(app, db, users, min_answers):
    min_answers(3)  # three phones
    r, aid, lines = ranking_room(app, db, users)
    a, b, c = lines
    ballots = {"public": [a, b, c], "private": [b, a, c], "academia": [a, c, b]}
    for group, order in ballots.items():
        with TestClient(app) as phone:
            join(phone, r, group=group, name=group)
            with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
                reader = Reader(ws)
                send(ws, t="rank", k=f"key-{group}-1", a=aid, order=order)
                assert reader.until(lambda m: m["t"] == "ack")["ok"]
    with TestClient(app) as facilitator:
        login(facilitator, users.a.email)
        data = facilitator.get(f"/api/workshops/{r.workshop_id}/activities/{aid}/results").json()
        assert data["respondents"] == 3
        schulze = data["ranking"]["methods"]["schulze"]["placements"]
        assert [p["item"] for p in schulze] == [a, b, c]
        borda = {p["item"]: p["score"] for p in data["ranking"]["methods"]["borda"]["placements"]}
        assert borda == {a: 5.0, b: 3.0, c: 1.0}  # 2+1+2, 1+2+0, 0+0+1
        assert sum(borda.values()) == 3 * 3  # ballots × n(n-1)/2
        assert data["ranking"]["kendall_w"] == pytest.approx(4 / 9)
        # Plain words on the console (Spanish: the client asks no language); the methods'
        # names on the facilitator's results page.
        console = facilitator.get(f"/workshops/{r.workshop_id}/live").text
        assert "Gana en los duelos" in console and "recuentos de prueba" in console
        for name in ("Schulze", "Borda", "Kendall", "remuestreo"):
            assert name not in console, name
        page = facilitator.get(f"/workshops/{r.workshop_id}/activities/{aid}/results").text
        for name in ("Schulze", "Borda", "W de Kendall", "remuestreos"):
            assert name in page, name
        # The same holds for what the hub pushes to an English console.
        english = app.state.hub.renderer.render(
            r.workshop_id, frozenset({"results"}), frozenset({AudienceKey("console", "en")})
        )
        pushed = english[AudienceKey("console", "en")]["results"]
        assert "Wins head to head" in pushed and "trial recounts" in pushed and "Schulze" not in pushed
        other = facilitator.get(f"/api/workshops/{r.workshop_id}/activities/999/results")
        assert other.status_code == 404
    with transaction(app.state.db.reader) as session:
        assert recount(session, aid).snapshot() == app.state.tallies.get(aid, r.workshop_id).snapshot()


def test_pairwise_mode_shows_pairs_until_done(app, db, users):
    r, aid, _lines = ranking_room(app, db, users, mode="pairwise")
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
            reader = Reader(ws)
            send(ws, t="hello", a=aid)
            seen = set()
            pair = reader.until(lambda m: m["t"] == "mine")["pair"]
            while pair:
                assert frozenset(pair) not in seen
                seen.add(frozenset(pair))
                send(ws, t="pair", k=f"pair-key-{len(seen)}", a=aid, x=pair[0], y=pair[1], c="a")
                assert reader.until(lambda m: m["t"] == "ack")["ok"]
                pair = reader.until(lambda m: m["t"] == "mine")["pair"]
            assert len(seen) == 3  # every pair of three lines, then done
    results = app.state.tallies.get(aid, r.workshop_id)
    assert len(list(results.all_wins())) == 3


def test_share_in_the_top_k_uses_the_activitys_k_in_every_mode(app, db, users):
    """In full mode the tally counted the top n (every line of a full ballot: 100 % for all);
    it uses the activity's k (here 1), as the stability and the label say."""
    from server.activities.ranking.tally import live_results
    from server.models import Participant

    r, aid, lines = ranking_room(app, db, users, k=1)
    a, b, c = lines
    for n, order in enumerate(([a, b, c], [a, c, b], [b, a, c])):
        p = Participant(workshop_id=r.workshop_id, token_hash=f"{n:064d}")
        db.add(p)
        db.flush()
        db.add(RankingBallot(activity_id=aid, participant_id=p.id, ranking=order))
    db.commit()
    with transaction(app.state.db.reader) as session:
        tally = recount(session, aid)
    assert {p.item: p.score for p in live_results(tally)["top_k"]} == {a: 2 / 3, b: 1 / 3, c: 0.0}
