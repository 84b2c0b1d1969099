"""The PDF report: A4, in the workshop's language, the ranking's headline and its method,
the attendance summary, names only when asked for, signatures and the data's hash."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess

import pytest

from server.exports import pdf
from tests.exports import world as export_world

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs poppler-utils (scripts/test installs it)"
)


@pytest.fixture
def world(db, users):
    return export_world.build(db, users)


def _text(content: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "595.276 x 841.89" in info  # A4
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_acta_holds_the_ranking_headline_and_its_method(client_a, world, tmp_path):
    assert pdf.available()
    ranking = world.agenda[2]
    api = client_a.get(f"/api/workshops/{world.workshop.id}/activities/{ranking.id}/results").json()
    placements = api["ranking"]["methods"]["schulze"]["placements"]
    first = next(item["title"] for item in api["items"] if item["id"] == placements[0]["item"])
    response = client_a.get(f"/workshops/{world.workshop.id}/export/pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = _text(response.content, tmp_path)
    assert "ACTA DEL TALLER" in text and world.workshop.title in text  # Spanish, the workshop's language
    assert "Schulze:" in text and first in text  # the headline method, explained, and the first line
    assert "Asistencia" in text and "Sector público" in text
    assert "Firmas" in text
    assert response.headers["x-export-sha256"]
    digest = re.search(r"\b[0-9a-f]{64}\b", text).group(0)
    again = _text(client_a.get(f"/workshops/{world.workshop.id}/export/pdf").content, tmp_path)
    assert digest in again  # the same data, the same hash
    # ... which is the full-data JSON's, computed as docs/exports.md says
    data = client_a.get(f"/workshops/{world.workshop.id}/export/json").json()
    data.pop("exported_at"), data.pop("exported_by")
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode()).hexdigest() == digest
    assert "Persona 1" not in text  # names only when asked for
    named = _text(client_a.get(f"/workshops/{world.workshop.id}/export/pdf?names=1").content, tmp_path)
    assert "Persona 1" in named


def test_the_chain_report_covers_every_workshop(client_a, world, tmp_path):
    text = _text(client_a.get(f"/chains/{world.chain.id}/export/pdf").content, tmp_path)
    assert world.workshop.title in text and world.other.title in text
    assert "Bradley" in text  # the pairwise workshop's headline
    assert world.foreign.title not in text


def test_without_pango_the_page_says_so(client_a, world, monkeypatch):
    def missing():
        raise pdf.PdfUnavailable("no pango")

    monkeypatch.setattr(pdf, "_weasyprint", missing)
    response = client_a.get(f"/workshops/{world.workshop.id}/export/pdf")
    assert response.status_code == 503
    assert "Pango" in response.text
