"""Import of gaps or action lines into a chain's library from a CSV or XLSX file.

The file is read into rows (``read_rows``), each row checked as the library's own form
checks an item (``library.check_item``), plus what only a file can get wrong (the same
title twice, more items than a library holds). ``check_rows`` gives one error per bad
row; ``do_import_rows`` writes the rows only when every one is valid, all in the
request's transaction: nothing is written until the whole file is valid.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
import zipfile
from dataclasses import dataclass, field

from sqlmodel import Session, select

from server.errors import Invalid
from server.exports.service import log_entry
from server.i18n import N_, Message
from server.models import User, ValueChain, WorkArea
from server.valuechains import library
from server.valuechains.library import GAPS, LibraryKind

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = library.MAX_ITEMS

# Accepted headers (lower case, accents removed), English and Spanish.
HEADERS = {
    "title": "title",
    "titulo": "title",
    "description": "description",
    "descripcion": "description",
    "mechanisms": "mechanisms",
    "mecanismos": "mechanisms",
    "work_area": "work_area",
    "work area": "work_area",
    "area de trabajo": "work_area",
    "area": "work_area",
}


@dataclass
class Row:
    number: int  # in the file, counting the header as row 1
    data: dict
    errors: list = field(default_factory=list)  # Messages


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.strip().lower()) if not unicodedata.combining(c))


def _refused(message: str, **params) -> Invalid:
    return Invalid({"file": Message(message, **params)})


def read_rows(filename: str, content: bytes) -> list[Row]:
    """The file's rows as dicts keyed by the known headers; Invalid when unreadable."""
    if len(content) > MAX_BYTES:
        raise _refused(N_("The file is larger than %(n)s MB."), n=MAX_BYTES // 2**20)
    if not content.strip():
        raise _refused(N_("The file is empty."))
    table = _xlsx(content) if content[:2] == b"PK" or filename.lower().endswith(".xlsx") else _csv(content)
    if not table:
        raise _refused(N_("The file is empty."))
    header = [HEADERS.get(_plain(str(h or ""))) for h in table[0]]
    if "title" not in header:
        raise _refused(N_("The first row must name the columns, with a column “title”."))
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        data = {
            name: str(value).strip() for name, value in zip(header, cells, strict=False) if name and value is not None
        }
        if any(data.values()):
            rows.append(Row(number, data))
    if len(rows) > MAX_ROWS:
        raise _refused(N_("At most %(n)s rows in one file."), n=MAX_ROWS)
    if not rows:
        raise _refused(N_("The file has no rows below its header."))
    return rows


def _csv(content: bytes) -> list[list]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refused(N_("Save the CSV file as UTF-8 and try again.")) from None
    # The header's most frequent separator: comma, or semicolon (spreadsheets in Spanish), or tab.
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    try:
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        raise _refused(N_("This is not a CSV or XLSX file Minka can read.")) from None


def _xlsx(content: bytes) -> list[list]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise _refused(N_("This is not a CSV or XLSX file Minka can read.")) from None
    try:
        sheet = book.worksheets[0]
        return [list(row) for _, row in zip(range(MAX_ROWS + 2), sheet.iter_rows(values_only=True), strict=False)]
    finally:
        book.close()


def _work_areas(session: Session) -> dict[str, int]:
    areas = {}
    for area in session.exec(select(WorkArea)):
        for name in (area.key, area.name_es, area.name_en):
            areas[_plain(name)] = area.id
    return areas


def check_rows(session: Session, chain: ValueChain, kind: LibraryKind, rows: list[Row]) -> list[Row]:
    """Each row checked as the library's form would, plus the file's own mistakes. Returns
    the rows, each with its ``errors`` (none when valid) and its data ready to add."""
    areas = _work_areas(session)
    seen: dict[str, int] = {}
    room = library.MAX_ITEMS - len(library.items_of(session, chain, kind))
    for row in rows:
        data = dict(row.data)
        if kind is GAPS:
            data["mechanisms"] = "\n".join(m.strip() for m in data.get("mechanisms", "").replace(";", "\n").split("\n"))
        else:
            area = data.pop("work_area", "")
            if area:
                if _plain(area) in areas:
                    data["work_area_id"] = str(areas[_plain(area)])
                else:
                    row.errors.append(Message(N_("Work area “%(name)s” does not exist."), name=area))
        try:
            library.check_item(session, chain, kind, data)
        except Invalid as exc:
            row.errors += list(exc.errors.values())
        title = _plain(data.get("title", ""))
        if title and title in seen:
            row.errors.append(Message(N_("Same title as row %(n)s."), n=seen[title]))
        seen.setdefault(title, row.number)
        row.data = data
    if len(rows) > room:
        rows[-1].errors.append(Message(N_("The library would hold more than %(n)s items."), n=library.MAX_ITEMS))
    return rows


def posted_rows(text: str) -> list[Row]:
    """The previewed rows as the confirmation form sends them back (JSON); Invalid when
    there are none, too many, or they are not rows."""
    try:
        posted = json.loads(text or "[]")
        rows = [Row(int(r["number"]), {str(k): str(v) for k, v in r["data"].items()}) for r in posted]
    except (ValueError, TypeError, KeyError, AttributeError):
        rows = []
    if not rows or len(rows) > MAX_ROWS:
        raise Invalid({"file": Message(N_("Choose a CSV or XLSX file."))})
    return rows


def do_import_rows(session: Session, user: User, chain: ValueChain, kind: LibraryKind, rows: list[Row]) -> int:
    """Add every row, or none: Invalid (nothing written) if any row is bad. The import is
    logged with the exports (who, what, when)."""
    checked = check_rows(session, chain, kind, rows)
    if any(r.errors for r in checked):
        raise Invalid({"file": Message(N_("Some rows have errors: nothing was imported."))})
    for row in checked:
        library.do_add_item(session, chain, kind, row.data)
    session.add(log_entry(user, "chain", chain.id, chain.name, "import", f"{len(checked)} {kind.slug}"[:64]))
    return len(checked)
