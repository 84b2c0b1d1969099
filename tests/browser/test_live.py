"""A live workshop in the browser, in Spanish: phones join by code or QR link and rate the
gaps, the facilitator runs the console, the projector follows; nothing is reloaded by hand.
A phone without JavaScript takes part with plain forms."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from server.models import DotVote, GapAnswer, Participant
from tests.browser.support import GROUP_NAMES, LANG, Devices, fits_the_screen, log_in, mark, not_reloaded, t, voted
from tests.live_helpers import Room, room

assert LANG == "es", "the texts pinned below are Spanish"

# What the pages must say, written out here so that an untranslated page fails.
WAITING = "¡Bienvenido! El facilitador abrirá pronto la primera actividad. Esta pantalla cambia sola."
CLOSED = "Esta actividad está cerrada. ¡Gracias! Espere la siguiente."
LATE = "Esta actividad está cerrada; su respuesta no se guardó."
SAVED = "Guardado"
ROOM_RESULTS = "Resultados de la sala"
AT_MOST_3 = "Como máximo 3 puntos en una brecha."


def rated(done: int, total: int = 3) -> str:
    return f"{done} de {total} calificadas"


def dots_left(n: int) -> str:
    return f"Puntos disponibles: {n}"


# -- steps ----------------------------------------------------------------------------------


def facilitator(devices: Devices, users, r: Room, *, projector: bool = False) -> tuple[Page, Page | None]:
    """The console (and the projector) on the facilitator's laptop, logged in as A."""
    desk = devices.desk()
    console = devices.page(desk, "console")
    log_in(console, users.a.email)
    console.goto(f"/workshops/{r.workshop_id}/live")
    expect(console.get_by_role("heading", level=1)).to_have_text(t("Live console"))
    screen = None
    if projector:
        screen = devices.page(desk, "projector")
        screen.goto(f"/workshops/{r.workshop_id}/projector")
        expect(screen.locator(".join-code")).to_have_text(f"{r.code[:3]} {r.code[3:]}")
    return console, screen


def control(console: Page, label: str) -> None:
    """Press an agenda button of the console (Start, Close, Reopen: the only activity)."""
    console.locator("#live-agenda").get_by_role("button", name=re.compile("^" + re.escape(t(label)) + ":")).click()


def join(page: Page, r: Room, *, how: str, name: str, group: str) -> None:
    """Join as a participant: type the code on the home page, or open the QR link."""
    if how == "qr":
        page.goto(f"/join/{r.code}")
    else:
        page.goto("/")
        fits_the_screen(page)
        code = page.get_by_label(t("Workshop code"))
        expect(code).to_have_attribute("inputmode", "numeric")
        code.fill(f"{r.code[:3]} {r.code[3:]}" if how == "spaced" else r.code)
        page.get_by_role("button", name=t("Join")).click()
        expect(page).to_have_url(re.compile(rf"/join/{r.code}$"))
    fits_the_screen(page)
    page.get_by_label(t("Your name")).fill(name)
    page.get_by_role("group", name=t("You are here for")).get_by_label(GROUP_NAMES[group]).check()
    page.get_by_label(t("Your segment of the chain")).select_option(label="Productores")
    page.get_by_role("button", name=t("Join")).click()
    expect(page).to_have_url(re.compile(rf"/p/{r.workshop_id}$"))
    page.wait_for_load_state("load")  # the phone's script is bound: a tap before it is a bare radio
    fits_the_screen(page)


def cards(page: Page):
    return page.locator("#stage .gap-card")


def show(page: Page, n: int) -> None:
    """Bring the n-th gap card up: a rating shows one gap at a time, with Previous / Next."""
    card = cards(page).nth(n)
    for way in ("next", "prev"):
        for _ in range(cards(page).count()):
            if card.is_visible():
                return
            link = page.locator(f"#stage .pager [rel={way}]")
            if not link.is_visible():
                break
            link.click()
    expect(card).to_be_visible()


def rate(page: Page, n: int, seriousness: int) -> None:
    """Tap a seriousness on the n-th gap card (the label: the radio itself may be styled away)."""
    show(page, n)
    scale = cards(page).nth(n).get_by_role("group", name=t("How serious is this gap?"))
    scale.locator("label").filter(has=page.locator(f"input[value='{seriousness}']")).tap()


def seriousness(page: Page, n: int, value: int):
    return cards(page).nth(n).locator(f"[data-q=seriousness] input[value='{value}']")  # shown or not


def relevance(card, element: str = "Specialization"):
    """A card's question on the gap's relevance to one element of smart specialization."""
    return card.get_by_role("group", name=t("Relevance to %(element)s") % {"element": t(element).lower()})


def answers_of(db, name: str) -> dict[tuple[int, str], object]:
    db.expunge_all()
    participant = db.exec(select(Participant).where(Participant.name == name)).one()
    rows = db.exec(select(GapAnswer).where(GapAnswer.participant_id == participant.id)).all()
    return {(a.gap_id, a.question): (a.segments if a.question == "segments" else a.value) for a in rows}


# -- tests ----------------------------------------------------------------------------------


def test_three_phones_rate_and_the_projector_follows(devices: Devices, app, db, users, min_answers):
    min_answers(1)  # a few phones: every figure shows
    r = room(app, db, users.a, open_first=False)
    console, projector = facilitator(devices, users, r, projector=True)
    mark(projector)

    phones = [devices.phone(f"phone{n}") for n in (1, 2, 3)]
    join(phones[0], r, how="code", name="Ana", group="public")
    join(phones[1], r, how="qr", name="Bruno", group="private")
    join(phones[2], r, how="spaced", name="Carla", group="academia")
    for phone in phones:
        expect(phone.locator("#stage [data-state=waiting]")).to_have_text(WAITING)
        expect(cards(phone)).to_have_count(0)
        mark(phone)

    # The facilitator starts the activity: every phone shows the cards by itself.
    control(console, "Start")
    for phone in phones:
        expect(cards(phone)).to_have_count(3)
        expect(phone.locator("#stage .progress-text")).to_have_text(rated(0))
        not_reloaded(phone)
        fits_the_screen(phone)

    for phone, value in zip(phones, (2, 4, 5), strict=True):
        rate(phone, 0, value)
    for phone, value in zip(phones, (2, 4, 5), strict=True):
        first = cards(phone).first
        expect(first.locator(".saved")).to_have_text(SAVED)
        expect(seriousness(phone, 0, value)).to_be_checked()
        expect(phone.locator("#stage .progress-text")).to_have_text(rated(1))
        expect(cards(phone).nth(1).locator(".saved")).to_have_text("")
        not_reloaded(phone)

    # The projector follows: three of three voted; results hidden as on the phones (issue
    # 11), until revealed. Then the first gap's mean, (2 + 4 + 5) / 3.
    expect(projector.locator(".voted")).to_have_text(voted(3, 3))
    expect(projector.locator("ol.bars")).to_have_count(0)
    console.get_by_role("button", name=t("Reveal results")).click()
    bars = projector.locator("ol.bars li")
    expect(bars).to_have_count(1)
    expect(bars.locator(".bar-label")).to_have_text("Brecha 1")
    expect(bars.locator(".bar-value")).to_have_text("3,7")
    not_reloaded(projector)


def test_closing_stops_the_phones_and_a_late_vote_is_refused(devices: Devices, app, db, users, page_problems):
    r = room(app, db, users.a)
    console, projector = facilitator(devices, users, r, projector=True)
    mark(projector)
    phone = devices.phone("phone")
    join(phone, r, how="code", name="Ana", group="public")
    expect(cards(phone)).to_have_count(3)
    mark(phone)
    # A phone without JavaScript has the cards from before the close, and nothing updates them.
    late = devices.phone("late", javascript=False)
    join(late, r, how="qr", name="Lucía", group="private")
    expect(cards(late)).to_have_count(3)

    control(console, "Close")
    expect(phone.locator("#stage [data-state=closed]")).to_contain_text(CLOSED)
    expect(cards(phone)).to_have_count(0)
    not_reloaded(phone)
    fits_the_screen(phone)
    expect(projector.get_by_text(t("Voting is closed."))).to_be_visible()
    not_reloaded(projector)
    expect(
        console.locator("#live-agenda").get_by_role("button", name=re.compile(f"^{re.escape(t('Reopen'))}:"))
    ).to_be_visible()

    expect(cards(late)).to_have_count(3)  # still the old page
    first = cards(late).first
    rate(late, 0, 3)
    with late.expect_navigation() as navigation:
        first.get_by_role("button", name=t("Save")).click()
    # Refused, and back to the page (Post/Redirect/Get): a reload will not send it again.
    assert navigation.value.status == 200 and navigation.value.request.redirected_from is not None
    expect(late.get_by_role("alert").filter(has_text=LATE)).to_have_text(LATE)
    expect(late.locator("#stage [data-state=closed]")).to_contain_text(CLOSED)
    fits_the_screen(late)
    assert answers_of(db, "Lucía") == {}


def test_phone_without_javascript_joins_and_votes(devices: Devices, app, db, users):
    r = room(app, db, users.a)
    page = devices.phone("phone", javascript=False)
    join(page, r, how="code", name="Ana", group="public")
    expect(cards(page)).to_have_count(3)
    expect(page.locator("#stage .progress-text")).to_have_text(rated(0))

    second = cards(page).nth(1)
    rate(page, 1, 4)
    relevance(second).get_by_label(t("High"), exact=True).check()
    relevance(second, "Global context").get_by_label(t("Low"), exact=True).check()
    second.get_by_role("group", name=t("Which segments of the chain does it hit?")).get_by_label("Cooperativas").check()
    with page.expect_navigation():
        second.get_by_role("button", name=t("Save")).click()

    gap = r.gap_ids[1]
    expect(page).to_have_url(re.compile(rf"/p/{r.workshop_id}\?saved={gap}#gap-{gap}$"))
    second = page.locator(f"#gap-{gap}")
    expect(second.locator(".saved")).to_have_text(SAVED)
    expect(cards(page).first.locator(".saved")).to_have_text("")
    expect(seriousness(page, 1, 4)).to_be_checked()
    expect(seriousness(page, 0, 4)).not_to_be_checked()
    expect(relevance(second).get_by_label(t("High"), exact=True)).to_be_checked()
    expect(relevance(second, "Global context").get_by_label(t("Low"), exact=True)).to_be_checked()
    expect(relevance(second, "Diversification").locator("input:checked")).to_have_count(0)
    expect(second.get_by_label("Cooperativas")).to_be_checked()
    expect(page.locator("#stage .progress-text")).to_have_text(rated(1))
    fits_the_screen(page)

    cooperativas = r.segment_ids[1]
    assert answers_of(db, "Ana") == {
        (gap, "seriousness"): 4,
        (gap, "specialization"): 2,
        (gap, "global_context"): 0,
        (gap, "segments"): [cooperativas],
    }


def test_reveal_shows_results_on_phones(devices: Devices, app, db, users, min_answers):
    min_answers(1)  # a few phones: every figure shows
    r = room(app, db, users.a)
    console, _ = facilitator(devices, users, r)
    phones = [devices.phone(f"phone{n}") for n in (1, 2)]
    for phone, (name, group, value) in zip(phones, [("Ana", "public", 2), ("Bruno", "private", 5)], strict=True):
        join(phone, r, how="qr", name=name, group=group)
        rate(phone, 0, value)
        expect(cards(phone).first.locator(".saved")).to_have_text(SAVED)
        expect(phone.locator("#results")).to_be_empty()  # hidden until the facilitator reveals them
        mark(phone)
    expect(console.locator("#counts .voted")).to_have_text(voted(2, 2))

    console.get_by_role("button", name=t("Reveal results")).click()
    for phone in phones:
        results = phone.locator("#results")
        expect(results.get_by_role("heading", name=ROOM_RESULTS)).to_be_visible()
        expect(results).to_contain_text("2 participantes respondieron")
        ranked = results.locator("ol.ranked li")
        expect(ranked).to_have_count(3)
        expect(ranked.first.locator(".item-text")).to_have_text("Brecha 1")  # the only gap rated
        expect(ranked.first.locator("meter")).to_have_attribute("value", "3.5")
        expect(cards(phone)).to_have_count(3)  # still voting
        # The reveal drew the stage anew, after the answer's acknowledgement: the card
        # still says its answer is saved (it used to be wiped).
        expect(cards(phone).first.locator(".saved")).to_have_text(SAVED)
        fits_the_screen(phone)
        not_reloaded(phone)

    console.get_by_role("button", name=t("Hide results")).click()
    for phone in phones:
        expect(phone.locator("#results")).to_be_empty()
        expect(phone.get_by_text(ROOM_RESULTS)).to_have_count(0)
        not_reloaded(phone)
    expect(console.get_by_role("button", name=t("Reveal results"))).to_be_visible()


def test_results_on_phones_use_the_decimal_comma(devices: Devices, app, db, users, min_answers):
    min_answers(1)  # a few phones: every figure shows
    r = room(app, db, users.a)
    console, _ = facilitator(devices, users, r)
    phones = [devices.phone(f"phone{n}") for n in (1, 2)]
    for phone, (name, value) in zip(phones, [("Ana", 2), ("Bruno", 5)], strict=True):
        join(phone, r, how="qr", name=name, group="public")
        rate(phone, 0, value)
        expect(cards(phone).first.locator(".saved")).to_have_text(SAVED)
    console.get_by_role("button", name=t("Reveal results")).click()
    first = phones[0].locator("#results ol.ranked li").first
    expect(first.locator("meter")).to_have_attribute("value", "3.5")  # the results are there
    expect(first.locator(".figure")).to_have_text("3,5 / 5", timeout=500)


def dot_phone(devices: Devices, app, db, users) -> Page:
    """A phone in a prioritization workshop, its dot-voting activity open."""
    r = room(app, db, users.a, template="prioritization")
    page = devices.phone("phone")
    join(page, r, how="code", name="Ana", group="public")
    expect(page.locator("#stage [data-state=open]")).to_have_attribute("data-mode", "dots")
    expect(cards(page)).to_have_count(3)
    return page


def more_dots(page: Page, card, times: int, spent: int = 0) -> None:
    """Tap "+" on a card, each tap acknowledged before the next (the count is the server's)."""
    for n in range(1, times + 1):
        card.get_by_role("button", name=t("One dot more")).tap()
        expect(card.locator("output.dots")).to_have_text(str(n))
        expect(page.locator("#stage .dots-left")).to_have_text(dots_left(10 - spent - n))


def test_dot_voting_budget_on_a_phone(devices: Devices, app, db, users):
    page = dot_phone(devices, app, db, users)
    expect(page.locator("#stage .dots-left")).to_have_text(dots_left(10))
    mark(page)
    fits_the_screen(page)

    first = cards(page).first
    more_dots(page, first, 3)
    expect(first.locator(".saved")).to_have_text(SAVED)

    first.get_by_role("button", name=t("One dot more")).tap()  # a fourth dot on one gap: refused
    expect(first.locator(".card-error")).to_have_text(AT_MOST_3)
    expect(first.locator("output.dots")).to_have_text("3")
    expect(page.locator("#stage .dots-left")).to_have_text(dots_left(7))

    # Dots on another gap; the first card's error stays until that card's next answer.
    second = cards(page).nth(1)
    more_dots(page, second, 3, spent=3)
    expect(first.locator(".card-error")).to_have_text(AT_MOST_3)  # it stays on its own card
    first.get_by_role("button", name=t("One dot less")).tap()
    expect(first.locator("output.dots")).to_have_text("2")
    expect(first.locator(".card-error")).to_have_text("")
    expect(first.locator(".saved")).to_have_text(SAVED)
    expect(page.locator("#stage .dots-left")).to_have_text(dots_left(5))
    not_reloaded(page)
    fits_the_screen(page)

    db.expunge_all()
    votes = {v.gap_id: v.dots for v in db.exec(select(DotVote)).all()}
    gaps = [int(g) for g in cards(page).evaluate_all("cs => cs.map(c => c.dataset.gap)")]
    assert votes == {gaps[0]: 2, gaps[1]: 3}


def test_a_refused_dot_does_not_stay_saving(devices: Devices, app, db, users):
    page = dot_phone(devices, app, db, users)
    first = cards(page).first
    more_dots(page, first, 3)
    first.get_by_role("button", name=t("One dot more")).tap()
    expect(first.locator(".card-error")).to_have_text(AT_MOST_3)
    expect(first.locator(".saved")).to_have_text("", timeout=1_000)


def test_the_plus_button_is_off_when_no_dot_is_left(devices: Devices, app, db, users):
    r = room(app, db, users.a, template="prioritization", dot_budget=4)
    page = devices.phone("phone")
    join(page, r, how="code", name="Ana", group="public")
    first, second = cards(page).first, cards(page).nth(1)
    plus = page.locator("#stage").get_by_role("button", name=t("One dot more"))
    expect(plus.first).to_be_enabled()
    for _ in range(3):
        first.get_by_role("button", name=t("One dot more")).tap()
        expect(first.locator(".saved")).to_have_text(SAVED)
    second.get_by_role("button", name=t("One dot more")).tap()
    expect(page.locator("#stage .dots-left")).to_have_text(dots_left(0))
    for n in range(plus.count()):
        expect(plus.nth(n)).to_be_disabled()
    # Reloaded (or without JavaScript), the page says the same.
    page.reload()
    expect(page.locator("#stage .dots-left")).to_have_text(dots_left(0))
    expect(plus.first).to_be_disabled()
    first.get_by_role("button", name=t("One dot less")).tap()
    expect(page.locator("#stage .dots-left")).to_have_text(dots_left(1))
    expect(plus.first).to_be_enabled()
