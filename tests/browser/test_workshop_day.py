"""Getting there and getting out (issue 11), in the browser, in Spanish: the workshop page
leads to the console and the projector and warns (page and console) that 127.0.0.1 is out
of the phones' reach; a ranking is started, closed and reopened from its row of the live
agenda while a phone follows; ending the workshop takes the phones, the projector and the
code with it, and leaves the results page and the attendance list. Laptop (1280 px) and
phone (360 px) viewports."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from server.models import Workshop
from server.workshops.service import agenda_of
from tests.browser.support import GROUP_NAMES, LANG, Devices, fits_the_screen, log_in, mark, not_reloaded, t
from tests.live_helpers import Room, room

assert LANG == "es", "the texts pinned below are Spanish"

RUN_LIVE = "Ejecutar en vivo"
PROJECTOR = "Proyector (pestaña nueva)"
UNREACHABLE = "Los teléfonos no pueden abrir la dirección de ingreso"
END = "Terminar el taller"
CONFIRM_END = "Sí, terminar el taller"
ENDED_ON_PHONE = "El taller terminó"
ENDED_ON_SCREEN = "El taller terminó. ¡Gracias por participar!"


def join(page: Page, r: Room, name: str = "Ana") -> None:
    """Join as a participant from the home page; the phone then waits or shows the activity."""
    page.goto("/")
    page.get_by_label(t("Workshop code")).fill(r.code)
    page.get_by_role("button", name=t("Join")).tap()
    expect(page).to_have_url(re.compile(rf"/join/{r.code}$"))
    page.get_by_label(t("Your name")).fill(name)
    page.get_by_role("group", name=t("You are here for")).get_by_label(GROUP_NAMES["public"]).check()
    page.get_by_label(t("Your segment of the chain")).select_option(label="Productores")
    page.get_by_role("button", name=t("Join")).tap()
    expect(page).to_have_url(re.compile(rf"/p/{r.workshop_id}$"))
    fits_the_screen(page)


def test_the_workshop_page_leads_to_console_and_projector_and_warns_of_a_loopback_address(
    devices: Devices, app, db, users
):
    r = room(app, db, users.a, template="prioritization", open_first=False)
    laptop = devices.page(devices.desk(), "laptop")
    log_in(laptop, users.a.email)
    laptop.goto(f"/workshops/{r.workshop_id}")
    # The live server answers at 127.0.0.1: no phone could open that.
    warning = laptop.locator("#reach-warning")
    expect(warning).to_contain_text(UNREACHABLE)
    expect(warning).to_contain_text("minka serve --host 0.0.0.0")
    expect(warning).to_contain_text("MINKA_BASE_URL=")
    checklist = laptop.locator(".checklist")
    expect(checklist.locator('[data-check="reach"]')).to_have_attribute("data-ok", "no")
    for key in ("code", "qr", "agenda"):
        expect(checklist.locator(f'[data-check="{key}"]')).to_have_attribute("data-ok", "yes")
    expect(checklist).to_contain_text(f"{r.code[:3]} {r.code[3:]}")

    with laptop.expect_popup() as popup:
        laptop.get_by_role("link", name=PROJECTOR).click()
    projector = devices.watch(popup.value, "projector")
    expect(projector).to_have_url(re.compile(rf"/workshops/{r.workshop_id}/projector$"))
    expect(projector.locator(".join-code")).to_have_text(f"{r.code[:3]} {r.code[3:]}")

    laptop.get_by_role("link", name=RUN_LIVE).click()
    expect(laptop).to_have_url(re.compile(rf"/workshops/{r.workshop_id}/live$"))
    expect(laptop.locator("#reach-warning")).to_contain_text(UNREACHABLE)

    # The same page on a facilitator's phone fits its screen.
    phone = devices.phone("facilitator-phone")
    log_in(phone, users.a.email)
    phone.goto(f"/workshops/{r.workshop_id}")
    expect(phone.get_by_role("link", name=RUN_LIVE)).to_be_visible()
    expect(phone.locator("#reach-warning")).to_be_visible()
    fits_the_screen(phone)


def test_a_ranking_starts_closes_and_reopens_from_its_row(devices: Devices, app, db, users):
    r = room(app, db, users.a, template="prioritization", open_first=False)
    ranking = agenda_of(db, db.get(Workshop, r.workshop_id))[1]
    assert ranking.kind == "ranking"
    phone = devices.phone("phone")
    join(phone, r)
    expect(phone.locator('#stage [data-state="waiting"]')).to_be_visible()
    mark(phone)

    console = devices.page(devices.desk(), "console")
    log_in(console, users.a.email)
    console.goto(f"/workshops/{r.workshop_id}/live")
    console.wait_for_load_state("load")  # htmx is in: the controls swap the console in place
    mark(console)
    row = console.locator("#live-agenda li").filter(has_text=ranking.title)
    expect(row).not_to_contain_text(t("Not available live yet"))

    button(row, "Start").click()
    expect(row).to_contain_text(t("Open"))
    expect(phone.locator("#stage form.ranking-card")).to_be_visible()

    button(row, "Close").click()
    expect(row).to_contain_text(t("Closed"))
    expect(phone.locator('#stage [data-state="closed"]')).to_be_visible()

    button(row, "Reopen").click()
    expect(row).to_contain_text(t("Open"))
    expect(phone.locator("#stage form.ranking-card")).to_be_visible()
    not_reloaded(phone)
    not_reloaded(console)


def button(row: Locator, label: str) -> Locator:
    return row.get_by_role("button", name=re.compile("^" + re.escape(t(label)) + ":"))


def test_ending_the_workshop(devices: Devices, app, db, users):
    r = room(app, db, users.a)  # the gap rating is open
    phone = devices.phone("phone")
    join(phone, r, name="Ana Quispe")
    expect(phone.locator("#stage form").first).to_be_visible()
    mark(phone)

    desk = devices.desk()
    projector = devices.page(desk, "projector")
    log_in(projector, users.a.email)
    projector.goto(f"/workshops/{r.workshop_id}/projector")
    expect(projector.locator(".join-code")).to_be_visible()
    laptop = devices.page(desk, "laptop")
    laptop.goto(f"/workshops/{r.workshop_id}")

    laptop.locator("details.end summary").click()
    laptop.get_by_role("button", name=CONFIRM_END).click()
    expect(laptop.get_by_role("heading", level=1)).to_contain_text(t("Ended"))
    expect(laptop.get_by_text(END, exact=True)).to_have_count(0)
    expect(laptop.get_by_role("link", name=RUN_LIVE)).to_have_count(0)

    # Phones and projector follow without a reload; the typed code finds nothing any more.
    expect(phone.get_by_role("heading", name=ENDED_ON_PHONE)).to_be_visible()
    not_reloaded(phone)
    fits_the_screen(phone)
    expect(projector.locator("#screen, body").first).to_contain_text(ENDED_ON_SCREEN)
    expect(projector.locator(".join-code")).to_have_count(0)
    devices.problems.allow(r"^latecomer: console: Failed to load resource: .* 422 .*/join\)$")  # the refused code
    latecomer = devices.phone("latecomer")
    latecomer.goto("/")
    latecomer.get_by_label(t("Workshop code")).fill(r.code)
    latecomer.get_by_role("button", name=t("Join")).tap()
    expect(latecomer).not_to_have_url(re.compile(r"/join/"))
    expect(latecomer.locator(".form-error, .field-error").first).to_be_visible()

    # The closed activity's results and the attendance list stay on the workshop page.
    laptop.get_by_role("link", name=re.compile(rf"^{t('Results')}")).first.click()
    expect(laptop).to_have_url(re.compile(rf"/activities/{r.activity_id}/results$"))
    expect(laptop.locator("table.results tbody tr")).to_have_count(len(r.gap_ids))
    laptop.go_back()
    laptop.get_by_role("link", name=t("See the attendance list")).click()
    expect(laptop.locator("table.attendance")).to_contain_text("Ana Quispe")
    expect(laptop.locator("table.attendance")).to_contain_text(GROUP_NAMES["public"])
