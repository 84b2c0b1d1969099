"""Who may use what: every route and every websocket message, for six roles, in one table.

The roles: anonymous; participant 1 (joined workshop 1); participant 2 (joined workshop 2,
of the same chain); facilitator A (owns the chain); facilitator B (no access); an admin.
Every call names workshop 1 and its chain. The routes are read from the app: a route
without a row here fails ``test_every_route_has_a_row``, so a new route cannot go
unchecked. Whoever may not use a route learns nothing from its answer (404 like a missing
id, 403 for admin pages, or the login page); in particular no answer carries workshop 1's
join code.

Issue 8, item 2: a request under ``/p/{workshop_id}`` without that workshop's participant
cookie answers 404, like a workshop that does not exist (it used to redirect to
``/join/<code>``, giving the code away). Those rows are ``PHONE``.
"""

from __future__ import annotations

import contextlib
import queue

import pytest
from starlette.websockets import WebSocketDisconnect

from server.app import create_app
from server.config import Settings
from server.exports.service import PRODUCTS
from tests import route_world
from tests.route_world import ROLES, client_for, fill, open_activity, route_values
from tests.workshops.test_ws import Reader, send

# What a role gets from a route.
OK = "ok"  # served: 200, 204, 422 (a form's own errors), or a 303 that is not to login
LOGIN = "login"  # 303 to the login page
NF = "404"  # not found: as for an id that does not exist
FB = "403"  # forbidden: a logged-in facilitator on an admin page

#            anonymous participant_1 participant_2 facilitator_a facilitator_b admin
PUBLIC = (OK, OK, OK, OK, OK, OK)
PHONE = (NF, OK, NF, NF, NF, NF)  # issue 8 item 2: 404 without this workshop's cookie
ANY_FACILITATOR = (LOGIN, LOGIN, LOGIN, OK, OK, OK)  # their own account, a new chain
CHAIN = (LOGIN, LOGIN, LOGIN, OK, NF, OK)  # the chain, its workshops and live controls
ADMIN = (LOGIN, LOGIN, LOGIN, FB, FB, OK)

ROUTES = {
    "home": PUBLIC,
    "login_form": PUBLIC,
    "login": PUBLIC,
    "logout": PUBLIC,
    "set_language": PUBLIC,
    "healthz": PUBLIC,
    "password_form": ANY_FACILITATOR,
    "password_change": ANY_FACILITATOR,
    "chain_list": ANY_FACILITATOR,
    "chain_new": ANY_FACILITATOR,
    "chain_create": ANY_FACILITATOR,
    "chain_detail": CHAIN,
    "chain_edit": CHAIN,
    "chain_update": CHAIN,
    "segment_add": CHAIN,
    "segment_rename": CHAIN,
    "segment_move": CHAIN,
    "segment_delete": CHAIN,
    "chain_share": CHAIN,  # the owner (and admins) only; B does not see the chain at all
    "chain_unshare": CHAIN,
    "library": CHAIN,
    "library_add": CHAIN,
    "library_edit": CHAIN,
    "library_update": CHAIN,
    "library_action": CHAIN,
    # Issue 12: the chain's roadmap page, outside a workshop (who sees the chain edits it).
    "roadmap": CHAIN,
    "roadmap_item_new": CHAIN,
    "roadmap_item_create": CHAIN,
    "roadmap_item": CHAIN,
    "roadmap_field_edit": CHAIN,
    "roadmap_field_update": CHAIN,
    "roadmap_row_add": CHAIN,
    "roadmap_row_update": CHAIN,
    "roadmap_restore": CHAIN,
    "roadmap_lock": CHAIN,
    "roadmap_comment_hide": CHAIN,
    "roadmap_comment": CHAIN,
    "roadmap_link": CHAIN,
    "roadmap_commit": CHAIN,
    "roadmap_withdraw": CHAIN,
    "workshop_new": CHAIN,
    "workshop_create": CHAIN,
    "workshop_detail": CHAIN,
    "workshop_edit": CHAIN,
    "workshop_update": CHAIN,
    "workshop_new_code": CHAIN,
    "workshop_qr": CHAIN,
    "activity_new": CHAIN,
    "activity_create": CHAIN,
    "activity_edit": CHAIN,
    "activity_update": CHAIN,
    "activity_action": CHAIN,
    "console": CHAIN,
    "projector": CHAIN,
    "live_activity": CHAIN,
    "live_projector": CHAIN,
    "live_kind_control": CHAIN,  # issue 12: the roadmap's locks, comments, suggestions, restore
    "activity_kind_page": CHAIN,  # issue 12: a roadmap item's history  # issue 11: results on the projector before phones
    "live_next": CHAIN,
    "live_joining": CHAIN,
    "live_remove": CHAIN,
    "workshop_end": CHAIN,  # issue 11: end of the workshop, results per activity, attendance
    "activity_results": CHAIN,
    "workshop_attendance": CHAIN,
    "api_activity_results": CHAIN,
    # issue 13: results across the chain follow who may see the chain
    "chain_results": CHAIN,
    "api_chain_results": CHAIN,
    "chain_item_history": CHAIN,
    "api_chain_item_history": CHAIN,
    "region_results": ANY_FACILITATOR,  # only the chains each one may see
    # Issue 14: exports of a workshop and of a chain need the chain; the log is for admins.
    **{f"{scope}_export_{product}": CHAIN for scope in ("workshop", "chain") for product in PRODUCTS},
    "admin_export_log": ADMIN,
    # An export through a job (the page's buttons): its progress and file need the chain
    # and the job to be the user's own (tests/exports/test_jobs.py: a job id opens nothing).
    **{f"{scope}_export_{route}": CHAIN for scope in ("workshop", "chain") for route in ("start", "job", "file")},
    # Issue 14: a full-data JSON import makes a chain for any account: admins only.
    "admin_import_form": ADMIN,
    "admin_import_preview": ADMIN,
    "admin_import_confirm": ADMIN,
    "api_chains": ANY_FACILITATOR,
    "api_chain": CHAIN,
    "api_workshop": CHAIN,
    "api_openapi": PUBLIC,  # the description of the API, no data
    "library_import_form": CHAIN,
    "library_import_preview": CHAIN,
    "library_import_confirm": CHAIN,
    # Joining is public by design: the code is the secret (and rate-limited).
    "join_code": PUBLIC,
    "join": PUBLIC,
    "join_submit": PUBLIC,
    "participant": PHONE,
    "participant_card": PHONE,  # a roadmap item's whole card, fetched when the phone opens it
    "participant_answer": PHONE,
    "participant_dots": PHONE,
    "participant_rank": PHONE,
    "participant_pair": PHONE,
    "participant_rm_edit": PHONE,
    "participant_rm_row": PHONE,
    "participant_rm_commit": PHONE,
    "participant_rm_withdraw": PHONE,
    "participant_rm_comment": PHONE,
    "participant_rm_plus": PHONE,
    "admin_users": ADMIN,
    "admin_user_new": ADMIN,
    "admin_user_create": ADMIN,
    "admin_user_edit": ADMIN,
    "admin_user_update": ADMIN,
    "admin_groups": ADMIN,
    "admin_group_add": ADMIN,
    "admin_group_edit": ADMIN,
    "admin_group_update": ADMIN,
    "admin_group_action": ADMIN,
    "admin_work_areas": ADMIN,
    "admin_work_area_add": ADMIN,
    "admin_work_area_edit": ADMIN,
    "admin_work_area_update": ADMIN,
    "admin_work_area_action": ADMIN,
    "admin_phases": ADMIN,
    "admin_phase_add": ADMIN,
    "admin_phase_edit": ADMIN,
    "admin_phase_update": ADMIN,
    "admin_phase_action": ADMIN,
    "admin_funding_sources": ADMIN,
    "admin_funding_source_add": ADMIN,
    "admin_funding_source_edit": ADMIN,
    "admin_funding_source_update": ADMIN,
    "admin_funding_source_action": ADMIN,
}

# Websockets: accepted, or closed with this code before anything is sent.
OPEN = "open"
PHONE_SOCKET = (4401, OPEN, 4401, 4401, 4401, 4401)  # participant 2 asks for workshop 1's feed
SCREEN_SOCKET = (4401, 4401, 4401, OPEN, 4401, OPEN)
SOCKETS = {
    ("participant_socket", ""): PHONE_SOCKET,
    ("screen_socket", "projector"): SCREEN_SOCKET,
    ("screen_socket", "console"): SCREEN_SOCKET,
}

# Phone messages about workshop 1, sent by each role over the phone socket it can open:
# participant 1 on workshop 1's, participant 2 on its own workshop's (workshop 1's refuses it).
DONE = "done"  # acknowledged and stored / answered with workshop 1's data
REFUSED = "refused"  # an ack with ok false, or no answer at all: nothing of workshop 1
NO_SOCKET = 4401
#                anonymous  participant_1 participant_2 facilitator_a facilitator_b admin
PHONE_MESSAGE = (NO_SOCKET, DONE, REFUSED, NO_SOCKET, NO_SOCKET, NO_SOCKET)
MESSAGES = {kind: PHONE_MESSAGE for kind in ("hello", "mine", "answer", "dots", "rank", "pair")}
# The roadmap's writes (workshop 1's roadmap, opened from the console): participant 2 names
# workshop 1's activity and item over its own workshop's socket and is refused.
MESSAGES.update({kind: PHONE_MESSAGE for kind in ("rm_edit", "rm_row", "rm_commit", "rm_withdraw", "rm_comment")})
MESSAGES["rm_plus"] = PHONE_MESSAGE
# "Editing this field now" (rm_focus) is written nowhere and acknowledged to no one: shown
# to workshop 1's phones when participant 1 sends it, never when participant 2 does.
SHOWN, UNSEEN = "shown", "unseen"
FOCUS_MESSAGE = (NO_SOCKET, SHOWN, UNSEEN, NO_SOCKET, NO_SOCKET, NO_SOCKET)
# Screens only listen: whatever a message says, it is ignored and the feed goes on.
IGNORED = "ignored"
SCREEN_MESSAGE = (NO_SOCKET, NO_SOCKET, NO_SOCKET, IGNORED, NO_SOCKET, IGNORED)


def _app_routes():
    app = create_app(Settings(database_url="sqlite://", secret_key="x" * 40, _env_file=None))
    http = [(m, p, n) for m, p, n, _r in route_world.http_routes(app)]
    ws = {r.name: r.path for r in route_world.ws_routes(app)}
    app.state.db.dispose()
    return http, ws


HTTP, WS = _app_routes()


@pytest.fixture
def world(db, users):
    return route_world.build(db, users)


def test_every_route_has_a_row():
    assert {n for _, _, n in HTTP} == set(ROUTES), "a route without a row (or a row without a route)"
    assert set(WS) == {name for name, _ in SOCKETS}


def _outcome(response) -> str:
    status, location = response.status_code, response.headers.get("location", "")
    if status == 303 and "/login" in location:
        return LOGIN
    if status in (200, 204, 422) or (status == 303 and "/join/" not in location):
        return OK
    return str(status)


def _order(expected: tuple) -> list[tuple[str, str]]:
    """The roles, those refused first: a refused call changes nothing the others need."""
    pairs = list(zip(ROLES, expected, strict=True))
    return sorted(pairs, key=lambda pair: pair[1] == OK)


@pytest.mark.parametrize(("method", "path", "name"), HTTP, ids=[f"{m} {n}" for m, _, n in HTTP])
def test_route_answers_each_role_as_the_table_says(app, client, users, world, method, path, name):
    failures = []
    if name == "participant_card":  # workshop 1's roadmap open, its items brought in
        open_activity(app, world, "rm_edit")
    for role, expected in _order(ROUTES[name]):
        with client_for(app, world, users, role) as c:
            values = route_values(world, name, role)
            if "{job_id}" in path:
                values.update(route_world.export_job_values(app, world, users, name, role))
            url = fill(path, values)
            data = None if method == "GET" else {"csrf_token": c.csrf}
            response = c.request(method, url, data=data, follow_redirects=False)
        got = _outcome(response)
        if got != expected:
            failures.append(f"{role}: expected {expected}, got {got} ({response.headers.get('location', '')})")
        elif expected != OK:
            leaked = world.code in response.text or world.code in response.headers.get("location", "")
            if leaked:
                failures.append(f"{role}: the answer carries the join code")
    assert not failures, f"{method} {path}: " + "; ".join(failures)


@pytest.mark.parametrize(("name", "audience"), list(SOCKETS), ids=[f"{n} {a}".strip() for n, a in SOCKETS])
def test_websocket_accepts_each_role_as_the_table_says(app, client, users, world, name, audience):
    url = fill(WS[name], {**world.values, "audience": audience})
    for role, expected in zip(ROLES, SOCKETS[(name, audience)], strict=True):
        with client_for(app, world, users, role) as c:
            if expected == OPEN:
                with c.websocket_connect(url):
                    pass
            else:
                with pytest.raises(WebSocketDisconnect) as refused, c.websocket_connect(url):
                    pass
                assert refused.value.code == expected, role


def _message(world, kind: str, activity_id: int, key: str) -> dict:
    gap, lines = world.values["item_id"], [world.values["_action_line_id"], world.values["_action_line_2_id"]]
    return {
        "hello": {"t": "hello", "a": activity_id},
        "mine": {"t": "mine", "a": activity_id},
        "answer": {"t": "answer", "k": key, "a": activity_id, "g": gap, "q": "seriousness", "v": 3},
        "dots": {"t": "dots", "k": key, "a": activity_id, "g": gap, "v": 1},
        "rank": {"t": "rank", "k": key, "a": activity_id, "order": world.rank_order},
        "pair": {"t": "pair", "k": key, "a": activity_id, "x": lines[0], "y": lines[1], "c": "a"},
        **_roadmap_message(world, activity_id, key),
    }[kind]


def _roadmap_message(world, activity_id: int, key: str) -> dict:
    item = world.values.get("_rm_item", 0)
    a = {"k": key, "a": activity_id}
    return {
        "rm_edit": {"t": "rm_edit", **a, "i": item, "f": "title", "b": 0, "v": f"Title {key}"},
        "rm_row": {"t": "rm_row", **a, "i": item, "r": "milestone", "v": {"text": "Pilot", "date": "2027-03-01"}},
        "rm_commit": {"t": "rm_commit", **a, "i": item, "org": "Coop", "role": "lead", "note": ""},
        "rm_withdraw": {"t": "rm_withdraw", **a, "c": world.values.get("_rm_commitment", 0), "note": ""},
        "rm_comment": {"t": "rm_comment", **a, "i": item, "text": "Good"},
        "rm_plus": {"t": "rm_plus", **a, "i": item, "on": True},
        "rm_focus": {"t": "rm_focus", "a": activity_id, "i": item, "f": "budget"},
    }


def _phone_answer(reader: Reader, own_activity: int) -> list[dict]:
    """What the phone got back for a message: everything up to the answer to a ``mine``
    about its own workshop, sent right after it (a phone's messages are answered in order)."""
    got = []
    while True:
        m = reader.until(lambda m: m["t"] in ("ack", "mine", "closed") or m.get("id") == "stage")
        if m["t"] == "mine" and m["a"] == own_activity:
            return got
        assert m["t"] != "closed", m
        got.append(m)


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_phone_message_is_answered_as_the_table_says(app, client, users, world, kind):
    activity_id = open_activity(app, world, "answer" if kind in ("hello", "mine") else kind)
    for role, expected in zip(ROLES, MESSAGES[kind], strict=True):
        workshop = world.workshop_2 if role == "participant_2" else world.values["workshop_id"]
        own = world.own_activity[workshop]
        with client_for(app, world, users, role) as c:
            if expected == NO_SOCKET:
                with pytest.raises(WebSocketDisconnect) as refused, c.websocket_connect(f"/ws/p/{workshop}"):
                    pass
                assert refused.value.code == NO_SOCKET, role
                continue
            with c.websocket_connect(f"/ws/p/{workshop}") as ws:
                reader = Reader(ws)
                ws.send_json(_message(world, kind, activity_id, f"key-{role}-{kind}"))
                send(ws, t="mine", a=own)
                got = _phone_answer(reader, own)
        about_workshop_1 = [
            m for m in got if m.get("a") == activity_id or f'data-activity="{activity_id}"' in m.get("html", "")
        ]
        acks = [m for m in got if m["t"] == "ack"]
        if expected == DONE:
            assert about_workshop_1 or any(a["ok"] for a in acks), (role, got)
            assert all(a["ok"] for a in acks), (role, acks)
        else:
            assert not about_workshop_1 or all(m["t"] == "ack" and not m["ok"] for m in about_workshop_1), (role, got)
            assert not any(a["ok"] for a in acks), (role, acks)


def test_roadmap_focus_is_shown_as_the_table_says(app, client, users, world):
    activity_id = open_activity(app, world, "rm_focus")
    item, workshop_1 = world.values["_rm_item"], world.values["workshop_id"]
    focus = _message(world, "rm_focus", activity_id, "")
    presence = app.state.registry["roadmap"].presence
    with (
        client_for(app, world, users, "participant_1") as watcher,
        watcher.websocket_connect(f"/ws/p/{workshop_1}") as w,
    ):
        room = Reader(w)
        send(w, t="hello", a=activity_id)
        room.until(lambda m: m["t"] == "mine")
        for role, expected in sorted(zip(ROLES, FOCUS_MESSAGE, strict=True), key=lambda pair: pair[1] == SHOWN):
            workshop = world.workshop_2 if role == "participant_2" else workshop_1
            with client_for(app, world, users, role) as c:
                if expected == NO_SOCKET:
                    with pytest.raises(WebSocketDisconnect) as refused, c.websocket_connect(f"/ws/p/{workshop}"):
                        pass
                    assert refused.value.code == NO_SOCKET, role
                    continue
                with c.websocket_connect(f"/ws/p/{workshop}") as ws:
                    ws.send_json(focus)
                    send(ws, t="mine", a=world.own_activity[workshop])
                    Reader(ws).until(lambda m: m["t"] == "mine")
                    if expected == SHOWN:
                        note = room.until(lambda m: m["t"] == "html" and m["id"] == f"rm-ed-{item}")
                        assert 'data-f="budget"' in note["html"] and "Ana" in note["html"], role
                    else:  # the watcher hears nothing of it, and workshop 1 has no one editing
                        app.state.hub.mark_dirty(workshop_1, "counts")
                        with contextlib.suppress(queue.Empty):
                            while True:
                                m = room.messages.get(timeout=0.5)
                                assert m.get("id") != f"rm-ed-{item}", (role, m)
                        assert presence.editing(workshop_1) == {}, role


@pytest.mark.parametrize("audience", ["projector", "console"])
def test_screens_ignore_every_message(app, client, users, world, audience):
    activity_id = open_activity(app, world, "answer")
    url = f"/ws/screen/{world.values['workshop_id']}/{audience}"
    for role, expected in zip(ROLES, SCREEN_MESSAGE, strict=True):
        with client_for(app, world, users, role) as c:
            if expected == NO_SOCKET:
                with pytest.raises(WebSocketDisconnect) as refused, c.websocket_connect(url):
                    pass
                assert refused.value.code == NO_SOCKET, role
                continue
            with c.websocket_connect(url) as ws:
                reader = Reader(ws)
                for kind in MESSAGES:
                    ws.send_json(_message(world, kind, activity_id, f"key-{kind}"))
                app.state.hub.mark_dirty(world.values["workshop_id"], "stage", "results", "counts")
                got = []
                with contextlib.suppress(queue.Empty):
                    while True:
                        got.append(reader.messages.get(timeout=1.0))
        # The feed went on, and nothing the messages asked for came back.
        assert got and all(m["t"] == "html" for m in got), (role, got)
