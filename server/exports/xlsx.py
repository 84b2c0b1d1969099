"""The XLSX workbook: one sheet per table, written row by row (XlsxWriter's constant-memory
mode: a million answers never sit in memory), frozen header row, column widths, number and
date formats. Every string goes through ``cells.neutral`` and is written as a string, never
as a formula, a number or a link.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from server.activities.tables import BOOLEAN, DATE, DATETIME, INTEGER, NUMBER, ExportTable
from server.exports.cells import neutral
from server.exports.gather import SHEET_NAME_MAX, Export

MAX_ROWS = 1_048_576  # a worksheet's rows; a longer table goes on in the next sheet
WIDTHS = {INTEGER: 10, NUMBER: 12, DATE: 12, DATETIME: 20, BOOLEAN: 8}
TEXT_WIDTH, WIDE_TEXT = 28, 90


def write_xlsx(export: Export, path: Path, tmpdir: Path | None = None, progress=None) -> None:
    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "remove_timezone": True,
            "tmpdir": str(tmpdir) if tmpdir else None,
        },
    )
    book.set_properties({"title": export.tables[0].title, "author": "Minka", "comments": "Minka export"})
    formats = {
        "header": book.add_format(
            {"bold": True, "bg_color": "#E7EEF5", "bottom": 1, "text_wrap": True, "valign": "top"}
        ),
        INTEGER: book.add_format({"num_format": "0"}),
        NUMBER: book.add_format({"num_format": "0.00"}),
        DATE: book.add_format({"num_format": "yyyy-mm-dd"}),
        DATETIME: book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
    }
    try:
        for table in export.tables:
            _write_table(book, table, formats, progress)
    finally:
        book.close()


def _sheet(book, table: ExportTable, part: int, formats):
    name = table.title if part == 1 else f"{table.title[: SHEET_NAME_MAX - 5]} ({part})"
    sheet = book.add_worksheet(name)
    sheet.freeze_panes(1, 0)
    wide = table.key in ("readme", "codebook")
    for i, column in enumerate(table.columns):
        width = WIDTHS.get(column.type, TEXT_WIDTH)
        if wide and i == len(table.columns) - 1:
            width = WIDE_TEXT
        width = max(width, min(len(column.name) + 2, 40))
        sheet.set_column(i, i, width, formats["wrap"] if wide else formats.get(column.type))
    for i, column in enumerate(table.columns):
        sheet.write_string(0, i, column.name, formats["header"])
    return sheet


def _write_table(book, table: ExportTable, formats, progress) -> None:
    part = 1
    sheet = _sheet(book, table, part, formats)
    types = [c.type for c in table.columns]
    row_number = 0
    for row in table.rows():
        row_number += 1
        if row_number == MAX_ROWS:
            part += 1
            sheet, row_number = _sheet(book, table, part, formats), 1
        for i, value in enumerate(row):
            if value is None or value == "":  # an empty cell is no cell (a million rows: time)
                continue
            if isinstance(value, str):
                sheet.write_string(row_number, i, neutral(value))
            elif isinstance(value, bool):
                sheet.write_boolean(row_number, i, value)
            elif isinstance(value, int | float):
                sheet.write_number(row_number, i, value, formats.get(types[i]))
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(row_number, i, value, formats[DATETIME])
            elif isinstance(value, dt.date):
                sheet.write_datetime(row_number, i, value, formats[DATE])
            else:
                sheet.write_string(row_number, i, neutral(str(value)))
        if progress is not None and row_number % 50_000 == 0:
            progress(table.key, row_number)
