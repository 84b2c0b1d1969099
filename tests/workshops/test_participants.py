"""Joining from a phone and answering without JavaScript."""

from __future__ import annotations

import re
import time

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import select

from server.models import GapAnswer, Participant, Workshop
from tests.live_helpers import csrf_of, join, room


def test_join_by_code_then_attendance_then_the_live_page(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r, name="María Quispe")
        page = phone.get(f"/p/{r.workshop_id}")
        assert page.status_code == 200
        assert len(BeautifulSoup(page.text, "html.parser").select("form.gap-card")) == 3
        cookie = phone.cookies.get(f"minka_p{r.workshop_id}")
        assert cookie and len(cookie) >= 43  # 256 random bits
        assert cookie not in page.text  # the token is never put in the page or a URL
        # Coming back by the QR address goes straight to the live page.
        again = phone.get(f"/join/{r.code}", follow_redirects=False)
        assert again.headers["location"].endswith(f"/p/{r.workshop_id}")
    p = db.exec(select(Participant)).one()
    assert (p.name, p.stakeholder_group_id, p.segment_id) == ("María Quispe", r.group_ids["public"], r.segment_ids[0])
    assert p.token_hash != cookie


def test_code_typed_with_spaces_works_and_a_wrong_code_says_so(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        token = csrf_of(phone.get("/").text)
        spaced = f"{r.code[:3]} {r.code[3:]}"
        assert (
            phone.post("/join", data={"code": spaced, "csrf_token": token}, follow_redirects=False).status_code == 303
        )
        wrong = phone.post("/join", data={"code": "000000", "csrf_token": token}, headers={"Accept-Language": "es"})
        assert wrong.status_code == 422
        assert "Ningún taller abierto tiene este código" in wrong.text


def test_join_needs_the_attendance_data_the_workshop_asks(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        token = csrf_of(phone.get("/").text)
        response = phone.post(f"/join/{r.code}", data={"name": "", "stakeholder_group_id": "999", "csrf_token": token})
        assert response.status_code == 422
        page = BeautifulSoup(response.text, "html.parser")
        assert page.select_one("#err-name") and page.select_one("#err-stakeholder_group_id")
    assert db.exec(select(Participant)).all() == []


def test_locked_joining_is_refused(app, db, users):
    r = room(app, db, users.a)
    workshop = db.get(Workshop, r.workshop_id)
    workshop.joining_open = False
    db.add(workshop)
    db.commit()
    with TestClient(app) as phone:
        token = csrf_of(phone.get("/").text)
        response = phone.post(f"/join/{r.code}", data={"name": "Ana", "csrf_token": token})
        assert response.status_code == 422
    assert db.exec(select(Participant)).all() == []


def test_failed_join_attempts_are_rate_limited(app, db, users):
    room(app, db, users.a)
    # The limit counts per minute: start well inside one, not on its last seconds.
    while time.time() % 60 > 50:
        time.sleep(0.5)
    with TestClient(app) as phone:
        token = csrf_of(phone.get("/").text)
        codes = [
            phone.post("/join", data={"code": f"{n:06d}", "csrf_token": token}).status_code
            for n in range(100001, 100026)
        ]
        assert codes[:20] == [422] * 20
        assert 429 in codes[20:]


def test_answer_without_javascript_and_a_late_answer_is_refused(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        page = phone.get(f"/p/{r.workshop_id}").text
        key = re.search(r'name="key" value="([^"]+)"', page).group(1)
        token = csrf_of(page)
        form = {
            "activity": r.activity_id,
            "gap": r.gap_ids[0],
            "key": key,
            "seriousness": "4",
            "specialization": "3",
            "segments_asked": "1",
            "segments": [str(r.segment_ids[0]), str(r.segment_ids[2])],
            "csrf_token": token,
        }
        response = phone.post(f"/p/{r.workshop_id}/answer", data=form)
        assert response.status_code == 200 and "?saved=" in str(response.url)
        card = BeautifulSoup(response.text, "html.parser").select_one(f"#gap-{r.gap_ids[0]}")
        assert card.select_one("input[name=seriousness][value='4']").has_attr("checked")
        # The same form posted twice (a double tap, a retry) counts once.
        phone.post(f"/p/{r.workshop_id}/answer", data=form)
        rows = db.exec(select(GapAnswer)).all()
        assert sorted((a.question, a.value, a.segments) for a in rows) == [
            ("segments", None, sorted([r.segment_ids[0], r.segment_ids[2]])),
            ("seriousness", 4, []),
            ("specialization", 3, []),
        ]

        client_fac = TestClient(app)
        with client_fac:
            from tests.conftest import login

            ftoken = login(client_fac, users.a.email)
            client_fac.post(
                f"/workshops/{r.workshop_id}/live/activities/{r.activity_id}/close", data={"csrf_token": ftoken}
            )
        late = phone.post(
            f"/p/{r.workshop_id}/answer",
            data={**form, "key": "another-key-123", "seriousness": "1"},
            headers={"Accept-Language": "en"},
        )
        assert late.status_code == 200 and late.history[0].status_code == 303  # redirected: a reload sends nothing
        assert "This activity is closed; your answer was not saved." in late.text
    db.expunge_all()
    assert db.exec(select(GapAnswer).where(GapAnswer.question == "seriousness")).one().value == 4


def test_a_participant_of_one_workshop_cannot_use_another(app, db, users):
    r1 = room(app, db, users.a)
    from tests import factories

    chain2 = factories.chain(db, users.a, name="Cacao")
    w2 = factories.workshop(db, users.a, chain2, template="diagnosis")
    with TestClient(app) as phone:
        token = join(phone, r1)
        # No cookie for workshop 2: its page is as unknown as a workshop that does not exist.
        assert phone.get(f"/p/{w2.id}", follow_redirects=False).status_code == 404
        response = phone.post(
            f"/p/{w2.id}/answer",
            data={"activity": 1, "gap": r1.gap_ids[0], "key": "k" * 12, "seriousness": 3, "csrf_token": token},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 404
        # The facilitator's controls are not a participant's.
        control = phone.post(
            f"/workshops/{r1.workshop_id}/live/activities/{r1.activity_id}/close",
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert control.status_code == 303 and "/login" in control.headers["location"]
    assert db.exec(select(GapAnswer)).all() == []


# What a phone downloads for the live page of a nine-gap activity with every question
# asked (the heaviest page a participant sees), in bytes on the wire (gzip): the page and
# the stylesheet and scripts it names (each file compressed on its own, as it is sent).
# 12 KB until issue 11 showed the gaps one at a time (the pager's script and styles) and the
# ranking's lines as rows to tap: 12.7 KB measured then.
# 13.5 KB until 2026-11-30, when a rating chosen before the scripts arrive was lost (sent now,
# after the hello when the socket is opening: ~210 bytes).
PAGE_BUDGET = 13_800


def test_the_participant_page_fits_its_byte_budget(app, db, users):
    import gzip

    from server import ROOT

    r = room(app, db, users.a, gaps=9)
    with TestClient(app) as phone:
        join(phone, r)
        response = phone.get(f"/p/{r.workshop_id}", headers={"Accept-Encoding": "gzip"})
        assert response.headers.get("content-encoding") == "gzip"
        page = len(gzip.compress(response.content))  # httpx decoded it; count it compressed again
    soup = BeautifulSoup(response.text, "html.parser")
    names = [tag["href"] for tag in soup.select("link[rel=stylesheet]")] + [tag["src"] for tag in soup.select("script")]
    files = [name.removeprefix("/static/").split("?")[0] for name in names]
    assert files == ["minka.css", "phone/transport.js", "phone/gap_rating.js"]  # only this kind's module
    assets = sum(len(gzip.compress((ROOT / "static" / f).read_bytes())) for f in files)
    print(f"participant page: {page} B + css/js {assets} B (gzip)")
    assert page + assets <= PAGE_BUDGET, (page, assets)
    assert "htmx" not in response.text  # the phone page needs no framework
