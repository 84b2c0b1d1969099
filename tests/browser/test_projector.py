"""The projector in a real hall (issue 11, "The room"), with the demo's data, in Spanish:

- results hidden on phones are hidden on the projector too (the anchoring the hiding exists
  to prevent), which shows the question, the gaps, the join code and how many answered; the
  console's "show on the projector" shows them there first, and the reveal shows them too;
- the demo's nine gaps fit one screen at 1280x720 and at 1920x1080: every row of the results
  inside the viewport, no scrolling, text no smaller than the sizes docs/projector.md states;
- the ranking shows each line's place, tied lines sharing it.
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from server.db import transaction
from server.demo import load_demo
from server.demo_data import DEMO_EMAIL, DEMO_PASSWORD
from server.models import Activity, GapAnswer, Participant, RankingBallot, Workshop
from server.workshops import live
from server.workshops.service import activity_items
from tests.browser.support import LANG, Devices, t, voted

assert LANG == "es", "the texts pinned below are Spanish"

RATING_CAPTION = (
    "Qué tan grave es cada brecha: el promedio de las respuestas, de 1 (leve) a 5 (muy grave), "
    "de la más grave a la menos grave."
)
# Legible from the back of a hall: the smallest text on the projector, by screen height
# (docs/projector.md: 0.8 of the base size, 3.9 % of the height: 22 px at 720 lines, 33 px at 1080).
SMALLEST_PX = {720: 22, 1080: 33}


def demo_activity(db, kind: str) -> tuple[Workshop, Activity]:
    """The demo's first activity of ``kind`` and its workshop."""
    load_demo(db)
    db.commit()
    query = select(Activity, Workshop).join(Workshop, Workshop.id == Activity.workshop_id).where(Activity.kind == kind)
    activity, workshop = db.exec(query.order_by(Workshop.id, Activity.position)).first()
    return workshop, activity


def answered_by(app, db, workshop: Workshop, activity: Activity, people: int) -> list[int]:
    """``people`` participants who answered every item (rows as the writer stores them),
    then opened; the live tally is counted again from the rows."""
    items = [i.id for i in activity_items(db, activity)]
    for n in range(people):
        p = Participant(workshop_id=workshop.id, token_hash=secrets.token_hex(32), name=f"P{n}")
        db.add(p)
        db.flush()
        if activity.kind == "ranking":
            # Everyone puts the lines in the library's order, but for the first two, swapped
            # by half the room: those two tie.
            order = [items[1], items[0], *items[2:]] if n % 2 else items
            db.add(RankingBallot(activity_id=activity.id, participant_id=p.id, ranking=order))
        else:
            for i, gap in enumerate(items):
                value = max(1, min(5, 5 - i // 2 + n % 2))  # the first gaps more serious
                db.add(
                    GapAnswer(
                        activity_id=activity.id, participant_id=p.id, gap_id=gap, question="seriousness", value=value
                    )
                )
    db.commit()
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        live.do_open(session, session.get(Workshop, workshop.id), session.get(Activity, activity.id))
    app.state.tallies.forget_workshop(workshop.id)
    app.state.hub.mark_dirty(workshop.id, "results")
    return items


def facilitator(devices: Devices, workshop: Workshop, viewport: dict) -> tuple[Page, Page]:
    """The demo facilitator's console (a laptop) and projector (``viewport``), logged in."""
    desk = devices.desk()
    console = devices.page(desk, "console")
    console.goto("/login")
    console.get_by_label(t("E-mail")).fill(DEMO_EMAIL)
    console.get_by_label(t("Password")).fill(DEMO_PASSWORD)
    console.get_by_role("button", name=t("Log in")).click()
    expect(console).to_have_url(re.compile(r"/chains$"))
    console.goto(f"/workshops/{workshop.id}/live")
    projector = devices.page(desk, "projector")
    projector.set_viewport_size(viewport)
    projector.goto(f"/workshops/{workshop.id}/projector")
    return console, projector


def nothing_below_the_fold(projector: Page, selector: str) -> None:
    """Every element of ``selector`` wholly inside the viewport, and the page does not scroll."""
    size = projector.viewport_size
    boxes = projector.locator(selector).evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); "
        "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, text: e.textContent.trim()}; })"
    )
    assert boxes, selector
    for box in boxes:
        assert box["top"] >= 0 and box["left"] >= 0, box
        assert box["bottom"] <= size["height"] and box["right"] <= size["width"], (size, box)
    scroll = projector.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight, innerWidth, innerHeight]"
    )
    assert scroll[0] <= scroll[2] and scroll[1] <= scroll[3], f"the projector scrolls: {scroll}"


def smallest_text_px(projector: Page) -> float:
    """The smallest font size of any text shown on the projector (the joining box included)."""
    return projector.evaluate(
        """() => {
          let least = Infinity;
          const walk = document.createTreeWalker(document.querySelector("#screen"), NodeFilter.SHOW_TEXT);
          while (walk.nextNode()) {
            const node = walk.currentNode, el = node.parentElement;
            if (!node.textContent.trim() || !el.getClientRects().length) continue;
            least = Math.min(least, parseFloat(getComputedStyle(el).fontSize));
          }
          return least;
        }"""
    )


def test_results_stay_hidden_on_the_projector_until_shown_there_or_revealed(devices: Devices, app, db):
    workshop, activity = demo_activity(db, "gap_rating")
    items = answered_by(app, db, workshop, activity, people=6)
    console, projector = facilitator(devices, workshop, {"width": 1280, "height": 720})

    # While people vote: the question, the nine gaps, the code, how many answered; no figure.
    screen = projector.locator(".screen-activity")
    expect(screen).to_have_attribute("data-results", "hidden")
    expect(projector.locator(".voted")).to_have_text(voted(6, 6))
    expect(projector.locator(".screen-items li")).to_have_count(len(items))
    expect(projector.locator(".join-code")).to_have_text(f"{workshop.join_code[:3]} {workshop.join_code[3:]}")
    expect(projector.locator(".prompt")).to_have_text(
        "¿Qué tan grave es cada brecha para la cadena? De 1 (leve) a 5 (muy grave)."
    )
    expect(projector.locator("meter, .bar-value, ol.bars")).to_have_count(0)
    nothing_below_the_fold(projector, ".screen-items li, .join-code, .qr, .voted")

    # "Show results on the projector only": the projector shows them, phones still do not.
    console.get_by_role("button", name="Mostrar los resultados solo en el proyector").click()
    expect(console.get_by_text("El proyector muestra los resultados; los celulares no.")).to_be_visible()
    expect(screen).to_have_attribute("data-results", "shown")
    expect(projector.locator("ol.bars li")).to_have_count(len(items))
    expect(projector.locator(".screen-caption")).to_have_text(RATING_CAPTION)
    db.expunge_all()
    assert db.get(Activity, activity.id).revealed is False

    # Back to following the phones: hidden again; revealed on phones: shown on the projector.
    console.get_by_role("button", name="Ocultar los resultados en el proyector").click()
    expect(screen).to_have_attribute("data-results", "hidden")
    expect(projector.locator("ol.bars")).to_have_count(0)
    console.get_by_role("button", name=t("Reveal results")).click()
    expect(screen).to_have_attribute("data-results", "shown")
    expect(projector.locator("ol.bars li")).to_have_count(len(items))
    expect(console.get_by_text("El proyector también los muestra.")).to_be_visible()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 720}, {"width": 1920, "height": 1080}], ids=str)
def test_the_demos_nine_gaps_fit_one_projector_screen(devices: Devices, app, db, viewport):
    workshop, activity = demo_activity(db, "gap_rating")
    items = answered_by(app, db, workshop, activity, people=5)
    assert len(items) == 9
    console, projector = facilitator(devices, workshop, viewport)
    expect(projector.locator(".screen-items li")).to_have_count(9)
    nothing_below_the_fold(projector, ".screen-items li, .screen-note, .join-code, .qr")
    assert smallest_text_px(projector) >= SMALLEST_PX[viewport["height"]]

    console.get_by_role("button", name=t("Reveal results")).click()
    expect(projector.locator("ol.bars li")).to_have_count(9)
    nothing_below_the_fold(projector, "ol.bars li, .bar-label, .bar-value, meter, .screen-caption, .join-code, .qr")
    assert smallest_text_px(projector) >= SMALLEST_PX[viewport["height"]]
    # Most serious first: the shown means never go up.
    means = [float(v.replace(",", ".")) for v in projector.locator(".bar-value").all_text_contents()]
    assert means == sorted(means, reverse=True) and len(set(means)) > 1


def test_the_ranking_shows_each_lines_place(devices: Devices, app, db):
    workshop, activity = demo_activity(db, "ranking")
    lines = answered_by(app, db, workshop, activity, people=6)
    console, projector = facilitator(devices, workshop, {"width": 1280, "height": 720})
    console.get_by_role("button", name=t("Reveal results")).click()

    rows = projector.locator("ol.ranking-screen li")
    expect(rows).to_have_count(len(lines))
    # Half the room swapped the first two lines: they tie for first place, the rest follow.
    expect(rows.locator(".rank")).to_have_text(["1", "1", *[str(n) for n in range(3, len(lines) + 1)]])
    expect(rows.nth(0).locator(".badge")).to_have_text(t("tie"))
    expect(rows.nth(2).locator(".badge")).to_have_count(0)
    expect(projector.locator(".screen-caption")).to_contain_text("Las líneas con el mismo número están empatadas.")
    nothing_below_the_fold(projector, "ol.ranking-screen li, .screen-caption")
