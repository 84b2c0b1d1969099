"""A chain with a roadmap workshop: a ranking and an open roadmap activity that brought
in one item per action line, three participants, and a participant of another workshop."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest

from server.activities.roadmap.actors import as_facilitator
from server.activities.roadmap.items import bring_in
from server.activities.roadmap.service import AsParticipant
from server.db import transaction
from server.defaults import ensure_reference_lists
from server.models import Activity, ActivityStatus, Participant, User
from server.workshops.service import agenda_of
from tests import factories


@dataclass
class World:
    app: object
    user: User
    chain_id: int
    workshop_id: int
    ranking_id: int
    activity_id: int
    participants: list[int]
    stranger: int  # a participant of another workshop of the same chain
    items: list[int]

    def run(self, work):
        """``work(session)`` in a transaction of the app's writer engine, committed."""
        with transaction(self.app.state.db.writer) as session:
            return work(session)

    def phone(self, n: int = 0) -> AsParticipant:
        return AsParticipant(self.participants[n], self.activity_id)

    def facilitator(self, session):
        return as_facilitator(session, self.user, self.chain_id, self.activity_id)

    def set_settings(self, **settings) -> None:
        def change(session):
            activity = session.get(Activity, self.activity_id)
            activity.settings = {**activity.settings, **settings}
            session.add(activity)

        self.run(change)


def _participant(db, workshop_id: int, name: str, organization: str) -> int:
    p = Participant(workshop_id=workshop_id, token_hash=secrets.token_hex(32), name=name, organization=organization)
    db.add(p)
    db.commit()
    return p.id


@pytest.fixture
def world(app, db, users) -> World:
    ensure_reference_lists(db)
    db.commit()
    chain = factories.chain(db, users.a, action_lines=4)
    workshop = factories.workshop(db, users.a, chain, template="roadmap")
    ranking, roadmap = agenda_of(db, workshop)
    assert roadmap.kind == "roadmap"
    roadmap.status = ActivityStatus.open
    db.add(roadmap)
    db.commit()
    other = factories.workshop(db, users.a, chain, template="roadmap", title="Otro taller")
    people = [
        _participant(db, workshop.id, name, org)
        for name, org in (("Ana", "Cooperativa Valle"), ("Luis", "Gobierno Regional"), ("Rosa", "Universidad"))
    ]
    w = World(app, users.a, chain.id, workshop.id, ranking.id, roadmap.id, people, 0, [])
    w.stranger = _participant(db, other.id, "Eva", "ONG")
    w.items = w.run(lambda s: bring_in(s, w.facilitator(s), s.get(Activity, roadmap.id)))
    return w
