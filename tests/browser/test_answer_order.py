"""The phone's order of its answers in the browser (issue 8, hole 12): every answer carries
a sequence that grows across reloads, over the websocket and over the HTTP fallback; an
older answer the phone sends again late is refused as superseded, and the phone shows
what the database holds."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlmodel import select

from server.models import GapAnswer
from tests.browser.support import Devices
from tests.browser.test_live import SAVED, cards, join, rate, seriousness
from tests.live_helpers import room


def stored(db) -> list[tuple[int, int | None]]:
    db.expunge_all()
    return [(a.value, a.seq) for a in db.exec(select(GapAnswer).where(GapAnswer.question == "seriousness"))]


def test_an_answer_resent_late_never_replaces_a_newer_one(devices: Devices, app, db, users):
    r = room(app, db, users.a)
    phone = devices.phone("phone")
    join(phone, r, how="qr", name="Ana", group="public")
    first = cards(phone).first
    rate(phone, 0, 3)
    expect(first.locator(".saved")).to_have_text(SAVED)
    ((value, seq_3),) = stored(db)
    assert value == 3 and seq_3
    phone.reload()
    rate(phone, 0, 2)
    expect(first.locator(".saved")).to_have_text(SAVED)
    ((value, seq_2),) = stored(db)
    assert value == 2 and seq_2 > seq_3  # later, even after a reload

    # The earlier answer, never acknowledged (the server died first), is still pending on
    # the phone; it is sent again when the page comes back.
    gap = int(first.get_attribute("data-gap"))
    late = {"t": "answer", "k": "late-key-000001", "a": r.activity_id, "g": gap, "q": "seriousness", "v": 3, "s": seq_3}
    phone.evaluate(
        "([store, msg]) => localStorage.setItem(store, JSON.stringify({[msg.k]: msg}))",
        [f"minka-pending-/ws/p/{r.workshop_id}", late],
    )
    phone.reload()
    expect(cards(phone).first.locator(".saved")).to_have_text(SAVED)
    phone.wait_for_function(
        f"() => !(localStorage.getItem('minka-pending-/ws/p/{r.workshop_id}') || '').includes('late-key')"
    )
    expect(seriousness(phone, 0, 2)).to_be_checked()  # what the database holds
    assert stored(db) == [(2, seq_2)]


def test_the_http_fallback_sends_the_sequence(devices: Devices, app, db, users):
    r = room(app, db, users.a)
    # A websocket that never opens: every answer goes as an HTTP post.
    devices.phone_scripts.append("window.WebSocket = function () { this.readyState = 0; this.send = function () {}; };")
    phone = devices.phone("phone")
    join(phone, r, how="qr", name="Ana", group="public")
    rate(phone, 0, 4)
    expect(cards(phone).first.locator(".saved")).to_have_text(SAVED)
    ((value, seq),) = stored(db)
    assert value == 4 and seq
