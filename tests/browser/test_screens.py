"""The projector in the browser: it shows the address it was itself opened at, also after
the hub pushes a new screen, and it leaves for the login form when its login ends."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.support import Devices, log_in, t
from tests.live_helpers import room


def test_the_projector_shows_its_own_address_and_leaves_at_logout(devices: Devices, app, db, users, live_server):
    r = room(app, db, users.a)
    desk = devices.desk()
    console = devices.page(desk, "console")
    log_in(console, users.a.email)
    projector = devices.page(desk, "projector")
    projector.goto(f"/workshops/{r.workshop_id}/projector")
    address = projector.locator(".join-address")
    expect(address).to_have_text(urlsplit(live_server).netloc)

    # A pushed screen (rendered once for every projector) names no address: the page fills
    # in its own.
    address.evaluate("el => { el.dataset.before = '1'; }")
    app.state.hub.mark_dirty(r.workshop_id, "stage")
    expect(projector.locator(".join-address[data-before]")).to_have_count(0)  # replaced
    expect(address).to_have_text(urlsplit(live_server).netloc)

    # Logging out on the console ends the projector's feed: it reloads, to the login form.
    console.goto("/chains")
    console.get_by_role("button", name=t("Log out")).click()
    expect(projector).to_have_url(re.compile(r"/login\?next="))
    expect(projector.get_by_role("heading", level=1)).to_have_text(t("Facilitator log in"))
