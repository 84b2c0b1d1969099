"""Two processes of one installation (two apps on the same database and Redis): the
console of one counts the phones connected to both, and the answers sent through both,
exactly; a process that stops takes its phones out of the count. (A process killed
without a word: tests/realtime/test_presence.py.)"""

from __future__ import annotations

import os
import re

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.workshops.participants import cookie_name
from tests.conftest import login
from tests.live_helpers import room
from tests.workshops.test_ws import Reader, send
from tests.workshops.test_ws_storm import join_many

pytestmark = pytest.mark.skipif(not os.environ.get("MINKA_TEST_REDIS_URL"), reason="needs Redis (MINKA_TEST_REDIS_URL)")


def counts(message: dict) -> tuple[int, int, int]:
    """Joined, connected now, answered: the console's counts fragment, in that order."""
    return tuple(int(n) for n in re.findall(r"<dd>(\d+)</dd>", message["html"]))


def test_the_console_counts_phones_and_answers_on_every_process(app, db, users, settings):
    r = room(app, db, users.a)
    tokens = list(join_many(app, r.workshop_id, 5, r.group_ids["public"], r.segment_ids[0]).values())
    cookie = cookie_name(r.workshop_id)
    other = create_app(settings)  # a second process: its own hub, writer and tallies
    with TestClient(app) as facilitator, TestClient(other):
        login(facilitator, users.a.email)
        with facilitator.websocket_connect(f"/ws/screen/{r.workshop_id}/console") as console_ws:
            console = Reader(console_ws)
            phones_here = [TestClient(app, cookies={cookie: t}) for t in tokens[:2]]
            phones_there = [TestClient(other, cookies={cookie: t}) for t in tokens[2:]]
            sockets = [c.websocket_connect(f"/ws/p/{r.workshop_id}") for c in phones_here + phones_there]
            opened = [s.__enter__() for s in sockets]
            try:
                readers = [Reader(ws) for ws in opened]
                for ws, reader in zip(opened, readers, strict=True):
                    send(ws, t="hello", a=r.activity_id)
                    reader.until(lambda m: m.get("id") == "stage")
                shown = console.until(lambda m: m.get("id") == "counts" and counts(m)[1] == 5, timeout=10)
                assert counts(shown) == (5, 5, 0)  # 2 here and 3 there, all counted

                # Three answer through the other process: this console counts them.
                for i, (ws, reader) in enumerate(zip(opened[2:], readers[2:], strict=True)):
                    send(ws, t="answer", k=f"cross-key-{i:04d}", a=r.activity_id, g=r.gap_ids[0], q="seriousness", v=4)
                    assert reader.until(lambda m: m["t"] == "ack")["ok"]
                shown = console.until(lambda m: m.get("id") == "counts" and counts(m)[2] == 3, timeout=10)
                assert counts(shown) == (5, 5, 3)
            finally:
                for s in reversed(sockets):
                    s.__exit__(None, None, None)
            # The phones closed, on both processes: nobody is connected.
            console.until(lambda m: m.get("id") == "counts" and counts(m)[1] == 0, timeout=10)
