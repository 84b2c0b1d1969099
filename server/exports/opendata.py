"""Open data: a Frictionless Data Package (a zip of ``datapackage.json`` and one CSV per
resource), which ``frictionless validate`` accepts.

Only tables marked ``open_data`` go in: results as shown (no figure resting on fewer than
k answers), action lines, attendance counts by group and segment, the codebook. Never the
attendance list (names) nor the raw answers (each row rests on one participant); and every
count of participants or answers under k is left empty (``Column.count``), so no cell rests
on fewer than k participants.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

from server.activities.tables import ExportTable
from server.exports.csvzip import text_cell, write_rows
from server.exports.gather import FORMAT_VERSION, Export

LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}


def _name(text: str) -> str:
    """A data package name: lower case letters, digits, '-', '_', '.'."""
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-") or "minka"


def _suppress(table: ExportTable, k: int):
    counts = [i for i, c in enumerate(table.columns) if c.count]

    def rows():
        for row in table.rows():
            if counts:
                row = list(row)
                for i in counts:
                    if isinstance(row[i], int) and row[i] < k:
                        row[i] = None
            yield row

    return rows


def open_tables(export: Export) -> list[ExportTable]:
    return [t for t in export.tables if t.open_data]


def descriptor(export: Export, tables: list[ExportTable], t) -> dict:
    scope = export.scope
    subject = scope.chain.name if scope.whole_chain else scope.workshops[0].title
    return {
        "profile": "tabular-data-package",
        "name": _name(f"minka-{scope.what}-{scope.subject_id}-{subject}"),
        "title": subject,
        "description": t(
            "Results of %(subject)s (value chain %(chain)s), exported from Minka. No figure rests on fewer than "
            "%(k)s participants; no names. Format version %(v)s.",
            subject=subject,
            chain=scope.chain.name,
            k=export.min_group_size,
            v=FORMAT_VERSION,
        ),
        "created": scope.made_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "licenses": [LICENSE],
        "keywords": ["minka", "value chain", scope.chain.product or scope.chain.name],
        "resources": [
            {
                "name": table.key,
                "path": f"data/{table.key}.csv",
                "profile": "tabular-data-resource",
                "title": table.title,
                "description": table.description,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [{"name": c.name, "type": c.type, "description": c.description} for c in table.columns],
                    "missingValues": [""],
                },
            }
            for table in tables
        ],
    }


def write_open_data(export: Export, path: Path, gettext) -> None:
    tables = open_tables(export)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "datapackage.json", json.dumps(descriptor(export, tables, gettext), ensure_ascii=False, indent=2)
        )
        for table in tables:
            with (
                archive.open(f"data/{table.key}.csv", "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as out,
            ):
                write_rows(out, [c.name for c in table.columns], _suppress(table, export.min_group_size)(), text_cell)
