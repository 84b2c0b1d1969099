"""The workbook writer's own cells: whatever text a person typed comes back as the same
text (formulas made harmless), numbers as numbers, dates as dates; a table longer than a
sheet goes on in the next one."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from server.activities.tables import DATETIME, INTEGER, NUMBER, STRING, Column, ExportTable
from server.exports import xlsx
from server.exports.cells import neutral

TRICKY = ["<r><t>x</t></r>", "_x0041_", "  spaces  ", "a & b < c > d", "tab\there", "\x01\x02", "ñandú ü 你好", "=1+1"]


def _book(tmp_path, rows, columns):
    table = ExportTable("t", "T", "", columns, rows=lambda: iter(rows))
    path = tmp_path / "t.xlsx"
    xlsx.write_xlsx(SimpleNamespace(tables=[table]), path)
    return openpyxl.load_workbook(path)


def _excel_text(value: str) -> str:
    """What openpyxl reads back: Excel's _xHHHH_ escapes are for control characters."""
    return neutral(value)


def test_tricky_text_numbers_and_dates_come_back(tmp_path):
    when = dt.datetime(2026, 12, 1, 14, 30, tzinfo=dt.UTC)
    rows = [(text, i, i / 3, when) for i, text in enumerate(TRICKY)]
    columns = (Column("text"), Column("n", INTEGER), Column("x", NUMBER), Column("at", DATETIME))
    sheet = _book(tmp_path, rows, columns).active
    got = list(sheet.iter_rows(min_row=2, values_only=True))
    for (text, n, x, at), (t, n2, x2, at2) in zip(rows, got, strict=True):
        if text == "\x01\x02":  # Excel's escapes, which openpyxl leaves as they are
            assert t in ("_x0001__x0002_", "\x01\x02")
        elif text == "_x0041_":  # a text that looks like an escape is escaped itself
            assert t in ("_x005F_x0041_", "_x0041_")
        else:
            assert t == _excel_text(text)
        assert (n2, x2) == (n, x) and at2 == at.replace(tzinfo=None)
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=32), max_size=40), max_size=8)
)
def test_any_printable_text_comes_back(tmp_path_factory, texts):
    tmp_path = tmp_path_factory.mktemp("x")
    sheet = _book(tmp_path, [(t,) for t in texts], (Column("text", STRING),)).active
    got = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    expected = [neutral(t) for t in texts]
    # empty texts are no cell; openpyxl gives None for them, and drops trailing empty rows
    assert [g or "" for g in got] == [e for e in expected][: len(got)]
    assert all(e == "" for e in expected[len(got) :])


def test_a_long_table_goes_on_in_the_next_sheet(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 5)
    book = _book(tmp_path, [(i,) for i in range(10)], (Column("n", INTEGER),))
    assert book.sheetnames == ["T", "T (2)", "T (3)"]
    values = [row[0] for sheet in book.worksheets for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == list(range(10))
