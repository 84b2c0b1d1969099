"""An organizer reads the coffee chain's results across its workshops (issue 13): from the
chain's page, filtered by a stakeholder group and a region, then a gap's history; the
numbers match each workshop's own results page. On a laptop, and legible at 360 px."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from server.demo import load_demo
from server.demo_data import DEMO_EMAIL, DEMO_PASSWORD
from server.models import (
    Activity,
    RoadmapActivityItem,
    RoadmapCommitment,
    RoadmapItem,
    RoadmapWithdrawal,
    StakeholderGroup,
    ValueChain,
    Workshop,
)
from tests.browser.support import Devices, fits_the_screen, t


def _log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label(t("E-mail")).fill(DEMO_EMAIL)
    page.get_by_label(t("Password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=t("Log in")).click()
    expect(page).to_have_url(re.compile(r"/chains$"))
    page.wait_for_load_state()  # its styles too: going on at once would abort them


def _cells(page: Page, selector: str) -> list[str]:
    return page.locator(selector).evaluate_all("els => els.map(e => e.textContent.trim())")


def test_an_organizer_filters_the_chain_results_and_opens_a_gap_history(devices: Devices, db):
    load_demo(db)
    db.commit()
    private = db.exec(select(StakeholderGroup).where(StakeholderGroup.key == "private")).one()
    laptop = devices.page(devices._context(viewport={"width": 1280, "height": 800}), "laptop")
    _log_in(laptop)
    laptop.get_by_role("link", name="Café", exact=True).click()
    laptop.get_by_role("link", name=t("Results across workshops")).click()
    expect(laptop).to_have_url(re.compile(r"/chains/\d+/results$"))
    expect(laptop.locator("#table-gaps tbody tr")).to_have_count(9)
    expect(laptop.locator("#chart-seriousness")).to_be_visible()

    # A group and a region, through the GET form (no JavaScript needed).
    laptop.get_by_label(t("Stakeholder group")).select_option(label=private.name_es)
    laptop.get_by_label(t("Region"), exact=True).select_option("Puno")
    laptop.get_by_role("button", name=t("Apply")).click()
    expect(laptop).to_have_url(re.compile(rf"group={private.id}.*region=Puno"))
    expect(laptop.locator("#in-view")).to_contain_text(private.name_es)
    row = laptop.locator("#table-gaps tbody tr").first
    gap_title = row.locator("th").inner_text().strip()
    chain_mean = row.locator("td.mean").inner_text().strip()
    assert re.fullmatch(r"\d,\d", chain_mean), chain_mean  # a figure is shown, in Spanish

    # The gap's history, with the same filters: each Puno workshop in date order.
    row.get_by_role("link").click()
    expect(laptop).to_have_url(re.compile(rf"/results/gap_rating/\d+\?group={private.id}&.*region=Puno"))
    expect(laptop.locator("h1")).to_have_text(gap_title)
    expect(laptop.locator("#chart-history")).to_be_visible()
    history = laptop.locator("#table-history tbody tr")
    expect(history).to_have_count(2)  # Juliaca and Sandia
    titles = _cells(laptop, "#table-history tbody th")
    means = _cells(laptop, "#table-history tbody td.mean")
    assert titles == ["Diagnóstico y priorización — Juliaca", "Priorización de líneas — Sandia"], titles
    assert laptop.locator("#table-history tfoot td").nth(2).inner_text().strip() == chain_mean

    # Each workshop's own results page shows the same mean for the private sector.
    for title, mean in zip(titles, means, strict=True):
        history.filter(has_text=title).get_by_role("link").click()
        laptop.get_by_role("link", name=f"{t('Results')}: {t('How serious is each gap?')}").click()
        table = laptop.locator("table.groups")
        column = _cells(table, "thead th").index(private.name_es)
        gap_row = table.locator("tbody tr").filter(has=laptop.get_by_role("rowheader", name=gap_title, exact=True))
        assert gap_row.locator("th, td").nth(column).inner_text().strip() == mean, (title, mean)
        laptop.go_back()
        laptop.wait_for_load_state()
        laptop.go_back()
        laptop.wait_for_load_state()

    # Legible on a 360 px screen: nothing wider than the screen but the tables' own scroll.
    small = devices.page(devices._context(viewport={"width": 360, "height": 740}), "small")
    _log_in(small)
    small.goto(laptop.url.split("/results")[0] + f"/results?group={private.id}&region=Puno")
    expect(small.locator("#table-gaps")).to_be_attached()
    fits_the_screen(small)


def test_an_organizer_reads_the_chain_roadmap(devices: Devices, db):
    """The roadmap's part: items by status and horizon, commitments by organization (a
    withdrawn one apart), and what no one committed to; filtered by a workshop, on a phone."""
    load_demo(db)
    db.commit()
    chain = db.exec(select(ValueChain).where(ValueChain.name == "Café")).one()
    workshop = db.exec(select(Workshop).where(Workshop.value_chain_id == chain.id).order_by(Workshop.date)).first()
    activity = Activity(workshop_id=workshop.id, kind="roadmap", title="Hoja de ruta (prueba)")
    db.add(activity)
    known = list(db.exec(select(RoadmapItem).where(RoadmapItem.value_chain_id == chain.id)))
    db.commit()
    top = max((i.position for i in known), default=0)
    mine = [
        RoadmapItem(
            value_chain_id=chain.id, title="Vivero certificado", status="agreed", horizon="short", position=top + 1
        ),
        RoadmapItem(value_chain_id=chain.id, title="Laboratorio de catación", status="proposed", position=top + 2),
    ]
    db.add_all(mine)
    db.commit()
    db.add(RoadmapActivityItem(activity_id=activity.id, item_id=mine[0].id))
    made = [
        RoadmapCommitment(
            item_id=mine[0].id, organization="Agencia Agraria Prueba", role="lead", activity_id=activity.id, user_id=1
        ),
        RoadmapCommitment(
            item_id=mine[0].id, organization="Banco Prueba", role="funder", activity_id=activity.id, user_id=1
        ),
    ]
    db.add_all(made)
    db.commit()
    db.add(RoadmapWithdrawal(commitment_id=made[1].id, user_id=1))
    db.commit()
    everything = db.exec(select(RoadmapItem).where(RoadmapItem.value_chain_id == chain.id)).all()

    phone = devices.page(devices._context(viewport={"width": 360, "height": 740}), "phone")
    _log_in(phone)
    phone.goto(f"/chains/{chain.id}/results")
    section = phone.locator("#kind-roadmap")
    expect(section.get_by_role("heading", name=t("Roadmap"), exact=True)).to_be_visible()
    expect(phone.locator("#chart-roadmap-status")).to_be_visible()
    # Every item of the chain is counted once in the status × horizon table.
    counts = [int(n) for n in _cells(phone, "#table-roadmap-status tbody td .n")]
    assert sum(counts) == len(everything), counts
    agreed_short = phone.locator('#table-roadmap-status tr[data-status="agreed"] td[data-horizon="short"]')
    expect(agreed_short).to_contain_text("Vivero certificado")
    orgs = phone.locator("#table-roadmap-orgs")
    expect(orgs).to_contain_text("Agencia Agraria Prueba")
    expect(orgs).not_to_contain_text("Banco Prueba")  # withdrawn: apart
    expect(phone.locator("#table-roadmap-withdrawn")).to_contain_text("Banco Prueba")
    expect(phone.locator("#roadmap-uncommitted")).to_contain_text("Laboratorio de catación")
    expect(phone.locator('#table-roadmap-groups tr[data-group="facilitator"]')).to_be_visible()
    fits_the_screen(phone)

    # Filtered to the workshop: its commitment and the item it brought in.
    phone.get_by_label(t("Workshop"), exact=True).select_option(str(workshop.id))
    phone.get_by_role("button", name=t("Apply")).click()
    expect(phone).to_have_url(re.compile(rf"workshop={workshop.id}"))
    expect(phone.locator("#table-roadmap-orgs")).to_contain_text("Agencia Agraria Prueba")
    # The other item was brought in by no activity of this workshop: out of the view.
    expect(phone.locator("#kind-roadmap")).not_to_contain_text("Laboratorio de catación")
    fits_the_screen(phone)
