"""Bad input from phones (issue 8, holes 4 and 5): every websocket message is read by a
strict schema first; whatever it is, the sender gets a clear message and stays connected,
nothing lax is stored (3.5 is not a 3, true is not a 1), and the form posts are as strict."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from server.models import DotVote, GapAnswer
from server.workshops import ws as ws_module
from tests.live_helpers import csrf_of, join, room
from tests.workshops.test_ws import Reader, send

HUGE = 1180591620717411303424  # 2**70

UNREADABLE = "This message could not be read."


def answers(db) -> list[tuple]:
    db.expunge_all()
    return sorted((a.gap_id, a.question, a.value, a.segments) for a in db.exec(select(GapAnswer)))


def still_connected(ws, reader, activity_id: int) -> None:
    """The connection is up: a question still gets its answer."""
    send(ws, t="mine", a=activity_id)
    assert reader.until(lambda m: m["t"] in ("mine", "closed"))["t"] == "mine"


def test_frames_that_crashed_the_handler_get_an_error_and_the_connection_stays(app, db, users, caplog, monkeypatch):
    monkeypatch.setattr(ws_module, "MESSAGES_PER_SECOND", 1000)  # two messages a frame, quickly
    r = room(app, db, users.a)
    g = r.gap_ids[0]
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}", headers={"Accept-Language": "en"}) as ws:
            reader = Reader(ws)
            frames = [
                b"\x00\x01binary",
                json.dumps({"t": "answer", "k": "key-000001", "a": HUGE, "g": g, "q": "seriousness", "v": 3}),
                json.dumps({"t": "mine", "a": HUGE}),
                json.dumps({"t": "hello", "a": -HUGE}),
                "[" * 2000 + "]" * 2000,
                '{"a": ' * 500 + "1" + "}" * 500,
                '{"t": "answer", "k": "key-000002", "a": 1, "g": 1, "q": "seriousness", "v": Infinity}',
                '{"t": "dots", "k": "key-000003", "a": 1, "g": 1, "v": NaN}',
                "-Infinity",
                "not json",
                '"a string"',
                "12",
                "null",
                '{"t": "nothing"}',
                '{"t": ["answer"]}',
                '{"t": "rank", "k": "\\ud800\\udfff-bad-key", "a": 1, "order": []}',
                "x" * 5000,
            ]
            for frame in frames:
                if isinstance(frame, bytes):
                    ws.send_bytes(frame)
                else:
                    ws.send_text(frame)
                reply = reader.until(lambda m: m["t"] in ("error", "ack", "closed"))
                assert reply["t"] != "closed", (frame[:40], reply)
                if reply["t"] == "ack":  # a write with a readable key: that answer is refused
                    assert reply["ok"] is False and reply["error"] == "Choose one of the options.", reply
                else:
                    assert reply == {"t": "error", "error": UNREADABLE}, (frame[:40], reply)
                still_connected(ws, reader, r.activity_id)
            send(ws, t="answer", k="key-000009", a=r.activity_id, g=g, q="seriousness", v=4)
            assert reader.until(lambda m: m["t"] == "ack")["ok"] is True
    assert answers(db) == [(g, "seriousness", 4, [])]
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelname == "ERROR"]


def test_the_keep_alive_gets_no_answer(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
            reader = Reader(ws)
            ws.send_text("{}")
            send(ws, t="mine", a=r.activity_id)
            assert reader.until(lambda m: m["t"] in ("mine", "error"))["t"] == "mine"


@pytest.mark.parametrize(
    "value",
    [3.5, 2.9, 3.0, True, False, "3", None, [], {"v": 3}, HUGE, -1],
    ids=lambda v: json.dumps(v),
)
def test_lax_ratings_over_the_websocket_are_refused(app, db, users, value):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}", headers={"Accept-Language": "es"}) as ws:
            reader = Reader(ws)
            send(ws, t="answer", k="lax-key-0001", a=r.activity_id, g=r.gap_ids[0], q="seriousness", v=value)
            ack = reader.until(lambda m: m["t"] == "ack")
            assert ack["ok"] is False and ack["k"] == "lax-key-0001"
            assert ack["error"] == "Elija una de las opciones."
            still_connected(ws, reader, r.activity_id)
    assert answers(db) == []


def test_lax_dots_and_ids_over_the_websocket_are_refused(app, db, users):
    r = room(app, db, users.a, mode="dots")
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
            reader = Reader(ws)
            for n, (gap, value) in enumerate(
                [(r.gap_ids[0], 1.5), (r.gap_ids[0], True), (r.gap_ids[0], "2"), (True, 1), (float(r.gap_ids[0]), 1)]
            ):
                send(ws, t="dots", k=f"lax-key-{n:04d}", a=r.activity_id, g=gap, v=value)
                assert reader.until(lambda m: m["t"] == "ack")["ok"] is False
            send(ws, t="dots", k="good-key-0001", a=r.activity_id, g=r.gap_ids[0], v=2)
            assert reader.until(lambda m: m["t"] == "ack")["ok"] is True
    db.expunge_all()
    assert [(d.gap_id, d.dots) for d in db.exec(select(DotVote))] == [(r.gap_ids[0], 2)]


def _form(phone, r) -> dict:
    page = phone.get(f"/p/{r.workshop_id}").text
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    return {"activity": r.activity_id, "gap": r.gap_ids[0], "key": key, "csrf_token": csrf_of(page)}


@pytest.mark.parametrize("value", ["3.5", "2.9", "3.0", "true", "1e0", "٣", "0x3", "3 3"])
def test_lax_ratings_in_a_form_are_refused(app, db, users, value):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        form = _form(phone, r)
        response = phone.post(
            f"/p/{r.workshop_id}/answer", data={**form, "seriousness": value}, headers={"Accept": "application/json"}
        )
        assert response.status_code == 422 and response.json()["ok"] is False
        page = phone.post(f"/p/{r.workshop_id}/answer", data={**form, "specialization": value}, follow_redirects=False)
        assert page.status_code == 303 and "minka_refused=" in page.headers["set-cookie"]  # shown, never sent again
        ok = phone.post(f"/p/{r.workshop_id}/answer", data={**form, "seriousness": " 3 "}, follow_redirects=False)
        assert ok.status_code == 303  # a form sends strings: "3" is a 3
    assert answers(db) == [(r.gap_ids[0], "seriousness", 3, [])]


def test_lax_dots_segments_and_ids_in_a_form_are_refused(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        form = _form(phone, r)
        for bad in (
            {"segments_asked": "1", "segments": [f"{r.segment_ids[0]}.0"]},
            {"segments_asked": "1", "segments": ["true"]},
            {"seriousness": "3", "gap": str(HUGE)},
            {"seriousness": "3", "activity": str(HUGE)},
            {"seriousness": "3", "seq": "2.5"},
        ):
            response = phone.post(f"/p/{r.workshop_id}/answer", data={**form, **bad}, follow_redirects=False)
            refused = response.status_code == 303 and "minka_refused=" in response.headers.get("set-cookie", "")
            assert refused or response.status_code == 404, (bad, response.status_code)
    assert answers(db) == []
