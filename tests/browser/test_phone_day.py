"""The phone's side of a workshop day (issue 11), in Spanish at 360 x 740: a long rating one
gap at a time, the questions a facilitator chooses, the ranking screen's details, a phone
without JavaScript that reloads itself only while it waits and never sends a refused vote
again, and a join form whose radio buttons line up (also at 320 px) and a join code that
fits its card."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from server.db import transaction
from server.models import Activity, GapAnswer, Workshop
from server.workshops import live
from tests.activities.ranking.test_live import ranking_room
from tests.browser.support import LANG, Devices, fits_the_screen, log_in, mark, not_reloaded, t
from tests.browser.test_live import LATE, cards, rated, relevance
from tests.browser.test_ranking import HEAR_THE_SOCKET
from tests.browser.test_ranking import live as heard_its_ballot
from tests.browser.test_workshop_day import join
from tests.live_helpers import Room, room

assert LANG == "es", "the texts pinned below are Spanish"

GAP_OF = "Brecha {n} de {total}"
NOT_SAVED = "Todavía no se guardó: pulse Guardar."
RELOAD_NOTE = "Esta página no cambia sola: cuando haya respondido, recárguela para ver la siguiente pregunta."


def place(page: Page) -> str:
    return page.locator("#stage .statusbar .pager-pos").inner_text()


def pager(page: Page, way: str):
    return page.locator("#stage .pager").get_by_role("link", name=re.compile(re.escape(t(way))))


def tick(page: Page, selector: str) -> str:
    """What the page draws before an element's text (the tick of "Saved")."""
    return page.locator(selector).evaluate("e => getComputedStyle(e, '::before').content")


def refresh(page: Page):
    return page.locator('meta[http-equiv="refresh"]')


def set_status(app, r: Room, how) -> None:
    """Open, close or reopen the room's activity behind the phones' backs (as the console does)."""
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        how(session, session.get(Workshop, r.workshop_id), session.get(Activity, r.activity_id))


def gap_answers(db) -> int:
    db.expunge_all()
    return len(db.exec(select(GapAnswer)).all())


# -- one gap at a time ------------------------------------------------------------------------


def test_a_choice_made_before_the_scripts_arrive_is_saved(devices: Devices, app, db, users):
    """A slow phone shows the page before its scripts arrive: a rating chosen then fired no
    script's "change"; it is sent once they run, not wiped by the first stage the server
    sends (a flaky test of CI found it)."""
    r = room(app, db, users.a)
    phone = devices.phone("phone")
    join(phone, r)
    expect(cards(phone)).to_have_count(3)
    held = []
    phone.route(re.compile(r"/static/phone/gap_rating\.js"), lambda route: held.append(route))
    phone.reload(wait_until="commit")
    first = cards(phone).first
    first.locator("[data-q=seriousness] label").filter(has_text="4").tap()
    assert held, "the kind's script was not held back"
    expect(first.locator("[data-q=seriousness] input[value='4']")).to_be_checked()
    held[0].continue_()
    expect(first.locator(".saved")).to_have_text(t("Saved"))
    expect(first.locator("[data-q=seriousness] input[value='4']")).to_be_checked()
    db.expunge_all()
    assert [(a.question, a.value) for a in db.exec(select(GapAnswer))] == [("seriousness", 4)]


def test_a_long_rating_shows_one_gap_at_a_time_and_keeps_the_answers(devices: Devices, app, db, users):
    r = room(app, db, users.a, gaps=9)
    phone = devices.phone("phone")
    join(phone, r)
    mark(phone)
    expect(cards(phone)).to_have_count(9)
    expect(cards(phone).locator("visible=true")).to_have_count(1)  # one card on the screen
    expect(phone.locator("#stage .statusbar")).to_contain_text(GAP_OF.format(n=1, total=9))
    expect(pager(phone, "Previous")).to_be_hidden()

    cards(phone).first.locator("[data-q=seriousness] label").filter(has_text="4").tap()
    expect(cards(phone).first.locator(".saved")).to_have_text(t("Saved"))
    expect(phone.locator("#stage .progress-text")).to_have_text(rated(1, 9))
    pager(phone, "Next").tap()
    pager(phone, "Next").tap()
    expect(cards(phone).nth(2)).to_be_visible()
    expect(cards(phone).first).to_be_hidden()
    assert place(phone) == GAP_OF.format(n=3, total=9)
    expect(phone).to_have_url(re.compile(rf"/p/{r.workshop_id}\?at={r.gap_ids[2]}$"))
    relevance(cards(phone).nth(2)).get_by_label(t("High"), exact=True).check()
    fits_the_screen(phone)

    pager(phone, "Previous").tap()
    pager(phone, "Previous").tap()
    assert place(phone) == GAP_OF.format(n=1, total=9)
    expect(cards(phone).first.locator("[data-q=seriousness] input[value='4']")).to_be_checked()
    not_reloaded(phone)  # swapped in place, never loaded again

    # A reload lands on the gap in the address, with every answer as saved.
    phone.goto(f"/p/{r.workshop_id}?at={r.gap_ids[2]}")
    expect(cards(phone).nth(2)).to_be_visible()
    expect(relevance(cards(phone).nth(2)).get_by_label(t("High"), exact=True)).to_be_checked()
    for _ in range(6):
        pager(phone, "Next").tap()
    assert place(phone) == GAP_OF.format(n=9, total=9)
    expect(pager(phone, "Next")).to_be_hidden()  # the last gap


def test_without_javascript_the_gaps_are_pages_and_a_save_stays_on_its_gap(devices: Devices, app, db, users):
    r = room(app, db, users.a, gaps=4)
    phone = devices.phone("phone", javascript=False)
    join(phone, r)
    expect(cards(phone).locator("visible=true")).to_have_count(1)
    pager(phone, "Next").click()
    expect(phone).to_have_url(re.compile(rf"\?at={r.gap_ids[1]}#gap-{r.gap_ids[1]}$"))
    second = cards(phone).nth(1)
    expect(second).to_be_visible()
    assert place(phone) == GAP_OF.format(n=2, total=4)
    second.locator("[data-q=seriousness] label").filter(has_text="5").click()
    second.get_by_role("button", name=t("Save")).click()
    expect(second.locator(".saved")).to_have_text(t("Saved"))
    expect(second).to_be_visible()  # still on the gap just saved, Next below it
    assert place(phone) == GAP_OF.format(n=2, total=4)
    expect(phone.locator("#stage .progress-text")).to_have_text(rated(1, 4))
    # The next load opens on the first gap not rated yet.
    phone.goto(f"/p/{r.workshop_id}")
    expect(cards(phone).first).to_be_visible()
    fits_the_screen(phone)


# -- the questions asked ----------------------------------------------------------------------


def test_the_facilitator_limits_the_questions_and_the_phone_asks_only_those(devices: Devices, app, db, users):
    r = room(app, db, users.a, open_first=False)
    laptop = devices.phone("facilitator")  # the agenda's form works on a phone too
    log_in(laptop, users.a.email)
    laptop.goto(f"/workshops/{r.workshop_id}/activities/{r.activity_id}/edit")
    questions = laptop.get_by_role("group", name=t("Questions on each gap besides how serious it is"))
    for label in (
        "Relevance to specialization",
        "Relevance to the global context",
        "Which segments of the chain it hits",
    ):
        questions.get_by_label(t(label)).uncheck()
    expect(questions.get_by_label(t("Relevance to diversification"))).to_be_checked()
    fits_the_screen(laptop)
    laptop.get_by_role("button", name=t("Save")).click()
    expect(laptop).to_have_url(re.compile(rf"/workshops/{r.workshop_id}(#[\w-]*)?$"))
    db.expunge_all()
    settings = db.get(Activity, r.activity_id).settings
    assert [k for k in settings if k.startswith("ask_") and settings[k]] == ["ask_diversification"]
    laptop.goto(f"/workshops/{r.workshop_id}/activities/{r.activity_id}/edit")  # as saved
    expect(questions.get_by_label(t("Relevance to specialization"))).not_to_be_checked()
    expect(questions.get_by_label(t("Relevance to diversification"))).to_be_checked()

    set_status(app, r, live.do_open)
    phone = devices.phone("phone")
    join(phone, r)
    card = cards(phone).first
    expect(card.locator("fieldset.question")).to_have_count(2)
    expect(card.get_by_role("group", name=t("How serious is this gap?"))).to_be_visible()
    expect(relevance(card, "Diversification")).to_be_visible()
    expect(relevance(card)).to_have_count(0)
    expect(card.get_by_role("group", name=t("Which segments of the chain does it hit?"))).to_have_count(0)


# -- ranking ----------------------------------------------------------------------------------


def test_the_ranking_screen_on_a_phone(devices: Devices, app, db, users):
    r, _aid, _lines = ranking_room(app, db, users)
    devices.phone_scripts.append(HEAR_THE_SOCKET)
    phone = devices.phone("phone")
    join(phone, r)
    heard_its_ballot(phone)  # the stage is drawn again then: measure after
    form = phone.locator("#stage form.ranking-card")
    expect(form.get_by_role("heading", name=t("My ranking"))).to_be_hidden()  # nothing ranked: no heading
    rows = form.locator("ul.unranked > li")
    expect(rows).to_have_count(3)
    # Measured in one go: a redraw in between would leave nothing to measure.
    width, height, card = form.evaluate(
        """f => { const b = f.querySelector("ul.unranked > li button.pick").getBoundingClientRect();
                 return [b.width, b.height, f.getBoundingClientRect().width]; }"""
    )
    assert width > 0.8 * card and height >= 44  # the whole row is the target
    rows.first.locator(".item-text").tap()  # the line's words, not a small button
    expect(form.locator("ol.my-ranking > li")).to_have_count(1)
    expect(form.get_by_role("heading", name=t("My ranking"))).to_be_visible()
    expect(form.locator(".saved")).to_have_text(NOT_SAVED)
    assert tick(phone, "#stage .ranking-card .saved") == "none"  # no tick beside "not saved yet"
    form.get_by_role("button", name=t("Save my ranking")).tap()
    expect(form.locator(".saved")).to_have_text(t("Saved"))
    assert "✓" in tick(phone, "#stage .ranking-card .saved")
    for left in (2, 1):
        expect(rows).to_have_count(left)
        rows.first.locator(".item-text").tap()
    expect(form.get_by_role("heading", name=t("Not ranked"))).to_be_hidden()  # every line ranked
    fits_the_screen(phone)


def test_the_pairwise_choices_stand_apart(devices: Devices, app, db, users):
    r, _aid, _lines = ranking_room(app, db, users, mode="pairwise")
    devices.phone_scripts.append(HEAR_THE_SOCKET)
    phone = devices.phone("phone")
    join(phone, r)
    heard_its_ballot(phone)
    pair = phone.locator("#stage .pair")
    expect(pair).to_be_visible()
    a, b, tie = pair.evaluate(
        """p => [".choice-a", ".choice-b", "[value=tie]"].map(s => {
                 const r = p.querySelector(s).getBoundingClientRect(); return {y: r.top, height: r.height}; })"""
    )
    assert b["y"] - (a["y"] + a["height"]) >= 24, (a, b)  # "or" between the two choices
    assert tie["y"] - (b["y"] + b["height"]) >= 32, (b, tie)  # "can't decide" well apart
    assert min(a["height"], b["height"]) >= 64
    expect(pair.locator(".pair-or")).to_have_text(t("or"))
    fits_the_screen(phone)


# -- without JavaScript -----------------------------------------------------------------------


def test_without_javascript_the_page_reloads_itself_only_while_it_waits(devices: Devices, app, db, users, monkeypatch):
    monkeypatch.setattr(app.state.settings, "phone_refresh_seconds", 1)
    r = room(app, db, users.a, open_first=False)
    phone = devices.phone("phone", javascript=False)
    join(phone, r)
    expect(phone.locator('#stage [data-state="waiting"]')).to_be_visible()
    expect(refresh(phone)).to_have_attribute("content", f"1;url=/p/{r.workshop_id}")

    set_status(app, r, live.do_open)
    expect(cards(phone).first).to_be_visible(timeout=8_000)  # it reloaded by itself
    expect(refresh(phone)).to_have_count(0)  # a form: never reloaded under the person's thumb
    expect(phone.locator(".reload-note")).to_have_text(RELOAD_NOTE)  # (text search skips <noscript>)
    expect(phone.locator(".reload-note")).to_be_visible()
    phone.wait_for_timeout(2_500)
    expect(cards(phone).first).to_be_visible()

    set_status(app, r, live.do_close)
    phone.reload()
    expect(phone.locator('#stage [data-state="closed"]')).to_be_visible()
    expect(refresh(phone)).to_have_count(1)

    # With JavaScript the socket brings every change: no reload at all.
    scripted = devices.phone("scripted")
    join(scripted, r, name="Luis")
    expect(scripted.locator('#stage [data-state="closed"]')).to_be_visible()
    expect(refresh(scripted)).to_have_count(0)
    expect(scripted.locator(".reload-note")).to_have_count(0)


def test_reloading_after_a_refused_vote_does_not_send_it_again(devices: Devices, app, db, users):
    r = room(app, db, users.a)
    phone = devices.phone("phone", javascript=False)
    join(phone, r)
    card = cards(phone).first
    card.locator("[data-q=seriousness] label").filter(has_text="2").click()
    set_status(app, r, live.do_close)  # closed while the person was choosing
    card.get_by_role("button", name=t("Save")).click()
    expect(phone.get_by_role("alert").filter(has_text=LATE)).to_be_visible()
    assert gap_answers(db) == 0

    set_status(app, r, live.do_open)  # reopened: a vote sent again now would count
    posts: list[str] = []
    phone.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    phone.reload()
    expect(cards(phone).first).to_be_visible()
    expect(phone.get_by_role("alert").filter(has_text=LATE)).to_have_count(0)  # shown once
    assert posts == []
    assert gap_answers(db) == 0


# -- the join form and the code ---------------------------------------------------------------


def test_the_join_radios_line_up_with_their_labels(devices: Devices, app, db, users):
    r = room(app, db, users.a)
    for width in (360, 320):
        page = devices.phone(f"phone-{width}", width=width)
        page.goto(f"/join/{r.code}")
        fits_the_screen(page, width)
        choices = page.get_by_role("group", name=t("You are here for")).locator("label.choice")
        expect(choices).to_have_count(3)
        for label in choices.all():
            radio = label.locator("input").bounding_box()
            text = label.evaluate(
                """l => { const r = document.createRange(); r.selectNodeContents(l);
                         const lines = [...r.getClientRects()].filter(b => b.width > 4 && b.height > 4);
                         const first = lines.reduce((a, b) => (b.left > a.left ? b : a));
                         return {top: first.top, bottom: first.bottom, left: first.left}; }"""
            )
            middle = radio["y"] + radio["height"] / 2
            assert text["top"] <= middle <= text["bottom"], (width, radio, text)  # on the first line of words
            assert radio["x"] + radio["width"] <= text["left"]  # beside them, not over them
            assert radio["x"] >= label.bounding_box()["x"] + 8  # inside the row, not on its edge


def test_the_join_code_fits_its_card(devices: Devices, app, db, users):
    r = room(app, db, users.a)
    page = devices.phone("facilitator", width=320)
    log_in(page, users.a.email)
    for width in (320, 360, 800, 1024, 1280):  # phones, a tablet, laptops
        page.set_viewport_size({"width": width, "height": 740})
        for path in (f"/workshops/{r.workshop_id}", f"/workshops/{r.workshop_id}/live"):
            page.goto(path)
            code = page.locator(".join-code").first
            expect(code).to_have_text(f"{r.code[:3]} {r.code[3:]}")
            box = code.evaluate(
                """c => { const r = document.createRange(); r.selectNodeContents(c);
                         const t = r.getBoundingClientRect(), k = c.closest('.card').getBoundingClientRect();
                         return {text: [t.left, t.right], card: [k.left, k.right]}; }"""
            )
            assert box["card"][0] <= box["text"][0] and box["text"][1] <= box["card"][1], (width, path, box)
