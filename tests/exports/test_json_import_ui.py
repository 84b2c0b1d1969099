"""Administration › Import full data (JSON): a file checked and summed up first (a bad one
says why and writes nothing), imported as a new chain when the admin confirms; admins
only, CSRF on every form, a size limit."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func
from sqlmodel import select

from server.exports import json_import
from server.models import ExportLog, Gap, ValueChain, Workshop
from tests.exports import world as export_world


@pytest.fixture(autouse=True)
def _in_english(client_admin, client_a):
    client_admin.headers["Accept-Language"] = client_a.headers["Accept-Language"] = "en"


@pytest.fixture
def exported(client_a, db, users) -> bytes:
    world = export_world.build(db, users)
    return client_a.get(f"/workshops/{world.workshop.id}/export/json").content


def _chains(db) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(ValueChain)).one()


def _preview(client, content: bytes, owner, name: str = "taller.json"):
    return client.post(
        "/admin/import",
        data={"csrf_token": client.csrf, "owner": str(owner)},
        files={"file": (name, content, "application/json")},
    )


def test_an_admin_previews_then_imports_a_workshop(client_admin, db, users, exported):
    before = _chains(db)
    preview = _preview(client_admin, exported, users.b.id)
    assert preview.status_code == 200
    assert "data-import-preview" in preview.text and "Café" in preview.text
    doc = json.loads(exported)
    assert doc["workshops"][0]["title"] in preview.text
    assert _chains(db) == before  # a preview writes nothing
    token = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)
    done = client_admin.post(
        "/admin/import/confirm", data={"csrf_token": client_admin.csrf, "token": token}, follow_redirects=False
    )
    assert done.status_code == 303
    chain_id = int(re.search(r"/chains/(\d+)$", done.headers["location"]).group(1))
    db.expire_all()
    chain = db.get(ValueChain, chain_id)
    assert chain.owner_id == users.b.id and chain.name == doc["chain"]["name"]
    assert (
        db.exec(select(Workshop).where(Workshop.value_chain_id == chain_id)).one().title == doc["workshops"][0]["title"]
    )
    entry = db.exec(select(ExportLog).where(ExportLog.product == "import-json")).one()
    assert entry.subject_id == chain_id and entry.user_email == "admin@example.org"
    again = client_admin.post("/admin/import/confirm", data={"csrf_token": client_admin.csrf, "token": token})
    assert again.status_code == 422 and _chains(db) == before + 1  # a token imports once


def _nested(depth: int) -> bytes:
    return ('{"format": "minka-export", "version": 2, "x": ' + "[" * depth + "]" * depth + "}").encode()


def _spoiled(exported: bytes, change) -> bytes:
    doc = json.loads(exported)
    change(doc)
    return json.dumps(doc).encode()


BAD = {
    "not JSON": (lambda e: b"\x89PNG not json", "This file is not JSON."),
    "empty": (lambda e: b"   ", "Choose a full-data JSON file exported from Minka."),
    "another format": (lambda e: b'{"format": "other"}', "This is not a Minka full-data export (JSON)."),
    "a newer version": (
        lambda e: _spoiled(e, lambda d: d.update(version=99)),
        "This export has format version 99; this installation reads versions 1, 2.",
    ),
    "deep nesting": (lambda e: _nested(200), "This file nests deeper than a Minka export does."),
    "very deep nesting": (lambda e: _nested(100_000), "This file nests deeper than a Minka export does."),
    "a missing reference": (
        lambda e: _spoiled(e, lambda d: d["workshops"][0]["activities"][0]["items"].append(10**9)),
        "This is not a Minka export this installation can read",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_file_says_why_and_writes_nothing(client_admin, db, users, exported, case):
    make, message = BAD[case]
    before, gaps = _chains(db), db.exec(select(func.count()).select_from(Gap)).one()
    answer = _preview(client_admin, make(exported), users.admin.id)
    assert answer.status_code == 422
    assert message in answer.text.replace("&#39;", "'")
    assert "data-import-preview" not in answer.text
    assert _chains(db) == before and db.exec(select(func.count()).select_from(Gap)).one() == gaps


def test_a_file_over_the_limit_is_refused(client_admin, db, users, exported, monkeypatch):
    monkeypatch.setattr(json_import, "MAX_BYTES", len(exported) - 1)
    before = _chains(db)
    answer = _preview(client_admin, exported, users.admin.id)
    assert answer.status_code == 422 and "The file is larger than" in answer.text and _chains(db) == before


def test_the_forms_need_their_csrf_token(client_admin, db, users, exported):
    before = _chains(db)
    no_token = client_admin.post(
        "/admin/import", data={"owner": str(users.admin.id)}, files={"file": ("t.json", exported, "application/json")}
    )
    assert no_token.status_code == 403 and _chains(db) == before
    preview = _preview(client_admin, exported, users.admin.id)
    token = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)
    assert client_admin.post("/admin/import/confirm", data={"token": token}).status_code == 403
    assert _chains(db) == before


def test_a_facilitator_may_not_import_nor_use_an_admins_preview(client_a, client_admin, db, users, exported):
    assert client_a.get("/admin/import").status_code == 403
    assert _preview(client_a, exported, users.a.id).status_code == 403
    preview = _preview(client_admin, exported, users.admin.id)
    token = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)
    refused = client_a.post("/admin/import/confirm", data={"csrf_token": client_a.csrf, "token": token})
    assert refused.status_code == 403 and _chains(db) == _chains(db)


def test_another_admins_preview_is_not_found(app, client_admin, db, users, exported):
    from fastapi.testclient import TestClient

    from tests import factories
    from tests.conftest import login

    preview = _preview(client_admin, exported, users.admin.id)
    token = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)
    other = factories.user(db, "admin2@example.org", "Admin 2", admin=True)
    db.commit()
    before = _chains(db)
    with TestClient(app) as c:
        c.headers["Accept-Language"] = "en"
        csrf = login(c, other.email)
        answer = c.post("/admin/import/confirm", data={"csrf_token": csrf, "token": token})
    assert answer.status_code == 422 and "expired" in answer.text and _chains(db) == before
