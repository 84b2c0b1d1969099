"""`minka serve`'s uvicorn, for real: proxy headers trusted only from configured proxies,
websocket frames larger than the protocol needs refused before they are read whole."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from contextlib import contextmanager

import httpx2 as httpx
import pytest
import uvicorn
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server.app import create_app
from server.cli import WS_MAX_BYTES, WebsocketHandshakeLines, quiet_handshakes, uvicorn_options
from tests import factories
from tests.live_helpers import room


@contextmanager
def served(settings, **changes):
    """The app served by uvicorn with the options `minka serve` gives it, on a free port."""
    settings = settings.model_copy(update=changes)
    application = create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options = {**uvicorn_options(settings, "127.0.0.1", port), "app": application, "factory": False}
    server = uvicorn.Server(uvicorn.Config(**options, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield application, f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        application.state.db.dispose()


def _failed_logins(base: str, forwarded_for: list[str]) -> list[int]:
    """One wrong login per address (and per e-mail, so only the address limit counts)."""
    statuses = []
    with httpx.Client(base_url=f"http://{base}") as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        for n, address in enumerate(forwarded_for):
            response = client.post(
                "/login",
                data={"email": f"nobody{n}@example.org", "password": "wrong password", "csrf_token": token},
                headers={"X-Forwarded-For": address},
            )
            statuses.append(response.status_code)
    return statuses


ADDRESSES = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]


def test_by_default_x_forwarded_for_is_ignored(settings, db):
    assert uvicorn_options(settings, "127.0.0.1", 8000)["proxy_headers"] is False
    with served(settings, login_attempts_per_minute=2) as (_app, base):
        # Three addresses claimed, one real one (127.0.0.1): its limit of 2 is reached.
        assert _failed_logins(base, ADDRESSES) == [422, 422, 429]


def test_configured_proxies_are_believed(settings, db):
    with served(settings, login_attempts_per_minute=2, forwarded_allow_ips="127.0.0.1") as (_app, base):
        assert _failed_logins(base, ADDRESSES) == [422, 422, 422]


def test_a_websocket_frame_over_4_kb_is_refused_and_the_server_stays_up(app, settings, db, users):
    r = room(app, db, users.a)
    with served(settings) as (_app, base), httpx.Client(base_url=f"http://{base}") as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"email": users.a.email, "password": factories.PASSWORD, "csrf_token": token})
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        url = f"ws://{base}/ws/screen/{r.workshop_id}/console"
        with connect(url, additional_headers={"Cookie": cookie}) as ws:
            ws.recv(timeout=5)  # the console's first texts: accepted
            ws.send("{" + " " * (WS_MAX_BYTES - 2) + "}")  # at the limit: read (and ignored)
            ws.send("x" * 5 * 1024)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        assert client.get("/healthz").text == "ok"
        with connect(url, additional_headers={"Cookie": cookie}) as ws:
            assert ws.recv(timeout=5)  # and the next connection is served as usual


def test_without_the_access_log_no_line_per_websocket_handshake_either(settings):
    def record(msg, *args):
        return logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, msg, args, None)

    lines = WebsocketHandshakeLines()
    assert not lines.filter(record('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", "/ws/p/1"))
    assert not lines.filter(record('%s - "WebSocket %s" 403', "127.0.0.1:5000", "/ws/p/1"))
    assert not lines.filter(record("connection open"))  # the websocket protocol's own, per handshake
    assert lines.filter(record("Application startup complete."))
    assert lines.filter(record("Exception in ASGI application\n"))
    error_log = logging.getLogger("uvicorn.error")
    kept = list(error_log.filters)
    # A `minka serve` run earlier in this process (test_hardening) may have added one already.
    error_log.filters[:] = [f for f in kept if not isinstance(f, WebsocketHandshakeLines)]
    try:
        quiet_handshakes(settings.model_copy(update={"access_log": True}))
        assert not any(isinstance(f, WebsocketHandshakeLines) for f in error_log.filters)
        quiet_handshakes(settings)
        quiet_handshakes(settings)  # once only
        assert sum(isinstance(f, WebsocketHandshakeLines) for f in error_log.filters) == 1
        uvicorn.Config(app=create_app, factory=True)  # configures uvicorn's logging anew
        assert any(isinstance(f, WebsocketHandshakeLines) for f in error_log.filters)
    finally:
        error_log.filters[:] = kept


def test_the_access_log_is_off_unless_asked(settings):
    assert uvicorn_options(settings, "127.0.0.1", 8000)["access_log"] is False
    asked = settings.model_copy(update={"access_log": True})
    assert uvicorn_options(asked, "127.0.0.1", 8000)["access_log"] is True
