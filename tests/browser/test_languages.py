"""Each screen in its own language (issue 11): a Spanish phone and an English phone in the
same Spanish workshop, and an English console and projector, each see what arrives live
in their own language; the workshop's content (its activity's title, the gaps) stays as
written. The console's list of participants gains a row when a phone joins, without a
reload. Phones at 360 px, the laptop at 1280 px."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from server.i18n import translations
from server.models import Activity
from tests.browser.support import Devices, fits_the_screen, log_in, mark, not_reloaded
from tests.live_helpers import Room, room

GROUPS = {"es": "Sector público", "en": "Public sector"}


def say(language: str, msgid: str, **params) -> str:
    text = translations(language).gettext(msgid)
    return text % params if params else text


def switch_to(page: Page, language: str) -> None:
    """The language switch of the page's top bar, as a person would use it."""
    page.locator(".langs").get_by_role("link", name=language.upper()).click()
    expect(page.locator(".langs strong")).to_have_text(language.upper())


def join(page: Page, r: Room, language: str, name: str) -> None:
    """Join from the home page, reading the labels in ``language``."""
    page.goto("/")
    if language != "es":  # the phone asks for Spanish (es-PE): this one chooses English
        switch_to(page, language)
    page.get_by_label(say(language, "Workshop code")).fill(r.code)
    page.get_by_role("button", name=say(language, "Join")).tap()
    expect(page).to_have_url(re.compile(rf"/join/{r.code}$"))
    page.get_by_label(say(language, "Your name")).fill(name)
    page.get_by_role("group", name=say(language, "You are here for")).get_by_label(GROUPS[language]).check()
    page.get_by_label(say(language, "Your segment of the chain")).select_option(label="Productores")
    page.get_by_role("button", name=say(language, "Join")).tap()
    expect(page).to_have_url(re.compile(rf"/p/{r.workshop_id}$"))
    expect(page.locator('#stage [data-state="waiting"]')).to_contain_text(
        say(language, "Welcome! The facilitator will open the first activity soon. This screen changes by itself.")
    )
    fits_the_screen(page)


def scale(page: Page, language: str):
    """The gap cards' seriousness questions, named in ``language``."""
    return page.locator("#stage .gap-card").get_by_role("group", name=say(language, "How serious is this gap?"))


def test_each_screen_gets_the_live_workshop_in_its_own_language(devices: Devices, app, db, users):
    r = room(app, db, users.a, open_first=False)  # a Spanish workshop (the diagnosis)
    title = db.get(Activity, r.activity_id).title  # content: stays as written, in Spanish

    desk = devices.desk()
    console = devices.page(desk, "console")
    log_in(console, users.a.email)
    console.goto(f"/workshops/{r.workshop_id}/live")
    switch_to(console, "en")
    expect(console.get_by_role("heading", level=1)).to_have_text("Live console")
    console.wait_for_load_state("load")
    expect(console.locator("#people")).to_contain_text("Nobody has joined yet.")
    mark(console)
    projector = devices.page(desk, "projector")
    projector.goto(f"/workshops/{r.workshop_id}/projector")  # the same laptop: English too
    expect(projector.locator("html")).to_have_attribute("lang", "en")
    mark(projector)

    spanish = devices.phone("phone-es")
    join(spanish, r, "es", "Ana")
    # The console's list gains her row without a reload, its headings in English.
    people = console.locator("#people")
    expect(people.locator("li")).to_have_count(1)
    expect(people.locator("li").first).to_contain_text("Ana")
    expect(people.locator("li").first).to_contain_text("Public sector")
    expect(people.get_by_role("heading")).to_contain_text("Participants")

    english = devices.phone("phone-en")
    join(english, r, "en", "Bruno")
    expect(people.locator("li")).to_have_count(2)
    expect(people.locator("li").nth(1)).to_contain_text("Bruno")
    mark(spanish)
    mark(english)

    # The facilitator starts the activity from the English console.
    console.locator("#live-agenda").get_by_role("button", name=re.compile(r"^Start:")).click()
    expect(scale(spanish, "es")).to_have_count(1)  # one gap at a time, its question in Spanish
    expect(scale(english, "en")).to_have_count(1)  # ... and in English on the English phone
    rate_each = (
        "Rate each gap. Each answer is saved as soon as you choose it; you can change it until the activity closes."
    )
    expect(spanish.locator("#stage")).to_contain_text(say("es", rate_each))
    expect(english.locator("#stage")).to_contain_text(rate_each)
    expect(english.locator("#stage")).not_to_contain_text(say("es", "How serious is this gap?"))
    for phone in (spanish, english):
        expect(phone.locator("#stage h2").first).to_have_text(title)
        expect(phone.locator("#stage .gap-card").first).to_contain_text("Brecha 1")
    expect(projector.locator(".voted")).to_have_text("0 of 2 have voted")

    # An answer from the Spanish phone: the English console's live counts say so in English.
    scale(spanish, "es").first.locator("label").filter(has=spanish.locator("input[value='4']")).tap()
    expect(console.locator("#counts .voted")).to_have_text("1 of 2 has voted")
    expect(projector.locator(".voted")).to_have_text("1 of 2 has voted")
    expect(console.locator("#counts")).to_contain_text("Answered this activity")

    for page in (spanish, english, console, projector):
        not_reloaded(page)
    for phone in (spanish, english):
        fits_the_screen(phone)
