"""Export jobs (issue 14: "a long export runs off the event loop and shows its progress"):
the page's button starts a job in the worker process, its page shows how far it is, then
offers the file; a failure is said plainly; only the facilitator who started it, with
access to the workshop or chain, reaches its status and file; old jobs are swept."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from concurrent.futures import Future
from pathlib import Path

import pytest
from sqlmodel import Session, select

from server.exports import jobs, service
from server.exports.gather import scope_of_chain
from server.models import ExportLog, ValueChainShare
from tests import factories
from tests.conftest import login
from tests.exports import world as export_world
from tests.route_world import export_job


@pytest.fixture
def world(db, users):
    return export_world.build(db, users)


def _start(client, path: str, product: str):
    return client.post(path, data={"csrf_token": client.csrf, "product": product}, follow_redirects=False)


def _until_finished(client, url: str) -> str:
    """The job's status fragment (as htmx asks for it) once it says it is finished."""
    deadline = time.monotonic() + 120  # the first export starts the worker process
    while True:
        fragment = client.get(url, headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        state = re.search(r'data-job-state="(\w+)"', fragment.text).group(1)
        if state in (jobs.DONE, jobs.FAILED) or time.monotonic() > deadline:
            return fragment.text
        assert 'hx-trigger="every 1s"' in fragment.text  # asked for again while it runs
        time.sleep(0.2)


def test_a_long_export_shows_its_job_page_then_offers_the_file(app, client_a, db, world, monkeypatch):
    monkeypatch.setattr(app.state.settings, "export_wait_seconds", 0.0)  # as if it took long
    started = _start(client_a, f"/workshops/{world.workshop.id}/exports", "xlsx")
    assert started.status_code == 303
    page_url = started.headers["location"]
    assert re.search(rf"/workshops/{world.workshop.id}/exports/[\w-]{{22}}$", page_url)
    page = client_a.get(page_url)
    assert page.status_code == 200 and 'id="export-job"' in page.text
    if 'data-job-state="done"' not in page.text:  # without JavaScript: the page reloads itself
        assert '<meta http-equiv="refresh"' in page.text
    fragment = _until_finished(client_a, page_url)
    assert 'data-job-state="done"' in fragment and "hx-trigger" not in fragment
    file_url = re.search(r'href="([^"]+/file)"', fragment).group(1)
    download = client_a.get(file_url)
    assert download.status_code == 200 and download.content.startswith(b"PK")
    assert download.headers["content-disposition"].startswith("attachment")
    assert ".xlsx" in download.headers["content-disposition"]
    db.expire_all()
    entry = db.exec(select(ExportLog)).one()  # logged when handed out
    assert (entry.scope, entry.subject_id, entry.product) == ("workshop", world.workshop.id, "xlsx")
    assert entry.sha256 == download.headers["x-export-sha256"]
    assert client_a.get(file_url).status_code == 200  # kept for a second download


def test_a_small_export_is_handed_out_at_once(app, client_a, world, monkeypatch):
    monkeypatch.setattr(app.state.settings, "export_wait_seconds", 120.0)
    started = _start(client_a, f"/chains/{world.chain.id}/exports", "json")
    assert started.status_code == 303 and started.headers["location"].endswith("/file")
    download = client_a.get(started.headers["location"])
    assert download.status_code == 200 and download.json()["scope"] == "chain"


def test_waiting_for_an_export_leaves_the_database_to_the_live_room(app, client_a, world, monkeypatch):
    """While the route waits for its export, another writer (the live room's single
    writer) takes the database's write lock at once: votes are never held up."""
    from sqlalchemy import text

    took: list[bool] = []
    waiting = jobs.wait

    def wait_and_write(settings, job_id, seconds):
        engine = app.state.db.writer
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout=0")  # fail at once if the lock is held
                conn.commit()
            try:
                with conn.begin():
                    conn.execute(text("UPDATE workshop SET title = title WHERE id = :id"), {"id": world.workshop.id})
                took.append(True)
            finally:
                if engine.dialect.name == "sqlite":  # the pooled connection as it was
                    conn.exec_driver_sql("PRAGMA busy_timeout=30000")
                    conn.commit()
        return waiting(settings, job_id, seconds)

    monkeypatch.setattr(jobs, "wait", wait_and_write)
    started = _start(client_a, f"/workshops/{world.workshop.id}/exports", "json")
    assert started.status_code == 303
    assert took == [True]


def test_a_button_without_a_product_goes_back_to_the_page(client_a, world):
    answer = _start(client_a, f"/workshops/{world.workshop.id}/exports", "docx")
    assert answer.status_code == 303 and answer.headers["location"].endswith(f"/workshops/{world.workshop.id}#exports")


def test_progress_is_told_table_by_table_while_writing(app, db, users, world, tmp_path, monkeypatch):
    told: list[dict] = []
    monkeypatch.setattr(jobs, "write_status", lambda folder, **status: told.append(status))
    monkeypatch.setattr(jobs.Progress, "EVERY", 0.0)
    with Session(app.state.db.reader) as session:
        scope = scope_of_chain(session, world.chain, users.a, "en")
        built = service.build_here(session, app.state, scope, "csv", folder=tmp_path, progress=jobs.Progress(tmp_path))
    assert built.path == tmp_path / jobs.FILE and built.path.is_file()
    assert all(s["state"] == jobs.RUNNING for s in told)
    tables = told[0]["tables"]
    assert tables > 5
    numbers = [s["table_number"] for s in told]
    assert numbers == sorted(numbers) and numbers[-1] == tables
    rows = [s["rows"] for s in told]
    assert rows == sorted(rows) and rows[-1] > 200  # every row of every table before the last, counted as written
    assert any(s["table"].startswith("Raw answers") for s in told)


def test_a_failed_export_is_said_plainly(app, client_a, users, world):
    job_id = export_job(app.state.settings, users.a, "workshop", world.workshop.id)
    folder = jobs.folder_of(app.state.settings, job_id)
    failed: Future = Future()
    failed.set_exception(RuntimeError("out of memory"))
    jobs.finished(folder, failed)
    page = client_a.get(f"/workshops/{world.workshop.id}/exports/{job_id}", headers={"Accept-Language": "en"})
    assert 'data-job-state="failed"' in page.text and "data-export-failed" in page.text
    assert "could not be made" in page.text and "out of memory" not in page.text
    assert '<meta http-equiv="refresh"' not in page.text
    assert client_a.get(f"/workshops/{world.workshop.id}/exports/{job_id}/file").status_code == 404


def test_a_job_its_server_forgot_fails(app, users, world):
    job_id, folder = jobs.create(
        app.state.settings,
        user_id=users.a.id,
        what="chain",
        subject_id=world.chain.id,
        product="csv",
        filename="x.zip",
        media_type="application/zip",
    )
    jobs.write_status(folder, state=jobs.RUNNING, rows=10)
    assert jobs.read(app.state.settings, job_id).state == jobs.RUNNING
    long_ago = time.time() - jobs.STALE.total_seconds() - 60
    os.utime(folder / "status.json", (long_ago, long_ago))
    assert jobs.read(app.state.settings, job_id).state == jobs.FAILED


def test_old_jobs_are_swept(app, users, world):
    old = export_job(app.state.settings, users.a, "chain", world.chain.id)
    fresh = export_job(app.state.settings, users.a, "chain", world.chain.id)
    old_folder = jobs.folder_of(app.state.settings, old)
    long_ago = time.time() - jobs.KEEP.total_seconds() - 60
    os.utime(old_folder, (long_ago, long_ago))
    jobs.sweep(app.state.settings)
    assert not old_folder.exists()
    assert jobs.read(app.state.settings, fresh) is not None


@pytest.mark.parametrize("bad", ["..%2F..%2Fetc", "%2e%2e", "x" * 21 + "%2F", "short", "a" * 200])
def test_a_malformed_job_id_is_not_found(client_a, world, bad):
    assert client_a.get(f"/chains/{world.chain.id}/exports/{bad}").status_code == 404


def test_a_job_id_alone_opens_nothing(app, client_a, client_admin, db, users, world):
    """The admin and a facilitator the chain is shared with may export it, but not take
    facilitator A's job; A's job of one workshop is not reached through another's path."""
    job_id = export_job(app.state.settings, users.a, "workshop", world.workshop.id)
    page, file = (
        f"/workshops/{world.workshop.id}/exports/{job_id}",
        f"/workshops/{world.workshop.id}/exports/{job_id}/file",
    )
    assert client_a.get(page).status_code == 200 and client_a.get(file).status_code == 200
    assert client_admin.get(page).status_code == 404 and client_admin.get(file).status_code == 404
    shared = factories.user(db, "c@example.org", "Facilitator C")
    db.add(ValueChainShare(value_chain_id=world.chain.id, user_id=shared.id))
    db.commit()
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        login(c, shared.email)
        assert c.get(f"/workshops/{world.workshop.id}").status_code == 200  # they may see it
        assert c.get(page).status_code == 404 and c.get(file).status_code == 404
    other = f"/workshops/{world.other.id}/exports/{job_id}"  # the same chain, another workshop
    assert client_a.get(other).status_code == 404
    assert client_a.get(f"/chains/{world.chain.id}/exports/{job_id}").status_code == 404
    foreign = f"/workshops/{world.foreign.id}/exports/{job_id}"  # a chain A may not see
    assert client_a.get(foreign).status_code == 404


def test_the_job_files_live_under_the_data_directory(app, users, world):
    job_id = export_job(app.state.settings, users.a, "chain", world.chain.id)
    folder = jobs.folder_of(app.state.settings, job_id)
    assert folder.parent == Path(app.state.settings.data_dir) / "export-jobs"
    meta = json.loads((folder / "job.json").read_text())
    assert meta["user_id"] == users.a.id and dt.datetime.fromisoformat(meta["created_at"])
