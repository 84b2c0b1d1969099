"""The live websocket: acknowledgements after commit, resync after a dropped connection,
live results on screens, and who may connect."""

from __future__ import annotations

import json
import queue
import threading
import time

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.db import transaction
from server.models import Activity, Workshop
from server.realtime.topics import html_message, unbatch, version_of
from server.workshops import live
from tests.conftest import login
from tests.live_helpers import join, room


class Reader:
    """Reads a test websocket in a thread, so a test can wait with a timeout."""

    def __init__(self, ws):
        self.ws = ws
        self.messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            while True:  # a batch (a tick's changes) is read as its messages, in order
                for text in unbatch(self.ws.receive_text()):
                    self.messages.put(json.loads(text))
        except Exception as exc:
            self.messages.put({"t": "closed", "error": repr(exc)})

    def until(self, predicate, timeout: float = 5.0) -> dict:
        while True:
            message = self.messages.get(timeout=timeout)
            if predicate(message):
                return message


def send(ws, **message):
    ws.send_text(json.dumps(message))


def test_answer_is_acknowledged_and_a_dropped_phone_resynchronizes(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
            reader = Reader(ws)
            send(ws, t="hello", a=r.activity_id)
            stage = reader.until(lambda m: m.get("id") == "stage")
            assert f'data-activity="{r.activity_id}"' in stage["html"]
            send(ws, t="answer", k="key-000001", a=r.activity_id, g=r.gap_ids[1], q="seriousness", v=5)
            ack = reader.until(lambda m: m["t"] == "ack")
            assert ack == {
                "t": "ack",
                "k": "key-000001",
                "ok": True,
                "g": r.gap_ids[1],
                "q": "seriousness",
                "v": 5,
                "left": None,
            }
            send(ws, t="answer", k="key-000002", a=r.activity_id, g=r.gap_ids[1], q="seriousness", v=9)
            assert reader.until(lambda m: m["t"] == "ack")["ok"] is False
        # The connection dropped. A new one gets the stage and this phone's own answers.
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
            reader = Reader(ws)
            send(ws, t="hello", a=r.activity_id)
            reader.until(lambda m: m.get("id") == "stage")
            mine = reader.until(lambda m: m["t"] == "mine")
            assert mine["answers"] == {str(r.gap_ids[1]): {"seriousness": 5}}


def test_phones_follow_the_facilitator_without_reloading(app, db, users):
    r = room(app, db, users.a, open_first=False)
    with TestClient(app) as phone, TestClient(app) as facilitator:
        join(phone, r)
        token = login(facilitator, users.a.email)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
            reader = Reader(ws)
            send(ws, t="hello", a=None)
            assert 'data-state="waiting"' in reader.until(lambda m: m.get("id") == "stage")["html"]
            facilitator.post(
                f"/workshops/{r.workshop_id}/live/activities/{r.activity_id}/open", data={"csrf_token": token}
            )
            assert (
                'data-state="open"'
                in reader.until(lambda m: m.get("id") == "stage" and "data-state" in m["html"], 3)["html"]
            )
            time.sleep(0.6)  # what the opening sent has arrived
            while not reader.messages.empty():
                reader.messages.get()
            facilitator.post(
                f"/workshops/{r.workshop_id}/live/activities/{r.activity_id}/reveal", data={"csrf_token": token}
            )
            seen = []
            results = reader.until(lambda m: seen.append(m.get("id")) or (m.get("id") == "results" and m["html"]), 3)
            assert "results-phone" in results["html"]
            assert "stage" not in seen  # a reveal sends the results, not the whole stage again
            facilitator.post(
                f"/workshops/{r.workshop_id}/live/activities/{r.activity_id}/close", data={"csrf_token": token}
            )
            assert (
                'data-state="closed"'
                in reader.until(lambda m: m.get("id") == "stage" and 'data-state="closed"' in m["html"], 3)["html"]
            )


def test_console_sees_votes_live_and_the_projector_once_shown(app, db, users, min_answers):
    """Issue 11: the projector follows the phones' reveal (hidden results would otherwise
    anchor the votes still to come); the console's "show on the projector" shows them first."""
    min_answers(1)  # one phone
    r = room(app, db, users.a)
    with TestClient(app) as phone, TestClient(app) as facilitator:
        join(phone, r, group="private")
        token = login(facilitator, users.a.email)
        with (
            facilitator.websocket_connect(f"/ws/screen/{r.workshop_id}/projector") as screen,
            facilitator.websocket_connect(f"/ws/screen/{r.workshop_id}/console") as console,
        ):
            reader, desk = Reader(screen), Reader(console)
            reader.until(lambda m: m.get("id") == "screen")
            with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
                send(ws, t="answer", k="key-000003", a=r.activity_id, g=r.gap_ids[0], q="seriousness", v=4)
                # The workshop is in Spanish: decimal comma.
                desk.until(lambda m: m.get("id") == "console-results" and "4,0" in m["html"], 3)
                hidden = reader.until(lambda m: m.get("id") == "screen" and "1 de 1 votó" in m["html"], 3)
                assert "4,0" not in hidden["html"] and "<meter" not in hidden["html"]
                assert 'data-results="hidden"' in hidden["html"] and "Brecha 1" in hidden["html"]  # what is asked

                url = f"/workshops/{r.workshop_id}/live/activities/{r.activity_id}/projector/show"
                assert facilitator.post(url, data={"csrf_token": token}).status_code == 200
                shown = reader.until(lambda m: m.get("id") == "screen" and "4,0" in m["html"], 3)
                assert 'data-results="shown"' in shown["html"]

                url = f"/workshops/{r.workshop_id}/live/activities/{r.activity_id}/projector/follow"
                facilitator.post(url, data={"csrf_token": token})
                reader.until(lambda m: m.get("id") == "screen" and 'data-results="hidden"' in m["html"], 3)
                url = f"/workshops/{r.workshop_id}/live/activities/{r.activity_id}/reveal"
                facilitator.post(url, data={"csrf_token": token})
                reader.until(lambda m: m.get("id") == "screen" and "4,0" in m["html"], 3)


def test_who_may_connect(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as stranger:
        with pytest.raises(WebSocketDisconnect) as refused:
            with stranger.websocket_connect(f"/ws/p/{r.workshop_id}"):
                pass
        assert refused.value.code == 4401
        with pytest.raises(WebSocketDisconnect) as refused:
            with stranger.websocket_connect(f"/ws/screen/{r.workshop_id}/console"):
                pass
        assert refused.value.code == 4401
    with TestClient(app) as phone:
        join(phone, r)
        with pytest.raises(WebSocketDisconnect) as refused:
            with phone.websocket_connect(f"/ws/p/{r.workshop_id}", headers={"Origin": "https://evil.example"}):
                pass
        assert refused.value.code == 4403
        # A participant is not a facilitator: no screen feed.
        with pytest.raises(WebSocketDisconnect):
            with phone.websocket_connect(f"/ws/screen/{r.workshop_id}/projector"):
                pass
    with TestClient(app) as other:
        login(other, users.b.email)
        with pytest.raises(WebSocketDisconnect) as refused:
            with other.websocket_connect(f"/ws/screen/{r.workshop_id}/console"):
                pass
        assert refused.value.code == 4401


def test_removed_participant_is_disconnected(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
            reader = Reader(ws)
            send(ws, t="hello", a=r.activity_id)
            reader.until(lambda m: m.get("id") == "stage")
            from sqlmodel import select

            from server.models import Participant

            pid = db.exec(select(Participant)).one().id
            with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
                live.do_remove_participant(session, session.get(Workshop, r.workshop_id), pid, app.state.tallies)
            assert reader.until(lambda m: m["t"] in ("removed", "closed"), 3)["t"] == "removed"
        page = phone.get(f"/p/{r.workshop_id}", follow_redirects=False, headers={"Accept-Language": "en"})
        assert page.status_code == 403 and "The facilitator removed you from this workshop." in page.text


def test_no_activity_answers_are_refused_after_close(app, db, users):
    r = room(app, db, users.a)
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        live.do_close(session, session.get(Workshop, r.workshop_id), session.get(Activity, r.activity_id))
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}", headers={"Accept-Language": "es"}) as ws:
            reader = Reader(ws)
            send(ws, t="answer", k="key-000004", a=r.activity_id, g=r.gap_ids[0], q="seriousness", v=3)
            ack = reader.until(lambda m: m["t"] == "ack")
            assert ack["ok"] is False and ack["error"]


def test_a_phone_reconnecting_with_the_stage_it_shows_is_not_sent_it_again(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
            reader = Reader(ws)
            send(ws, t="hello", a=r.activity_id)
            stage = reader.until(lambda m: m.get("id") == "stage")
            assert version_of(html_message("stage", stage["html"], versioned=True)) == stage["v"]
        for told, sent_again in ((stage["v"], False), ("0" * 16, True), (None, True)):
            with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
                reader = Reader(ws)
                send(ws, t="hello", a=r.activity_id, **({"v": told} if told else {}))
                seen = []
                while not seen or seen[-1] != "mine":  # the hello's answer ends with this phone's answers
                    message = reader.until(lambda m: True, 3)
                    seen.append(message.get("id") or message["t"])
                assert ("stage" in seen) is sent_again, (told, seen)
        # A version that is no digest is refused like any malformed message; the socket stays.
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as ws:
            reader = Reader(ws)
            send(ws, t="hello", a=r.activity_id, v="<script>")
            assert reader.until(lambda m: m["t"] == "error", 3)
            send(ws, t="hello", a=r.activity_id)
            reader.until(lambda m: m.get("id") == "stage", 3)


def test_a_hello_long_after_connecting_reads_the_answers_again(app, db, users, monkeypatch):
    """The answers read as a phone connects stand for its hello only if it comes at once
    (``MINE_READ_AHEAD``): one that waits gets what was saved meanwhile, here from the
    same participant's other socket."""
    from server.workshops import ws as ws_module

    monkeypatch.setattr(ws_module, "MINE_READ_AHEAD", 0.0)
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as slow:  # read ahead: no answers yet
            with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as other:
                reader = Reader(other)
                send(other, t="hello", a=r.activity_id)
                send(other, t="answer", k="key-000001", a=r.activity_id, g=r.gap_ids[0], q="seriousness", v=3)
                assert reader.until(lambda m: m["t"] == "ack")["ok"] is True
            reader = Reader(slow)
            send(slow, t="hello", a=r.activity_id)
            mine = reader.until(lambda m: m["t"] == "mine")
            assert mine["answers"] == {str(r.gap_ids[0]): {"seriousness": 3}}
