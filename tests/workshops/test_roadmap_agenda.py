"""Adding a roadmap activity to an agenda: its action lines may come from a ranking of the
same workshop or be left out when it brings the chain's open items; otherwise at least one
line is chosen; bad settings get translated messages and nothing is added."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from server.models import Activity
from server.valuechains.library import ACTION_LINES, items_of
from server.workshops.service import activity_items, agenda_of
from tests import factories


def add(client, workshop_id, *, items=(), lang="es", **settings):
    data = {"kind": "roadmap", "title": "Hoja de ruta", "csrf_token": client.csrf, "items": list(items), **settings}
    return client.post(
        f"/workshops/{workshop_id}/activities/new",
        data=data,
        headers={"Accept-Language": lang},
        follow_redirects=False,
    )


def error_at(response, name: str) -> str:
    page = BeautifulSoup(response.text, "html.parser")
    field = page.find(attrs={"name": name}).find_parent(["fieldset", "div"], class_="field")
    return " ".join(field.get_text(" ").split())


@pytest.fixture
def agenda(client_a, users, db):
    chain = factories.chain(db, users.a, action_lines=3)
    workshop = factories.workshop(db, users.a, chain, template="")
    return chain, workshop


def test_lines_from_the_workshops_ranking_need_none_chosen(client_a, agenda, db):
    chain, workshop = agenda
    lines = items_of(db, chain, ACTION_LINES)
    # Without a ranking on the agenda, lines from "the ranking" and no open items: refused.
    response = add(client_a, workshop.id, bring="lines", lines_from="ranking", top="3")
    assert response.status_code == 422
    assert "Este taller no tiene una actividad de priorización" in error_at(response, "items")
    assert agenda_of(db, workshop) == []
    client_a.post(
        f"/workshops/{workshop.id}/activities/new",
        data={"kind": "ranking", "title": "Ranking", "items": [str(x.id) for x in lines], "csrf_token": client_a.csrf},
    )
    response = add(client_a, workshop.id, bring="lines", lines_from="ranking", top="3", edit_mode="suggest")
    assert response.status_code == 303
    db.expunge_all()
    _ranking, roadmap = agenda_of(db, workshop)
    assert roadmap.kind == "roadmap"
    assert roadmap.settings["lines_from"] == "ranking" and roadmap.settings["edit_mode"] == "suggest"
    assert activity_items(db, roadmap) == []
    # Editing it keeps the rule: the ranking is another activity of the agenda.
    response = client_a.post(
        f"/workshops/{workshop.id}/activities/{roadmap.id}/edit",
        data={"title": "Hoja", "bring": "lines", "lines_from": "ranking", "top": "2", "csrf_token": client_a.csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.expunge_all()
    assert db.get(Activity, roadmap.id).settings["top"] == 2


def test_open_items_need_no_line(client_a, agenda, db):
    _chain, workshop = agenda
    assert add(client_a, workshop.id, bring="open", lines_from="chosen").status_code == 303
    assert add(client_a, workshop.id, bring="open_and_lines", lines_from="chosen").status_code == 303
    assert [a.kind for a in agenda_of(db, workshop)] == ["roadmap", "roadmap"]


def test_chosen_lines_need_one(client_a, agenda, db):
    chain, workshop = agenda
    response = add(client_a, workshop.id, bring="lines", lines_from="chosen", lang="en")
    assert response.status_code == 422
    assert "Choose at least one action line, or bring the chain's open items." in error_at(response, "items")
    line = items_of(db, chain, ACTION_LINES)[1]
    assert add(client_a, workshop.id, items=[str(line.id)], bring="lines", lines_from="chosen").status_code == 303
    (roadmap,) = agenda_of(db, workshop)
    assert [x.id for x in activity_items(db, roadmap)] == [line.id]


@pytest.mark.parametrize(
    ("given", "field", "spanish"),
    [
        ({"top": "0"}, "top", "Ingrese un número de 1 a 50."),
        ({"top": "51"}, "top", "Ingrese un número de 1 a 50."),
        ({"top": "tres"}, "top", "Ingrese un número entero."),
        ({"bring": "everything"}, "bring", "Elija una de las opciones."),
        ({"lines_from": "oracle"}, "lines_from", "Elija una de las opciones."),
        ({"edit_mode": "anarchy"}, "edit_mode", "Elija una de las opciones."),
    ],
)
def test_bad_settings_are_refused_in_spanish(client_a, agenda, db, given, field, spanish):
    chain, workshop = agenda
    line = items_of(db, chain, ACTION_LINES)[0]
    response = add(client_a, workshop.id, items=[str(line.id)], **given)
    assert response.status_code == 422
    assert spanish in error_at(response, field)
    assert agenda_of(db, workshop) == []


def test_the_form_says_lines_are_optional(client_a, agenda):
    _chain, workshop = agenda
    page = client_a.get(f"/workshops/{workshop.id}/activities/new?kind=roadmap", headers={"Accept-Language": "es"})
    assert page.status_code == 200
    assert "Opcional cuando la actividad trae los elementos abiertos de la cadena" in page.text
