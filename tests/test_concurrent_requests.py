"""A hall joining and answering at the same moment, against a real uvicorn server: no
request may stall the event loop on the database (issue 8, item 1). Before the fix, two
joins at once froze the server until SQLite's 30 s busy timeout, and 16 form posts in
flight exhausted the connection pool."""

from __future__ import annotations

import inspect
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
from sqlmodel import select

from server.models import GapAnswer, Participant
from tests.live_helpers import csrf_of, room

PHONES = 50
# A frozen server answered /healthz after 30-60 s; a busy but healthy one within a
# fraction of a second. The bound is generous: this checks for a stall, not speed
# (figures are in bench/requests.py).
STALL = 5.0


class Probe:
    """Asks /healthz every 20 ms while the phones work; keeps the slowest answer."""

    def __init__(self, base: str):
        self.base, self.worst, self.count = base, 0.0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            while not self._stop.is_set():
                start = time.monotonic()
                assert client.get("/healthz").status_code == 200
                self.worst = max(self.worst, time.monotonic() - start)
                self.count += 1
                time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=130)


def test_fifty_phones_joining_and_posting_answers_at_once_never_stall_the_server(app, db, users, live_server):
    r = room(app, db, users.a)
    barrier = threading.Barrier(PHONES)

    def phone(n: int) -> list[int]:
        with httpx.Client(base_url=live_server, timeout=120, follow_redirects=False) as client:
            token = csrf_of(client.get(f"/join/{r.code}").text)
            form = {"name": f"Phone {n}", "stakeholder_group_id": r.group_ids["public"], "csrf_token": token}
            form["segment_id"] = r.segment_ids[0]
            barrier.wait(timeout=60)  # every phone joins at the same moment
            statuses = [client.post(f"/join/{r.code}", data=form).status_code]
            barrier.wait(timeout=120)  # and then every phone answers at the same moment
            for gap in r.gap_ids:
                answer = {"csrf_token": token, "activity": r.activity_id, "gap": gap, "seriousness": 1 + n % 5}
                answer["key"] = f"phone-{n:04d}-{gap:06d}"
                statuses.append(client.post(f"/p/{r.workshop_id}/answer", data=answer).status_code)
            return statuses

    with Probe(live_server) as probe, ThreadPoolExecutor(PHONES) as pool:
        statuses = list(pool.map(phone, range(PHONES)))
    assert statuses == [[303] * (1 + len(r.gap_ids))] * PHONES
    assert probe.count > 0 and probe.worst < STALL, f"/healthz took {probe.worst:.1f} s"
    db.expunge_all()
    assert len(db.exec(select(Participant)).all()) == PHONES
    assert len(db.exec(select(GapAnswer)).all()) == PHONES * len(r.gap_ids)


def _calls(dependant) -> set:
    found = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= _calls(sub)
    return found


def test_no_async_route_is_given_a_database_session(app):
    """An ``async`` route runs on the event loop: a database session there (or a login
    check, which reads one) would make every phone wait for its queries. Such routes read
    through ``db.read_in_thread`` and write through the single writer."""
    from fastapi.routing import APIRoute

    from server.db import get_read_session, get_session

    def walk(routes):
        for route in routes:
            if hasattr(route, "original_router"):  # an included router
                yield from walk(route.original_router.routes)
            elif isinstance(route, APIRoute) and inspect.iscoroutinefunction(route.endpoint):
                yield route

    asynchronous = list(walk(app.routes))
    offenders = [r.name for r in asynchronous if _calls(r.dependant) & {get_session, get_read_session}]
    assert offenders == []
    assert "participant_answer" in {r.name for r in asynchronous}  # the check sees async routes at all
