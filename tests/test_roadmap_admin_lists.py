"""Admins edit the installation's roadmap phases and funding sources like the other
reference lists; a phase an item is in cannot be deleted (deactivated instead, and then
no longer offered, while the item keeps it)."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from sqlalchemy import select

from server.activities.roadmap.actors import as_facilitator
from server.activities.roadmap.items import create_item
from server.defaults import ensure_reference_lists
from server.models import FundingSource, RoadmapPhase
from tests import factories


def test_admins_add_rename_deactivate_and_delete_phases_and_funding_sources(client_admin, client_a, db, users):
    ensure_reference_lists(db)
    db.commit()
    post = {"csrf_token": client_admin.csrf}
    client_admin.headers["Accept-Language"] = "en"
    page = client_admin.get("/admin/phases")
    assert page.status_code == 200 and "Competitiveness assessment" in page.text
    assert client_admin.get("/admin/funding-sources").text.count("Procompite") >= 1
    added = client_admin.post(
        "/admin/phases",
        data={**post, "key": "consolidation", "name_es": "Consolidación", "name_en": "Consolidation"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    phase = db.exec(select(RoadmapPhase).where(RoadmapPhase.key == "consolidation")).scalars().one()
    # A phase an item is in: deleting it is refused with a message, deactivating works.
    chain = factories.chain(db, users.a)
    create_item(db, as_facilitator(db, users.a, chain.id), {"title": "Plan", "phase": "consolidation"})
    db.commit()
    refused = client_admin.post(f"/admin/phases/{phase.id}/delete", data=post)
    assert refused.status_code == 422 and "Roadmap items are in this phase" in refused.text
    client_admin.post(f"/admin/phases/{phase.id}/deactivate", data=post)
    db.expunge_all()
    assert db.get(RoadmapPhase, phase.id).active is False
    new_form = BeautifulSoup(client_a.get(f"/chains/{chain.id}/roadmap/new").text, "html.parser")
    offered = [o["value"] for o in new_form.find(id="f-phase").find_all("option")]
    assert "consolidation" not in offered and "assessment" in offered
    # A funding source is free text on the item: deleting one from the list is fine.
    source = db.exec(select(FundingSource).where(FundingSource.key == "pac")).scalars().one()
    client_admin.post(
        f"/admin/funding-sources/{source.id}/edit", data={**post, "name_es": "PAC (Produce)", "name_en": "PAC"}
    )
    db.expunge_all()
    assert db.get(FundingSource, source.id).name_es == "PAC (Produce)"
    assert client_admin.post(f"/admin/funding-sources/{source.id}/delete", data=post).status_code == 200
    db.expunge_all()
    assert db.get(FundingSource, source.id) is None
    bad = client_admin.post("/admin/funding-sources", data={**post, "key": "Bad Key", "name_es": "x", "name_en": "y"})
    assert bad.status_code == 422 and re.search("lowercase letters", bad.text)


def test_facilitators_may_not_edit_the_lists(client_a, db):
    ensure_reference_lists(db)
    db.commit()
    assert client_a.get("/admin/phases").status_code == 403
    response = client_a.post(
        "/admin/funding-sources", data={"csrf_token": client_a.csrf, "key": "x", "name_es": "x", "name_en": "x"}
    )
    assert response.status_code == 403
    assert db.exec(select(FundingSource).where(FundingSource.key == "x")).first() is None
