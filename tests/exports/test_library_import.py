"""Gaps and action lines imported into a chain's library from CSV or XLSX: a preview with an
error per bad row, and nothing written until the whole file is valid."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from bs4 import BeautifulSoup
from sqlmodel import select

from server.models import ActionLine, ExportLog, Gap
from tests import factories


@pytest.fixture
def chain(db, users):
    factories.reference_lists(db)
    return factories.chain(db, users.a)  # gaps "Brecha 1..3", lines "Línea 1..3"


def _preview(client, chain, kind, content: bytes, name="items.csv"):
    return client.post(
        f"/chains/{chain.id}/library-import/{kind}",
        data={"csrf_token": client.csrf},
        files={"file": (name, content, "text/csv")},
    )


def _titles(db, model, chain):
    db.expire_all()
    return [i.title for i in db.exec(select(model).where(model.value_chain_id == chain.id).order_by(model.position))]


def test_the_library_page_links_to_the_import(client_a, chain):
    page = client_a.get(f"/chains/{chain.id}/library/gaps")
    assert f"/chains/{chain.id}/library-import/gaps" in page.text


def test_a_valid_csv_is_previewed_then_added(client_a, db, chain):
    content = 'título;descripción;mecanismos\nBrecha nueva;Una;"Capacitación; Crédito"\n=Otra brecha;;\n'.encode()
    response = _preview(client_a, chain, "gaps", content)
    assert response.status_code == 200, response.text
    assert _titles(db, Gap, chain) == ["Brecha 1", "Brecha 2", "Brecha 3"]  # nothing yet
    page = BeautifulSoup(response.text, "html.parser")
    assert not page.select("[data-bad-row]")
    rows = page.select_one("input[name=rows]")["value"]
    done = client_a.post(
        f"/chains/{chain.id}/library-import/gaps/confirm",
        data={"csrf_token": client_a.csrf, "rows": rows},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert _titles(db, Gap, chain)[3:] == ["Brecha nueva", "=Otra brecha"]
    gap = db.exec(select(Gap).where(Gap.title == "Brecha nueva")).one()
    assert gap.mechanisms == ["Capacitación", "Crédito"]
    assert db.exec(select(ExportLog).where(ExportLog.product == "import")).one().subject_id == chain.id


def test_bad_rows_are_each_named_and_nothing_is_written(client_a, db, chain):
    content = (
        (
            "title,work_area\n"
            "Línea buena,training\n"
            ",training\n"  # row 3: no title
            "Línea 1,\n"  # row 4: already in the library
            "Otra,Nada\n" + "x" * 301 + ",\n"  # row 5: unknown work area  # row 6: too long
            "Línea buena,\n"  # row 7: twice in the file
        ).encode()
    )
    response = _preview(client_a, chain, "action-lines", content)
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    assert sorted(int(r["data-bad-row"]) for r in page.select("[data-bad-row]")) == [3, 4, 5, 6, 7]
    assert not page.select("input[name=rows]")  # no way to confirm
    assert _titles(db, ActionLine, chain) == ["Línea 1", "Línea 2", "Línea 3"]


def test_a_tampered_confirmation_writes_nothing(client_a, db, chain):
    rows = '[{"number": 2, "data": {"title": "Nueva"}}, {"number": 3, "data": {"title": ""}}]'
    response = client_a.post(
        f"/chains/{chain.id}/library-import/gaps/confirm", data={"csrf_token": client_a.csrf, "rows": rows}
    )
    assert response.status_code == 422
    assert _titles(db, Gap, chain) == ["Brecha 1", "Brecha 2", "Brecha 3"]


def test_an_xlsx_file_works_too(client_a, db, chain):
    book = openpyxl.Workbook()
    book.active.append(["Title", "Description", "Work area"])
    book.active.append(["Línea de Excel", "Desde una hoja", "Formación"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = _preview(client_a, chain, "action-lines", buffer.getvalue(), name="lineas.xlsx")
    assert response.status_code == 200, response.text
    rows = BeautifulSoup(response.text, "html.parser").select_one("input[name=rows]")["value"]
    client_a.post(
        f"/chains/{chain.id}/library-import/action-lines/confirm", data={"csrf_token": client_a.csrf, "rows": rows}
    )
    assert _titles(db, ActionLine, chain)[-1] == "Línea de Excel"
    line = db.exec(select(ActionLine).where(ActionLine.title == "Línea de Excel")).one()
    assert line.work_area_id is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "vacío"),
        (b"name,foo\nx,y\n", "title"),
        (b"\xff\xfe\x00t\x00i", "UTF-8"),
        (b"PK\x03\x04garbage", "CSV o XLSX"),
        (b"title\n", "no tiene filas"),
    ],
)
def test_an_unreadable_file_is_refused_with_a_message(client_a, db, chain, content, message):
    response = _preview(client_a, chain, "gaps", content)
    assert response.status_code == 422
    assert re.search(message, response.text)
    assert len(_titles(db, Gap, chain)) == 3
