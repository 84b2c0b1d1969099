"""An organizer reads the coffee chain's results across its workshops (issue 13): from the
chain's page, filtered by a stakeholder group and a region, then a gap's history; the
numbers match each workshop's own results page. On a laptop, and legible at 360 px."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import select

from server.demo import load_demo
from server.demo_data import DEMO_EMAIL, DEMO_PASSWORD
from server.models import StakeholderGroup
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
