"""Workshops: creation from method templates, join code and QR, agenda editing."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from sqlmodel import select

from server.models import Activity, ActivityStatus, Workshop
from server.workshops.service import activity_items, agenda_of
from tests import factories


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def create(client, chain_id, **fields):
    data = {
        "title": "Taller en Quillabamba",
        "date": "2026-12-03",
        "language": "es",
        "attendance": "full",
        "region": "Cusco",
        "town": "Quillabamba",
        "template": "diagnosis",
        "csrf_token": client.csrf,
        **fields,
    }
    return client.post(f"/chains/{chain_id}/workshops/new", data=data, follow_redirects=False)


def test_create_from_diagnosis_template_fills_the_agenda_with_the_library(client_a, users, db):
    chain = factories.chain(db, users.a, gaps=4)
    response = create(client_a, chain.id)
    assert response.status_code == 303
    workshop = db.exec(select(Workshop)).one()
    assert re.fullmatch(r"[1-9]\d{5}", workshop.join_code)
    (activity,) = agenda_of(db, workshop)
    assert activity.kind == "gap_rating" and activity.settings["mode"] == "rating"
    assert [g.title for g in activity_items(db, activity)] == ["Brecha 1", "Brecha 2", "Brecha 3", "Brecha 4"]
    assert activity.title == "¿Qué tan grave es cada brecha?"


def test_templates_name_activities_in_the_workshop_language(client_a, users, db):
    chain = factories.chain(db, users.a)
    create(client_a, chain.id, language="en", template="roadmap")
    workshop = db.exec(select(Workshop)).one()
    assert [a.kind for a in agenda_of(db, workshop)] == ["ranking", "roadmap"]
    assert agenda_of(db, workshop)[0].title == "Pick and order the top 3 action lines"


def test_workshop_page_shows_code_and_qr(client_a, users, db, htmx):
    chain = factories.chain(db, users.a)
    workshop = factories.workshop(db, users.a, chain)
    page = soup(client_a.get(f"/workshops/{workshop.id}", headers=htmx))
    assert page.select_one(".join-code")["data-code"] == workshop.join_code
    assert page.select_one("img.qr")["src"].endswith(f"/workshops/{workshop.id}/qr.svg")
    assert f"/join/{workshop.join_code}" in page.select_one(".join-url").get_text()
    assert len(page.select("#agenda li.activity")) == 2
    qr = client_a.get(f"/workshops/{workshop.id}/qr.svg")
    assert qr.headers["content-type"] == "image/svg+xml" and qr.text.startswith("<svg")


def test_join_codes_are_unique(client_a, users, db):
    chain = factories.chain(db, users.a)
    for n in range(30):
        factories.workshop(db, users.a, chain, title=f"T{n}")
    found = db.exec(select(Workshop.join_code)).all()
    assert len(set(found)) == 30


def test_invalid_workshop_changes_nothing(client_a, users, db, htmx):
    chain = factories.chain(db, users.a)
    response = client_a.post(
        f"/chains/{chain.id}/workshops/new",
        data={
            "title": "",
            "date": "mañana",
            "language": "fr",
            "attendance": "all",
            "template": "magic",
            "csrf_token": client_a.csrf,
        },
        headers={**htmx, "Accept-Language": "en"},
    )
    assert response.status_code == 422
    page = soup(response)
    for field in ("title", "date", "language", "attendance", "template"):
        assert page.select_one(f"#err-{field}") is not None, field
    assert db.exec(select(Workshop)).all() == []


def test_agenda_add_configure_reorder_remove(client_a, users, db):
    chain = factories.chain(db, users.a, gaps=3, action_lines=3)
    workshop = factories.workshop(db, users.a, chain, template="")
    from server.valuechains.library import ACTION_LINES, GAPS, items_of

    gaps = items_of(db, chain, GAPS)
    lines = items_of(db, chain, ACTION_LINES)
    base = f"/workshops/{workshop.id}/activities"
    assert client_a.get(f"{base}/new?kind=ranking").status_code == 200
    response = client_a.post(
        f"{base}/new",
        data={
            "kind": "gap_rating",
            "title": "Votación",
            "mode": "dots",
            "dot_budget": "6",
            "dot_max_per_item": "2",
            "items": [str(gaps[2].id), str(gaps[0].id)],
            "csrf_token": client_a.csrf,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    client_a.post(
        f"{base}/new",
        data={
            "kind": "ranking",
            "title": "Ranking",
            "mode": "top_k",
            "k": "2",
            "items": [str(line.id) for line in lines],
            "csrf_token": client_a.csrf,
        },
    )
    first, second = agenda_of(db, workshop)
    assert first.settings == {
        "mode": "dots",
        "ask_specialization": False,
        "ask_diversification": False,
        "ask_global_context": False,
        "ask_segments": False,
        "dot_budget": 6,
        "dot_max_per_item": 2,
    }
    assert [g.id for g in activity_items(db, first)] == [gaps[0].id, gaps[2].id]  # library order

    response = client_a.post(
        f"{base}/{second.id}/up",
        data={"csrf_token": client_a.csrf},
        headers={"HX-Request": "true", "HX-Target": "agenda"},
    )
    assert response.status_code == 200
    assert [s.get_text() for s in soup(response).select("#agenda li strong")] == ["Ranking", "Votación"]

    client_a.post(
        f"{base}/{first.id}/edit",
        data={"title": "Puntos", "mode": "rating", "items": [str(gaps[1].id)], "csrf_token": client_a.csrf},
    )
    db.expunge_all()
    assert db.get(Activity, first.id).title == "Puntos"
    assert [g.id for g in activity_items(db, db.get(Activity, first.id))] == [gaps[1].id]

    client_a.post(f"{base}/{first.id}/remove", data={"csrf_token": client_a.csrf})
    db.expunge_all()
    assert [a.title for a in agenda_of(db, workshop)] == ["Ranking"]
    assert agenda_of(db, workshop)[0].position == 0


def test_activity_with_foreign_or_no_items_is_refused(client_a, users, db):
    chain = factories.chain(db, users.a)
    other = factories.chain(db, users.b, name="Otra")
    workshop = factories.workshop(db, users.a, chain, template="")
    from server.valuechains.library import GAPS, items_of

    foreign = items_of(db, other, GAPS)[0]
    base = f"/workshops/{workshop.id}/activities/new"
    for items in ([str(foreign.id)], [], ["abc"]):
        response = client_a.post(
            base, data={"kind": "gap_rating", "title": "X", "items": items, "csrf_token": client_a.csrf}
        )
        assert response.status_code == 422
    response = client_a.post(base, data={"kind": "poll", "title": "X", "csrf_token": client_a.csrf})
    assert response.status_code == 422
    assert agenda_of(db, workshop) == []


def test_activity_that_ran_cannot_be_changed(client_a, users, db):
    chain = factories.chain(db, users.a)
    workshop = factories.workshop(db, users.a, chain)
    activity = agenda_of(db, workshop)[0]
    activity.status = ActivityStatus.closed
    db.add(activity)
    db.commit()
    response = client_a.post(
        f"/workshops/{workshop.id}/activities/{activity.id}/remove",
        data={"csrf_token": client_a.csrf},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "already run" in response.text
    assert len(agenda_of(db, workshop)) == 2


def test_new_join_code(client_a, users, db):
    chain = factories.chain(db, users.a)
    workshop = factories.workshop(db, users.a, chain)
    old = workshop.join_code
    client_a.post(f"/workshops/{workshop.id}/code", data={"csrf_token": client_a.csrf})
    db.expunge_all()
    assert db.get(Workshop, workshop.id).join_code != old
