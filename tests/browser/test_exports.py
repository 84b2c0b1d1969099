"""Issue 14 in the browser, on a phone-sized screen (360x740): the organizer downloads every
export from the workshop page (through each export job's progress page) and from the chain
page (handed out at once), and imports library items from a file through the library page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.support import Devices, fits_the_screen, log_in, t
from tests.exports import world as export_world

PRODUCTS = {"xlsx": b"PK", "csv": b"PK", "opendata": b"PK", "json": b"{", "pdf": b"%PDF"}
SUFFIXES = {"xlsx": ".xlsx", "csv": "-csv.zip", "opendata": "-open-data.zip", "json": ".json", "pdf": ".pdf"}


def _check(download, product: str) -> None:
    assert download.suggested_filename.endswith(SUFFIXES[product]), download.suggested_filename
    content = Path(download.path()).read_bytes()
    assert content.startswith(PRODUCTS[product]), (product, content[:20])


def _download_each(page: Page, *, through_job_page: bool) -> None:
    """Each export button of the page: the file comes at once, or (a long export) the job's
    page shows its progress, then a link to the file, and a link back to the exports."""
    for product in PRODUCTS:
        section = page.locator("#exports")
        expect(section).to_be_visible()
        button = section.locator(f'button[data-export="{product}"]')
        button.scroll_into_view_if_needed()
        if not through_job_page:
            with page.expect_download(timeout=90_000) as info:  # the first export starts the worker process
                button.click(timeout=90_000)  # the post waits for a small export to be made
            _check(info.value, product)
            continue
        button.click()
        status = page.locator("#export-job")
        expect(status).to_be_visible()
        fits_the_screen(page)
        link = status.locator(f'a[data-export-file="{product}"]')  # htmx asks for the status until it is ready
        expect(link).to_be_visible(timeout=90_000)
        with page.expect_download(timeout=30_000) as info:
            link.click()
        _check(info.value, product)
        page.get_by_role("link", name=t("Back")).click()


def test_the_organizer_downloads_every_export_from_the_workshop_page(devices: Devices, db, users, app, monkeypatch):
    """A long export (as if: the route does not wait for it) goes through its job's page."""
    monkeypatch.setattr(app.state.settings, "export_wait_seconds", 0.0)
    world = export_world.build(db, users)
    phone = devices.phone("organizer")
    log_in(phone, users.a.email)
    phone.goto(f"/workshops/{world.workshop.id}")
    fits_the_screen(phone)
    _download_each(phone, through_job_page=True)


def test_the_organizer_downloads_every_export_from_the_chain_page_on_a_phone(
    devices: Devices, db, users, app, monkeypatch, page_problems
):
    """A small export is handed out at once: the button's post redirects to the file (a
    navigation that turns into a download, which Chromium reports as aborted)."""
    page_problems.allow(r"/exports/[\w-]+/file: net::ERR_ABORTED")
    monkeypatch.setattr(app.state.settings, "export_wait_seconds", 90.0)
    world = export_world.build(db, users)
    phone = devices.phone("organizer")
    log_in(phone, users.a.email)
    phone.goto(f"/chains/{world.chain.id}")
    fits_the_screen(phone)
    _download_each(phone, through_job_page=False)


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


def test_an_admin_imports_a_full_data_export_from_the_administration(
    devices: Devices, db, users, app, tmp_path, page_problems
):
    """Reached by clicking from the start page: Administration › Import full data (JSON);
    a file that is not JSON says so, a workshop's export is previewed then imported."""
    import json

    from server.exports.gather import scope_of_workshop
    from server.exports.portable import document
    from server.models import ValueChain

    page_problems.allow(r"status of 422")  # the bad file's page answers 422
    world = export_world.build(db, users)
    scope = scope_of_workshop(db, world.workshop, db.get(ValueChain, world.chain.id), users.a)
    good = tmp_path / "taller.json"
    good.write_text(json.dumps(document(db, scope, app.state.registry)), encoding="utf-8")
    bad = tmp_path / "notes.json"
    bad.write_text("these are notes, not JSON", encoding="utf-8")
    phone = devices.phone("admin")
    log_in(phone, users.admin.email)
    phone.get_by_role("link", name=t("Administration")).click()
    phone.get_by_role("link", name=t("Import full data (JSON)")).click()
    fits_the_screen(phone)
    phone.get_by_label(t("File")).set_input_files(str(bad))
    phone.get_by_role("button", name=t("Check the file")).click()
    expect(phone.get_by_text(t("This file is not JSON."))).to_be_visible()
    phone.get_by_label(t("File")).set_input_files(str(good))
    phone.get_by_label(t("Owner of the imported chain")).select_option(label=f"{users.a.name} ({users.a.email})")
    phone.get_by_role("button", name=t("Check the file")).click()
    preview = phone.locator("[data-import-preview]")
    expect(preview).to_be_visible()
    expect(preview.locator("[data-chain-name]")).to_have_text(world.chain.name)
    expect(preview.get_by_text(world.workshop.title)).to_be_visible()
    fits_the_screen(phone)
    phone.get_by_role("button", name=t("Import as a new value chain")).click()
    expect(phone.get_by_role("heading", name=world.chain.name)).to_be_visible()
    expect(phone.get_by_text(world.workshop.title)).to_be_visible()
