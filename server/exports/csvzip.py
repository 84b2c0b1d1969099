"""CSV: a zip of the same tables as the workbook, one UTF-8 file per table (with a byte
order mark, so that spreadsheet programs read the accents right), the codebook among them.
Every string goes through ``cells.neutral``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from server.exports.cells import neutral
from server.exports.gather import Export


def text_cell(value) -> str:
    """One cell as CSV text: empty for None, ISO 8601 for dates, strings neutralized."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return neutral(value)
    return str(value)


# The common types' conversions, looked up by type (a million rows: no chain of isinstance).
_FAST = {type(None): lambda _v: "", int: int.__repr__, float: float.__repr__, str: neutral}


def write_rows(out: io.TextIOBase, header: Sequence[str], rows: Iterable[Sequence], cell=text_cell) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutral(h) for h in header])
    fast, n = _FAST.get, 0
    for row in rows:
        writer.writerow([fast(type(v), cell)(v) for v in row])
        n += 1
    return n


def write_csv_zip(export: Export, path: Path, progress=None) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for table in export.tables:
            with (
                archive.open(f"{table.key}.csv", "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as out,
            ):
                write_rows(out, [c.name for c in table.columns], table.rows())
            if progress is not None:
                progress(table.key, None)
