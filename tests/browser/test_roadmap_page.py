"""The chain's roadmap page in a browser, in Spanish: a facilitator on a phone (360×740)
opens it from the chain page, opens an item, edits a field, reads its history and
restores an earlier revision; a stale edit shows the conflict with the editor's text kept
and is resolved; on a laptop too; an anonymous visitor and a facilitator without access
get nothing."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from server.activities.roadmap import reading
from server.activities.roadmap import service as roadmap
from server.activities.roadmap.actors import as_facilitator
from server.activities.roadmap.items import create_item
from server.db import transaction
from server.defaults import ensure_reference_lists
from server.models import ValueChainShare
from tests import factories
from tests.browser.support import fits_the_screen, t
from tests.browser.support import log_in as _log_in


def _world(app, db, users):
    ensure_reference_lists(db)
    db.commit()
    chain = factories.chain(db, users.a, name="Café de Cusco")
    db.add(ValueChainShare(value_chain_id=chain.id, user_id=users.admin.id))
    db.commit()
    with transaction(app.state.db.writer) as s:
        actor = as_facilitator(s, users.a, chain.id)
        item = create_item(
            s, actor, {"title": "Centro de acopio", "horizon": "short", "lead_organization": "Cooperativa Valle"}
        ).item_id
        roadmap.add_row(s, actor, item, "milestone", {"text": "Local alquilado", "date": "2027-03-31"})
    return chain, item


def log_in(page: Page, email: str) -> None:
    """Log in, and let the landing page finish loading: leaving it earlier aborts its
    scripts' requests, which the page watchers report."""
    _log_in(page, email)
    page.wait_for_load_state("load")


def _title(app, item_id) -> str:
    with transaction(app.state.db.writer) as s:
        return reading.item_view(s, item_id).values["title"]


def _open_item_from_the_chain_page(page: Page, chain, *, phone: bool) -> None:
    page.get_by_role("link", name=chain.name).click()
    expect(page).to_have_url(re.compile(rf"/chains/{chain.id}$"))
    page.get_by_role("link", name=t("Open the roadmap")).click()
    expect(page).to_have_url(re.compile(rf"/chains/{chain.id}/roadmap$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Roadmap"))
    expect(page.locator(".rm-item")).to_have_count(1)
    expect(page.locator(".rm-item")).to_contain_text("Local alquilado")
    if phone:
        fits_the_screen(page)
    page.locator(".rm-item h3 a").click()
    expect(page).to_have_url(re.compile(r"/roadmap/\d+$"))


def _edit_field(page: Page, label: str, value: str) -> None:
    page.get_by_role("link", name=f"{t('Edit')}: {label}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Edit: %(field)s") % {"field": label})
    page.locator("#f-value").fill(value)
    page.get_by_role("button", name=t("Save")).click()
    expect(page.locator(".saved")).to_have_text(t("Saved."))


def _walk(page: Page, app, chain, item, *, phone: bool) -> None:
    _open_item_from_the_chain_page(page, chain, phone=phone)
    if phone:
        fits_the_screen(page)
    _edit_field(page, t("Title"), "Centro de acopio y secado")
    expect(page.get_by_role("heading", level=1)).to_have_text("Centro de acopio y secado")
    assert _title(app, item) == "Centro de acopio y secado"
    if phone:
        fits_the_screen(page)
    history = page.locator("#history li")
    expect(history.first).to_contain_text("Centro de acopio → Centro de acopio y secado")
    expect(history.first).to_contain_text("Facilitator A")
    # Restore the title the item was created with: the first edit's old value is in the
    # creation, so edit once more and restore the first edit.
    _edit_field(page, t("Title"), "Otro título")
    restore = page.locator("#history li", has_text="Centro de acopio → Centro de acopio y secado")
    restore.get_by_role("button", name=re.compile(re.escape(t("Restore this revision")))).click()
    expect(page.locator(".saved")).to_have_text(t("Restored."))
    expect(page.get_by_role("heading", level=1)).to_have_text("Centro de acopio y secado")
    expect(history.first).to_contain_text(t("restored"))
    assert _title(app, item) == "Centro de acopio y secado"


def test_a_facilitator_edits_reads_the_history_and_restores_on_a_phone(phone: Page, app, db, users):
    chain, item = _world(app, db, users)
    log_in(phone, users.a.email)
    _walk(phone, app, chain, item, phone=True)


def test_a_facilitator_edits_reads_the_history_and_restores_on_a_laptop(devices, app, db, users):
    chain, item = _world(app, db, users)
    laptop = devices.page(devices.desk(), "laptop")
    log_in(laptop, users.a.email)
    _walk(laptop, app, chain, item, phone=False)


def test_a_stale_edit_keeps_the_editors_text_and_is_resolved(devices, app, db, users):
    chain, item = _world(app, db, users)
    # Chromium logs the conflict page's status (409: nothing was saved).
    devices.problems.allow(r"console: .*status of 409 .*/fields/lead_organization\)$")
    phone = devices.phone("phone")
    laptop = devices.page(devices.desk(), "laptop")
    log_in(phone, users.a.email)
    log_in(laptop, users.admin.email)
    item_url = f"/chains/{chain.id}/roadmap/{item}"
    phone.goto(item_url)
    lead = t("Lead organization")
    phone.get_by_role("link", name=f"{t('Edit')}: {lead}").click()
    phone.locator("#f-value").fill("Municipalidad de Echarati")
    # Meanwhile, on the laptop, someone else changes the same field.
    laptop.goto(item_url)
    _edit_field(laptop, lead, "Gobierno Regional de Cusco")
    phone.get_by_role("button", name=t("Save")).click()
    conflict = phone.locator(".conflict")
    expect(conflict).to_contain_text(t("Someone changed this field while you were editing it: nothing was saved."))
    expect(conflict).to_contain_text("Gobierno Regional de Cusco")
    expect(conflict).to_contain_text("Admin")
    expect(phone.locator("#f-value")).to_have_value("Municipalidad de Echarati")  # the editor's own text, kept
    fits_the_screen(phone)
    phone.get_by_role("button", name=t("Keep mine")).click()
    expect(phone.locator(".saved")).to_have_text(t("Saved."))
    expect(phone.locator("#field-lead_organization")).to_contain_text("Municipalidad de Echarati")
    # The laptop's form is now the stale one: it takes the current value instead.
    laptop.get_by_role("link", name=f"{t('Edit')}: {lead}").click()
    phone.goto(item_url)
    _edit_field(phone, lead, "Cooperativa Valle")
    laptop.locator("#f-value").fill("Otra")
    laptop.get_by_role("button", name=t("Save")).click()
    expect(laptop.locator(".conflict")).to_contain_text("Cooperativa Valle")
    laptop.get_by_role("link", name=t("Take the current one")).click()
    expect(laptop.locator("#field-lead_organization")).to_contain_text("Cooperativa Valle")


def test_an_anonymous_visitor_and_a_facilitator_without_access_get_nothing(devices, app, db, users):
    chain, item = _world(app, db, users)
    for url in (f"/chains/{chain.id}/roadmap", f"/chains/{chain.id}/roadmap/{item}"):
        anonymous = devices.phone("anonymous")
        anonymous.goto(url)
        expect(anonymous).to_have_url(re.compile(r"/login"))
        assert "Centro de acopio" not in anonymous.content()
        other = devices.phone("facilitator-b")
        log_in(other, users.b.email)
        devices.problems.allow(r"facilitator-b: console: Failed to load resource: .* 404")
        response = other.goto(url)
        assert response.status == 404
        assert "Centro de acopio" not in other.content() and "Café de Cusco" not in other.content()
    assert db.exec(select(ValueChainShare).where(ValueChainShare.user_id == users.b.id)).first() is None
