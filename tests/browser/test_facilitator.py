"""A facilitator's walk on a phone, in Spanish: log in, prepare a value chain and its
library, create a workshop from a method template, switch to English."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from server.i18n import translations
from server.models import ValueChain
from tests import factories
from tests.browser.conftest import PHONE_LOCALE, PHONE_WIDTH

LANG = PHONE_LOCALE.split("-")[0]

# What the page must say in Spanish, written out here so that an untranslated page fails.
SPANISH = {
    "Value chains": "Cadenas de valor",
    "This field is required.": "Este campo es obligatorio.",
}


def said(msgid: str) -> str:
    """The text a reader in the phone's language must see (pinned above for Spanish)."""
    return SPANISH[msgid] if LANG == "es" else msgid


def t(msgid: str) -> str:
    """The app's own translation of a label, to find controls by what the reader sees."""
    return translations(LANG).gettext(msgid) if LANG != "en" else msgid


def fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} is {width} px wide on a {PHONE_WIDTH} px screen"


def arrive(page: Page, url) -> None:
    """After a click that navigates: the new page, loaded (htmx included) before the next step."""
    expect(page).to_have_url(url)
    page.wait_for_load_state()


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", LANG)
    fits_the_screen(page)
    page.get_by_label(t("E-mail")).fill(email)
    page.get_by_label(t("Password")).fill(factories.PASSWORD)
    page.get_by_role("button", name=t("Log in")).click()
    arrive(page, re.compile(r"/chains$"))


def segment_names(page: Page) -> list[str]:
    return page.locator("#segments ol li input[name=name]").evaluate_all("els => els.map(e => e.value)")


def test_facilitator_prepares_a_chain_and_a_workshop(phone: Page, users, live_server):
    page = phone
    log_in(page, users.a.email)
    main_nav = page.get_by_role("navigation", name=t("Main"))
    expect(main_nav.get_by_role("link", name=said("Value chains"))).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(said("Value chains"))
    fits_the_screen(page)

    # A new chain, with its segments typed one per line.
    page.get_by_role("link", name=t("New value chain")).click()
    arrive(page, re.compile(r"/chains/new$"))
    fits_the_screen(page)
    page.get_by_label(t("Name"), exact=True).fill("Café")
    page.get_by_label(t("Regions")).fill("Cusco, Puno")
    page.get_by_label(t("Segments of the chain")).fill("Productores\nAcopiadores\nExportadores")
    page.get_by_role("button", name=t("Save")).click()
    arrive(page, re.compile(r"/chains/\d+$"))
    chain_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Café")
    expect(page.locator("dl.facts dd").last).to_have_text("Cusco, Puno")
    assert segment_names(page) == ["Productores", "Acopiadores", "Exportadores"]
    fits_the_screen(page)

    # Segments change in place (htmx): the page is never reloaded.
    page.evaluate("window.__marker = 1")
    segments = page.locator("#segments")
    segments.get_by_label(t("New segment")).fill("Tostadores")
    segments.get_by_role("button", name=t("Add segment")).click()
    expect(segments.locator("ol li")).to_have_count(4)
    assert segment_names(page) == ["Productores", "Acopiadores", "Exportadores", "Tostadores"]
    expect(segments.get_by_label(t("New segment"))).to_have_value("")

    segments.get_by_role("button", name=f"{t('Move up')}: Tostadores").click()
    expect(segments.locator("ol li").nth(2).locator("input[name=name]")).to_have_value("Tostadores")
    assert segment_names(page) == ["Productores", "Acopiadores", "Tostadores", "Exportadores"]

    second = segments.locator("ol li").nth(1)
    second.get_by_label(t("Segment name")).fill("Cooperativas")
    second.get_by_role("button", name=t("Rename")).click()
    expect(segments.get_by_role("button", name=f"{t('Move up')}: Cooperativas")).to_be_visible()
    assert segment_names(page) == ["Productores", "Cooperativas", "Tostadores", "Exportadores"]
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    fits_the_screen(page)

    page.reload()  # and the changes were saved
    assert segment_names(page) == ["Productores", "Cooperativas", "Tostadores", "Exportadores"]

    # The library: two gaps, one action line.
    page.get_by_role("link", name=t("Competitive gaps")).click()
    arrive(page, f"{chain_url}/library/gaps")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Competitive gaps"))
    fits_the_screen(page)
    items = page.locator("#library-items")
    for n, (title, mechanisms) in enumerate(
        [("Baja productividad", "Capacitación\nAsistencia técnica"), ("Poca asociatividad", "Mesas de diálogo")], 1
    ):
        items.get_by_label(t("Title")).fill(title)
        items.get_by_label(t("Mechanisms")).fill(mechanisms)
        items.get_by_role("button", name=t("Add"), exact=True).click()
        expect(items.locator("ol li")).to_have_count(n)
        expect(items.locator("ol li").last.locator("strong")).to_have_text(title)
        expect(items.get_by_label(t("Title"))).to_have_value("")
    expect(items.locator("ol li").first).to_contain_text("Capacitación; Asistencia técnica")
    fits_the_screen(page)

    page.get_by_role("link", name=t("Action lines")).click()
    arrive(page, f"{chain_url}/library/action-lines")
    items.get_by_label(t("Title")).fill("Renovar cafetales")
    items.get_by_role("button", name=t("Add"), exact=True).click()
    expect(items.locator("ol li strong")).to_have_text(["Renovar cafetales"])
    fits_the_screen(page)

    page.get_by_role("navigation", name=t("Breadcrumb")).get_by_role("link", name="Café").click()
    arrive(page, chain_url)
    expect(page.get_by_role("region", name=t("Library")).locator(".badge")).to_have_text(["2", "1"])

    # A workshop from the diagnosis template.
    page.get_by_role("link", name=t("New workshop")).click()
    arrive(page, re.compile(r"/chains/\d+/workshops/new$"))
    fits_the_screen(page)
    page.get_by_label(t("Title")).fill("Diagnóstico Cusco")
    expect(page.get_by_label(t("Region"), exact=True)).to_have_value("Cusco")
    diagnosis = page.get_by_role("radio", name=re.compile("^" + re.escape(t("Diagnosis"))))
    diagnosis.check()
    expect(diagnosis).to_be_checked()
    page.get_by_role("button", name=t("Save")).click()
    arrive(page, re.compile(r"/workshops/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Diagnóstico Cusco")

    code = page.locator(".join-code[data-code]")
    assert re.fullmatch(r"\d{6}", code.get_attribute("data-code"))
    expect(page.locator(".join-url a")).to_have_text(f"{live_server}/join/{code.get_attribute('data-code')}")
    qr = page.locator("img.qr")
    qr.evaluate("img => img.decode()")  # waits until the image has loaded (rejects if it cannot)
    assert qr.evaluate("img => img.naturalWidth") > 0

    agenda = page.locator("#agenda ol > li")
    expect(agenda).to_have_count(1)
    expect(agenda.locator("strong")).to_have_text(t("How serious is each gap?"))
    expect(agenda.locator(".muted")).to_contain_text(
        translations(LANG).ngettext("%(num)s item", "%(num)s items", 2) % {"num": 2}
    )
    fits_the_screen(page)

    # English, from the switch in the header; the same page.
    workshop_url = page.url
    page.locator("header .langs").get_by_role("link", name="EN").click()
    arrive(page, workshop_url)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Value chains")).to_be_visible()
    expect(page.get_by_role("heading", name="Agenda")).to_be_visible()
    expect(page.locator("header .langs strong")).to_have_text("EN")
    fits_the_screen(page)


def test_an_empty_chain_name_is_refused_beside_the_field(phone: Page, page_problems, users, db):
    page = phone
    page_problems.allow(r"status of 422 .*/chains/new\)$")  # Chromium logs the answer's status
    log_in(page, users.a.email)
    page.goto("/chains/new")
    page.get_by_label(t("Product")).fill("café")
    page.get_by_role("button", name=t("Save")).click()

    # The message sits in the name's own field, and the input points to it.
    error = page.locator(".field", has=page.locator("#f-name")).get_by_role("alert")
    expect(error).to_have_text(said("This field is required."))
    expect(page).to_have_url(re.compile(r"/chains/new$"))
    expect(page.get_by_label(t("Product"))).to_have_value("café")  # what was typed is kept
    fits_the_screen(page)
    name = page.get_by_label(t("Name"), exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_attribute("aria-describedby", error.get_attribute("id"))
    assert db.exec(select(ValueChain)).all() == []


def test_another_facilitator_gets_not_found(phone: Page, page_problems, users, db):
    chain = factories.chain(db, users.a)
    page = phone
    page_problems.allow(rf"status of 404 .*/chains/{chain.id}\)$")
    log_in(page, users.b.email)
    expect(page.get_by_text("Café")).to_have_count(0)

    response = page.goto(f"/chains/{chain.id}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Not found"))
    expect(page.get_by_text("Café")).to_have_count(0)
    fits_the_screen(page)
