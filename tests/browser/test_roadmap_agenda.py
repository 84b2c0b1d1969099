"""A facilitator adds a roadmap activity to a workshop's agenda on a phone (360 × 740, in
Spanish): its action lines come from the workshop's ranking, so none need be ticked; asked
to take only the ticked lines with none ticked, the form says so in place."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from server.models import Activity
from server.workshops.service import agenda_of
from tests import factories
from tests.browser.support import fits_the_screen, log_in, t


def test_facilitator_adds_a_roadmap_activity(phone: Page, users, db, live_server, page_problems):
    page_problems.allow(r"status of 422 .*/activities/new\)$")  # the refused form: Chromium logs its status
    chain = factories.chain(db, users.a, action_lines=3)
    workshop = factories.workshop(db, users.a, chain, template="prioritization")  # dots, then a ranking
    page = phone
    log_in(page, users.a.email)
    page.goto(f"/workshops/{workshop.id}")
    page.get_by_label(t("Add an activity")).select_option(label=t("Roadmap editing"))
    page.get_by_role("button", name=t("Add"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/activities/new\?kind=roadmap$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Roadmap editing"))
    fits_the_screen(page)

    # Only the ticked lines, none ticked: refused at the lines, nothing added.
    page.get_by_label(t("Only new items from action lines")).check()
    page.get_by_label(t("The lines chosen below")).check()
    boxes = page.locator("input[name=items]")
    expect(boxes).to_have_count(3)
    for n in range(3):
        boxes.nth(n).uncheck()
    page.get_by_role("button", name=t("Save")).click()
    expect(page.locator(".has-error")).to_contain_text(
        "Elija al menos una línea de acción, o traiga los elementos abiertos de la cadena."
    )
    fits_the_screen(page)
    db.expire_all()
    assert [a.kind for a in agenda_of(db, workshop)] == ["gap_rating", "ranking"]

    # From the ranking's top lines: no line need be ticked.
    page.get_by_label(t("The top lines of this workshop's ranking, in its order")).check()
    page.get_by_label(t("How many of the ranking's top lines")).fill("2")
    page.get_by_label(t("Participants suggest, the facilitator accepts")).check()
    page.get_by_label(t("Title shown to participants")).fill("Hoja de ruta del café")
    page.get_by_role("button", name=t("Save")).click()
    expect(page).to_have_url(re.compile(rf"/workshops/{workshop.id}#agenda$"))
    rows = page.locator("#agenda ol > li")
    expect(rows).to_have_count(3)
    expect(rows.last.locator("strong")).to_have_text("Hoja de ruta del café")
    fits_the_screen(page)
    db.expire_all()
    roadmap = agenda_of(db, workshop)[-1]
    assert isinstance(roadmap, Activity) and roadmap.kind == "roadmap"
    assert {k: roadmap.settings[k] for k in ("bring", "lines_from", "top", "edit_mode")} == {
        "bring": "lines",
        "lines_from": "ranking",
        "top": 2,
        "edit_mode": "suggest",
    }
