"""XLSX and CSV exports of a workshop and a chain: the sheets, the figures (equal to the
results API and to a recount from the raw answers in the same file), no formula anywhere
whatever the participants and facilitators typed, and nothing of another chain."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict

import openpyxl
import pytest
from sqlmodel import select

from server.exports.cells import TRIGGERS
from server.models import ExportLog, Gap, Participant
from tests.exports import world as export_world
from tests.exports.payloads import PAYLOADS


@pytest.fixture
def world(db, users):
    return export_world.build(db, users)


def _xlsx(response):
    assert response.status_code == 200, response.text[:500]
    return openpyxl.load_workbook(io.BytesIO(response.content))


def _csvs(response) -> dict[str, list[dict]]:
    assert response.status_code == 200, response.text[:500]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return {
        name.removesuffix(".csv"): list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
        for name in archive.namelist()
    }


def test_workshop_workbook_has_every_sheet_with_frozen_headers(client_a, world):
    response = client_a.get(f"/workshops/{world.workshop.id}/export/xlsx")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    book = _xlsx(response)
    names = book.sheetnames
    assert names[0] == "LEAME" and names[-1] == "Libro de códigos"
    assert "Asistencia" in names  # the workshop's language (es)
    assert len([n for n in names if n.startswith("A")]) >= len(world.agenda)
    assert any(n.startswith("Líneas de acción") for n in names)
    assert any(n.startswith("Respuestas") for n in names)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
    readme = [row[1] for row in book["LEAME"].iter_rows(min_row=2, values_only=True)]
    assert any("Facilitator A" in str(v) for v in readme)  # who exported


def test_figures_equal_the_results_api(client_a, world):
    data = _csvs(client_a.get(f"/workshops/{world.workshop.id}/export/csv"))
    rating = world.agenda[0]
    api = client_a.get(f"/api/workshops/{world.workshop.id}/activities/{rating.id}/results").json()
    rows = [r for r in data[f"activity_{rating.id}"] if r["group"] == "Todos"]
    assert [int(r["gap_id"]) for r in rows] == [g["gap"] for g in api["gaps"]]
    for row, shown in zip(rows, api["gaps"], strict=True):
        assert (float(row["mean_seriousness"]) if row["mean_seriousness"] else None) == pytest.approx(shown["mean"])
    ranking = world.agenda[2]
    api = client_a.get(f"/api/workshops/{world.workshop.id}/activities/{ranking.id}/results").json()
    schulze = {p["item"]: p["rank"] for p in api["ranking"]["methods"]["schulze"]["placements"]}
    lines = [r for r in data["action_lines"] if int(r["activity_id"]) == ranking.id]
    assert {int(r["line_id"]): int(r["schulze_rank"]) for r in lines} == schulze


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_figures_equal_a_recount_of_the_raw_answers_in_the_same_file(db, users, client_a, seed):
    world = export_world.build(db, users, n=5 + 3 * seed, seed=seed)
    data = _csvs(client_a.get(f"/workshops/{world.workshop.id}/export/csv"))
    rating = world.agenda[0]
    values = defaultdict(list)
    for r in data["raw_gap_rating"]:
        if int(r["activity_id"]) == rating.id and r["question"] == "seriousness":
            values[int(r["gap_id"])].append(int(r["value"]))
    for row in (r for r in data[f"activity_{rating.id}"] if r["group"] == "Todos"):
        answers = values[int(row["gap_id"])]
        assert int(row["answers"]) == len(answers)
        assert float(row["mean_seriousness"]) == pytest.approx(sum(answers) / len(answers))
        assert [int(row[f"seriousness_{v}"]) for v in range(1, 6)] == [answers.count(v) for v in range(1, 6)]


def test_no_rows_of_another_workshop_or_chain(client_a, world):
    data = _csvs(client_a.get(f"/workshops/{world.workshop.id}/export/csv"))
    for name, rows in data.items():
        if rows and "workshop_id" in rows[0]:
            assert {int(r["workshop_id"]) for r in rows} == {world.workshop.id}, name
    chain = _csvs(client_a.get(f"/chains/{world.chain.id}/export/csv"))
    assert {int(r["workshop_id"]) for r in chain["attendance"]} == {world.workshop.id, world.other.id}
    text = "".join(str(rows) for rows in chain.values())
    assert "Extraña" not in text and "Taller ajeno" not in text


def _injected(db, world) -> None:
    """Payloads in every field a person types: item titles, names, organizations."""
    gaps = list(db.exec(select(Gap).where(Gap.value_chain_id == world.chain.id)))
    people = list(db.exec(select(Participant).where(Participant.workshop_id == world.workshop.id)))
    for i, gap in enumerate(gaps):
        gap.title = PAYLOADS[i % len(PAYLOADS)]
        db.add(gap)
    for i, person in enumerate(people):
        person.name = PAYLOADS[i % len(PAYLOADS)]
        person.organization = PAYLOADS[-1 - i % len(PAYLOADS)]
        db.add(person)
    world.chain.name = '=HYPERLINK("http://example.invalid")'
    db.add(world.chain)
    db.commit()


def test_formula_payloads_give_no_formula_cell(db, client_a, world):
    _injected(db, world)
    for url in (f"/workshops/{world.workshop.id}/export/xlsx", f"/chains/{world.chain.id}/export/xlsx"):
        book = _xlsx(client_a.get(url))
        cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
        assert cells
        assert [c.coordinate for c in cells if c.data_type == "f"] == []
        texts = [c.value for c in cells if isinstance(c.value, str)]
        assert any(t.startswith("'=") for t in texts)  # the payloads are there, as text
        assert not [t for t in texts if t and t[0] in TRIGGERS]
    for url in (f"/workshops/{world.workshop.id}/export/csv", f"/chains/{world.chain.id}/export/csv"):
        archive = zipfile.ZipFile(io.BytesIO(client_a.get(url).content))
        for name in archive.namelist():
            for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))):
                assert not [c for c in row if c and c[0] in TRIGGERS], (name, row)


def test_every_export_is_logged(client_a, db, world):
    client_a.get(f"/workshops/{world.workshop.id}/export/xlsx")
    client_a.get(f"/chains/{world.chain.id}/export/csv")
    db.expire_all()
    log = list(db.exec(select(ExportLog).order_by(ExportLog.id)))
    assert [(e.scope, e.subject_id, e.product, e.user_email) for e in log] == [
        ("workshop", world.workshop.id, "xlsx", "a@example.org"),
        ("chain", world.chain.id, "csv", "a@example.org"),
    ]
    assert all(len(e.sha256) == 64 for e in log)


def test_admins_see_the_export_log(client_a, client_admin, world):
    client_a.get(f"/workshops/{world.workshop.id}/export/xlsx")
    page = client_admin.get("/admin/exports")
    assert page.status_code == 200
    assert "a@example.org" in page.text and world.workshop.title in page.text and "xlsx" in page.text
    assert client_a.get("/admin/exports").status_code == 403


def test_exports_are_rate_limited_per_facilitator(client_a, client_admin, world, monkeypatch):
    from server.exports import routes

    monkeypatch.setattr(routes, "EXPORTS_PER_MINUTE", 2)
    url = f"/workshops/{world.workshop.id}/export/json"
    assert [client_a.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert client_admin.get(url).status_code == 200  # another facilitator is not held back
