"""Fifty phones at once through the real server (uvicorn), over the websocket and as
plain form posts: fifty edits of one field from the same version give exactly one
applied and forty-nine conflicts (no silent overwrite); fifty edits of fifty different
fields are all applied. Run on SQLite and PostgreSQL by scripts/test."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
import urllib.request

import pytest
from sqlmodel import select
from websockets.sync.client import connect

from server.activities.roadmap.fields import ITEM_FIELDS
from server.models import RoadmapItem, RoadmapRevision, Workshop
from server.workshops.participants import cookie_name, do_join
from tests.activities.roadmap.live_room import roadmap_room

PHONES = 50
VALUES = {
    "title": "T{n}",
    "description": "D{n}",
    "horizon": "medium",
    "phase": None,
    "lead_organization": "L{n}",
    "budget": {"amount": "1{n}.50", "currency": "PEN"},
    "funding_source": "F{n}",
    "pilot": True,
    "status": "agreed",
    "progress": 40,
}


def _phones(db, r, n: int) -> list[str]:
    workshop = db.get(Workshop, r.workshop_id)
    data = {"name": "", "organization": "Org", "stakeholder_group_id": str(r.group_ids["public"])}
    data["segment_id"] = str(r.segment_ids[0])
    tokens = [do_join(db, workshop, {**data, "name": f"P{i}"})[1] for i in range(n)]
    db.commit()
    return tokens


def _race(jobs) -> list:
    barrier, results = threading.Barrier(len(jobs)), [None] * len(jobs)

    def run(i, job):
        results[i] = job(barrier)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _ws_edit(base, r, token, message):
    url = base.replace("http", "ws") + f"/ws/p/{r.workshop_id}"
    headers = {"Cookie": f"{cookie_name(r.workshop_id)}={token}", "Origin": base}

    def job(barrier):
        with connect(url, additional_headers=headers, open_timeout=20) as ws:
            barrier.wait(30)
            ws.send(json.dumps(message))
            while True:
                m = json.loads(ws.recv(timeout=30))
                if m["t"] == "ack":
                    return m

    return job


def _csrf(base) -> tuple[str, str]:
    with urllib.request.urlopen(base + "/") as response:
        cookie = response.headers.get("Set-Cookie").split(";")[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode()).group(1)
    return cookie, token


def _form_edit(base, r, token, csrf, fields):
    def job(barrier):
        body = urllib.parse.urlencode({**fields, "csrf_token": csrf[1]}).encode()
        request = urllib.request.Request(base + f"/p/{r.workshop_id}/rm_edit", data=body, method="POST")
        request.add_header("Cookie", f"{csrf[0]}; {cookie_name(r.workshop_id)}={token}")
        request.add_header("Origin", base)
        request.add_header("Accept", "application/json")
        barrier.wait(30)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["acks"][0]

    return job


def _form_fields(r, item, field, base_version, value, key):
    fields = {"activity": r.activity_id, "item": item, "field": field, "base": base_version, "key": key}
    if field == "budget":
        fields.update(amount=value["amount"], currency=value["currency"])
    else:
        fields["value"] = "" if value is None else ("1" if value is True else str(value))
    return fields


@pytest.mark.parametrize("way", ["websocket", "form"])
def test_fifty_edits_of_one_field_from_one_version_apply_once(app, db, users, live_server, way):
    r = roadmap_room(app, db, users.a, lines=1)
    item = r.items[0]
    tokens = _phones(db, r, PHONES)
    csrf = _csrf(live_server)
    jobs = []
    for n, token in enumerate(tokens):
        key = f"same-{way}-{n:03d}"
        if way == "websocket":
            message = {"t": "rm_edit", "k": key, "a": r.activity_id, "i": item, "f": "title", "b": 0, "v": f"T{n}"}
            jobs.append(_ws_edit(live_server, r, token, message))
        else:
            jobs.append(_form_edit(live_server, r, token, csrf, _form_fields(r, item, "title", 0, f"T{n}", key)))
    acks = _race(jobs)
    applied = [a for a in acks if a and a.get("applied")]
    conflicts = [a for a in acks if a and a.get("conflict")]
    assert (len(applied), len(conflicts)) == (1, PHONES - 1), acks
    winner = applied[0]["value"]
    assert all(c["current"] == winner and c["version"] == 1 for c in conflicts)
    db.expire_all()
    stored = db.get(RoadmapItem, item)
    assert stored.title == winner and stored.v_title == 1  # no silent overwrite
    edits = db.exec(select(RoadmapRevision).where(RoadmapRevision.item_id == item, RoadmapRevision.field == "title"))
    assert [e.new for e in edits.all()] == [winner]


@pytest.mark.parametrize("way", ["websocket", "form"])
def test_fifty_edits_of_fifty_fields_all_apply(app, db, users, live_server, way):
    r = roadmap_room(app, db, users.a, lines=5)
    assert len(r.items) == 5
    slots = [(item, field) for item in r.items for field in ITEM_FIELDS if field != "phase"]
    slots += [(item, "phase") for item in r.items][: PHONES - len(slots)]
    tokens = _phones(db, r, PHONES)
    csrf = _csrf(live_server)
    jobs = []
    for n, ((item, field), token) in enumerate(zip(slots, tokens, strict=True)):
        value = VALUES[field]
        value = {k: v.format(n=n) for k, v in value.items()} if isinstance(value, dict) else value
        value = value.format(n=n) if isinstance(value, str) else value
        if field == "phase":
            value = "assessment"
        key = f"many-{way}-{n:03d}"
        if way == "websocket":
            message = {"t": "rm_edit", "k": key, "a": r.activity_id, "i": item, "f": field, "b": 0, "v": value}
            jobs.append(_ws_edit(live_server, r, token, message))
        else:
            jobs.append(_form_edit(live_server, r, token, csrf, _form_fields(r, item, field, 0, value, key)))
    acks = _race(jobs)
    assert all(a and a.get("applied") for a in acks), [a for a in acks if not (a and a.get("applied"))]
