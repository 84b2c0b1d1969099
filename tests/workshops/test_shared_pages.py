"""Pages a hall of phones shares (``SharedPages``): each phone still gets its own CSRF
token and form key, its own answers, and every change phones see at once."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from server.db import transaction
from server.models import Activity, Gap, StakeholderGroup, Workshop
from server.realtime.topics import Topic
from server.web import SharedPages
from server.workshops import live
from tests.live_helpers import csrf_of, join, room

FORM_KEY = re.compile(r'name="key" value="([^"]+)-\d+"')


def _no_stand_in(app, html: str) -> None:
    for stand_in in app.state.shared_pages.stand_ins.values():
        assert stand_in not in html


def test_two_phones_get_the_same_page_with_their_own_token_and_form_key(app, db, users):
    r = room(app, db, users.a)
    pages = []
    for name in ("Ana", "Beto"):
        with TestClient(app) as phone:
            token = join(phone, r, name=name)
            home = phone.get("/").text
            joining = phone.get(f"/join/{r.code}", follow_redirects=False)  # joined: straight on
            assert joining.status_code == 303
            page = phone.get(f"/p/{r.workshop_id}").text
            _no_stand_in(app, home + page)
            assert csrf_of(home) == csrf_of(page) == token
            assert f'data-csrf="{token}"' in page
            keys = set(FORM_KEY.findall(page))
            assert len(keys) == 1  # one key for the page's forms, its own
            pages.append((token, keys.pop(), page))
    (token_a, key_a, page_a), (token_b, key_b, page_b) = pages
    assert token_a != token_b and key_a != key_b
    assert page_a.replace(token_a, "T").replace(key_a, "K") == page_b.replace(token_b, "T").replace(key_b, "K")


def test_a_reload_gets_a_new_form_key(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        first = set(FORM_KEY.findall(phone.get(f"/p/{r.workshop_id}").text))
        second = set(FORM_KEY.findall(phone.get(f"/p/{r.workshop_id}").text))
    assert first and second and first != second


def test_a_phone_sees_its_own_answers_and_the_next_phone_none(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as rated, TestClient(app) as fresh:
        token = join(rated, r, name="Ana")
        join(fresh, r, name="Beto")
        fresh.get(f"/p/{r.workshop_id}")  # the shared page, kept
        key = FORM_KEY.search(rated.get(f"/p/{r.workshop_id}").text).group(1)
        form = {"csrf_token": token, "activity": r.activity_id, "gap": r.gap_ids[0], "seriousness": "4"}
        posted = rated.post(f"/p/{r.workshop_id}/answer", data={**form, "key": f"{key}-1"}, follow_redirects=False)
        assert posted.status_code == 303
        mine = BeautifulSoup(rated.get(f"/p/{r.workshop_id}").text, "html.parser")
        assert mine.select_one(f'#gap-{r.gap_ids[0]} input[name="seriousness"][value="4"]').has_attr("checked")
        theirs = BeautifulSoup(fresh.get(f"/p/{r.workshop_id}").text, "html.parser")
        assert not theirs.select(f'#gap-{r.gap_ids[0]} input[name="seriousness"][checked]')


def test_phones_see_the_activity_close_as_soon_as_it_closes(app, db, users):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        assert 'data-state="open"' in phone.get(f"/p/{r.workshop_id}").text
        with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
            live.do_close(session, session.get(Workshop, r.workshop_id), session.get(Activity, r.activity_id))
        after = phone.get(f"/p/{r.workshop_id}").text
    assert 'data-state="closed"' in after and 'data-state="open"' not in after


def test_another_process_change_renders_the_page_again(app, db, users):
    """A change written by another process reaches this one through the hub's listeners
    (``local`` false): the page is rendered again."""
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        phone.get(f"/p/{r.workshop_id}")
        db.exec(Gap.__table__.update().values(title="Renamed elsewhere").where(Gap.id == r.gap_ids[0]))
        db.commit()
        assert "Renamed elsewhere" not in phone.get(f"/p/{r.workshop_id}").text  # nothing told this process yet
        app.state.hub._remote_dirty(r.workshop_id, (Topic.STAGE,))
        assert "Renamed elsewhere" in phone.get(f"/p/{r.workshop_id}").text


def test_the_join_form_follows_the_workshop_and_its_groups(app, db, users):
    r = room(app, db, users.a)
    english = {"Accept-Language": "en"}
    with TestClient(app) as phone:
        assert "Union" not in phone.get(f"/join/{r.code}", headers=english).text
        db.add(StakeholderGroup(key="union", name_es="Sindicato", name_en="Union", position=9))
        workshop = db.get(Workshop, r.workshop_id)
        workshop.joining_open = False
        db.add(workshop)
        db.commit()
        assert "Joining is closed" in phone.get(f"/join/{r.code}", headers=english).text
        workshop.joining_open = True
        db.add(workshop)
        db.commit()
        page = phone.get(f"/join/{r.code}", headers=english).text
        _no_stand_in(app, page)
        assert "Union" in page and "Joining is closed" not in page
        assert csrf_of(page) == csrf_of(phone.get("/").text)


def test_counts_and_the_roster_keep_the_pages_and_the_rest_renews_them():
    pages = SharedPages()
    pages.changed(7, frozenset({Topic.COUNTS, Topic.ROSTER}))
    assert pages.generation(7) == 0
    for topics in ({Topic.STAGE}, {Topic.RESULTS}, {Topic.REVEAL}, {Topic.COUNTS, Topic.STAGE}, {"removed:3"}):
        before = pages.generation(7)
        pages.changed(7, frozenset(topics), False)
        assert pages.generation(7) == before + 1
    assert pages.generation(8) == 0


def test_only_the_most_recently_used_pages_are_kept():
    pages = SharedPages(size=3)
    for n in range(3):
        pages.put(n, f"page {n}")
    assert pages.get(0) == "page 0"  # used: kept
    pages.put(3, "page 3")
    assert pages.get(1) is None and [pages.get(n) for n in (0, 2, 3)] == ["page 0", "page 2", "page 3"]
    pages.forget()
    assert pages.get(0) is None


def test_the_stand_ins_differ_between_processes():
    assert SharedPages().stand_ins != SharedPages().stand_ins
