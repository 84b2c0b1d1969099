"""The phone's scripts: a transport (static/phone/transport.js) and one small module per
activity kind (static/phone/<kind>.js). A phone loads the transport and the module of the
kind on its screen, and another kind's module only when the stage turns to it; no script
is inline (the CSP allows 'self' only, and a violation fails the test as a console error).
When the websocket drops, the phone tries again after a jittered, capped delay."""

from __future__ import annotations

import itertools

from playwright.sync_api import Page, expect

from server.db import transaction
from server.models import Activity, Workshop
from server.workshops import live
from server.workshops.service import agenda_of
from tests.browser.support import Devices, mark, not_reloaded, t
from tests.browser.test_live import WAITING, dots_left, join
from tests.live_helpers import room

SAVED = "Guardado"
SAVE = "Guardar mi orden"


def scripts(page: Page) -> list[str]:
    """The scripts in the page, by path under /static/ (an inline one would show as "")."""
    return page.evaluate(
        "() => [...document.scripts].map(s => s.src && new URL(s.src).pathname.replace('/static/', ''))"
    )


def open_activity(app, db, workshop_id: int, n: int) -> None:
    """Open the n-th activity of the agenda, as the console does (the phones follow)."""
    activity = agenda_of(db, db.get(Workshop, workshop_id))[n]
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        live.do_open(session, session.get(Workshop, workshop_id), session.get(Activity, activity.id))


def test_the_phone_loads_the_transport_and_the_module_of_the_kind_it_shows(devices: Devices, app, db, users):
    r = room(app, db, users.a, template="prioritization", open_first=False)  # dots, then a ranking
    phone = devices.phone("phone")
    asked: list[str] = []
    phone.on("request", lambda req: "/static/phone/" in req.url and asked.append(req.url.split("/static/")[1]))
    join(phone, r, how="qr", name="Ana", group="public")
    expect(phone.locator("#stage")).to_contain_text(WAITING)
    assert scripts(phone) == ["phone/transport.js"]  # nothing open yet: no kind's module
    phone.wait_for_function("() => window.Minka && window.Minka.online()")
    mark(phone)

    # The facilitator opens the dot voting: its module comes, and works.
    open_activity(app, db, r.workshop_id, 0)
    first = phone.locator("#stage .gap-card").first
    first.get_by_role("button", name=t("One dot more")).tap()
    expect(first.locator(".saved")).to_have_text(SAVED)
    expect(phone.locator(".dots-left")).to_have_text(dots_left(9))  # of ten
    assert scripts(phone) == ["phone/transport.js", "phone/gap_rating.js"]

    # Then the ranking: its module too.
    open_activity(app, db, r.workshop_id, 1)
    ranking = phone.locator("#stage form.ranking-card")
    ranking.locator("ul.unranked > li").first.get_by_role("button", name=t("Add to my ranking")).tap()
    expect(ranking.locator("ol.my-ranking > li")).to_have_count(1)
    ranking.get_by_role("button", name=SAVE).tap()
    expect(ranking.locator(".saved")).to_have_text(SAVED)
    not_reloaded(phone)
    assert [s.split("?")[0] for s in asked] == ["phone/transport.js", "phone/gap_rating.js", "phone/ranking.js"]

    # A page opened on the ranking names its module itself, after the transport, both deferred.
    phone.reload()
    expect(ranking.locator(".saved")).to_have_count(1)
    assert scripts(phone) == ["phone/transport.js", "phone/ranking.js", "vendor/sortable-1.15.7.min.js"]
    assert phone.evaluate("() => [...document.querySelectorAll('script[src*=\"/phone/\"]')].every(s => s.defer)")


# A websocket that never opens: it closes at once, and notes when each attempt was made.
SOCKET_THAT_FAILS = """
window.__attempts = [];
window.WebSocket = function () {
  var ws = this; window.__attempts.push(performance.now());
  this.readyState = 3; this.send = function () {};
  setTimeout(function () { ws.onclose && ws.onclose({code: 1006}); }, 0);
};
"""

# A server that is up but turns every phone away: the socket opens, then closes with 1013.
SOCKET_THAT_IS_SHED = """
window.__attempts = [];
window.WebSocket = function () {
  var ws = this; window.__attempts.push(performance.now());
  this.readyState = 0; this.send = function () {};
  setTimeout(function () {
    ws.readyState = 1; ws.onopen && ws.onopen();
    ws.readyState = 3; ws.onclose && ws.onclose({code: 1013});
  }, 0);
};
"""

# The same, the refusal giving the phone its turn: come back in 0.8 s.
SOCKET_GIVEN_A_TURN = SOCKET_THAT_IS_SHED.replace("{code: 1013}", '{code: 1013, reason: "0.80"}')

DRAWS = 500


def test_the_reconnect_delay_doubles_with_jitter_up_to_a_cap(devices: Devices, app, db, users):
    r = room(app, db, users.a)
    devices.phone_scripts.append(SOCKET_THAT_FAILS)
    phone = devices.phone("phone")
    join(phone, r, how="qr", name="Ana", group="public")
    expect(phone.locator(".offline")).to_be_visible()

    # The delay before attempt n while the server cannot be reached: between half and all
    # of min(0.5 s * 2^n, 4 s), at random. Many draws, evaluated in the page's own script.
    for n, top in ((0, 500), (1, 1000), (2, 2000), (3, 4000), (5, 4000), (12, 4000), (100, 4000)):
        low, high = phone.evaluate(f"() => [Minka.backoff({n}, 0), Minka.backoff({n}, 1)]")
        assert (low, high) == (top / 2, top), n
        waits = phone.evaluate(f"() => Array.from({{length: {DRAWS}}}, () => Minka.backoff({n}))")
        assert all(top / 2 <= w <= top for w in waits), (n, min(waits), max(waits))
        assert len(set(waits)) > DRAWS * 0.95, n  # jittered: phones dropped together come back apart
        # Spread over the whole upper half, not bunched: each quarter of it gets its share.
        quarters = [sum(top / 2 + q * top / 8 <= w < top / 2 + (q + 1) * top / 8 for w in waits) for q in range(4)]
        assert min(quarters) > DRAWS / 8, (n, quarters)

    # The page waits so between its attempts: 0.25-0.5 s, then 0.5-1 s, then 1-2 s.
    phone.wait_for_function("() => window.__attempts.length >= 4", timeout=8000)
    at = phone.evaluate("() => window.__attempts")
    gaps = [b - a for a, b in itertools.pairwise(at)]
    assert 200 <= gaps[0] <= 800 and 450 <= gaps[1] <= 1300 and 950 <= gaps[2] <= 2300, gaps


def test_a_phone_turned_away_comes_back_after_a_short_random_wait(devices: Devices, app, db, users):
    r = room(app, db, users.a)
    devices.phone_scripts.append(SOCKET_THAT_IS_SHED)
    phone = devices.phone("phone")
    join(phone, r, how="qr", name="Ana", group="public")

    # After the n-th refusal in a row (close 1013): 0.25 s plus a random part of a window
    # doubling from 1 s to a cap of 4 s, so a hall comes in at the rate the server admits.
    for n, top in ((0, 1000), (1, 2000), (2, 4000), (3, 4000), (30, 4000)):
        low, high = phone.evaluate(f"() => [Minka.shedWait({n}, 0), Minka.shedWait({n}, 1)]")
        assert (low, high) == (250, top), n
        waits = phone.evaluate(f"() => Array.from({{length: {DRAWS}}}, () => Minka.shedWait({n}))")
        assert all(250 <= w <= top for w in waits), (n, min(waits), max(waits))
        assert len(set(waits)) > DRAWS * 0.95, n
        halves = sum(w < (250 + top) / 2 for w in waits)
        assert DRAWS * 0.35 < halves < DRAWS * 0.65, (n, halves)  # uniform over the window

    # The page itself: refused again and again, it keeps trying within those windows, and
    # the opening of a socket that is then refused does not reset the count.
    phone.wait_for_function("() => window.__attempts.length >= 4", timeout=10000)
    at = phone.evaluate("() => window.__attempts")
    gaps = [b - a for a, b in itertools.pairwise(at)]
    assert 200 <= gaps[0] <= 1300 and 200 <= gaps[1] <= 2300 and 200 <= gaps[2] <= 4300, gaps


def test_a_phone_turned_away_with_a_turn_comes_back_then(devices: Devices, app, db, users):
    r = room(app, db, users.a)
    devices.phone_scripts.append(SOCKET_GIVEN_A_TURN)
    phone = devices.phone("phone")
    join(phone, r, how="qr", name="Ana", group="public")

    # The refusal's reason is this phone's turn in seconds: that wait, give or take a tenth,
    # however many refusals came before; a reason that is no turn is ignored.
    for n in (0, 3, 30):
        low, high = phone.evaluate(f"() => [Minka.shedWait({n}, 0, '2.50'), Minka.shedWait({n}, 1, '2.50')]")
        assert (low, high) == (2250, 2750), n
        waits = phone.evaluate(f"() => Array.from({{length: {DRAWS}}}, () => Minka.shedWait({n}, undefined, '2.50'))")
        assert all(2250 <= w <= 2750 for w in waits) and len(set(waits)) > DRAWS * 0.95, n
    for reason in ("", "soon", "-1", "1e9"):
        assert phone.evaluate(f"() => Minka.shedWait(0, 0, {reason!r})") == 250, reason

    phone.wait_for_function("() => window.__attempts.length >= 4", timeout=10000)
    at = phone.evaluate("() => window.__attempts")
    gaps = [b - a for a, b in itertools.pairwise(at)]
    assert all(650 <= gap <= 1100 for gap in gaps[:3]), gaps
