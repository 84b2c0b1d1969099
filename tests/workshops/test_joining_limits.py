"""What a stranger can learn or do at the participants' door: nothing of a workshop
without its cookie, a bounded number of wrong codes and of participants per address, a
bounded rate of answers per participant (issue 8, items 2 and 8, and item 1's limit)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from server.auth import ratelimit
from server.models import GapAnswer, Participant, Workshop
from tests.live_helpers import csrf_of, join, room


@pytest.fixture
def frozen_window(monkeypatch):
    """Every rate-limit window is the same one during the test (no minute boundary)."""
    now = 1_800_000_030
    monkeypatch.setattr(ratelimit, "_window_start", lambda window: (now, now - now % window))


def _settings(app, monkeypatch, **values):
    for name, value in values.items():
        monkeypatch.setattr(app.state.settings, name, value)


def _scrub(html: str, workshop_id: int) -> str:
    """The page without its CSRF token and the asked path (in the language switch)."""
    return re.sub(r'value="[^"]{20,}"', 'value=""', html).replace(f"%2Fp%2F{workshop_id}", "%2Fp%2FID")


def test_a_stranger_learns_nothing_of_a_workshop_from_its_participant_pages(app, db, users):
    r = room(app, db, users.a)
    missing = r.workshop_id + 1000
    with TestClient(app) as stranger:
        token = csrf_of(stranger.get("/").text)
        answers = {}
        for workshop_id in (r.workshop_id, missing):
            seen = []
            page = stranger.get(f"/p/{workshop_id}", follow_redirects=False)
            seen.append((page.status_code, page.headers.get("location"), _scrub(page.text, workshop_id)))
            for path in ("answer", "dots", "rank", "pair"):
                form = {"csrf_token": token, "activity": r.activity_id, "gap": r.gap_ids[0], "seriousness": 3}
                for accept in ("text/html", "application/json"):
                    response = stranger.post(
                        f"/p/{workshop_id}/{path}", data=form, headers={"Accept": accept}, follow_redirects=False
                    )
                    seen.append(
                        (response.status_code, response.headers.get("location"), _scrub(response.text, workshop_id))
                    )
            answers[workshop_id] = seen
        assert answers[r.workshop_id] == answers[missing]
        assert {status for status, _, _ in answers[missing]} == {404}
        assert all(r.code not in text and location is None for _, location, text in answers[r.workshop_id])
    assert db.exec(select(GapAnswer)).all() == []


def test_a_participant_removed_by_the_facilitator_is_told_so(app, db, users):
    from server.db import transaction
    from server.models import Workshop
    from server.workshops import live

    r = room(app, db, users.a)
    with TestClient(app) as phone:
        token = join(phone, r)
        # Posted once: the server now knows the phone without reading the database.
        first = {"csrf_token": token, "activity": r.activity_id, "gap": r.gap_ids[1], "seriousness": 2}
        response = phone.post(f"/p/{r.workshop_id}/answer", data={**first, "key": "first-answer"})
        assert response.status_code == 200
        pid = db.exec(select(Participant)).one().id
        with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
            live.do_remove_participant(session, session.get(Workshop, r.workshop_id), pid, app.state.tallies)
        page = phone.get(f"/p/{r.workshop_id}", headers={"Accept-Language": "en"})
        assert page.status_code == 403 and "The facilitator removed you from this workshop." in page.text
        post = phone.post(
            f"/p/{r.workshop_id}/answer",
            data={"csrf_token": token, "activity": r.activity_id, "gap": r.gap_ids[0], "seriousness": 3, "key": "k1"},
            headers={"Accept": "application/json"},
        )
        assert post.status_code in (403, 422) and post.json()["ok"] is False
    db.expunge_all()
    assert db.exec(select(GapAnswer)).all() == []  # removing took the first answer out; the later one never came in


def test_wrong_codes_count_against_one_limit_whichever_route_brings_them(app, db, users, frozen_window):
    r = room(app, db, users.a)
    wrong = "999999" if r.code != "999999" else "888888"
    limit = app.state.settings.wrong_codes_per_minute
    with TestClient(app) as guesser:
        token = csrf_of(guesser.get("/").text)
        statuses = []
        for n in range(limit):
            route = n % 3
            if route == 0:
                response = guesser.post("/join", data={"code": wrong, "csrf_token": token})
            elif route == 1:
                response = guesser.get(f"/join/{wrong}")
            else:
                response = guesser.post(f"/join/{wrong}", data={"csrf_token": token, "name": "x"})
            statuses.append(response.status_code)
        assert set(statuses) <= {404, 422}
        # The budget is spent: even the right code is refused now, by every route, so a
        # guesser cannot tell a right guess from a wrong one.
        right = [
            guesser.post("/join", data={"code": r.code, "csrf_token": token}, follow_redirects=False),
            guesser.get(f"/join/{r.code}", follow_redirects=False),
            guesser.post(f"/join/{r.code}", data={"csrf_token": token, "name": "x"}, follow_redirects=False),
        ]
        assert [(response.status_code, response.headers.get("location")) for response in right] == [(429, None)] * 3
    assert db.exec(select(Participant)).all() == []


def test_one_address_creates_a_bounded_number_of_participants_in_a_workshop(app, db, users, monkeypatch, frozen_window):
    r = room(app, db, users.a)
    _settings(app, monkeypatch, participants_per_address=3)
    for _ in range(3):
        with TestClient(app) as phone:
            join(phone, r)
    with TestClient(app) as phone:
        token = csrf_of(phone.get(f"/join/{r.code}").text)
        form = {"name": "Eve", "stakeholder_group_id": r.group_ids["public"], "segment_id": r.segment_ids[0]}
        response = phone.post(f"/join/{r.code}", data={**form, "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 429 and response.headers["retry-after"]
    assert len(db.exec(select(Participant)).all()) == 3


def test_answers_posted_over_http_are_rate_limited_per_participant(app, db, users, monkeypatch, frozen_window):
    r = room(app, db, users.a)
    _settings(app, monkeypatch, participant_writes_per_second=3)
    with TestClient(app) as phone:
        token = join(phone, r)
        codes = []
        for n, gap in enumerate([*r.gap_ids, r.gap_ids[0]]):
            form = {"csrf_token": token, "activity": r.activity_id, "gap": gap, "seriousness": 2, "key": f"key-{n:08d}"}
            response = phone.post(f"/p/{r.workshop_id}/answer", data=form, headers={"Accept": "application/json"})
            codes.append(response.status_code)
        assert codes == [200, 200, 200, 429]
        assert response.json() == {"ok": False, "retry": True, "error": "Demasiados intentos"}
        # Without JavaScript, the same limit answers with the "too many attempts" page.
        form["key"] = "key-plain-0000"
        page = phone.post(f"/p/{r.workshop_id}/answer", data=form)
        assert page.status_code == 429
    assert len(db.exec(select(GapAnswer)).all()) == 3


def test_the_page_a_post_returns_to_is_the_participant_route(app):
    from starlette.requests import Request

    from server.workshops.participant_routes import _page_path

    request = Request({"type": "http", "app": app, "root_path": "", "router": app.router, "headers": []})
    assert _page_path(request, 42) == app.url_path_for("participant", workshop_id=42)


def test_joins_arriving_together_are_written_together_and_each_checked_alone(app, db, users):
    from server.workshops.participants import Join, access_participant

    r = room(app, db, users.a)
    good = {"name": "Ana", "stakeholder_group_id": str(r.group_ids["public"]), "segment_id": str(r.segment_ids[0])}
    joins = [
        Join(r.workshop_id, good),
        Join(r.workshop_id, {**good, "name": ""}),  # the name is asked: refused alone
        Join(r.workshop_id + 1000, good),  # no such workshop
        Join(r.workshop_id, {**good, "name": "Luz", "stakeholder_group_id": "999"}),  # no such group
        Join(r.workshop_id, {**good, "name": "Rosa"}),
    ]
    batches = app.state.writer.batches
    outcomes = app.state.writer._write_apart(joins)
    assert app.state.writer.batches == batches + 1  # one transaction for the five
    assert [o.error is None for o in outcomes] == [True, False, False, False, True]
    assert [type(o.error).__name__ for o in outcomes[1:4]] == ["Invalid", "NotFound", "Invalid"]
    db.expunge_all()
    assert sorted(p.name for p in db.exec(select(Participant))) == ["Ana", "Rosa"]
    # Each token names its own participant.
    for outcome in (outcomes[0], outcomes[4]):
        participant, token = outcome.value
        assert access_participant(db, r.workshop_id, token).name == participant.name


def test_known_participants_are_per_workshop_and_bounded():
    from server.workshops.participants import KnownParticipants

    known = KnownParticipants(limit=2)
    known.remember(1, "token-a", 10)
    assert known.get(1, "token-a") == 10 and known.get(2, "token-a") is None
    known.remember(1, "token-b", 11)
    known.remember(1, "token-c", 12)  # past the limit: the older ones are read again later
    assert (known.get(1, "token-a"), known.get(1, "token-c")) == (None, 12)


def test_a_phones_socket_knows_its_participant_by_the_cookie_of_that_workshop_only(app, db, users):
    from server.workshops.participants import do_join, phone_holder

    r = room(app, db, users.a)
    data = {"name": "Ana", "stakeholder_group_id": str(r.group_ids["public"]), "segment_id": str(r.segment_ids[0])}
    workshop = db.get(Workshop, r.workshop_id)
    ana, token = do_join(db, workshop, data)
    luz, luz_token = do_join(db, workshop, {**data, "name": "Luz"})
    db.commit()
    assert phone_holder(db, r.workshop_id, token) == (ana.id, "Ana", r.activity_id)  # and the open activity
    assert phone_holder(db, r.workshop_id + 1, token) is None  # another workshop's cookie
    for wrong in (None, "", token + "x", "x" * 101):
        assert phone_holder(db, r.workshop_id, wrong) is None
    luz.removed = True
    db.add(luz)
    db.commit()
    assert phone_holder(db, r.workshop_id, luz_token) is None  # removed by the facilitator
