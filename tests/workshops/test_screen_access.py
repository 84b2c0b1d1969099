"""Console and projector websockets stop when the access behind them ends: logout, the
chain unshared, the account deactivated, the login expired; in every process."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from server.models import LoginSession, ValueChainShare, Workshop, utcnow
from server.realtime.hub import CONSOLE, Connection, Hub
from tests.conftest import REDIS_URL, login
from tests.live_helpers import room


class Screen:
    """A screen's websocket read in a thread: its messages, then the close code."""

    def __init__(self, client: TestClient, workshop_id: int, audience: str = "projector"):
        self._cm = client.websocket_connect(f"/ws/screen/{workshop_id}/{audience}")
        self.ws = self._cm.__enter__()
        self.closed: queue.Queue = queue.Queue()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            while True:
                self.ws.receive_text()
        except Exception as exc:
            self.closed.put(getattr(exc, "code", repr(exc)))

    def close_code(self, timeout: float = 5.0):
        return self.closed.get(timeout=timeout)

    def still_open(self, wait: float = 1.0) -> bool:
        try:
            self.closed.get(timeout=wait)
        except queue.Empty:
            return True
        return False

    def leave(self):
        try:
            self._cm.__exit__(None, None, None)
        except Exception:
            pass


def post(client: TestClient, url: str, token: str, **data):
    response = client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def test_logout_closes_that_login_s_screens_only(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as first, TestClient(app) as second:
        token = login(first, users.a.email)
        login(second, users.a.email)
        console, projector = Screen(first, r.workshop_id, "console"), Screen(first, r.workshop_id)
        elsewhere = Screen(second, r.workshop_id)
        try:
            post(first, "/logout", token)
            assert console.close_code() == 4401
            assert projector.close_code() == 4401
            assert elsewhere.still_open()  # the same facilitator's other login goes on
        finally:
            for screen in (console, projector, elsewhere):
                screen.leave()


def test_unsharing_closes_the_facilitator_s_screens(app, db, users):
    r = room(app, db, users.a)
    chain_id = db.get(Workshop, r.workshop_id).value_chain_id
    with TestClient(app) as owner, TestClient(app) as guest:
        token = login(owner, users.a.email)
        post(owner, f"/chains/{chain_id}/shares", token, email=users.b.email)
        login(guest, users.b.email)
        guests, owners = Screen(guest, r.workshop_id), Screen(owner, r.workshop_id, "console")
        try:
            assert guests.still_open(0.3)
            post(owner, f"/chains/{chain_id}/shares/{users.b.id}/delete", token)
            assert guests.close_code() == 4401
            assert owners.still_open()
            assert db.exec(select(ValueChainShare)).all() == []
        finally:
            guests.leave()
            owners.leave()


def test_deactivating_an_account_closes_its_screens(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as facilitator, TestClient(app) as admin:
        login(facilitator, users.a.email)
        token = login(admin, users.admin.email)
        screen = Screen(facilitator, r.workshop_id, "console")
        try:
            assert screen.still_open(0.3)
            post(admin, f"/admin/users/{users.a.id}/edit", token, name=users.a.name, email=users.a.email)
            assert screen.close_code() == 4401
        finally:
            screen.leave()


def test_an_expired_login_is_noticed_by_the_periodic_check(app, db, users, monkeypatch):
    r = room(app, db, users.a)
    monkeypatch.setattr(app.state.hub, "recheck_interval", 0.3)
    with TestClient(app) as facilitator:
        login(facilitator, users.a.email)
        screen = Screen(facilitator, r.workshop_id)
        try:
            assert screen.still_open(0.8)  # checked at least once, and allowed
            for row in db.exec(select(LoginSession)):
                row.expires_at = utcnow() - timedelta(minutes=1)
                db.add(row)
            db.commit()
            assert screen.close_code() == 4401
        finally:
            screen.leave()


def test_a_closed_screen_reconnecting_is_refused(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as facilitator:
        token = login(facilitator, users.a.email)
        post(facilitator, "/logout", token)
        from starlette.websockets import WebSocketDisconnect

        with pytest.raises(WebSocketDisconnect) as refused:
            with facilitator.websocket_connect(f"/ws/screen/{r.workshop_id}/console"):
                pass
        assert refused.value.code == 4401


# The hub on its own: which connections are asked, and across processes ---------------------


def _screen(loop_box: dict, hub: Hub, user_id: int, allowed: list[bool]) -> Connection:
    closed = threading.Event()

    async def send(text: str) -> None:
        pass

    async def close() -> None:
        closed.set()

    async def recheck() -> bool:
        return allowed[0]

    conn = Connection(send, 1, CONSOLE, close=close, user_id=user_id, recheck=recheck)
    conn.closed_event = closed  # type: ignore[attr-defined]

    async def attach() -> None:
        hub.attach(conn)

    asyncio.run_coroutine_threadsafe(attach(), loop_box["loop"]).result(5)
    return conn


@pytest.fixture
def loop_box():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield {"loop": loop}
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_the_hub_asks_only_that_user_s_screens_and_closes_those_refused(loop_box):
    hub = Hub(recheck_interval=0)
    refused, other = [False], [False]
    mine = _screen(loop_box, hub, 7, refused)
    theirs = _screen(loop_box, hub, 8, other)
    hub.recheck_user(7)
    hub.flush()
    assert mine.closed_event.wait(3)
    time.sleep(0.2)
    assert not theirs.closed_event.is_set()  # user 8 was not asked, though it would be refused


@pytest.mark.services
@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (MINKA_TEST_REDIS_URL)")
def test_a_revocation_reaches_screens_held_by_another_process(loop_box):
    from server.realtime.redis_backend import RedisBackend

    here, there = Hub(backend=RedisBackend(REDIS_URL)), Hub(backend=RedisBackend(REDIS_URL))
    here.start()
    there.start()
    try:
        time.sleep(0.3)  # both subscribed
        conn = _screen(loop_box, there, 7, [False])
        here.recheck_user(7)  # e.g. the logout was served by the other process
        here.flush()
        assert conn.closed_event.wait(5)
    finally:
        here.stop()
        there.stop()


def test_a_binary_or_junk_frame_leaves_a_screen_open(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as laptop:
        login(laptop, users.a.email)
        screen = Screen(laptop, r.workshop_id, "console")
        try:
            screen.ws.send_bytes(b"\x00\x01binary")
            screen.ws.send_text("{not json")
            assert screen.still_open()
        finally:
            screen.leave()
