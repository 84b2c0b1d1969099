"""A phone that (re)connects while its process's door is shut waits in line (issue 15): its
socket's handshake is held, its page keeps working meanwhile (an answer given then is posted
over HTTP after 3 s and saved), and its socket comes in as soon as the phones ahead of it
are served. At 360 x 740, in Spanish."""

from __future__ import annotations

import json
import time

from playwright.sync_api import expect
from sqlmodel import select
from websockets.sync.client import connect

from server.models import GapAnswer
from server.realtime.admission import Doorman
from server.workshops.participants import cookie_name
from tests.browser.support import Devices, t
from tests.browser.test_live import cards
from tests.browser.test_workshop_day import join
from tests.live_helpers import room
from tests.workshops.test_ws_storm import door_of, join_many


def until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def seriousness(card, value: int):
    return card.locator("[data-q=seriousness] label").filter(has_text=str(value))


def test_a_phone_waiting_in_line_saves_its_answer_and_comes_in_when_the_doorway_frees(
    devices: Devices, app, db, users, live_server
):
    r = room(app, db, users.a)
    phone = devices.phone("phone")
    join(phone, r)
    expect(cards(phone)).to_have_count(3)
    (token,) = join_many(app, r.workshop_id, 1, r.group_ids["public"], r.segment_ids[0]).values()
    url = live_server.replace("http://", "ws://") + f"/ws/p/{r.workshop_id}"
    headers = {"Cookie": f"{cookie_name(r.workshop_id)}={token}"}

    # A doorway of one, held by another phone that has not said hello yet.
    with door_of(app, Doorman(0, in_flight=1, timeout=60, line=5, line_wait=60)) as door:
        with connect(url, origin=live_server, additional_headers=headers) as ahead:
            phone.reload()
            expect(cards(phone)).to_have_count(3)
            until(lambda: len(door._line) == 1)  # the phone's socket waits in line, its handshake held
            first = cards(phone).first
            seriousness(first, 4).tap()
            expect(first.locator(".saved")).to_have_text(t("Saved"))  # posted over HTTP meanwhile
            assert (door.admitted, door.lined, door.refused) == (1, 0, 0)

            ahead.send(json.dumps({"t": "hello", "a": r.activity_id}))  # served: the doorway frees
            until(lambda: door.lined == 1)  # the phone's socket came in from the line
            seriousness(first, 2).tap()  # changed, over the socket now
            expect(first.locator("[data-q=seriousness] input[value='2']")).to_be_checked()
            expect(first.locator(".saved")).to_have_text(t("Saved"))
            until(lambda: stored(db) == [(r.gap_ids[0], "seriousness", 2)])
            assert door.refused == 0  # nobody turned away


def stored(db) -> list[tuple]:
    db.expunge_all()
    return sorted((a.gap_id, a.question, a.value) for a in db.exec(select(GapAnswer)))
