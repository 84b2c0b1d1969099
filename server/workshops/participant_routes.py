"""The participant's side, phone first: join by code or QR, the live page, and answers
posted as plain forms (no JavaScript needed) or by fetch when the websocket is down."""

from __future__ import annotations

import ipaddress
import secrets

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from server.activities.registry import ActivityType, FormPost, Registry
from server.db import ReadSession, read_in_thread
from server.errors import Invalid, NotFound, RateLimited
from server.i18n import N_, Message
from server.models import Participant, Workshop
from server.web import Id, form_data, form_list, render, render_shared, secure_cookies
from server.workshops import refusals
from server.workshops.live import current_activity
from server.workshops.participants import (
    Join,
    KnownParticipants,
    access_participant,
    access_workshop_by_code,
    cookie_holder,
    cookie_name,
    join_choices,
)
from server.workshops.screens import live_view

router = APIRouter()


def _address(request: Request) -> str:
    """Who is asking, for rate limits: the address, or its /64 network for IPv6 (one
    device gets a whole /64 and could otherwise change address for every attempt)."""
    host = request.client.host if request.client else "?"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return host


async def _limiter(request: Request, method: str, *args) -> int:
    limiter = request.app.state.ratelimiter
    call = getattr(limiter, method)
    if limiter.blocking:  # a network round trip: not on the event loop
        return await anyio.to_thread.run_sync(call, *args)
    return call(*args)


async def _limit(request: Request, key: str, limit: int, window: int = 60) -> None:
    wait = await _limiter(request, "hit", key, limit, window)
    if wait:
        raise RateLimited(wait)


async def _lookup_code(request: Request, typed: str) -> Workshop:
    """The open workshop a typed code names. Every wrong code, whichever route brings
    it, counts against one limit per address; once it is spent, every code from that
    address is refused until the window ends, right or wrong, so that guessing learns
    nothing more."""
    settings = request.app.state.settings
    key = f"join-fail:{_address(request)}"
    wait = await _limiter(request, "spent", key, settings.wrong_codes_per_minute)
    if wait:
        raise RateLimited(wait)
    try:
        return await read_in_thread(request.app.state.db.reader, lambda s: access_workshop_by_code(s, typed))
    except NotFound:
        await _limit(request, key, settings.wrong_codes_per_minute)
        raise


@router.post("/join", name="join_code")
async def join_code(request: Request) -> Response:
    data = await form_data(request)
    try:
        workshop = await _lookup_code(request, data.get("code", ""))
    except NotFound:
        errors = {"code": Message(N_("No open workshop has this code. Check the numbers on the screen."))}
        return render(request, "auth/home.html", {"errors": errors, "form": data}, status_code=422)
    return RedirectResponse(str(request.url_for("join", code=workshop.join_code)), status_code=303)


def _join_context(session, workshop, **extra) -> dict:
    groups, segments = join_choices(session, workshop)
    return {"workshop": workshop, "groups": groups, "segments": segments, **extra}


@router.get("/join/{code}", name="join")
async def join_page(request: Request, code: str) -> Response:
    workshop = await _lookup_code(request, code)
    token = request.cookies.get(cookie_name(workshop.id))

    def load(session):
        return access_participant(session, workshop.id, token), _join_context(session, workshop)

    participant, ctx = await read_in_thread(request.app.state.db.reader, load)
    if participant is not None:
        return RedirectResponse(str(request.url_for("participant", workshop_id=workshop.id)), status_code=303)
    # The same form for the whole hall: kept while the workshop, its groups and segments
    # read the same (an edit of any of them gives another key).
    key = (repr(ctx["workshop"]), repr(ctx["groups"]), repr(ctx["segments"]))
    return render_shared(request, key, "participant/join.html", lambda: ctx)


@router.post("/join/{code}", name="join_submit")
async def join_submit(request: Request, code: str) -> Response:
    """Join: the new participant is written by the single writer, like every live write
    (never on the event loop, never waiting for SQLite's lock in a request)."""
    settings = request.app.state.settings
    address = _address(request)
    await _limit(request, f"join:{address}", settings.joins_per_minute)
    workshop = await _lookup_code(request, code)
    await _limit(request, f"joined:{workshop.id}:{address}", settings.participants_per_address, 86400)
    data = await form_data(request)
    try:
        _participant, token = await request.app.state.writer.submit(Join(workshop.id, data))
    except Invalid as exc:
        errors = exc.errors
        ctx = await read_in_thread(
            request.app.state.db.reader, lambda s: _join_context(s, workshop, errors=errors, form=data)
        )
        return render(request, "participant/join.html", ctx, status_code=422, fragment=False)
    response = RedirectResponse(str(request.url_for("participant", workshop_id=workshop.id)), status_code=303)
    response.set_cookie(
        cookie_name(workshop.id),
        token,
        max_age=14 * 86400,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


def _holder(request: Request, session: Session, workshop_id: int) -> Participant | None:
    return cookie_holder(session, workshop_id, request.cookies.get(cookie_name(workshop_id)))


def _not_a_participant(request: Request, holder: Participant | None) -> Response:
    """The answer to anyone who is not (or no longer) a participant of the workshop:
    for a stranger, exactly what a workshop that does not exist gives."""
    if holder is not None:  # removed by the facilitator: they may know why
        text = request.state.translator.gettext("The facilitator removed you from this workshop.")
        if _wants_json(request):
            return JSONResponse({"ok": False, "error": text}, status_code=403)
        return render(request, "participant/removed.html", {}, status_code=403, fragment=False)
    if _wants_json(request):
        text = request.state.translator.gettext("You are no longer part of this workshop.")
        return JSONResponse({"ok": False, "error": text}, status_code=404)
    raise NotFound()


async def _participant_id(request: Request, workshop_id: int) -> int | Response:
    """The id of the participant posting, or the refusal to answer with."""
    token = request.cookies.get(cookie_name(workshop_id))
    known: KnownParticipants = request.app.state.participants_known
    participant_id = known.get(workshop_id, token)
    if participant_id is not None:
        return participant_id
    holder = await read_in_thread(request.app.state.db.reader, lambda s: _holder(request, s, workshop_id))
    if holder is None or holder.removed:
        return _not_a_participant(request, holder)
    known.remember(workshop_id, token, holder.id)
    return holder.id


def _page(request, session, workshop, participant, *, errors=None, saved=None, at=None, draft=None) -> Response:
    """The phone's page. Phones with the same answers (a hall just joined: none) get the
    same page but for their CSRF token and form key: it is rendered once for them all
    while nothing phones see changes (``SharedPages``), and the view is read only then."""
    state = request.app.state
    generation = state.shared_pages.generation(workshop.id)  # before anything is read
    activity = current_activity(session, workshop)
    kind = state.registry.get(activity.kind) if activity is not None else None
    own = {}  # this participant's answers (or draft), as the kind shows them on its card
    if kind is not None:
        own = kind.phone_context(session, state.tallies, activity, participant.id, draft)
        own.update(kind.page_context(session, activity, participant.id, dict(request.query_params)))

    def context() -> dict:
        view = live_view(
            session, workshop, state.tallies, state.registry, 0, state.settings.min_group_size, activity=activity
        )
        # Nothing of one person but their own answers (``own``, in the key): the page is
        # shared by everyone with the same.
        return {
            **own,
            "view": view,
            "saved": saved,
            "at": at,  # the card to show first, where the kind shows one at a time
            "errors": errors or {},
            "refresh_seconds": state.settings.phone_refresh_seconds,
        }

    fills = {"form_key": secrets.token_urlsafe(12)}
    if errors or draft is not None:  # one phone's own page
        return render(request, "participant/live.html", {**context(), **fills}, fragment=False, compact=True)
    key = ("phone", workshop.id, generation, repr(workshop), repr(activity), repr(sorted(own.items())))
    return render_shared(request, key, "participant/live.html", context, fills=fills, compact=True)


async def _page_in_thread(request: Request, workshop_id: int, **kwargs) -> Response:
    """The participant's page, read and rendered in a worker thread."""

    return await read_in_thread(request.app.state.db.reader, lambda s: _own_page(request, s, workshop_id, **kwargs))


def _own_page(request: Request, session: Session, workshop_id: int, **kwargs) -> Response:
    """The page of the participant holding this workshop's cookie, or the refusal."""
    holder = _holder(request, session, workshop_id)
    workshop = session.get(Workshop, workshop_id) if holder is not None else None
    if workshop is None or holder.removed:
        return _not_a_participant(request, holder)
    return _page(request, session, workshop, holder, **kwargs)


@router.get("/p/{workshop_id}", name="participant")
async def participant_page(
    request: Request, workshop_id: Id, saved: str | None = None, at: str | None = None
) -> Response:
    """The phone's page; after a form post, ``saved`` names the card just saved, or the
    flash cookie carries a refusal (``refusals``) to show once on its card. Read and
    rendered in one worker thread (a sync route with a session dependency took three
    hand-offs: every phone of a hall that joins opens it)."""
    flash = request.cookies.get(refusals.COOKIE)
    errors = refusals.read(request.app.state.secret, workshop_id, flash)
    response = await _page_in_thread(request, workshop_id, saved=saved, at=at, errors=errors)
    if flash is not None:
        response.delete_cookie(refusals.COOKIE, path=_page_path(request, workshop_id))
    return response


@router.get("/p/{workshop_id}/card/{part}", name="participant_card")
def participant_card(request: Request, session: ReadSession, workshop_id: Id, part: str) -> Response:
    """One part of the open activity's card, for this participant, fetched when the phone
    opens it (``ActivityType.phone_card``: a roadmap item, of which the broadcast stage
    carries only the summary)."""
    holder = _holder(request, session, workshop_id)
    workshop = session.get(Workshop, workshop_id) if holder is not None else None
    if workshop is None or holder.removed:
        return _not_a_participant(request, holder)
    state = request.app.state
    view = live_view(session, workshop, state.tallies, state.registry, 0, state.settings.min_group_size)
    found = view.kind.phone_card(view, part[:40]) if view.kind is not None else None
    if found is None:
        raise NotFound()
    template, extra = found
    own = view.kind.phone_context(session, state.tallies, view.activity, holder.id)
    ctx = {**own, **extra, "view": view, "participant": holder, "form_key": secrets.token_urlsafe(12)}
    return render(request, template, ctx, fragment=True, compact=True)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def _submit(request: Request, workshop_id: int, kind: ActivityType, action: str, data: dict) -> Response:
    """Run a participant's write through the single writer; answer as JSON or as a page.

    Nothing here touches the database on the event loop or holds a connection while the
    write waits in the writer's queue: the participant is read in a worker thread on a
    session closed at once, and an error page is read and rendered in a thread too."""
    segments = await form_list(request, "segments")
    participant_id = await _participant_id(request, workshop_id)
    if isinstance(participant_id, Response):
        return participant_id
    wait = await _limiter(
        request, "hit", f"writes:{participant_id}", request.app.state.settings.participant_writes_per_second, 1
    )
    if wait:
        if _wants_json(request):  # the phone keeps the answer pending and sends it again
            text = request.state.translator.gettext("Too many attempts")
            return JSONResponse({"ok": False, "retry": True, "error": text}, status_code=429)
        raise RateLimited(wait)
    posted = FormPost()
    try:
        posted = kind.form_post(action, request.app.state.tallies, participant_id, data, segments)
        ack = await request.app.state.writer.submit(posted.write)
    except Invalid as exc:
        if _wants_json(request):
            error = request.state.translator.message(next(iter(exc.errors.values())))
            return JSONResponse({"ok": False, "error": error}, status_code=422)
        # Post/Redirect/Get: the page shows the refusal once, and reloading it sends nothing again.
        return _refused(request, workshop_id, posted, next(iter(exc.errors.values())))
    if _wants_json(request):
        acks = ack if isinstance(ack, list) else [ack]
        return JSONResponse({"ok": True, "acks": [kind.ack_json(a) for a in acks]})
    return RedirectResponse(f"{_page_path(request, workshop_id)}?saved={posted.slot}{_anchor(posted)}", status_code=303)


def _refused(request: Request, workshop_id: int, posted: FormPost, message) -> Response:
    path = _page_path(request, workshop_id)
    response = RedirectResponse(f"{path}{_anchor(posted)}", status_code=303)
    token = refusals.sign(request.app.state.secret, workshop_id, posted.slot, message)
    response.set_cookie(
        refusals.COOKIE,
        token,
        max_age=refusals.MAX_AGE,
        path=path,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


def _anchor(posted: FormPost) -> str:
    return f"#{posted.anchor}" if posted.anchor else ""


def _page_path(request: Request, workshop_id: int) -> str:
    """The path of the route "participant", built without looking the route up: every
    post of a phone without JavaScript is answered with it (``url_for`` searches the
    app's routes, a twentieth of such a post's work)."""
    return f"{request.scope.get('root_path', '')}/p/{workshop_id}"


def form_routes(registry: Registry) -> APIRouter:
    """The phone's form posts (no JavaScript, or fetch when the websocket is down): one
    route per action of each registered kind, ``/p/{workshop_id}/<action>``, named
    ``participant_<action>``."""
    forms = APIRouter()
    for kind in registry:
        for action in kind.form_actions:
            forms.add_api_route(
                f"/p/{{workshop_id}}/{action}",
                _form_endpoint(kind, action),
                methods=["POST"],
                name=f"participant_{action}",
            )
    return forms


def _form_endpoint(kind: ActivityType, action: str):
    async def participant_form(request: Request, workshop_id: Id) -> Response:
        data = await form_data(request)
        draft = kind.draft(action, data)
        if draft is not None:  # nothing is saved: the page again, with the unsaved state
            return await _page_in_thread(request, workshop_id, draft=draft)
        return await _submit(request, workshop_id, kind, action, data)

    participant_form.__name__ = f"participant_{action}"
    return participant_form
