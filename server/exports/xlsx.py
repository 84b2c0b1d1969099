"""The XLSX workbook: one sheet per table, written row by row (XlsxWriter's constant-memory
mode: a million answers never sit in memory), frozen header row, column widths, number and
date formats. Every string goes through ``cells.neutral`` and is written as a string, never
as a formula, a number or a link.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import _datetime_to_excel_datetime, xl_col_to_name

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


# Rows are written straight into the worksheet's row file (XlsxWriter's constant-memory file),
# in the XML XlsxWriter itself writes for a cell: a tenth of the time of its ``write_*``
# (a million answers are some eight million cells). XlsxWriter still writes everything else
# (the header, the sheet around the rows, styles, the package) and closes the book.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_BLANK_EDGE = re.compile(r"^\s|\s$")


def _text(value: str) -> str:
    """A string cell's XML: neutralized, control characters as Excel's _xHHHH_, escaped
    (always: XlsxWriter would write a text shaped like "<r>…</r>" as raw XML)."""
    value = neutral(value)
    if "_x" in value:
        value = _ESCAPED.sub(r"_x005F\1", value)
    value = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if _BLANK_EDGE.search(value) else ""
    return f"<is><t{space}>{value}</t></is>"


def _write_table(book, table: ExportTable, formats, progress) -> None:
    part = 1
    sheet = _sheet(book, table, part, formats)
    styles = []
    for column in table.columns:
        fmt = formats["wrap"] if table.key in ("readme", "codebook") else formats.get(column.type)
        styles.append(f' s="{fmt._get_xf_index()}"' if fmt is not None else "")
    date_style = f' s="{formats[DATETIME]._get_xf_index()}"'
    day_style = f' s="{formats[DATE]._get_xf_index()}"'
    letters = [xl_col_to_name(i) for i in range(len(table.columns))]
    cells = list(zip(letters, styles, strict=True))
    date_1904 = book.date_1904

    def begin(sheet):
        sheet._write_single_row(1)  # the header row out; the rows below go straight to the file
        return sheet.fh

    out, row_number, last = begin(sheet), 0, 0
    for row in table.rows():
        row_number += 1
        if row_number == MAX_ROWS:
            _end(sheet, last, len(cells))
            part += 1
            sheet = _sheet(book, table, part, formats)
            out, row_number = begin(sheet), 1
        r = row_number + 1
        xml = [f'<row r="{r}">']
        for (letter, style), value in zip(cells, row, strict=False):
            if value is None or value == "":
                continue
            kind = type(value)
            if kind is str:
                xml.append(f'<c r="{letter}{r}"{style} t="inlineStr">{_text(value)}</c>')
            elif kind is int or kind is float:  # repr: every digit of a float
                xml.append(f'<c r="{letter}{r}"{style}><v>{value!r}</v></c>')
            elif kind is bool:
                xml.append(f'<c r="{letter}{r}"{style} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, dt.datetime):
                serial = _datetime_to_excel_datetime(value, date_1904, True)
                xml.append(f'<c r="{letter}{r}"{date_style}><v>{serial:.16G}</v></c>')
            elif isinstance(value, dt.date):
                serial = _datetime_to_excel_datetime(value, date_1904, True)
                xml.append(f'<c r="{letter}{r}"{day_style}><v>{serial:.16G}</v></c>')
            else:
                xml.append(f'<c r="{letter}{r}"{style} t="inlineStr">{_text(str(value))}</c>')
        xml.append("</row>")
        out.write("".join(xml))
        last = row_number
        if progress is not None and row_number % 50_000 == 0:
            progress(table.key, row_number)
    _end(sheet, last, len(cells))


def _end(sheet, last_row: int, columns: int) -> None:
    """Tell XlsxWriter how far the rows written straight to its file reach."""
    if last_row:
        sheet.dim_rowmax = max(sheet.dim_rowmax or 0, last_row)
        sheet.dim_colmax = max(sheet.dim_colmax or 0, columns - 1)
    sheet.previous_row = last_row + 1
