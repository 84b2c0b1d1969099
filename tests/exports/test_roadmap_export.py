"""The roadmap in the exports: the matrix equals the items as stored, every item once in a
chain's export, no formula from what participants typed, and the acta (PDF) holds the
timeline and the commitments."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess

import openpyxl
import pytest
from sqlmodel import select

from server.activities.roadmap import items as roadmap_items
from server.activities.roadmap import reading
from server.activities.roadmap.actors import as_facilitator
from server.demo import load_demo
from server.exports import pdf, xlsx
from server.exports.gather import gather
from server.exports.service import chain_scope, workshop_scope
from server.models import Activity, RoadmapItem, ValueChain, Workshop


def _demo(db, app):
    """The demo's coffee chain with its roadmap activities opened (their items brought in)."""
    result = load_demo(db, today=dt.date(2026, 3, 1))
    db.commit()
    coffee = db.exec(select(ValueChain).where(ValueChain.name == "Café")).one()
    activities = db.exec(
        select(Activity)
        .join(Workshop, Workshop.id == Activity.workshop_id)
        .where(Workshop.value_chain_id == coffee.id, Activity.kind == "roadmap")
        .order_by(Workshop.date, Activity.position)
    ).all()
    assert activities
    for activity in activities:
        roadmap_items.bring_in(db, as_facilitator(db, result.user, coffee.id, activity.id), activity)
    db.commit()
    return result.user, coffee, activities


def _table(export, key):
    return next(t for t in export.tables if t.key == key)


def test_the_roadmap_matrix_equals_the_items_as_stored(db, app):
    user, _coffee, activities = _demo(db, app)
    workshop = db.get(Workshop, activities[0].workshop_id)
    export = gather(db, app.state, workshop_scope(db, user, workshop.id))
    brought = roadmap_items.items_of_activity(db, activities[0].id)
    stored = {v.id: v for v in reading.item_views(db, brought)}
    matrix = _table(export, "roadmap_items")
    names = [c.name for c in matrix.columns]
    rows = [dict(zip(names, row, strict=True)) for row in matrix.rows()]
    assert [r["item_id"] for r in rows] == brought and len(rows) >= 3
    for row in rows:
        item = stored[row["item_id"]]
        v = item.values
        assert (row["title"], row["description"], row["lead_organization"]) == (
            v["title"],
            v["description"],
            v["lead_organization"],
        )
        assert row["funding_source"] == v["funding_source"] and row["pilot"] == v["pilot"]
        assert row["progress"] == v["progress"]
        if v["budget"]:
            assert (f"{row['budget_amount']:.2f}", row["budget_currency"]) == (
                v["budget"]["amount"],
                v["budget"]["currency"],
            )
        assert row["milestones"] == len(item.rows["milestone"])
        assert row["indicators"] == len(item.rows["indicator"])
        assert row["partners"] == len(item.rows["partner"])
        assert row["commitments"] == len(item.active_commitments)
    commitments = list(_table(export, "roadmap_commitments").rows())
    assert len(commitments) == sum(len(stored[i].commitments) for i in brought)
    assert any(c[7] is not None for c in commitments) or not any(stored[i].commitments for i in brought)
    milestones = list(_table(export, "roadmap_milestones").rows())
    assert len(milestones) == sum(len(stored[i].rows["milestone"]) for i in brought)
    # open data: the roadmap's public tables, never the comments nor the revisions
    assert matrix.open_data and _table(export, "roadmap_commitments").open_data
    assert not _table(export, "roadmap_comments").open_data and not _table(export, "raw_roadmap").open_data


def test_a_chain_export_names_every_item_once(db, app):
    user, coffee, activities = _demo(db, app)
    export = gather(db, app.state, chain_scope(db, user, coffee.id, "en"))
    ids = [row[0] for row in _table(export, "roadmap_items").rows()]
    brought = {i for a in activities for i in roadmap_items.items_of_activity(db, a.id)}
    assert len(ids) == len(set(ids)) and set(ids) == brought
    milestones = [row[1] for row in _table(export, "roadmap_milestones").rows()]
    assert len(milestones) == len(set(milestones))


def test_a_formula_in_an_item_title_gives_no_formula_cell(db, app, tmp_path):
    user, _coffee, activities = _demo(db, app)
    item = db.get(RoadmapItem, roadmap_items.items_of_activity(db, activities[0].id)[0])
    item.title = '=HYPERLINK("http://evil.example","x")'
    item.lead_organization = "+1+cmd|' /C calc'!A0"
    db.add(item)
    db.commit()
    export = gather(db, app.state, workshop_scope(db, user, activities[0].workshop_id))
    path = tmp_path / "rm.xlsx"
    xlsx.write_xlsx(export, path, tmp_path)
    book = openpyxl.load_workbook(path)
    sheet = book[_table(export, "roadmap_items").title]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert any(c.value == "'" + item.title for c in cells)
    assert any(c.value == "'" + item.lead_organization for c in cells)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (scripts/test installs it)")
def test_the_acta_holds_the_roadmap_and_its_commitments(db, app, tmp_path):
    user, _coffee, activities = _demo(db, app)
    scope = workshop_scope(db, user, activities[0].workshop_id)
    path = tmp_path / "acta.pdf"
    pdf.write_pdf(db, app.state, scope, path)
    if os.environ.get("MINKA_KEEP_ACTA"):
        shutil.copy(path, os.environ["MINKA_KEEP_ACTA"])
    raw = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(raw.split())  # a title wraps inside its cell
    views = reading.item_views(db, roadmap_items.items_of_activity(db, activities[0].id))
    assert views and all(v.values["title"] in text for v in views)
    assert "Línea de tiempo de la hoja de ruta" in text
    committed = [c.organization for v in views for c in v.active_commitments]
    assert committed and any(org in text for org in committed)
