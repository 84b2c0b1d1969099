"""Ids out of range, in a path or in a form, name nothing: 404 or a clear 422, never a 500.

Issue 8, item 6: ids over 2**63 overflowed the database's integer (a 500 in 51 paths,
several of them anonymous, and 6 form fields). Every route is read from the app, so a
new route with an id in its path is covered without being named here.
"""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from server.activities.ranking.service import apply_draft_op
from server.app import create_app
from server.config import Settings
from tests import route_world
from tests.route_world import client_for, fill, route_values
from tests.workshops.test_ws import Reader, send

BAD_IDS = (2**63, 2**64, 2**31, -1, 0)  # 2**31: over PostgreSQL's INTEGER, which the id columns are
BAD_FORM_IDS = (*BAD_IDS, "²", "1e3", "0x1f", "١")  # "²".isdigit() is true, int("²") fails


def _app_routes():
    app = create_app(Settings(database_url="sqlite://", secret_key="x" * 40, _env_file=None))
    http = [(m, p, n) for m, p, n, r in route_world.http_routes(app) if route_world.int_path_params(r)]
    ws = [(r.path, r.name) for r in route_world.ws_routes(app) if route_world.int_path_params(r)]
    routes = [r for *_, r in route_world.http_routes(app)] + route_world.ws_routes(app)
    params = {r.name: route_world.int_path_params(r) for r in routes}
    app.state.db.dispose()
    return http, ws, params


HTTP, WS, PARAMS = _app_routes()


def _owner(path: str) -> str:
    """The role that may use a route: the one whose request reaches the deepest code."""
    if path.startswith("/admin"):
        return "admin"
    if path.startswith(("/p/", "/ws/p/")):
        return "participant_1"
    return "facilitator_a"


@pytest.fixture
def world(db, users):
    return route_world.build(db, users)


def test_the_routes_with_ids_are_found():
    assert len(HTTP) > 40 and len(WS) == 2


@pytest.mark.parametrize(("method", "path", "name"), HTTP, ids=[f"{m} {n}" for m, _, n in HTTP])
def test_an_id_out_of_range_in_a_path_is_not_found(app, client, users, world, method, path, name):
    for role in ("anonymous", _owner(path)):
        with client_for(app, world, users, role) as c:
            for param in PARAMS[name]:
                for bad in BAD_IDS:
                    url = fill(path, {**route_values(world, name), param: bad})
                    data = None if method == "GET" else {"csrf_token": c.csrf}
                    response = c.request(method, url, data=data, follow_redirects=False)
                    if role == "anonymous" and response.status_code == 303:
                        assert "/login" in response.headers["location"], (role, url)
                    else:
                        assert response.status_code == 404, (role, url, response.status_code)


@pytest.mark.parametrize(("path", "name"), WS, ids=[n for _, n in WS])
def test_an_id_out_of_range_in_a_websocket_path_is_refused(app, client, users, world, path, name):
    for role in ("anonymous", _owner(path)):
        with client_for(app, world, users, role) as c:
            for param in PARAMS[name]:
                for bad in BAD_IDS:
                    url = fill(path, {**route_values(world, name), param: bad})
                    with pytest.raises(WebSocketDisconnect) as refused, c.websocket_connect(url):
                        pass
                    assert refused.value.code == 4401, (role, url)


# (route name, path values, other fields of a valid form, the id field under test)
FORMS = [
    ("library_add", {"kind": "action-lines"}, {"title": "Nueva línea"}, "work_area_id"),
    ("library_update", {"kind": "action-lines", "item_id": "_action_line_id"}, {"title": "Línea 1"}, "work_area_id"),
    ("activity_create", {}, {"kind": "ranking", "title": "Otra", "mode": "full"}, "items"),
    ("activity_update", {"activity_id": "rank"}, {"title": "Otra", "mode": "full"}, "items"),
    ("join_submit", {}, {"name": "Eva", "segment_id": "segment_id"}, "stakeholder_group_id"),
    ("join_submit", {}, {"name": "Eva", "stakeholder_group_id": "group_id"}, "segment_id"),
    ("participant_answer", {}, {"gap": "gap", "seriousness": "3", "key": "k-000001"}, "activity"),
    ("participant_answer", {}, {"activity": "answer", "seriousness": "3", "key": "k-000002"}, "gap"),
    (
        "participant_answer",
        {},
        {"activity": "answer", "gap": "gap", "segments_asked": "1", "key": "k-000003"},
        "segments",
    ),
    ("participant_dots", {}, {"gap": "gap", "dots": "1", "key": "k-000004"}, "activity"),
    ("participant_dots", {}, {"activity": "dots", "dots": "1", "key": "k-000005"}, "gap"),
    ("participant_rank", {}, {"order": "", "key": "k-000006"}, "activity"),
    ("participant_rank", {}, {"activity": "rank", "key": "k-000007"}, "order"),
    ("participant_pair", {}, {"a": "line", "b": "line2", "choice": "a", "key": "k-000011"}, "activity"),
    ("participant_pair", {}, {"b": "line", "choice": "a", "key": "k-000008"}, "a"),
    ("participant_pair", {}, {"activity": "pair", "a": "line", "choice": "a", "key": "k-000009"}, "b"),
]


def _form_value(world, value):
    """A placeholder in FORMS replaced by an id of the world."""
    named = {
        **world.values,
        **world.activities,
        "gap": world.values["item_id"],
        "line": world.values["_action_line_id"],
        "line2": world.values["_action_line_2_id"],
    }
    return named.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize(("name", "in_path", "fields", "field"), FORMS, ids=[f"{n} {f}" for n, _, _, f in FORMS])
def test_an_id_out_of_range_in_a_form_is_refused_clearly(app, client, users, world, name, in_path, fields, field):
    path = next(p for m, p, n in HTTP + [(m, p, n) for m, p, n, _ in route_world.http_routes(app)] if n == name)
    values = {**route_values(world, name), **{k: _form_value(world, v) for k, v in in_path.items()}}
    role = _owner(path) if name != "join_submit" else "anonymous"
    kind = name.removeprefix("participant_")
    if kind in world.activities:
        route_world.open_activity(app, world, kind)
    with client_for(app, world, users, role) as c:
        for bad in BAD_FORM_IDS:
            data = {**{k: _form_value(world, v) for k, v in fields.items()}, field: str(bad), "csrf_token": c.csrf}
            response = c.post(fill(path, values), data=data, follow_redirects=False)
            if name.startswith("participant_"):  # back to the page, the refusal on its card
                assert response.status_code == 303, (field, bad, response.status_code)
                assert "minka_refused=" in response.headers.get("set-cookie", ""), (field, bad)
                continue
            assert response.status_code == 422, (field, bad, response.status_code)
            assert "Choose" in response.text, response.text


def test_a_draft_ranking_step_naming_no_id_changes_nothing():
    for bad in BAD_FORM_IDS:
        assert apply_draft_op([1, 2], f"in:{bad}") == [1, 2]
        assert apply_draft_op([1, 2], f"out:{bad}") == [1, 2]


def test_an_id_out_of_range_in_a_phone_message_is_refused(app, client, users, world):
    """Over the websocket too (2**31 overflowed PostgreSQL's INTEGER inside the writer)."""
    activity, gap = route_world.open_activity(app, world, "answer"), world.values["item_id"]
    with client_for(app, world, users, "participant_1") as c:
        with c.websocket_connect(f"/ws/p/{world.values['workshop_id']}") as ws:
            reader = Reader(ws)
            for n, bad in enumerate(BAD_IDS):
                send(ws, t="mine", a=bad)
                for field in ("a", "g"):
                    message = {"t": "answer", "k": f"key-{n:04d}-{field}", "a": activity, "g": gap, "q": "seriousness"}
                    send(ws, **{**message, "v": 3, field: bad})
                    ack = reader.until(lambda m: m["t"] in ("ack", "closed"))
                    assert ack.get("error") == "Choose one of the options.", (bad, field, ack)
            send(ws, t="answer", k="key-honest", a=activity, g=gap, q="seriousness", v=3)
            assert reader.until(lambda m: m["t"] in ("ack", "closed"))["ok"] is True
