"""Bad input to the live roadmap, over the websocket and as a plain form post (issue 12,
"Must show"): an unknown item, field or role; over-long text; a budget negative, not a
number or too large; an unknown horizon or phase; progress outside 0..100; a participant
of another workshop; an edit to a locked item; a locked activity. Each gets a clear
message in Spanish (the phone's and the workshop's language, written out here so an
untranslated message fails) and changes nothing: the item, its revisions, commitments,
comments, +1s and keys are compared before and after."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.models import (
    Activity,
    RoadmapComment,
    RoadmapCommitment,
    RoadmapItem,
    RoadmapMilestone,
    RoadmapReceipt,
    RoadmapRevision,
    RoadmapSupport,
    ValueChain,
)
from tests import factories
from tests.activities.roadmap.live_room import form_of, phone_page, roadmap_room
from tests.live_helpers import join
from tests.workshops.test_ws import Reader, send

UNKNOWN = 999_999


@dataclass(frozen=True)
class Case:
    name: str
    ws: dict  # the websocket message's fields past t, k and a ("i" defaults to the item)
    action: str  # the form's action (rm_edit, rm_commit, ...)
    form: dict  # the form's fields past the hidden ones
    spanish: str  # the message the person reads
    who: str = "ana"  # ana (of the workshop) or eva (of another workshop of the chain)
    lock: str = ""  # "item" or "activity": locked by the facilitator beforehand
    t: str = "rm_edit"
    extra: dict = field(default_factory=dict)


NOT_A_NUMBER = "Escriba el monto como número, por ejemplo 15000.50."
CHOOSE = "Elija una de las opciones."
CASES = [
    Case(
        "unknown item",
        {"i": UNKNOWN, "f": "title", "b": 0, "v": "Nuevo"},
        "rm_edit",
        {"item": str(UNKNOWN), "field": "title", "value": "Nuevo"},
        "Este ítem de la hoja de ruta no existe.",
    ),
    Case(
        "unknown field",
        {"f": "colour", "b": 0, "v": "azul"},
        "rm_edit",
        {"field": "colour", "value": "azul"},
        "Este campo no existe.",
    ),
    Case(
        "unknown role",
        {"org": "Cooperativa", "role": "boss", "note": ""},
        "rm_commit",
        {"organization": "Cooperativa", "role": "boss"},
        CHOOSE,
        t="rm_commit",
    ),
    Case(
        "over-long title",
        {"f": "title", "b": 0, "v": "x" * 301},
        "rm_edit",
        {"field": "title", "value": "x" * 301},
        "Como máximo 300 caracteres.",
    ),
    Case(
        "over-long comment",
        {"text": "y" * 1001},
        "rm_comment",
        {"text": "y" * 1001},
        "Como máximo 1000 caracteres.",
        t="rm_comment",
    ),
    Case(
        "negative budget",
        {"f": "budget", "b": 0, "v": {"amount": "-5", "currency": "PEN"}},
        "rm_edit",
        {"field": "budget", "amount": "-5", "currency": "PEN"},
        "El presupuesto no puede ser negativo.",
    ),
    Case(
        "non-numeric budget",
        {"f": "budget", "b": 0, "v": {"amount": "mucho", "currency": "PEN"}},
        "rm_edit",
        {"field": "budget", "amount": "mucho", "currency": "PEN"},
        NOT_A_NUMBER,
    ),
    Case(
        "huge budget",
        {"f": "budget", "b": 0, "v": {"amount": 10**13, "currency": "PEN"}},
        "rm_edit",
        {"field": "budget", "amount": "10000000000000", "currency": "PEN"},
        "Como máximo 999,999,999,999.99.",
    ),
    Case(
        "unknown horizon",
        {"f": "horizon", "b": 0, "v": "someday"},
        "rm_edit",
        {"field": "horizon", "value": "someday"},
        CHOOSE,
    ),
    Case(
        "unknown phase",
        {"f": "phase", "b": 0, "v": "phase_9"},
        "rm_edit",
        {"field": "phase", "value": "phase_9"},
        CHOOSE,
    ),
    Case(
        "progress above 100",
        {"f": "progress", "b": 0, "v": 101},
        "rm_edit",
        {"field": "progress", "value": "101"},
        "El avance es un número entero de 0 a 100.",
    ),
    Case(
        "progress below 0",
        {"f": "progress", "b": 0, "v": -1},
        "rm_edit",
        {"field": "progress", "value": "-1"},
        "El avance es un número entero de 0 a 100.",
    ),
    Case(
        "participant of another workshop",
        {"f": "title", "b": 0, "v": "De fuera"},
        "rm_edit",
        {"field": "title", "value": "De fuera"},
        "Esta actividad no existe.",
        who="eva",
    ),
    Case(
        "locked item",
        {"f": "title", "b": 0, "v": "Cambio"},
        "rm_edit",
        {"field": "title", "value": "Cambio"},
        "El facilitador ha bloqueado este ítem; no se cambió nada.",
        lock="item",
    ),
    Case(
        "milestone on a locked item",
        {"r": "milestone", "v": {"text": "Piloto", "date": "2027-03-01"}},
        "rm_row",
        {"kind": "milestone", "text": "Piloto", "date": "2027-03-01"},
        "El facilitador ha bloqueado este ítem; no se cambió nada.",
        lock="item",
        t="rm_row",
    ),
    Case(
        "locked activity",
        {"f": "title", "b": 0, "v": "Cambio"},
        "rm_edit",
        {"field": "title", "value": "Cambio"},
        "El facilitador ha bloqueado la hoja de ruta por ahora; no se cambió nada.",
        lock="activity",
    ),
    Case(
        "+1 in a locked activity",
        {"on": True},
        "rm_plus",
        {"on": "1"},
        "El facilitador ha bloqueado la hoja de ruta por ahora; no se cambió nada.",
        lock="activity",
        t="rm_plus",
    ),
]
KEYS = itertools.count()


def state(db, item_id: int) -> dict:
    """Everything a refused write could have changed."""
    db.expire_all()
    item = db.get(RoadmapItem, item_id)

    def count(model, *where):
        return db.execute(select(func.count()).select_from(model).where(*where)).scalar_one()

    return {
        "item": item.model_dump(),
        "revisions": count(RoadmapRevision),
        "commitments": count(RoadmapCommitment),
        "comments": count(RoadmapComment),
        "supports": count(RoadmapSupport),
        "milestones": count(RoadmapMilestone),
        "receipts": count(RoadmapReceipt),
    }


@pytest.fixture
def setup(app, db, users):
    """The room, Ana's and Eva's clients (Eva joined another workshop of the chain)."""
    r = roadmap_room(app, db, users.a)
    elsewhere = factories.workshop(db, users.a, db.get(ValueChain, r.chain_id), template="roadmap", title="Otro")
    with TestClient(app) as ana, TestClient(app) as eva:
        ana.headers["Accept-Language"] = "es"
        eva.headers["Accept-Language"] = "es"
        join(ana, r, name="Ana")
        join(eva, replace(r, code=elsewhere.join_code, workshop_id=elsewhere.id), name="Eva")
        yield r, {"ana": (ana, r.workshop_id), "eva": (eva, elsewhere.id)}


def _lock(db, r, case: Case, item_id: int) -> None:
    if case.lock == "item":
        item = db.get(RoadmapItem, item_id)
        item.locked = True
        db.add(item)
    elif case.lock == "activity":
        activity = db.get(Activity, r.activity_id)
        activity.settings = {**activity.settings, "locked": True}
        db.add(activity)
    db.commit()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_over_the_websocket(setup, db, case):
    r, clients = setup
    item = r.items[0]
    _lock(db, r, case, item)
    before = state(db, item)
    client, workshop = clients[case.who]
    key = f"bad-ws-{next(KEYS):04d}"
    message = {"t": case.t, "k": key, "a": r.activity_id, "i": item, **case.ws}
    headers = {"origin": "http://testserver", "accept-language": "es"}
    with client.websocket_connect(f"/ws/p/{workshop}", headers=headers) as ws:
        reader = Reader(ws)
        send(ws, **message)
        ack = reader.until(lambda m: m["t"] == "ack" and m.get("k") == key)
    assert ack["ok"] is False, ack
    assert ack["error"] == case.spanish, ack
    assert state(db, item) == before


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_as_a_form_post(setup, db, case):
    r, clients = setup
    item = r.items[0]
    client, workshop = clients[case.who]
    # The hidden fields of Ana's page (Eva copies them: she names workshop 1's activity).
    hidden = form_of(phone_page(clients["ana"][0], r), f"f-{item}-title")
    _lock(db, r, case, item)
    before = state(db, item)
    data = {**hidden, "key": f"bad-form-{next(KEYS):04d}", **case.form}
    if case.who == "eva":  # her own page's token
        data["csrf_token"] = re.search(r'data-csrf="([^"]+)"', client.get(f"/p/{workshop}").text)[1]
    posted = client.post(f"/p/{workshop}/{case.action}", data=data, follow_redirects=True)
    assert posted.status_code in (200, 422), posted.status_code
    assert case.spanish in posted.text.replace("&#39;", "'"), posted.text[-3000:]
    assert state(db, item) == before
