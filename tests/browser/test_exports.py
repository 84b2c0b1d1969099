"""Issue 14 in the browser: the organizer downloads every export from the workshop page
(laptop) and from the chain page (a phone-sized screen), and imports library items from a
file through the library page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.support import Devices, fits_the_screen, log_in, t
from tests.exports import world as export_world

PRODUCTS = {"xlsx": b"PK", "csv": b"PK", "opendata": b"PK", "json": b"{", "pdf": b"%PDF"}
SUFFIXES = {"xlsx": ".xlsx", "csv": "-csv.zip", "opendata": "-open-data.zip", "json": ".json", "pdf": ".pdf"}


def _download_each(page: Page) -> None:
    section = page.locator("#exports")
    expect(section).to_be_visible()
    for product, magic in PRODUCTS.items():
        link = section.locator(f'a[data-export="{product}"]')
        link.scroll_into_view_if_needed()
        with page.expect_download(timeout=90_000) as info:  # the first export starts the worker process
            link.click()
        download = info.value
        assert download.suggested_filename.endswith(SUFFIXES[product]), download.suggested_filename
        content = Path(download.path()).read_bytes()
        assert content.startswith(magic), (product, content[:20])


def test_the_organizer_downloads_every_export_from_the_workshop_page(devices: Devices, db, users):
    world = export_world.build(db, users)
    laptop = devices.page(devices.desk(), "laptop")
    log_in(laptop, users.a.email)
    laptop.goto(f"/workshops/{world.workshop.id}")
    _download_each(laptop)


def test_the_organizer_downloads_every_export_from_the_chain_page_on_a_phone(devices: Devices, db, users):
    world = export_world.build(db, users)
    phone = devices.phone("organizer")
    log_in(phone, users.a.email)
    phone.goto(f"/chains/{world.chain.id}")
    fits_the_screen(phone)
    _download_each(phone)


def test_library_items_are_imported_from_a_file(devices: Devices, db, users, tmp_path, page_problems):
    page_problems.allow(r"status of 422")  # the preview of a file with a bad row answers 422
    world = export_world.build(db, users)
    phone = devices.phone("organizer")
    log_in(phone, users.a.email)
    phone.goto(f"/chains/{world.chain.id}/library/gaps")
    phone.get_by_role("link", name=t("Import from a file (CSV or XLSX)")).click()
    fits_the_screen(phone)
    bad = tmp_path / "brechas.csv"
    bad.write_text("título,descripción\nBrecha 1,ya existe\nBrecha del archivo,nueva\n", encoding="utf-8")
    phone.get_by_label(t("File")).set_input_files(str(bad))
    phone.get_by_role("button", name=t("Check the file")).click()
    expect(phone.locator("[data-bad-row]")).to_have_count(1)
    expect(phone.locator('[data-bad-row="2"]')).to_be_visible()
    good = tmp_path / "brechas-2.csv"
    good.write_text("título,descripción\nBrecha del archivo,nueva\n", encoding="utf-8")
    phone.get_by_label(t("File")).set_input_files(str(good))
    phone.get_by_role("button", name=t("Check the file")).click()
    phone.get_by_role("button", name="Agregar 1 elemento a la biblioteca").click()
    expect(phone.get_by_text("Brecha del archivo")).to_be_visible()
