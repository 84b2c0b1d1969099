"""Limits and orders hold when several facilitators change one list at the same moment.

Issue 8, item 7: on PostgreSQL two facilitators editing one agenda pushed it past its 30
activities with duplicate positions, moves and removals ended in StaleDataError 500s and
deadlocks, and segments reached 32 of 30. Each test lines up concurrent requests (one
client per thread, facilitators A and B on a shared chain) and then checks the list:
within its limit, positions 0..n-1 each once, and no answer a 500. On SQLite the
writer's ``BEGIN IMMEDIATE`` serializes them; the same tests run there too.
"""

from __future__ import annotations

import random
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import select

from server.activities.kinds import KINDS
from server.db import transaction
from server.errors import Conflict
from server.models import ActionLine, Activity, Gap, Segment, ValueChainShare
from server.valuechains import library
from server.valuechains import service as chains
from server.valuechains.service import MAX_SEGMENTS, segments_of
from server.workshops.service import (
    MAX_ACTIVITIES,
    access_activity,
    access_workshop,
    agenda_of,
    do_add_activity,
    do_remove_activity,
)
from tests import factories
from tests.conftest import PG_URL, login

THREADS = 12


class _Deadlock(Exception):
    sqlstate = "40P01"  # what psycopg's DeadlockDetected carries


# What a request that lost a race may answer: done, refused with a message (a limit, an
# activity that started, "changed meanwhile"), or gone (someone removed it first).
ANSWERS = {200, 204, 303, 404, 409, 422}


@pytest.fixture
def shared(db, users):
    """A's chain, shared with B, with a workshop whose agenda has two activities."""
    chain = factories.chain(db, users.a, gaps=3, action_lines=3)
    db.add(ValueChainShare(value_chain_id=chain.id, user_id=users.b.id))
    db.commit()
    workshop = factories.workshop(db, users.a, chain, template="prioritization")
    return chain, workshop


def _race(app, users, requests: list[tuple[str, dict]]) -> list[int]:
    """Post every (url, data) at once, each from its own client (A and B in turn)."""
    clients = []
    for n in range(len(requests)):
        client = TestClient(app, raise_server_exceptions=False)
        client.csrf = login(client, (users.a if n % 2 == 0 else users.b).email)
        clients.append(client)
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = [0] * len(requests)

    def run(n: int) -> None:
        url, data = requests[n]
        barrier.wait()
        response = clients[n].post(url, data={**data, "csrf_token": clients[n].csrf}, follow_redirects=False)
        statuses[n] = response.status_code

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for client in clients:
        client.close()
    return statuses


def _positions(db, model, **where) -> list[int]:
    db.expunge_all()
    query = select(model.position)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return sorted(db.exec(query))


def _assert_ordered(positions: list[int]) -> None:
    assert positions == list(range(len(positions))), positions


def _race_checked(app, users, db, requests, model, **parent) -> tuple[list[int], list[int]]:
    """Race the requests; no answer a 500, and the list's positions are 0..n-1 once each."""
    statuses = _race(app, users, requests)
    assert set(statuses) <= ANSWERS, statuses
    positions = _positions(db, model, **parent)
    _assert_ordered(positions)
    return statuses, positions


def _shuffles(url: str, ids: list[int], actions: tuple[str, ...]) -> list[tuple[str, dict]]:
    """THREADS + 4 requests, each one action (move up, down, remove) on a random item."""
    rng = random.Random(8)
    return [(url.format(id=rng.choice(ids), action=actions[n % 3]), {}) for n in range(THREADS + 4)]


def _seed(db, model, chain, count: int, name: str) -> None:
    """``count`` more rows after the chain's first three (segments, gaps or action lines)."""
    field = "name" if model is Segment else "title"
    for n in range(count):
        db.add(model(value_chain_id=chain.id, position=3 + n, **{field: f"{name} {n}"}))
    db.commit()


def _activity_form(kind: str, item_ids: list[int], title: str) -> dict:
    data = {**KINDS[kind].defaults(), "kind": kind, "title": title, "items": [str(i) for i in item_ids]}
    return {k: ("on" if v is True else "" if v is False else v) for k, v in data.items()}


def _fill_agenda(db, chain, workshop, count: int) -> None:
    lines = [a.id for a in library.items_of(db, chain, library.ACTION_LINES)]
    for _ in range(count - len(agenda_of(db, workshop))):
        data = _activity_form("ranking", lines, "Ranking")
        do_add_activity(db, chain, workshop, data, data.pop("items"))
        db.commit()


def test_concurrent_additions_never_pass_the_agenda_limit(app, client, db, users, shared):
    chain, workshop = shared
    _fill_agenda(db, chain, workshop, MAX_ACTIVITIES - 4)
    lines = [a.id for a in library.items_of(db, chain, library.ACTION_LINES)]
    url = f"/workshops/{workshop.id}/activities/new"
    requests = [(url, _activity_form("ranking", lines, f"Otra {n}")) for n in range(THREADS)]
    statuses, positions = _race_checked(app, users, db, requests, Activity, workshop_id=workshop.id)
    assert statuses.count(303) == 4 and len(positions) == MAX_ACTIVITIES, statuses


def test_concurrent_moves_and_removals_keep_the_agenda_in_order(app, client, db, users, shared):
    chain, workshop = shared
    _fill_agenda(db, chain, workshop, 16)
    ids = list(db.exec(select(Activity.id).where(Activity.workshop_id == workshop.id)))
    requests = _shuffles(f"/workshops/{workshop.id}/activities/{{id}}/{{action}}", ids, ("up", "down", "remove"))
    _statuses, positions = _race_checked(app, users, db, requests, Activity, workshop_id=workshop.id)
    assert len(positions) < 16


def test_concurrent_additions_never_pass_the_segment_limit(app, client, db, users, shared):
    chain, _workshop = shared
    _seed(db, Segment, chain, MAX_SEGMENTS - 3 - 3, "Segmento")
    requests = [(f"/chains/{chain.id}/segments", {"name": f"Nuevo {n}"}) for n in range(THREADS)]
    statuses, positions = _race_checked(app, users, db, requests, Segment, value_chain_id=chain.id)
    assert statuses.count(303) == 3 and len(positions) == MAX_SEGMENTS, statuses


def test_concurrent_segment_moves_and_removals_keep_the_order(app, client, db, users, shared):
    chain, _workshop = shared
    _seed(db, Segment, chain, 12, "Segmento")
    ids = list(db.exec(select(Segment.id).where(Segment.value_chain_id == chain.id)))
    requests = _shuffles(f"/chains/{chain.id}/segments/{{id}}/{{action}}", ids, ("move/up", "move/down", "delete"))
    _race_checked(app, users, db, requests, Segment, value_chain_id=chain.id)


@pytest.mark.parametrize("kind", [library.GAPS, library.ACTION_LINES], ids=lambda k: k.slug)
def test_concurrent_additions_never_pass_the_library_limit(app, client, db, users, shared, kind):
    chain, _workshop = shared
    _seed(db, kind.model, chain, library.MAX_ITEMS - 3 - 3, "Item")
    requests = [(f"/chains/{chain.id}/library/{kind.slug}", {"title": f"Nuevo {n}"}) for n in range(THREADS)]
    statuses, positions = _race_checked(app, users, db, requests, kind.model, value_chain_id=chain.id)
    assert statuses.count(303) == 3 and len(positions) == library.MAX_ITEMS, statuses


def test_concurrent_library_moves_and_removals_keep_the_order(app, client, db, users, shared):
    chain, _workshop = shared
    _seed(db, Gap, chain, 12, "Brecha extra")
    # The workshop's dot voting uses the first gaps: removing those archives them.
    ids = list(db.exec(select(Gap.id).where(Gap.value_chain_id == chain.id)))
    requests = _shuffles(f"/chains/{chain.id}/library/gaps/{{id}}/{{action}}", ids, ("up", "down", "remove"))
    _race_checked(app, users, db, requests, Gap, value_chain_id=chain.id)
    assert _positions(db, ActionLine, value_chain_id=chain.id) == [0, 1, 2]


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="SQLite's BEGIN IMMEDIATE serializes writers: this interleaving cannot happen")
def test_what_was_removed_meanwhile_is_a_conflict_not_a_500(app, db, users, shared):
    """A request loaded an activity, another removed it, then the first removes it too
    (before: a StaleDataError, a 500)."""
    _chain, workshop = shared
    activity_id = agenda_of(db, workshop)[0].id
    with transaction(app.state.db.writer) as first:
        w, _chain = access_workshop(first, users.a, workshop.id)
        activity = access_activity(first, w, activity_id)
        with transaction(app.state.db.writer) as second:
            w2, _ = access_workshop(second, users.b, workshop.id)
            do_remove_activity(second, w2, access_activity(second, w2, activity_id))
        with pytest.raises(Conflict):
            do_remove_activity(first, w, activity)
    _assert_ordered(_positions(db, Activity, workshop_id=workshop.id))


@pytest.mark.parametrize(
    "error",
    [Conflict(), StaleDataError("0 rows matched"), OperationalError("UPDATE", {}, _Deadlock())],
    ids=["conflict", "stale", "deadlock"],
)
def test_a_lost_race_answers_changed_meanwhile(client_a, db, users, shared, htmx, monkeypatch, error):
    chain, _workshop = shared
    segment = segments_of(db, chain)[0]

    def lost(*_args):
        raise error

    monkeypatch.setattr(chains, "do_move_segment", lost)
    url = f"/chains/{chain.id}/segments/{segment.id}/move/down"
    headers = {**htmx, "Referer": f"http://testserver/chains/{chain.id}", "Accept-Language": "en"}
    response = client_a.post(url, data={"csrf_token": client_a.csrf}, headers=headers, follow_redirects=False)
    assert response.status_code == 409
    assert "Someone else changed this at the same moment" in response.text
    assert f'href="/chains/{chain.id}"' in response.text
    if htmx:
        assert response.headers["HX-Retarget"] == "#main"
