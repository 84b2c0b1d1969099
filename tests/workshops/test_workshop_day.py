"""Getting there and getting out (issue 11): the workshop page's way to the console and the
projector and its checklist for the day, the loopback address warning, ending a workshop,
an activity's results page and the attendance list."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlmodel import select

from server.db import transaction
from server.errors import Invalid, NotFound
from server.models import Activity, ActivityStatus, Participant, Workshop, WorkshopStatus
from server.workshops import live
from server.workshops.participants import access_workshop_by_code
from server.workshops.service import do_new_code
from tests import factories
from tests.live_helpers import csrf_of, join, room


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def checks(page) -> dict[str, str]:
    return {li["data-check"]: li["data-ok"] for li in page.select(".checklist li")}


def test_workshop_page_links_to_console_and_projector_with_a_checklist(client_a, users, db):
    chain = factories.chain(db, users.a, action_lines=3)
    workshop = factories.workshop(db, users.a, chain)
    page = soup(client_a.get(f"/workshops/{workshop.id}"))
    links = {a.get_text(strip=True): a["href"] for a in page.select(".page-head a")}
    assert links["Ejecutar en vivo"].endswith(f"/workshops/{workshop.id}/live")
    assert links["Proyector (pestaña nueva)"].endswith(f"/workshops/{workshop.id}/projector")
    # Served as http://testserver: reachable; a code, its QR; a ranking that runs live.
    assert checks(page) == {"reach": "yes", "code": "yes", "qr": "yes", "agenda": "yes"}
    assert page.select_one("#reach-warning") is None


def test_an_agenda_with_nothing_that_runs_live_is_on_the_checklist(client_a, users, db):
    chain = factories.chain(db, users.a)
    workshop = factories.workshop(db, users.a, chain, template="")
    assert checks(soup(client_a.get(f"/workshops/{workshop.id}")))["agenda"] == "no"


def test_a_loopback_join_address_is_named_with_what_to_do(app, client_a, users, db, monkeypatch):
    monkeypatch.setattr(app.state.settings, "base_url", "http://127.0.0.1:8000/")
    monkeypatch.setattr("server.workshops.reach._cached_addresses", lambda: ["127.0.0.1", "192.168.4.7"])
    chain = factories.chain(db, users.a)
    workshop = factories.workshop(db, users.a, chain)
    for path in (f"/workshops/{workshop.id}", f"/workshops/{workshop.id}/live"):
        page = soup(client_a.get(path))
        warning = page.select_one("#reach-warning")
        assert warning is not None, path
        text = warning.get_text(" ", strip=True)
        assert "127.0.0.1" in text and "minka serve --host 0.0.0.0" in text
        assert "MINKA_BASE_URL=http://192.168.4.7:8000/" in text
    assert checks(soup(client_a.get(f"/workshops/{workshop.id}")))["reach"] == "no"


def test_no_suggestion_when_no_lan_address_is_found(app, client_a, users, db, monkeypatch):
    monkeypatch.setattr(app.state.settings, "base_url", "http://localhost:8000/")
    monkeypatch.setattr("server.workshops.reach._cached_addresses", lambda: ["127.0.0.1"])
    chain = factories.chain(db, users.a)
    workshop = factories.workshop(db, users.a, chain)
    text = soup(client_a.get(f"/workshops/{workshop.id}")).select_one("#reach-warning").get_text(" ", strip=True)
    assert "MINKA_BASE_URL=http://…" in text


def _end(app, workshop_id: int) -> None:
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        live.do_end(session, session.get(Workshop, workshop_id))


def test_ending_closes_activities_releases_the_code_and_stops_joining(app, client, users, db):
    r = room(app, db, users.a)
    join(client, r)
    _end(app, r.workshop_id)
    db.expunge_all()
    workshop = db.get(Workshop, r.workshop_id)
    assert workshop.status == WorkshopStatus.ended and workshop.join_code is None and not workshop.joining_open
    assert db.get(Activity, r.activity_id).status == ActivityStatus.closed
    with pytest.raises(NotFound):
        access_workshop_by_code(db, r.code)
    # The typed code finds nothing; the phone already in sees that the workshop has ended.
    token = csrf_of(client.get("/").text)
    typed = client.post("/join", data={"code": r.code, "csrf_token": token}, follow_redirects=False)
    assert typed.status_code in (404, 422) and "location" not in typed.headers
    assert client.get(f"/join/{r.code}").status_code == 404
    page = soup(client.get(f"/p/{r.workshop_id}"))
    assert page.select_one('[data-state="ended"]') is not None
    assert "El taller terminó" in page.get_text()


def test_an_ended_workshop_cannot_run_again(app, users, db):
    r = room(app, db, users.a)
    _end(app, r.workshop_id)
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        workshop = session.get(Workshop, r.workshop_id)
        activity = session.get(Activity, r.activity_id)
        for step in (
            lambda: live.do_open(session, workshop, activity),
            lambda: live.do_next(session, workshop),
            lambda: live.do_joining(session, workshop, True),
            lambda: live.do_end(session, workshop),
            lambda: do_new_code(session, workshop),
        ):
            with pytest.raises(Invalid):
                step()
        assert workshop.join_code is None


def test_the_end_control_asks_for_confirmation_and_needs_csrf(app, client_a, users, db):
    r = room(app, db, users.a)
    page = soup(client_a.get(f"/workshops/{r.workshop_id}"))
    form = page.select_one("details.confirm.end form")
    assert form["action"].endswith(f"/workshops/{r.workshop_id}/end") and form.select_one('[name="csrf_token"]')
    assert client_a.post(f"/workshops/{r.workshop_id}/end", follow_redirects=False).status_code == 403
    response = client_a.post(f"/workshops/{r.workshop_id}/end", data={"csrf_token": client_a.csrf})
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("details.confirm.end") is None and page.select_one(".checklist") is None
    assert "Terminado" in page.select_one("h1").get_text()
    chain_page = soup(client_a.get(f"/chains/{db.get(Workshop, r.workshop_id).value_chain_id}"))
    assert "Terminado" in chain_page.select_one("#h-workshops").find_parent("section").get_text()


def test_a_closed_activity_has_a_results_page_from_the_workshop_page(app, client_a, client, users, db):
    r = room(app, db, users.a)
    join(client, r)
    _end(app, r.workshop_id)
    page = soup(client_a.get(f"/workshops/{r.workshop_id}"))
    link = page.select_one(f"#activity-{r.activity_id} a[href$='/results']")
    assert link["href"].endswith(f"/workshops/{r.workshop_id}/activities/{r.activity_id}/results")
    results = soup(client_a.get(link["href"]))
    # The gap rating's own console view: its table, one row per gap.
    assert len(results.select("table.results tbody tr")) == len(r.gap_ids)


def test_the_attendance_list_shows_what_was_asked(app, client_a, client, users, db):
    r = room(app, db, users.a)
    join(client, r, name="<b>Ana</b>")
    db.expunge_all()
    db.exec(select(Participant)).one().organization = "Cooperativa"
    db.commit()
    page = client_a.get(f"/workshops/{r.workshop_id}/attendance")
    assert "&lt;b&gt;Ana&lt;/b&gt;" in page.text
    cells = [td.get_text(strip=True) for td in soup(page).select("table.attendance td")]
    assert cells[:3] == ["<b>Ana</b>", "Cooperativa", "Sector público"]
