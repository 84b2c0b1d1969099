"""The chain's roadmap page outside a workshop: reading it, creating items, editing fields
and rows from the version seen (a stale form is a conflict that keeps the editor's text),
restoring a revision, locking, hiding a comment, commitments; who may see it."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from server.activities.roadmap import reading
from server.activities.roadmap import service as roadmap
from server.activities.roadmap.actors import as_facilitator
from server.activities.roadmap.items import create_item
from server.db import transaction
from server.defaults import ensure_reference_lists
from server.models import ActionLine, RoadmapComment, RoadmapItem, RoadmapRevision
from tests import factories


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


@pytest.fixture
def chain(db, users):
    ensure_reference_lists(db)
    db.commit()
    return factories.chain(db, users.a, action_lines=3)


def _make(app, user, chain_id, **fields) -> int:
    with transaction(app.state.db.writer) as s:
        actor = as_facilitator(s, user, chain_id)
        return create_item(s, actor, {"title": "Centro de acopio", **fields}).item_id


def _view(app, item_id):
    with transaction(app.state.db.writer) as s:
        return reading.item_view(s, item_id, hidden_comments=True)


def _form(page: BeautifulSoup, action_part: str) -> dict:
    """The hidden inputs of the form whose action contains ``action_part``."""
    form = page.find("form", action=re.compile(re.escape(action_part)))
    assert form is not None, action_part
    return {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("type") == "hidden"}


def _url(chain, item_id=None, tail="") -> str:
    base = f"/chains/{chain.id}/roadmap"
    return base + (f"/{item_id}" if item_id else "") + tail


def test_the_chain_page_links_to_its_roadmap(client_a, chain):
    page = soup(client_a.get(f"/chains/{chain.id}"))
    assert page.find("a", href=re.compile(rf"/chains/{chain.id}/roadmap$")) is not None


def test_the_roadmap_page_shows_every_item_with_its_fields_rows_commitments_and_filters(app, client_a, users, chain):
    first = _make(app, users.a, chain.id, horizon="short", phase="assessment", status="agreed", progress="40")
    second = _make(app, users.a, chain.id, title="Mesa técnica", horizon="long")
    with transaction(app.state.db.writer) as s:
        actor = as_facilitator(s, users.a, chain.id)
        roadmap.add_row(s, actor, first, "partner", {"organization": "Universidad San Antonio Abad"})
        roadmap.add_row(s, actor, first, "milestone", {"text": "Local alquilado", "date": "2027-03-31"})
        roadmap.add_row(s, actor, first, "indicator", {"name": "Socios", "baseline": "0", "target": "120", "unit": ""})
        roadmap.edit_field(s, actor, first, "budget", 0, {"amount": "15000", "currency": "PEN"})
        from server.activities.roadmap import social

        done = social.commit(s, actor, first, "Cooperativa Valle", "lead", "con local propio")
        social.commit(s, actor, first, "Municipio", "funder")
        social.withdraw(s, actor, done.id, "cambió la junta")
    client_a.headers["Accept-Language"] = "en"
    page = client_a.get(_url(chain))
    assert page.status_code == 200
    text = soup(page).get_text(" ")
    for expected in (
        "Centro de acopio",
        "Mesa técnica",
        "Short term",
        "Competitiveness assessment",
        "Agreed",
        "Universidad San Antonio Abad",
        "Local alquilado",
        "Socios · 0 → 120",
        "15,000.00 PEN",
        "Cooperativa Valle",
        "cambió la junta",
        "Withdrawn",
    ):
        assert expected in text, expected
    card = soup(page).find(id=f"item-{first}")
    assert card.find("s") is not None  # the withdrawn commitment is struck through, still there
    # Filters: by status, horizon, phase; an unknown value shows everything.
    only_long = soup(client_a.get(_url(chain, tail="?horizon=long")))
    assert only_long.find(id=f"item-{second}") and not only_long.find(id=f"item-{first}")
    by_status = soup(client_a.get(_url(chain, tail="?status=agreed")))
    assert by_status.find(id=f"item-{first}") and not by_status.find(id=f"item-{second}")
    no_phase = soup(client_a.get(_url(chain, tail="?phase=none")))
    assert no_phase.find(id=f"item-{second}") and not no_phase.find(id=f"item-{first}")
    unknown = soup(client_a.get(_url(chain, tail="?status=nonsense")))
    assert unknown.find(id=f"item-{first}") and unknown.find(id=f"item-{second}")


def test_a_facilitator_creates_an_item_new_and_from_an_action_line(client_a, db, chain):
    page = soup(client_a.get(_url(chain, tail="/new")))
    key = _form(page, "/roadmap/new")["key"]
    data = {"csrf_token": client_a.csrf, "key": key, "title": "Escuela de catadores", "horizon": "medium"}
    data.update(amount="2500,50", currency="usd", pilot="yes", status="proposed", progress="0")
    response = client_a.post(_url(chain, tail="/new"), data=data, follow_redirects=False)
    assert response.status_code == 303
    again = client_a.post(_url(chain, tail="/new"), data=data, follow_redirects=False)  # sent twice: one item
    assert again.status_code == 303 and again.headers["location"] == response.headers["location"]
    item = db.exec(select(RoadmapItem).where(RoadmapItem.title == "Escuela de catadores")).scalars().one()
    assert (item.horizon, str(item.budget_amount), item.budget_currency, item.pilot) == (
        "medium",
        "2500.50",
        "USD",
        True,
    )
    line = db.exec(select(ActionLine).where(ActionLine.value_chain_id == chain.id)).scalars().first()
    made = client_a.post(
        _url(chain, tail="/new"), data={"csrf_token": client_a.csrf, "line": str(line.id)}, follow_redirects=False
    )
    assert made.status_code == 303
    db.expunge_all()
    from_line = db.exec(select(RoadmapItem).where(RoadmapItem.title == line.title)).scalars().one()
    assert _view(client_a.app, from_line.id).action_lines == [line.id]


def test_bad_input_for_a_new_item_is_said_and_changes_nothing(client_a, db, chain):
    data = {"csrf_token": client_a.csrf, "title": "", "amount": "-5", "currency": "PEN", "horizon": "someday"}
    response = client_a.post(_url(chain, tail="/new"), data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    text = soup(response).get_text(" ")
    assert "This field is required." in text and "The budget cannot be negative." in text
    assert db.exec(select(func.count()).select_from(RoadmapItem)).scalar_one() == 0


def test_an_edit_from_the_version_seen_applies_and_a_stale_one_keeps_the_editors_text(app, client_a, users, chain):
    item = _make(app, users.a, chain.id)
    edit_url = _url(chain, item, "/fields/title")
    seen = _form(soup(client_a.get(edit_url)), "/fields/title")
    assert seen["base"] == "0"
    # Someone else changes the title meanwhile.
    with transaction(app.state.db.writer) as s:
        roadmap.edit_field(s, as_facilitator(s, users.admin, chain.id), item, "title", 0, "Centro de acopio regional")
    stale = {"csrf_token": client_a.csrf, "base": seen["base"], "key": seen["key"], "value": "Acopio y secado"}
    response = client_a.post(edit_url, data=stale, headers={"Accept-Language": "en"})
    assert response.status_code == 409
    page = soup(response)
    assert page.find(id="f-value")["value"] == "Acopio y secado"  # the editor's text, kept
    assert "Centro de acopio regional" in page.find(class_="conflict").get_text()
    assert "Admin" in page.find(class_="conflict").get_text()
    assert _view(app, item).values["title"] == "Centro de acopio regional"
    # Keep mine: the form now carries the current version.
    keep = _form(page, "/fields/title")
    assert keep["base"] == "1" and keep["key"] != seen["key"]
    kept = client_a.post(edit_url, data={**keep, "value": "Acopio y secado"}, follow_redirects=False)
    assert kept.status_code == 303
    assert _view(app, item).values["title"] == "Acopio y secado"
    assert _view(app, item).versions["title"] == 2


def test_a_bad_value_is_said_beside_the_field_and_changes_nothing(app, client_a, users, chain):
    item = _make(app, users.a, chain.id)
    for field, data, message in (
        ("progress", {"value": "140"}, "Progress is a whole number from 0 to 100."),
        ("budget", {"amount": "12.345", "currency": "PEN"}, "At most two decimals."),
        ("horizon", {"value": "someday"}, "Choose one of the options."),
        ("title", {"value": "x" * 301}, "At most 300 characters."),
    ):
        response = client_a.post(
            _url(chain, item, f"/fields/{field}"),
            data={"csrf_token": client_a.csrf, "base": "0", **data},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 422, field
        assert message in soup(response).get_text(" "), field
    assert client_a.get(_url(chain, item, "/fields/nonsense")).status_code == 404
    view = _view(app, item)
    assert view.values["progress"] == 0 and view.values["budget"] is None and set(view.versions.values()) == {0}


def test_history_names_who_when_which_field_and_restore_is_a_new_revision(app, client_a, users, chain, db):
    item = _make(app, users.a, chain.id)
    for base, title in enumerate(("Segundo título", "Tercer título")):
        client_a.post(
            _url(chain, item, "/fields/title"), data={"csrf_token": client_a.csrf, "base": str(base), "value": title}
        )
    client_a.headers["Accept-Language"] = "en"
    page = soup(client_a.get(_url(chain, item)))
    history = page.find(id="history")
    entries = history.find_all("li")
    assert len(entries) == 3  # created, two edits (newest first)
    assert "Centro de acopio" in entries[1].get_text() and "Segundo título" in entries[1].get_text()
    assert "Facilitator A" in entries[0].get_text() and "Title" in entries[0].get_text()
    assert entries[0].find("form") is None  # the title's current value: nothing to restore
    restore = entries[1].find("form")
    assert restore is not None
    response = client_a.post(restore["action"], data={"csrf_token": client_a.csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert _view(app, item).values["title"] == "Segundo título"
    last = db.exec(select(RoadmapRevision).order_by(RoadmapRevision.id.desc())).scalars().first()
    assert (last.change, last.old, last.new, last.user_id) == ("restore", "Tercer título", "Segundo título", users.a.id)
    # A revision of another item, through this item's address: not found.
    other = _make(app, users.a, chain.id, title="Otro")
    foreign = db.exec(select(RoadmapRevision.id).where(RoadmapRevision.item_id == other)).scalars().first()
    assert (
        client_a.post(_url(chain, item, f"/restore/{foreign}"), data={"csrf_token": client_a.csrf}).status_code == 404
    )


def test_rows_are_added_edited_removed_and_a_stale_row_edit_is_a_conflict(app, client_a, users, chain):
    item = _make(app, users.a, chain.id)
    add = client_a.post(
        _url(chain, item, "/rows/milestone"),
        data={"csrf_token": client_a.csrf, "text": "Local alquilado", "date": "2027-03-31"},
        follow_redirects=False,
    )
    assert add.status_code == 303
    row = _view(app, item).rows["milestone"][0]
    edit = _url(chain, item, f"/rows/milestone/{row.id}")
    ok = client_a.post(edit, data={"csrf_token": client_a.csrf, "base": "1", "text": "Local propio", "date": ""})
    assert ok.status_code == 200 and _view(app, item).rows["milestone"][0].value == {
        "text": "Local propio",
        "date": None,
    }
    stale = client_a.post(edit, data={"csrf_token": client_a.csrf, "base": "1", "text": "Otro", "date": ""})
    assert stale.status_code == 409
    assert soup(stale).find(id="yours-text")["value"] == "Otro"
    bad = client_a.post(_url(chain, item, "/rows/milestone"), data={"csrf_token": client_a.csrf, "text": ""})
    assert bad.status_code == 422
    gone = client_a.post(edit, data={"csrf_token": client_a.csrf, "base": "2", "remove": "1"}, follow_redirects=False)
    assert gone.status_code == 303 and _view(app, item).rows["milestone"] == []


def test_lock_hide_a_comment_link_and_commitments(app, client_a, users, chain, db):
    item = _make(app, users.a, chain.id)
    post = {"csrf_token": client_a.csrf}
    assert client_a.post(_url(chain, item, "/lock"), data={**post, "locked": "1"}).status_code == 200
    assert _view(app, item).locked
    assert client_a.post(_url(chain, item, "/lock"), data={**post, "locked": "maybe"}).status_code == 422
    client_a.post(_url(chain, item, "/comments"), data={**post, "text": "Falta el presupuesto"})
    comment = db.exec(select(RoadmapComment)).scalars().one()
    client_a.post(_url(chain, item, f"/comments/{comment.id}/hide"), data={**post, "hidden": "1"})
    db.expunge_all()
    assert db.get(RoadmapComment, comment.id).hidden
    line = db.exec(select(ActionLine.id).where(ActionLine.value_chain_id == chain.id)).scalars().first()
    client_a.post(_url(chain, item, "/links/action_line"), data={**post, "target_id": str(line), "linked": "1"})
    assert _view(app, item).action_lines == [line]
    client_a.post(_url(chain, item, "/commitments"), data={**post, "organization": "DRA Cusco", "role": "funder"})
    commitment = _view(app, item).commitments[0]
    assert (commitment.organization, commitment.role, commitment.author) == ("DRA Cusco", "funder", "Facilitator A")
    client_a.post(_url(chain, item, f"/commitments/{commitment.id}/withdraw"), data={**post, "note": "sin fondos"})
    assert _view(app, item).commitments[0].withdrawn_note == "sin fondos"
    bad_role = client_a.post(_url(chain, item, "/commitments"), data={**post, "organization": "X", "role": "boss"})
    assert bad_role.status_code == 422 and len(_view(app, item).commitments) == 1


def test_another_facilitator_and_an_anonymous_visitor_get_nothing(app, client, client_a, client_b, users, chain, db):
    item = _make(app, users.a, chain.id)
    for url in (_url(chain), _url(chain, item), _url(chain, item, "/fields/title"), _url(chain, tail="/new")):
        assert client_b.get(url).status_code == 404
        anonymous = client.get(url, follow_redirects=False)
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    response = client_b.post(
        _url(chain, item, "/fields/title"), data={"csrf_token": client_b.csrf, "base": "0", "value": "B's"}
    )
    assert response.status_code == 404 and _view(app, item).values["title"] == "Centro de acopio"
    # An item of another chain, through the address of a chain A sees: not found.
    other_chain = factories.chain(db, users.b, name="Alpaca")
    foreign = _make(app, users.b, other_chain.id)
    assert client_a.get(_url(chain, foreign)).status_code == 404
    assert client_b.get(_url(other_chain, foreign)).status_code == 200
