"""The Host header: it never sets the join address others see, and allowed hosts are
enforced when configured."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from tests import factories
from tests.conftest import login
from tests.live_helpers import room

FORGED = "evil.example"


def _projector_texts(client: TestClient, workshop_id: int) -> tuple[str, str]:
    """The projector page and the first screen its websocket pushes."""
    page = client.get(f"/workshops/{workshop_id}/projector")
    assert page.status_code == 200
    with client.websocket_connect(f"/ws/screen/{workshop_id}/projector") as ws:
        while True:
            message = json.loads(ws.receive_text())
            if message.get("id") == "screen":
                return page.text, message["html"]


def test_a_forged_host_on_one_console_never_reaches_another_projector(app, db, users):
    r = room(app, db, users.a)
    theirs = factories.workshop(db, users.b, factories.chain(db, users.b, name="Cacao"))
    with TestClient(app) as a, TestClient(app) as b:
        login(a, users.a.email)
        login(b, users.b.email)
        # B opens a console (and a projector) with a forged Host, before anyone else.
        assert b.get(f"/workshops/{theirs.id}/live", headers={"Host": FORGED}).status_code == 200
        assert b.get(f"/workshops/{theirs.id}/projector", headers={"Host": FORGED}).status_code == 200
        page, pushed = _projector_texts(a, r.workshop_id)
        assert FORGED not in page and FORGED not in pushed
        assert 'data-join-address="testserver"' in page  # A's own address, from A's request
        assert '<p class="join-address" data-join-address>testserver</p>' in page
        # Pushed screens are shared by every projector: they carry no request's address.
        assert '<p class="join-address" data-join-address></p>' in pushed
        console = a.get(f"/workshops/{r.workshop_id}/live")
        assert FORGED not in console.text and "http://testserver/join/" in console.text


def test_the_base_url_setting_is_the_join_address_everywhere(settings, db, users):
    app = create_app(settings.model_copy(update={"base_url": "https://minka.example.org"}))
    try:
        r = room(app, db, users.a)
        with TestClient(app) as a:
            login(a, users.a.email)
            page, pushed = _projector_texts(a, r.workshop_id)
            for text in (page, pushed):
                assert '<p class="join-address" data-join-address>minka.example.org</p>' in text
            assert "https://minka.example.org/join/" in a.get(f"/workshops/{r.workshop_id}/live").text
    finally:
        app.state.db.dispose()


@pytest.fixture
def guarded(settings):
    app = create_app(settings.model_copy(update={"allowed_hosts": ["minka.example.org", "*.minka.test"]}))
    yield app
    app.state.db.dispose()


def test_allowed_hosts_refuse_any_other_host(guarded):
    with TestClient(guarded, base_url="http://minka.example.org") as client:
        assert client.get("/login").status_code == 200
        assert client.get("/login", headers={"Host": "a.minka.test:8000"}).status_code == 200
        forged = client.get("/login", headers={"Host": FORGED})
        assert forged.status_code == 400
        assert client.get("/", headers={"Host": "minka.example.org.evil.example"}).status_code == 400
        # A container's health probe asks 127.0.0.1: still answered.
        assert client.get("/healthz", headers={"Host": "127.0.0.1:8000"}).text == "ok"
        from starlette.websockets import WebSocketDisconnect

        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws/screen/1/projector", headers={"Host": FORGED}):
                pass


def test_without_the_setting_any_host_is_served(client):
    assert client.get("/login", headers={"Host": "192.168.8.20:8000"}).status_code == 200
