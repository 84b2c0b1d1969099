"""The roadmap co-edited live in the browser, on phones (360 × 740, in Spanish): two phones
edit the same item (one the title, one the budget) and both are kept; both edit the title
from the same version and the second sees the conflict with its own text kept, keeps it,
and the projector's timeline follows without a reload; a phone without JavaScript edits a
field and commits its organization; the facilitator restores an earlier revision from the
item's history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from server.models import RoadmapCommitment, RoadmapItem, RoadmapRevision
from tests.activities.roadmap.live_room import RoadmapRoom, roadmap_room
from tests.browser.support import GROUP_NAMES, LANG, Devices, fits_the_screen, log_in, mark, not_reloaded, t

assert LANG == "es", "the texts pinned below are Spanish"

# What the pages must say, written out here so that an untranslated page fails.
SAVED = "Guardado"
KEEP_MINE = "Mantener el mío"

HEAR_THE_SOCKET = """
(() => {
  const Native = window.WebSocket;
  window.__heard = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        try { window.__heard.push(JSON.parse(e.data).t); } catch (err) { /* a ping */ }
      });
    }
  };
})();
"""


@pytest.fixture
def devices(devices: Devices) -> Devices:
    devices.phone_scripts.append(HEAR_THE_SOCKET)
    return devices


def join(page: Page, r: RoadmapRoom, *, name: str, group: str = "public", javascript: bool = True) -> None:
    page.goto("/")
    page.get_by_label(t("Workshop code")).fill(r.code)
    page.get_by_role("button", name=t("Join")).click()
    expect(page).to_have_url(re.compile(rf"/join/{r.code}$"))
    page.get_by_label(t("Your name")).fill(name)
    page.get_by_role("group", name=t("You are here for")).get_by_label(GROUP_NAMES[group]).check()
    page.get_by_label(t("Your segment of the chain")).select_option(label="Productores")
    page.get_by_role("button", name=t("Join")).click()
    expect(page).to_have_url(re.compile(rf"/p/{r.workshop_id}$"))
    expect(page.locator("#stage section[data-kind=roadmap]")).to_be_visible()
    if javascript:
        page.wait_for_function("() => window.__heard.includes('mine')")
    fits_the_screen(page)


def item(page: Page, item_id: int) -> Locator:
    return page.locator(f"#rm-item-{item_id}")


def open_item(page: Page, item_id: int) -> Locator:
    card = item(page, item_id)
    if card.get_attribute("open") is None:
        card.locator("summary").click()
    expect(card.locator(f"#f-{item_id}-title")).to_be_visible()
    return card


def field(page: Page, item_id: int, name: str) -> Locator:
    return page.locator(f"#f-{item_id}-{name}")


def save(page: Page, item_id: int, name: str) -> None:
    form = field(page, item_id, name)
    form.get_by_role("button", name=t("Save")).click()


def projector_of(devices: Devices, users, r: RoadmapRoom) -> Page:
    desk = devices.desk()
    screen = devices.page(desk, "projector")
    log_in(screen, users.a.email)
    screen.goto(f"/workshops/{r.workshop_id}/projector")
    expect(screen.locator(".timeline")).to_be_visible()
    return screen


def test_two_phones_edit_one_item_and_both_are_kept(devices: Devices, app, db, users):
    r = roadmap_room(app, db, users.a)
    it = r.items[0]
    ana, luis = devices.phone("ana"), devices.phone("luis")
    join(ana, r, name="Ana")
    join(luis, r, name="Luis", group="private")
    for phone in (ana, luis):
        # The live stage lists the items' summaries; a card is fetched when opened.
        expect(item(phone, it)).to_have_attribute("data-lazy", "")
        open_item(phone, it)
        expect(item(phone, it)).not_to_have_attribute("data-lazy", "")
        fits_the_screen(phone)
        mark(phone)
    field(ana, it, "title").locator("input[name=value]").fill("Secadores solares comunales")
    luis_budget = field(luis, it, "budget")
    luis_budget.locator("input[name=amount]").fill("15000.50")
    luis_budget.locator("input[name=currency]").fill("PEN")
    save(ana, it, "title")
    save(luis, it, "budget")
    expect(field(ana, it, "title").locator(".saved")).to_have_text(SAVED)
    expect(luis_budget.locator(".saved")).to_have_text(SAVED)
    # Each phone shows the other's change, without a reload.
    expect(field(luis, it, "title").locator("input[name=value]")).to_have_value("Secadores solares comunales")
    expect(field(ana, it, "budget").locator("input[name=amount]")).to_have_value("15000.50")
    expect(item(luis, it).locator(".rm-title")).to_have_text("Secadores solares comunales")
    for phone in (ana, luis):
        not_reloaded(phone)
        fits_the_screen(phone)
    db.expire_all()
    row = db.get(RoadmapItem, it)
    assert row.title == "Secadores solares comunales"
    assert (str(row.budget_amount), row.budget_currency) == ("15000.50", "PEN")
    assert (row.v_title, row.v_budget) == (1, 1)


def test_a_conflict_keeps_the_second_text_and_the_projector_follows(devices: Devices, app, db, users):
    r = roadmap_room(app, db, users.a)
    it = r.items[1]
    projector = projector_of(devices, users, r)
    mark(projector)
    ana, luis = devices.phone("ana"), devices.phone("luis")
    join(ana, r, name="Ana")
    join(luis, r, name="Luis", group="private")
    for phone in (ana, luis):
        open_item(phone, it)
    # Luis starts typing from version 0; Ana saves first.
    luis_title = field(luis, it, "title").locator("input[name=value]")
    luis_title.fill("Centro de acopio en Quillabamba")
    field(ana, it, "title").locator("input[name=value]").fill("Planta de secado")
    save(ana, it, "title")
    expect(field(ana, it, "title").locator(".saved")).to_have_text(SAVED)
    expect(projector.locator(".tl-title").filter(has_text="Planta de secado")).to_be_visible()
    # Luis saves: a conflict, his text kept in the field, Ana's shown as the current one.
    save(luis, it, "title")
    box = field(luis, it, "title").locator(".rm-conflict")
    expect(box).to_be_visible()
    expect(box).to_contain_text("Ana")
    expect(box).to_contain_text("Planta de secado")
    expect(luis_title).to_have_value("Centro de acopio en Quillabamba")
    fits_the_screen(luis)
    luis.screenshot(path=str(_artifact("roadmap-conflict-360.png")))
    box.get_by_role("button", name=KEEP_MINE).click()
    expect(field(luis, it, "title").locator(".saved")).to_have_text(SAVED)
    expect(box).to_have_count(0)
    # Everyone follows without a reload: Ana's phone and the projector's timeline.
    expect(field(ana, it, "title").locator("input[name=value]")).to_have_value("Centro de acopio en Quillabamba")
    expect(projector.locator(".tl-title").filter(has_text="Centro de acopio en Quillabamba")).to_be_visible()
    expect(projector.locator(".tl-title").filter(has_text="Planta de secado")).to_have_count(0)
    not_reloaded(projector)
    db.expire_all()
    row = db.get(RoadmapItem, it)
    assert (row.title, row.v_title) == ("Centro de acopio en Quillabamba", 2)
    titles = db.exec(
        select(RoadmapRevision.new)
        .where(RoadmapRevision.item_id == it, RoadmapRevision.field == "title")
        .order_by(RoadmapRevision.id)  # no order is guaranteed without it (PostgreSQL reuses freed space)
    ).all()
    assert titles == ["Planta de secado", "Centro de acopio en Quillabamba"]  # nothing lost


def test_a_phone_without_javascript_edits_and_commits(devices: Devices, app, db, users):
    r = roadmap_room(app, db, users.a)
    it = r.items[2]
    phone = devices.phone("plain", javascript=False)
    join(phone, r, name="Rosa", javascript=False)
    open_item(phone, it)
    field(phone, it, "lead_organization").locator("input[name=value]").fill("Cooperativa Valle Sagrado")
    save(phone, it, "lead_organization")
    expect(phone).to_have_url(re.compile(rf"/p/{r.workshop_id}\?saved="))
    expect(field(phone, it, "lead_organization").locator(".saved")).to_have_text(SAVED)
    expect(field(phone, it, "lead_organization").locator("input[name=value]")).to_have_value(
        "Cooperativa Valle Sagrado"
    )
    fits_the_screen(phone)
    card = open_item(phone, it)
    commit = card.locator("form[data-kind=commit]")
    commit.locator("input[name=organization]").fill("Municipalidad de Santa Ana")
    commit.locator("select[name=role]").select_option(label=t("Partner"))
    commit.locator("input[name=note]").fill("Terreno para la planta")
    commit.get_by_role("button", name=t("Commit")).click()
    expect(phone).to_have_url(re.compile(rf"/p/{r.workshop_id}\?saved="))
    expect(item(phone, it).locator(".rm-commitments")).to_contain_text("Municipalidad de Santa Ana")
    fits_the_screen(phone)
    db.expire_all()
    assert db.get(RoadmapItem, it).lead_organization == "Cooperativa Valle Sagrado"
    made = db.exec(select(RoadmapCommitment).where(RoadmapCommitment.item_id == it)).one()
    assert (made.organization, made.role, made.note) == (
        "Municipalidad de Santa Ana",
        "partner",
        "Terreno para la planta",
    )


def test_the_facilitator_restores_an_earlier_revision(devices: Devices, app, db, users):
    r = roadmap_room(app, db, users.a)
    it = r.items[0]
    phone = devices.phone("ana")
    join(phone, r, name="Ana")
    open_item(phone, it)
    title = field(phone, it, "title").locator("input[name=value]")
    for text in ("Primera versión", "Segunda versión"):
        title.fill(text)
        save(phone, it, "title")
        expect(field(phone, it, "title").locator(".saved")).to_have_text(SAVED)
    mark(phone)
    # The facilitator, on a phone too: the console, the item's history, Restore.
    console = devices.phone("console")
    log_in(console, users.a.email)
    console.goto(f"/workshops/{r.workshop_id}/live")
    history = console.locator(f'a[href$="/kind/history?item={it}"]')
    history.click()
    expect(console).to_have_url(re.compile(rf"/kind/history\?item={it}$"))
    fits_the_screen(console)
    first = (
        console.locator("tr[data-revision]").filter(has_text="Primera versión").filter(has_not_text="Segunda versión")
    )
    expect(first).to_have_count(1)
    first.get_by_role("button", name=t("Restore")).click()
    expect(console.locator("tr[data-revision]").first).to_contain_text(t("restored"))
    fits_the_screen(console)
    # The phone follows without a reload; the restore is a new revision.
    expect(title).to_have_value("Primera versión")
    not_reloaded(phone)
    db.expire_all()
    assert db.get(RoadmapItem, it).title == "Primera versión"
    changes = db.exec(
        select(RoadmapRevision.change, RoadmapRevision.new)
        .where(RoadmapRevision.item_id == it, RoadmapRevision.field == "title")
        .order_by(RoadmapRevision.id)  # no order is guaranteed without it (PostgreSQL reuses freed space)
    ).all()
    assert changes == [("edit", "Primera versión"), ("edit", "Segunda versión"), ("restore", "Primera versión")]


def _artifact(name: str):
    from tests.browser.support import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
