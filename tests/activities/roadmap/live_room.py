"""A live roadmap room for tests: a chain with action lines, a roadmap workshop whose
roadmap activity is opened from the console's step (its items brought in), and phones."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlmodel import select

from server.activities.roadmap.items import items_of_activity
from server.db import transaction
from server.defaults import ensure_reference_lists
from server.models import Activity, Segment, StakeholderGroup, Workshop
from server.workshops import live
from server.workshops.service import agenda_of
from tests import factories
from tests.live_helpers import Room


@dataclass
class RoadmapRoom(Room):
    items: list[int] = None
    chain_id: int = 0


def roadmap_room(app, db, owner, *, lines: int = 4, open_it: bool = True, **settings) -> RoadmapRoom:
    factories.reference_lists(db)
    ensure_reference_lists(db)
    db.commit()
    chain = factories.chain(db, owner, action_lines=lines)
    workshop = factories.workshop(db, owner, chain, template="roadmap")
    activity = next(a for a in agenda_of(db, workshop) if a.kind == "roadmap")
    kind = app.state.registry["roadmap"]
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        a = session.get(Activity, activity.id)
        a.settings = {**a.settings, "lines_from": "chosen", **settings}
        session.add(a)
        session.flush()
        if open_it:
            user = session.get(type(owner), owner.id)
            live.do_open(session, session.get(Workshop, workshop.id), a, lambda act: kind.opened(session, act, user))
    groups = {g.key: g.id for g in db.exec(select(StakeholderGroup))}
    segments = [s.id for s in db.exec(select(Segment).where(Segment.value_chain_id == chain.id))]
    with transaction(app.state.db.reader) as session:
        item_ids = items_of_activity(session, activity.id)
    return RoadmapRoom(workshop.id, activity.id, workshop.join_code, [], groups, segments, item_ids, chain.id)


def form_of(html: str, form_id: str) -> dict:
    """The hidden fields of the form with this id (key, base, ...)."""
    block = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S).group(0)
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', block))


def phone_page(client: TestClient, r: RoadmapRoom, **query) -> str:
    response = client.get(f"/p/{r.workshop_id}", params=query)
    assert response.status_code == 200, response.text
    return response.text
