"""Value chains, segments and the library, through HTTP (full page and htmx fragment)."""

from __future__ import annotations

from bs4 import BeautifulSoup
from sqlmodel import select

from server.models import ActionLine, Gap, Participant, Segment, ValueChain
from server.valuechains.service import segments_of
from tests import factories


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def test_chain_list_shows_only_own_chains(client_a, users, db, htmx):
    factories.chain(db, users.a, name="Café")
    factories.chain(db, users.b, name="Langostino")
    page = soup(client_a.get("/chains", headers=htmx))
    titles = [h.get_text(strip=True) for h in page.select(".cards h2")]
    assert titles == ["Café"]
    assert (page.select_one("header.topbar") is None) == bool(htmx)


def test_create_chain_with_segments(client_a, db):
    response = client_a.post(
        "/chains/new",
        data={
            "name": "Tejidos de camélidos",
            "product": "fibra de alpaca",
            "regions": "Puno, Cusco, Puno",
            "segments": "Criadores\n\nEsquila\nHilandería",
            "csrf_token": client_a.csrf,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    chain = db.exec(select(ValueChain)).one()
    assert chain.regions == ["Puno", "Cusco"]
    assert [s.name for s in segments_of(db, chain)] == ["Criadores", "Esquila", "Hilandería"]


def test_invalid_chain_shows_message_next_to_field_and_saves_nothing(client_a, db, htmx):
    response = client_a.post(
        "/chains/new",
        data={"name": "  ", "product": "x" * 201, "csrf_token": client_a.csrf},
        headers={**htmx, "Accept-Language": "es"},
    )
    assert response.status_code == 422
    page = soup(response)
    assert "obligatorio" in page.select_one("#err-name").get_text()
    assert "200" in page.select_one("#err-product").get_text()
    assert db.exec(select(ValueChain)).all() == []


def test_segments_add_rename_reorder_remove(client_a, users, db):
    chain = factories.chain(db, users.a, segments="Uno\nDos\nTres")
    base = f"/chains/{chain.id}/segments"
    hx = {"HX-Request": "true", "HX-Target": "segments"}
    response = client_a.post(base, data={"name": "Cuatro", "csrf_token": client_a.csrf}, headers=hx)
    assert response.status_code == 200
    assert [li.select_one("input[name=name]")["value"] for li in soup(response).select("#segments li")] == [
        "Uno",
        "Dos",
        "Tres",
        "Cuatro",
    ]

    segs = segments_of(db, chain)
    client_a.post(f"{base}/{segs[3].id}/move/up", data={"csrf_token": client_a.csrf}, headers=hx)
    client_a.post(f"{base}/{segs[0].id}/rename", data={"name": "Primero", "csrf_token": client_a.csrf})
    response = client_a.post(f"{base}/{segs[1].id}/delete", data={"csrf_token": client_a.csrf}, follow_redirects=False)
    assert response.status_code == 303
    db.expunge_all()
    assert [s.name for s in segments_of(db, chain)] == ["Primero", "Cuatro", "Tres"]
    assert [s.position for s in segments_of(db, chain)] == [0, 1, 2]


def test_duplicate_segment_name_is_refused(client_a, users, db):
    chain = factories.chain(db, users.a, segments="Uno\nDos")
    response = client_a.post(
        f"/chains/{chain.id}/segments",
        data={"name": "dos", "csrf_token": client_a.csrf},
        headers={"HX-Request": "true", "HX-Target": "segments", "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "already has a segment" in response.text
    assert len(segments_of(db, chain)) == 2


def test_segment_in_use_is_kept(client_a, users, db):
    chain = factories.chain(db, users.a, segments="Uno\nDos")
    workshop = factories.workshop(db, users.a, chain)
    segment = segments_of(db, chain)[0]
    db.add(Participant(workshop_id=workshop.id, token_hash="x" * 64, segment_id=segment.id))
    db.commit()
    response = client_a.post(
        f"/chains/{chain.id}/segments/{segment.id}/delete",
        data={"csrf_token": client_a.csrf},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "cannot be removed" in response.text
    assert db.get(Segment, segment.id) is not None


def test_library_items_keep_their_identity_and_are_archived_when_used(client_a, users, db, htmx):
    chain = factories.chain(db, users.a, gaps=2, action_lines=0)
    gap1, gap2 = db.exec(select(Gap).order_by(Gap.position)).all()
    factories.workshop(db, users.a, chain, template="diagnosis")  # uses both gaps
    response = client_a.post(
        f"/chains/{chain.id}/library/gaps/{gap1.id}/remove", data={"csrf_token": client_a.csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    db.expunge_all()
    assert db.get(Gap, gap1.id).archived is True
    page = soup(client_a.get(f"/chains/{chain.id}/library/gaps", headers=htmx))
    assert [s.get_text() for s in page.select("#library-items ol li strong")] == [gap2.title]
    assert gap1.title in page.select_one("details.archived").get_text()

    client_a.post(f"/chains/{chain.id}/library/gaps/{gap1.id}/restore", data={"csrf_token": client_a.csrf})
    db.expunge_all()
    assert db.get(Gap, gap1.id).archived is False


def test_unused_library_item_is_deleted(client_a, users, db):
    chain = factories.chain(db, users.a, gaps=0, action_lines=1)
    line = db.exec(select(ActionLine)).one()
    client_a.post(f"/chains/{chain.id}/library/action-lines/{line.id}/remove", data={"csrf_token": client_a.csrf})
    db.expunge_all()
    assert db.get(ActionLine, line.id) is None


def test_add_and_edit_gap_with_mechanisms(client_a, users, db):
    chain = factories.chain(db, users.a, gaps=0, action_lines=0)
    response = client_a.post(
        f"/chains/{chain.id}/library/gaps",
        data={
            "title": "Cuellos de botella",
            "description": "Entre segmentos",
            "mechanisms": "Mesas\n\nClúster",
            "csrf_token": client_a.csrf,
        },
        headers={"HX-Request": "true", "HX-Target": "library-items"},
    )
    assert response.status_code == 200
    gap = db.exec(select(Gap)).one()
    assert gap.mechanisms == ["Mesas", "Clúster"]
    response = client_a.post(
        f"/chains/{chain.id}/library/gaps/{gap.id}/edit", data={"title": "", "csrf_token": client_a.csrf}
    )
    assert response.status_code == 422
    db.expunge_all()
    assert db.get(Gap, gap.id).title == "Cuellos de botella"


def test_action_line_work_area_must_exist(client_a, users, db):
    chain = factories.chain(db, users.a, gaps=0, action_lines=0)
    response = client_a.post(
        f"/chains/{chain.id}/library/action-lines",
        data={"title": "Mesa técnica", "work_area_id": "9999", "csrf_token": client_a.csrf},
    )
    assert response.status_code == 422
    assert db.exec(select(ActionLine)).all() == []


def test_user_text_is_escaped(client_a, users, db):
    chain = factories.chain(db, users.a, name="<script>alert(1)</script>")
    response = client_a.get(f"/chains/{chain.id}")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text
