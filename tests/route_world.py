"""A small world in which every route of the app can be called, and the routes themselves.

Facilitator A owns a chain with two workshops; facilitator B has no access; an admin;
participant 1 joined workshop 1, participant 2 joined workshop 2. Routes are read from
the app (``http_routes``, ``ws_routes``), so the tests that use them cover a new route
without being told of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from sqlmodel import select

from server.activities.roadmap import social
from server.activities.roadmap.items import items_of_activity
from server.activities.roadmap.service import AsParticipant
from server.db import transaction
from server.models import Activity, StakeholderGroup, User, ValueChain, ValueChainShare, WorkArea, Workshop
from server.valuechains.library import ACTION_LINES, GAPS, items_of
from server.valuechains.service import segments_of
from server.workshops import live
from server.workshops.participants import cookie_name, do_join
from server.workshops.service import agenda_of, apply_template
from tests import factories
from tests.conftest import give_csrf, signed_in

# The roadmap's websocket messages (its writes and its one signal).
ROADMAP_MESSAGES = ("rm_edit", "rm_row", "rm_commit", "rm_withdraw", "rm_comment", "rm_plus", "rm_focus")

ROLES = ("anonymous", "participant_1", "participant_2", "facilitator_a", "facilitator_b", "admin")


@dataclass
class World:
    values: dict  # path parameter -> value, for workshop 1 and its chain
    per_role: dict  # role -> {parameter: value}, where a role's call uses up the default one
    code: str  # workshop 1's join code
    workshop_2: int
    tokens: dict  # participant role -> its cookie token
    activities: dict  # kind of phone message -> an activity of workshop 1 it fits
    rank_order: list  # the action lines, as a full ranking ballot
    own_activity: dict  # workshop -> an activity of it that no test opens
    roadmap: int = 0  # workshop 1's roadmap activity
    participant_1: int = 0  # participant 1's id


def build(db, users) -> World:
    factories.reference_lists(db)
    chain = factories.chain(db, users.a)
    w1 = factories.workshop(db, users.a, chain, template="prioritization")
    apply_template(db, chain, w1, "diagnosis")
    apply_template(db, chain, w1, "prioritization")
    w2 = factories.workshop(db, users.a, chain, title="Otro taller")
    other = factories.user(db, "c@example.org", "Facilitator C")
    db.add(ValueChainShare(value_chain_id=chain.id, user_id=other.id))
    db.add(ValueChainShare(value_chain_id=chain.id, user_id=users.admin.id))
    segments = segments_of(db, chain)
    group = db.exec(select(StakeholderGroup)).first()
    joined = {"name": "Ana", "organization": "", "stakeholder_group_id": str(group.id), "segment_id": ""}
    joined["segment_id"] = str(segments[0].id)
    p1, token_1 = do_join(db, w1, joined)
    _p2, token_2 = do_join(db, w2, joined)
    removable = [do_join(db, w1, joined)[0] for _ in range(2)]
    # Workshop 1's agenda: dots, ranking, rating, dots, ranking (made pairwise).
    apply_template(db, chain, w1, "roadmap")  # a ranking and a roadmap at the end
    agenda = agenda_of(db, w1)
    agenda[4].settings = {**agenda[4].settings, "mode": "pairwise"}
    db.add(agenda[4])
    db.commit()
    lines = [line.id for line in items_of(db, chain, ACTION_LINES)]
    roadmap = roadmap_values(db, users, chain)
    values = {
        "chain_id": chain.id,
        "workshop_id": w1.id,
        "segment_id": segments[0].id,
        "item_id": items_of(db, chain, GAPS)[0].id,
        "kind": "gaps",
        "activity_kind": "gap_rating",
        "activity_id": agenda[0].id,
        "user_id": other.id,
        "group_id": group.id,
        "area_id": db.exec(select(WorkArea)).first().id,
        "action": "down",
        "control": "reveal",
        "state": "lock",
        "screen": "show",
        "participant_id": removable[0].id,
        "direction": "down",
        "audience": "projector",
        **roadmap,
        "_action_line_id": lines[0],
        "_action_line_2_id": lines[1],
    }
    # A second allowed caller of a route that deletes what it names needs its own.
    per_role = {"admin": {"segment_id": segments[1].id, "user_id": users.admin.id, "participant_id": removable[1].id}}
    activities = {"dots": agenda[0].id, "rank": agenda[1].id, "answer": agenda[2].id, "pair": agenda[4].id}
    tokens = {"participant_1": token_1, "participant_2": token_2}
    # An activity of each workshop that the tests leave alone.
    own = {w1.id: agenda[3].id, w2.id: agenda_of(db, w2)[0].id}
    roadmap = next(a.id for a in agenda if a.kind == "roadmap")
    for kind in ROADMAP_MESSAGES:
        activities[kind] = roadmap
    return World(values, per_role, w1.join_code, w2.id, tokens, activities, lines, own, roadmap, p1.id)


def roadmap_values(db, users, chain) -> dict:
    """A roadmap item of the chain with a revision to restore, a milestone, a comment and
    a commitment; the path values of the roadmap page's routes."""
    from server.activities.roadmap import service as roadmap
    from server.activities.roadmap import social
    from server.activities.roadmap.actors import as_facilitator
    from server.activities.roadmap.items import create_item
    from server.defaults import ensure_reference_lists
    from server.models import FundingSource, RoadmapPhase

    ensure_reference_lists(db)  # the roadmap's phases and funding sources (the other lists are there)
    actor = as_facilitator(db, users.a, chain.id)
    item = create_item(db, actor, {"title": "Centro de acopio"}).item_id
    restorable = roadmap.edit_field(db, actor, item, "title", 0, "Centro de acopio y secado").revision_id
    roadmap.edit_field(db, actor, item, "title", 1, "Centro de acopio regional")
    row = roadmap.add_row(db, actor, item, "milestone", {"text": "Local", "date": ""}).slot.split(":")[1]
    comment = social.comment(db, actor, item, "Falta el presupuesto").id
    commitment = social.commit(db, actor, item, "Cooperativa Valle", "lead").id
    db.commit()
    return {
        "rm_item_id": item,
        "field_name": "title",
        "row_kind": "milestone",
        "row_id": int(row),
        "revision_id": restorable,
        "comment_id": comment,
        "commitment_id": commitment,
        "target": "gap",
        "phase_id": db.exec(select(RoadmapPhase)).first().id,
        "source_id": db.exec(select(FundingSource)).first().id,
    }


@contextmanager
def client_for(app, world: World, users, role: str) -> Iterator[TestClient]:
    """A new client acting as ``role``, with its CSRF token as ``.csrf``."""
    with TestClient(app) as client:
        _become(client, world, users, role)
        yield client


def _become(client: TestClient, world: World, users, role: str) -> None:
    client.headers["Accept-Language"] = "en"
    if role in ("facilitator_a", "facilitator_b", "admin"):
        user = {"facilitator_a": users.a, "facilitator_b": users.b, "admin": users.admin}[role]
        client.csrf = signed_in(client.app, client, user.email)
    else:
        client.csrf = give_csrf(client.app, client)
    if role == "participant_1":
        client.cookies.set(cookie_name(world.values["workshop_id"]), world.tokens[role])
    elif role == "participant_2":
        client.cookies.set(cookie_name(world.workshop_2), world.tokens[role])


def _walk(routes):
    for route in routes:
        if hasattr(route, "original_router"):  # an included router (FastAPI >= 0.12x)
            yield from _walk(route.original_router.routes)
        else:
            yield route


def http_routes(app) -> list[tuple[str, str, str, APIRoute]]:
    """(method, path, name, route) of every HTTP route of the app."""
    found = []
    for route in _walk(app.routes):
        if isinstance(route, APIRoute):
            found.extend((method, route.path, route.name, route) for method in sorted(route.methods))
    return found


def ws_routes(app) -> list[APIWebSocketRoute]:
    return [route for route in _walk(app.routes) if isinstance(route, APIWebSocketRoute)]


def int_path_params(route) -> list[str]:
    """The path parameters a route declares as integers (ids)."""
    return [p.name for p in route.dependant.path_params if p.field_info.annotation is int]


def route_values(world: World, name: str, role: str | None = None) -> dict:
    values = {**world.values, **world.per_role.get(role or "", {})}
    values["code"] = world.code if name in ("join", "join_submit") else "en"
    if name in ("live_kind_control", "activity_kind_page"):  # the roadmap's own controls and page
        values.update(activity_id=world.roadmap, control="lock", page="history")
    values["part"] = f"item-{world.values.get('_rm_item', 1)}"  # a phone's roadmap card
    values.setdefault("job_id", "no-such-job")  # an export's (export_job_values makes a real one)
    return values


def export_job(settings, user, what: str, subject_id: int, product: str = "json") -> str:
    """A finished export job of ``user`` (its folder written as the worker leaves it)."""
    from server.exports import jobs

    job_id, folder = jobs.create(
        settings,
        user_id=user.id,
        what=what,
        subject_id=subject_id,
        product=product,
        filename=f"minka-test.{product}",
        media_type="application/json",
    )
    (folder / jobs.FILE).write_text("{}")
    jobs.write_status(folder, state=jobs.DONE, sha256="0" * 64)
    return job_id


def export_job_values(app, world: World, users, name: str, role: str) -> dict:
    """For an export job's routes: a job of the role's own for an admin, facilitator A's
    for everyone else (facilitator B names a job that is not theirs, of a chain they may not see)."""
    what = "workshop" if name.startswith("workshop_") else "chain"
    subject = world.values["workshop_id" if what == "workshop" else "chain_id"]
    user = users.admin if role == "admin" else users.a
    return {"job_id": export_job(app.state.settings, user, what, subject)}


def fill(path: str, values: dict) -> str:
    def one(match):
        param = match.group(1).split(":")[0]
        if param not in values:
            raise AssertionError(f"route_world has no value for {{{param}}} in {path}")
        return str(values[param])

    return re.sub(r"\{([^}]+)\}", one, path)


def open_activity(app, world: World, kind: str) -> int:
    """Open workshop 1's activity for a kind of phone message (answer, dots, rank, pair,
    rm_*). The roadmap opens as from the console (its items brought in); its first item is
    ``values["_rm_item"]`` and a commitment participant 1 made to it ``values["_rm_commitment"]``."""
    activity_id = world.activities[kind]
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        workshop = session.get(Workshop, world.values["workshop_id"])
        if kind not in ROADMAP_MESSAGES:
            live.do_open(session, workshop, session.get(Activity, activity_id))
            return activity_id
        roadmap = app.state.registry["roadmap"]
        owner = session.get(User, session.get(ValueChain, workshop.value_chain_id).owner_id)
        live.do_open(session, workshop, session.get(Activity, activity_id), lambda a: roadmap.opened(session, a, owner))
    with transaction(app.state.db.writer) as session:
        item = items_of_activity(session, activity_id)[0]
        made = social.commit(
            session, AsParticipant(world.participant_1, activity_id), item, "Coop", "partner", key="world-c-1"
        )
        world.values["_rm_item"], world.values["_rm_commitment"] = item, made.id
    return activity_id
