"""The open-data package: a Frictionless Data Package that `frictionless validate` accepts,
with no attendance names, no raw answers, and no cell resting on fewer than k participants."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.exports import world as export_world

K = 5


@pytest.fixture
def world(db, users):
    return export_world.build(db, users)


def _unpack(response, folder: Path) -> dict:
    assert response.status_code == 200, response.text[:300]
    zipfile.ZipFile(io.BytesIO(response.content)).extractall(folder)
    return json.loads((folder / "datapackage.json").read_text())


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("scope", ["workshop", "chain"])
def test_frictionless_validates_the_package(client_a, world, tmp_path, scope):
    subject = world.workshop.id if scope == "workshop" else world.chain.id
    package = _unpack(client_a.get(f"/{scope}s/{subject}/export/opendata"), tmp_path)
    assert package["licenses"] and package["description"]
    assert all(r["schema"]["fields"] for r in package["resources"])
    tool = shutil.which("frictionless") or str(Path(sys.executable).parent / "frictionless")
    result = subprocess.run(
        [tool, "validate", "--json", str(tmp_path / "datapackage.json")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["valid"], json.dumps(report, indent=1)[:3000]


def test_no_names_no_raw_answers_nothing_under_k(client_a, db, world, tmp_path):
    package = _unpack(client_a.get(f"/workshops/{world.workshop.id}/export/opendata"), tmp_path)
    names = {r["name"] for r in package["resources"]}
    assert "attendance" not in names and not [n for n in names if n.startswith("raw_")]
    assert "attendance_summary" in names and "action_lines" in names
    text = "".join(p.read_text() for p in (tmp_path / "data").glob("*.csv"))
    for person in world.participants:
        assert person.name not in text
    assert "p-" not in text  # no pseudonyms either
    counts = {
        r["name"]: [f["name"] for f in r["schema"]["fields"] if f["type"] == "integer"] for r in package["resources"]
    }
    summary = _rows(tmp_path / "data" / "attendance_summary.csv")
    assert summary and all(row["participants"] == "" or int(row["participants"]) >= K for row in summary)
    assert any(row["participants"] == "" for row in summary)  # 12 people over 2 groups x 3 segments
    rating = world.agenda[0]
    for row in _rows(tmp_path / "data" / f"activity_{rating.id}.csv"):
        for column in ("answers", "segment_answers", "dot_voters", *(f"seriousness_{v}" for v in range(1, 6))):
            assert row[column] == "" or int(row[column]) >= K, (column, row)
        if row["answers"] == "":
            assert row["mean_seriousness"] == ""
    assert counts  # every resource has its schema
