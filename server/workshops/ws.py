"""Websocket endpoints: one per phone, one per projector or console screen.

Each checks the Origin and who is connecting before accepting: a participant's cookie
for that workshop, or a facilitator's login with access to the workshop. Phones send
their answers here; every answer is acknowledged only after it is committed.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session

from server.activities.values import MAX_ID
from server.auth import csrf
from server.auth.deps import SESSION_COOKIE
from server.auth.service import access_login
from server.db import read_in_thread
from server.errors import Invalid, NotFound
from server.i18n import COOKIE as LANG_COOKIE
from server.i18n import Translator, pick_locale
from server.realtime.admission import TICKET
from server.realtime.hub import CONSOLE, PARTICIPANTS, PROJECTOR, Connection
from server.realtime.topics import Topic, version_of
from server.realtime.wire import raw_socket
from server.web import Id
from server.workshops import messages
from server.workshops.participants import activity_brief, cookie_name, phone_holder
from server.workshops.service import access_workshop

router = APIRouter()
log = logging.getLogger("minka.ws")

MESSAGES_PER_SECOND = 20
# How long the answers read as a phone connects stand for its hello's (seconds): a phone
# says hello at once; one that waits longer may have answered elsewhere meanwhile.
MINE_READ_AHEAD = 2.0
MAX_MESSAGE = messages.MAX_MESSAGE


def screen_language(ws: WebSocket) -> str:
    """The language this screen's pages are shown in (the language switch's cookie, else
    the browser's, else the installation's): everything it receives live comes in it."""
    return pick_locale(
        ws.cookies.get(LANG_COOKIE), ws.headers.get("accept-language"), ws.app.state.settings.default_locale
    )


def _origin_ok(ws: WebSocket) -> bool:
    settings = ws.app.state.settings
    return csrf.origin_ok(ws.headers.get("origin"), ws.headers.get("host"), settings.trusted_hosts)


PHONE_PREFIX = "/ws/p/"


def _phone_path_id(path: str) -> int | None:
    """The workshop id of ``/ws/p/<id>``, if it is one the route would take (``Id``)."""
    rest = path[len(PHONE_PREFIX) :]
    if not (rest.isascii() and rest.isdigit()) or len(rest) > 19:
        return None
    workshop_id = int(rest)
    return workshop_id if 1 <= workshop_id <= MAX_ID else None


async def phone_endpoint(scope, receive, send) -> bool:
    """A phone's socket straight from the door (``PhoneDoor``), past the application's
    middleware (all of it for pages: language, CSRF, compression, security headers),
    routing and dependencies: each of those stays on a websocket's stack for as long as it
    is open (a hall holds thousands), and each handshake went through them all. False
    (nothing read or sent) for a path the route would refuse: the route answers it."""
    workshop_id = _phone_path_id(scope["path"])
    if workshop_id is None:
        return False
    await participant_socket(WebSocket(scope, receive, send), workshop_id)
    return True


@router.websocket("/ws/p/{workshop_id}")
async def participant_socket(ws: WebSocket, workshop_id: Id) -> None:
    if not _origin_ok(ws):
        await ws.close(code=4403)
        return
    # Let in by the door in front of the app (realtime/admission.py, PhoneDoor), which
    # releases the ticket when the socket ends; served sooner, once its hello is answered.
    door, ticket = ws.app.state.doorman, ws.scope.get(TICKET)
    await _participant(ws, workshop_id, lambda: door.release(ticket))


async def _participant(ws: WebSocket, workshop_id: int, served) -> None:
    """A phone's socket; ``served()`` once its hello is answered (it leaves the doorway)."""
    app = ws.app
    token = ws.cookies.get(cookie_name(workshop_id))

    # Only the id and name are kept: a room holds thousands of these handlers. With them,
    # the phone's own answers in the current activity, which its hello will most likely
    # ask for: one read in a worker thread for a phone coming back instead of two.
    def first_read(session: Session):
        found = phone_holder(session, workshop_id, token)
        if found is None or found[2] is None:
            return found, None
        return found, (found[2], _mine(session, app, workshop_id, found[0], found[2]), time.monotonic())

    found, ready = await read_in_thread(app.state.db.reader, first_read)
    if found is None:
        await ws.close(code=4401)
        return
    participant_id, participant_name, _current = found
    locale = screen_language(ws)
    t = Translator(locale)
    await ws.accept()
    hub, writer, tallies, registry = app.state.hub, app.state.writer, app.state.tallies, app.state.registry
    conn = Connection(
        ws.send_text,
        workshop_id,
        PARTICIPANTS,
        participant_id,
        close=ws.close,
        language=locale,
        raw=raw_socket(ws.scope),
    )
    hub.attach(conn)
    budget, window = MESSAGES_PER_SECOND, int(time.monotonic())
    try:
        while not conn.closed:
            frame = await ws.receive()
            if frame["type"] == "websocket.disconnect":
                break
            now = int(time.monotonic())
            if now != window:
                budget, window = MESSAGES_PER_SECOND, now
            budget -= 1
            if budget < 0:
                _error(conn, t.gettext("Too many attempts"))
                continue
            try:  # a binary frame (no "text") is as unreadable as bad JSON
                message = messages.parse(frame.get("text"))
            except messages.KeepAlive:
                continue
            except messages.Unreadable as bad:
                if bad.key is None:
                    _error(conn, t.gettext("This message could not be read."))
                else:
                    _refused(conn, bad.key, t.gettext("Choose one of the options."))
                continue
            if isinstance(message, messages.Hello):
                for topic, text in (await hub.current(workshop_id, PARTICIPANTS, locale)).items():
                    if topic == Topic.STAGE and message.v is not None and version_of(text) == message.v:
                        continue  # the phone shows this very stage: not sent again
                    conn.queue(text)
                if ready is not None and ready[0] == message.a and time.monotonic() - ready[2] < MINE_READ_AHEAD:
                    _queue_mine(conn, message.a, ready[1])
                else:
                    await _send_mine(conn, app, participant_id, message.a)
                ready = None  # read before the hello: good for the first one only
                served()
            elif isinstance(message, messages.Mine):
                await _send_mine(conn, app, participant_id, message.a)
            elif isinstance(message, messages.SIGNALS):  # written nowhere: the kind tells the room
                mark = lambda *marks: hub.mark_dirty(workshop_id, *marks)  # noqa: E731
                registry.for_message(message.t).signal(message, participant_id, participant_name, mark)
            else:  # a write: its kind says what the writer runs
                kind = registry.for_message(message.t)
                await _answer(conn, writer, kind.write(message, tallies, participant_id), kind, message.k, t)
                if kind.next_message(message):  # e.g. the next two lines to compare
                    await _send_mine(conn, app, participant_id, message.a)
    except WebSocketDisconnect:
        pass
    finally:
        await hub.detach(conn)


def _error(conn: Connection, error: str) -> None:
    conn.queue(messages.error(error))


def _refused(conn: Connection, key: str, error: str) -> None:
    conn.queue(messages.refused(key, error))


async def _answer(conn, writer, work, kind, key: str, t: Translator) -> None:
    try:
        ack = await writer.submit(work)
    except Invalid as exc:
        _refused(conn, key, t.message(next(iter(exc.errors.values()))))
        return
    except Exception:  # the database refused it (each write fails alone): the phone may try again
        log.exception("a participant's write failed")
        _refused(conn, key, t.gettext("Your answer could not be saved; please try again."))
        return
    conn.queue(messages.acknowledged(key, kind.ack_json(ack)))


def _mine(session: Session, app, workshop_id: int, participant_id: int, activity_id: int) -> dict:
    """This participant's own answers in an activity of this workshop ({} for another's)."""
    activity = activity_brief(session, activity_id)
    if activity is None or activity.workshop_id != workshop_id:
        return {}
    kind = app.state.registry.get(activity.kind)
    return {} if kind is None else kind.mine(session, app.state.tallies, activity, participant_id)


def _queue_mine(conn, activity_id: int, mine: dict) -> None:
    if mine:
        conn.queue(messages.mine(activity_id, mine))


async def _send_mine(conn, app, participant_id: int, activity_id: int | None) -> None:
    """This participant's own answers in an activity, to mark them on the phone."""
    if activity_id is None:
        return
    load = lambda session: _mine(session, app, conn.workshop_id, participant_id, activity_id)  # noqa: E731
    _queue_mine(conn, activity_id, await read_in_thread(app.state.db.reader, load))


async def _screen_user(app, token: str | None, workshop_id: int) -> int | None:
    """The id of the facilitator behind this login cookie, if they may watch the workshop."""

    def load(session: Session) -> int | None:
        user = access_login(session, token)
        if user is None:
            return None
        try:
            access_workshop(session, user, workshop_id)
        except NotFound:
            return None
        return user.id

    return await read_in_thread(app.state.db.reader, load)


@router.websocket("/ws/screen/{workshop_id}/{audience}")
async def screen_socket(ws: WebSocket, workshop_id: Id, audience: str) -> None:
    """The projector's and the console's live feed (facilitators only). Access is checked
    at connect and again whenever the hub asks (logout, unshare, deactivation, and every
    few seconds): a screen that may no longer watch is closed with 4401."""
    app = ws.app
    if audience not in (PROJECTOR, CONSOLE) or not _origin_ok(ws):
        await ws.close(code=4403)
        return
    token = ws.cookies.get(SESSION_COOKIE)
    user_id = await _screen_user(app, token, workshop_id)
    if user_id is None:
        await ws.close(code=4401)
        return

    async def still_allowed() -> bool:
        return await _screen_user(app, token, workshop_id) == user_id

    await ws.accept()
    hub = app.state.hub
    conn = Connection(
        ws.send_text,
        workshop_id,
        audience,
        close=lambda: ws.close(code=4401),
        user_id=user_id,
        recheck=still_allowed,
        language=screen_language(ws),
        raw=raw_socket(ws.scope),
    )
    hub.attach(conn)
    for text in (await hub.current(workshop_id, audience, conn.language)).values():
        conn.queue(text)
    try:
        while not conn.closed:
            # Keep-alive pings; screens send nothing else. Whatever comes (text or
            # binary) is read and ignored, never allowed to fail the handler.
            if (await ws.receive())["type"] == "websocket.disconnect":
                break
    except WebSocketDisconnect:
        pass
    finally:
        await hub.detach(conn)
