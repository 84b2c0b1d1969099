"""Arranging a live workshop for tests: a chain, groups, a workshop, an open activity."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlmodel import select

from server.db import transaction
from server.models import Activity, Segment, StakeholderGroup, Workshop
from server.workshops import live
from server.workshops.service import agenda_of
from tests import factories


@dataclass
class Room:
    workshop_id: int
    activity_id: int
    code: str
    gap_ids: list[int]
    group_ids: dict[str, int]
    segment_ids: list[int]


def room(app, db, owner, *, template: str = "diagnosis", open_first: bool = True, gaps: int = 3, **settings) -> Room:
    factories.reference_lists(db)
    db.add(StakeholderGroup(key="academia", name_es="Academia", name_en="Academia", position=2))
    db.commit()
    chain = factories.chain(db, owner, gaps=gaps)
    workshop = factories.workshop(db, owner, chain, template=template)
    activity = agenda_of(db, workshop)[0]
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        a = session.get(Activity, activity.id)
        if settings:
            a.settings = {**a.settings, **settings}
            session.add(a)
        if open_first:
            live.do_open(session, session.get(Workshop, workshop.id), a)
    from server.workshops.service import activity_items

    gap_ids = [g.id for g in activity_items(db, activity)]
    groups = {g.key: g.id for g in db.exec(select(StakeholderGroup))}
    segments = [
        s.id for s in db.exec(select(Segment).where(Segment.value_chain_id == chain.id).order_by(Segment.position))
    ]
    return Room(workshop.id, activity.id, workshop.join_code, gap_ids, groups, segments)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def join(client: TestClient, r: Room, group: str = "public", name: str = "Ana") -> str:
    """Join as a phone would (code form, then attendance form). Returns the CSRF token."""
    token = csrf_of(client.get("/").text)
    response = client.post("/join", data={"code": r.code, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    response = client.post(
        f"/join/{r.code}",
        data={
            "name": name,
            "stakeholder_group_id": r.group_ids[group],
            "segment_id": r.segment_ids[0],
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return token


def run_async(coroutine):
    """``asyncio.run`` in a thread of its own: the main thread may already be running
    Playwright's loop (browser tests earlier in the session), where asyncio.run refuses."""
    import asyncio
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
