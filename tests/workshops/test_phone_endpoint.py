"""A phone's socket goes from the door straight to its handler (``phone_endpoint``), past
the application's middleware and routing; a path the route would refuse is left to it."""

from __future__ import annotations

from typing import Annotated

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError

from server.activities.values import MAX_ID
from server.models import Activity
from server.realtime.admission import Doorman, PhoneDoor
from server.workshops import ws as ws_module
from server.workshops.participants import activity_brief
from server.workshops.ws import PHONE_PREFIX, _phone_path_id
from tests.live_helpers import join, room, run_async

ROUTE_ID = TypeAdapter(Annotated[int, Field(ge=1, le=MAX_ID)])  # what the route's ``Id`` takes


def _route_takes(text: str) -> int | None:
    try:
        return ROUTE_ID.validate_python(text)
    except ValidationError:
        return None


@given(st.one_of(st.text(max_size=25), st.integers(min_value=-5, max_value=MAX_ID + 5).map(str)))
def test_the_endpoint_takes_only_ids_the_route_takes(text):
    taken = _phone_path_id(PHONE_PREFIX + text)
    if taken is not None:
        assert _route_takes(text) == taken


def test_paths_the_endpoint_leaves_to_the_route():
    for rest in ("0", "-1", str(MAX_ID + 1), "abc", "1/x", "٣", "²", " 1", "", "1" * 20):
        assert _phone_path_id(PHONE_PREFIX + rest) is None, rest
    assert [_phone_path_id(PHONE_PREFIX + rest) for rest in ("1", "007", str(MAX_ID))] == [1, 7, MAX_ID]


class _App:
    def __init__(self):
        self.calls = 0

    async def __call__(self, scope, receive, send):
        self.calls += 1


def _door_with(answer: bool):
    app, seen = _App(), []

    async def endpoint(scope, receive, send):
        seen.append(scope["path"])
        return answer

    door = PhoneDoor(app, "/ws/p/", endpoint=endpoint)

    class State:
        doorman = Doorman(100)

    class Host:
        state = State()

    scope = {"type": "websocket", "path": "/ws/p/3", "app": Host()}
    run_async(door(scope, None, None))  # in a thread: Playwright's loop may be running here
    return app.calls, seen


def test_the_door_hands_a_phone_to_the_endpoint_and_the_rest_to_the_app():
    assert _door_with(True) == (0, ["/ws/p/3"])
    assert _door_with(False) == (1, ["/ws/p/3"])


def test_a_phone_socket_skips_the_routing(app, db, users, monkeypatch):
    r = room(app, db, users.a)
    scopes = []
    handler = ws_module.participant_socket

    async def spy(ws, workshop_id):
        scopes.append(dict(ws.scope))
        await handler(ws, workshop_id)

    monkeypatch.setattr(ws_module, "participant_socket", spy)
    with TestClient(app) as phone:
        join(phone, r)
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as socket:
            socket.send_json({"t": "hello", "a": r.activity_id})
            assert socket.receive_json()["t"] == "html"  # the stage, as every phone gets it
    assert len(scopes) == 1
    assert "path_params" not in scopes[0] and "route" not in scopes[0]  # no router was on its way


def test_a_hello_reads_the_activity_brief_as_stored(app, db, users):
    """``activity_brief``: the raw read behind a phone's own answers, JSON settings parsed
    on both databases."""
    r = room(app, db, users.a, dot_budget=7)
    brief = activity_brief(db, r.activity_id)
    stored = db.get(Activity, r.activity_id)
    assert (brief.id, brief.workshop_id, brief.kind, brief.settings) == (
        stored.id,
        stored.workshop_id,
        stored.kind,
        stored.settings,
    )
    assert brief.settings["dot_budget"] == 7
    assert activity_brief(db, r.activity_id + 1000) is None
