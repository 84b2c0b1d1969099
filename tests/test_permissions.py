"""Every route, for anonymous, facilitator A (owner), facilitator B (stranger) and an admin.

The routes are read from the app itself, so a new route without a row here fails.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from tests import factories
from tests.conftest import csrf_token

PUBLIC = {"home", "login_form", "login", "logout", "set_language", "healthz", "api_openapi"}
# A participant's token (cookie), not a login, opens these: see test_participant_routes.py.
PARTICIPANT = {
    "participant_card",
    "join_code",
    "join",
    "join_submit",
    "participant",
    "participant_answer",
    "participant_dots",
    "participant_rank",
    "participant_pair",
    "participant_rm_edit",
    "participant_rm_row",
    "participant_rm_commit",
    "participant_rm_withdraw",
    "participant_rm_comment",
    "participant_rm_plus",
}
# Any logged-in facilitator may use these: they touch only their own account or new chains.
# (The region view shows each facilitator only the chains they may see: tests/results.)
ANY_FACILITATOR = {
    "password_form",
    "password_change",
    "chain_list",
    "chain_new",
    "chain_create",
    "region_results",
    "api_chains",
}
ALLOWED = (200, 204, 303, 422)
ADMIN_ONLY_PREFIX = "/admin"
SAFE = {"GET", "HEAD"}


@pytest.fixture
def world(db, users):
    """A's chain with a workshop, plus the ids every route needs."""
    factories.reference_lists(db)
    chain = factories.chain(db, users.a)
    workshop = factories.workshop(db, users.a, chain)
    from server.models import Participant, ValueChainShare

    db.add(ValueChainShare(value_chain_id=chain.id, user_id=users.admin.id))
    from server.workshops.service import apply_template

    apply_template(db, chain, workshop, "roadmap")  # a roadmap activity, for its own controls
    participant = Participant(workshop_id=workshop.id, token_hash="0" * 64, name="Ana")
    db.add(participant)
    db.commit()
    from sqlmodel import select

    from server.models import StakeholderGroup, WorkArea
    from server.valuechains.library import ACTION_LINES, GAPS, items_of
    from server.valuechains.service import segments_of
    from server.workshops.service import agenda_of
    from tests.route_world import roadmap_values

    return {
        **roadmap_values(db, users, chain),  # a roadmap item, its revision, row, comment, commitment
        "chain_id": chain.id,
        "workshop_id": workshop.id,
        "segment_id": segments_of(db, chain)[0].id,
        "item_id": items_of(db, chain, GAPS)[0].id,
        "kind": "gaps",
        "activity_kind": "gap_rating",
        "activity_id": agenda_of(db, workshop)[0].id,
        "user_id": users.admin.id,
        "group_id": db.exec(select(StakeholderGroup)).first().id,
        "area_id": db.exec(select(WorkArea)).first().id,
        "action": "down",
        "control": "reveal",
        "state": "lock",
        "screen": "show",
        "participant_id": participant.id,
        "direction": "down",
        "code": "en",
        "_action_line_id": items_of(db, chain, ACTION_LINES)[0].id,
        "page": "history",
        "_roadmap_id": next(a.id for a in agenda_of(db, workshop) if a.kind == "roadmap"),
    }


def _all_routes():
    """(method, path, name) of every HTTP route of the app, read from the app itself."""
    from server.app import create_app
    from server.config import Settings

    app = create_app(Settings(database_url="sqlite://", secret_key="x" * 40, _env_file=None))
    found = []

    def walk(routes):
        for route in routes:
            if hasattr(route, "original_router"):  # an included router (FastAPI >= 0.12x)
                walk(route.original_router.routes)
            elif isinstance(route, APIRoute) and route.name not in PUBLIC | PARTICIPANT:
                found.extend((method, route.path, route.name) for method in sorted(route.methods))

    walk(app.routes)
    app.state.db.dispose()
    return found


ROUTES = _all_routes()


def _url(path, values):
    def fill(match):
        name = match.group(1).split(":")[0]
        if name not in values:
            pytest.fail(f"test_permissions has no value for {{{name}}} in {path}")
        return str(values[name])

    return re.sub(r"\{([^}]+)\}", fill, path)


def _call(client, method, url, token):
    if method in SAFE:
        return client.request(method, url, follow_redirects=False)
    return client.request(method, url, data={"csrf_token": token}, follow_redirects=False)


@pytest.mark.parametrize(("method", "path", "name"), ROUTES, ids=[f"{m} {n}" for m, _, n in ROUTES])
def test_route_checks_who_may_use_it(method, path, name, world, client, client_a, client_b, client_admin, app, users):
    if name in ("live_kind_control", "activity_kind_page"):  # the roadmap's own controls and page
        world = {**world, "activity_id": world["_roadmap_id"], "control": "lock"}
    if "{job_id}" in path:  # an export job of facilitator A's, of that workshop or chain
        from tests.route_world import export_job

        what = "workshop" if name.startswith("workshop_") else "chain"
        subject = world["workshop_id" if what == "workshop" else "chain_id"]
        world = {**world, "job_id": export_job(app.state.settings, users.a, what, subject)}
    url = _url(path, world)
    admin_only = path.startswith(ADMIN_ONLY_PREFIX)

    response = _call(client, method, url, csrf_token(client))
    assert response.status_code == 303 and "/login" in response.headers["location"], response.status_code

    response = _call(client_b, method, url, client_b.csrf)
    if name in ANY_FACILITATOR:
        assert response.status_code in ALLOWED, response.status_code
    else:
        assert response.status_code == (403 if admin_only else 404), response.status_code

    owner = client_admin if admin_only else client_a
    response = _call(owner, method, url, owner.csrf)
    assert response.status_code in ALLOWED, response.status_code


def test_every_route_is_covered():
    assert len(ROUTES) > 20


def test_admin_sees_every_chain(client_admin, world):
    assert client_admin.get(f"/chains/{world['chain_id']}").status_code == 200


def test_shared_chain_is_visible_and_editable_by_the_facilitator_it_is_shared_with(client_a, client_b, users, world):
    chain = world["chain_id"]
    assert client_b.get(f"/chains/{chain}").status_code == 404
    response = client_a.post(
        f"/chains/{chain}/shares", data={"email": users.b.email, "csrf_token": client_a.csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    assert client_b.get(f"/chains/{chain}").status_code == 200
    assert client_b.get(f"/workshops/{world['workshop_id']}").status_code == 200
    # B may edit, but only the owner may share further.
    response = client_b.post(f"/chains/{chain}/shares", data={"email": users.admin.email, "csrf_token": client_b.csrf})
    assert response.status_code == 403
    client_a.post(f"/chains/{chain}/shares/{users.b.id}/delete", data={"csrf_token": client_a.csrf})
    assert client_b.get(f"/chains/{chain}").status_code == 404


def test_post_without_csrf_token_is_refused_and_changes_nothing(client_a, db):
    response = client_a.post("/chains/new", data={"name": "Cacao"})
    assert response.status_code == 403
    response = client_a.post("/chains/new", data={"name": "Cacao", "csrf_token": "0" * 64})
    assert response.status_code == 403
    from sqlmodel import select

    from server.models import ValueChain

    assert db.exec(select(ValueChain)).all() == []


def test_htmx_post_sends_the_token_as_a_header(client_a, db):
    response = client_a.post(
        "/chains/new", data={"name": "Cacao"}, headers={"X-CSRF-Token": client_a.csrf, "HX-Request": "true"}
    )
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("http")


def test_post_from_another_site_is_refused(client_a):
    response = client_a.post(
        "/chains/new", data={"name": "Cacao", "csrf_token": client_a.csrf}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
