"""The participant's side, phone first: join by code or QR, the live page, and answers
posted as plain forms (no JavaScript needed) or by fetch when the websocket is down."""

from __future__ import annotations

import ipaddress
import secrets

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from server.activities.acks import ack_json
from server.activities.gaps import service as gaps
from server.activities.gaps.tally import ELEMENTS
from server.activities.ranking import service as ranking
from server.activities.values import an_id
from server.db import ReadSession, read_in_thread
from server.errors import Invalid, NotFound, RateLimited
from server.i18n import N_, Message
from server.models import Participant, Workshop
from server.web import Id, form_data, form_list, render, secure_cookies
from server.workshops.participants import (
    access_participant,
    access_workshop_by_code,
    cookie_holder,
    cookie_name,
    do_join,
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
    return render(request, "participant/join.html", ctx, fragment=False)


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
        _participant, token = await request.app.state.writer.submit(lambda s: do_join(s, workshop.id, data))
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


# Who holds a workshop's cookie, for the phones' posts: read once, then known without a
# database read (a fifth of a post's work). Only participants not removed are kept; one
# removed since is still refused by the writer, which checks every write's participant.
_KNOWN_LIMIT = 100_000


async def _participant_id(request: Request, workshop_id: int) -> int | Response:
    """The id of the participant posting, or the refusal to answer with."""
    token = request.cookies.get(cookie_name(workshop_id))
    known: dict = request.app.state.participants_known
    participant_id = known.get((workshop_id, token))
    if participant_id is not None:
        return participant_id
    holder = await read_in_thread(request.app.state.db.reader, lambda s: _holder(request, s, workshop_id))
    if holder is None or holder.removed:
        return _not_a_participant(request, holder)
    if len(known) >= _KNOWN_LIMIT:
        known.clear()
    known[(workshop_id, token)] = holder.id
    return holder.id


def _page(request, session, workshop, participant, *, errors=None, saved=None, status_code=200, draft=None) -> Response:
    tallies = request.app.state.tallies
    view = live_view(session, workshop, tallies, 0, request.app.state.settings.min_group_size)
    activity = view.activity
    mine, extra = {}, {}
    if activity is not None and activity.kind == "ranking":
        extra["ballot"] = draft if draft is not None else ranking.my_ballot(session, participant.id, activity.id)
        extra["draft"] = draft is not None
        if activity.settings.get("mode") == "pairwise":
            tally = tallies.get(activity.id, workshop.id)
            extra["pair"] = ranking.next_pair_for(session, tally, participant.id, activity.id)
    elif activity is not None:
        mine = gaps.my_answers(session, participant.id, activity.id)
    spent = sum(a.get("dots", 0) for a in mine.values())
    ctx = {
        **extra,
        "view": view,
        "participant": participant,
        "mine": mine,
        "saved": saved,
        "errors": errors or {},
        "dots_left": int(view.activity.settings.get("dot_budget", 0)) - spent if view.activity else 0,
        "form_key": secrets.token_urlsafe(12),
    }
    return render(request, "participant/live.html", ctx, status_code=status_code, fragment=False, compact=True)


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
def participant_page(request: Request, session: ReadSession, workshop_id: Id, saved: str | None = None) -> Response:
    return _own_page(request, session, workshop_id, saved=saved)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def _submit(request: Request, workshop_id: int, work_for, draft=None) -> Response:
    """Run a participant's write through the single writer; answer as JSON or as a page.

    Nothing here touches the database on the event loop or holds a connection while the
    write waits in the writer's queue: the participant is read in a worker thread on a
    session closed at once, and an error page is read and rendered in a thread too."""
    data = await form_data(request)
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
    gap_id = an_id(data.get("gap")) or 0
    try:
        work = work_for(participant_id, data, segments)
        ack = await request.app.state.writer.submit(work)
    except Invalid as exc:
        if _wants_json(request):
            error = request.state.translator.message(next(iter(exc.errors.values())))
            return JSONResponse({"ok": False, "error": error}, status_code=422)
        errors = {gap_id: next(iter(exc.errors.values()))}
        return await _page_in_thread(request, workshop_id, errors=errors, status_code=422)
    if _wants_json(request):
        acks = ack if isinstance(ack, list) else [ack]
        return JSONResponse({"ok": True, "acks": [ack_json(a) for a in acks]})
    if gap_id:
        return RedirectResponse(f"{_page_path(request, workshop_id)}?saved={gap_id}#gap-{gap_id}", status_code=303)
    return RedirectResponse(f"{_page_path(request, workshop_id)}?saved=ranking", status_code=303)


def _page_path(request: Request, workshop_id: int) -> str:
    """The path of the route "participant", built without looking the route up: every
    post of a phone without JavaScript is answered with it (``url_for`` searches the
    app's routes, a twentieth of such a post's work)."""
    return f"{request.scope.get('root_path', '')}/p/{workshop_id}"


def _ints(data: dict, *names: str) -> list[int]:
    ids = [an_id(data.get(n)) for n in names]
    if None in ids:
        raise Invalid({"__all__": Message(N_("Choose one of the options."))})
    return ids


@router.post("/p/{workshop_id}/answer", name="participant_answer")
async def participant_answer(request: Request, workshop_id: Id) -> Response:
    """Every question of one gap card at once (the form a phone without JavaScript posts)."""
    tallies = request.app.state.tallies

    def work_for(participant_id: int, data: dict, segments: list[str]):
        activity_id, gap_id = _ints(data, "activity", "gap")
        key = str(data.get("key") or "")
        answers = [(q, data[q]) for q in ("seriousness", *ELEMENTS) if data.get(q)]
        if data.get("segments_asked"):
            answers.append(("segments", segments))
        if not answers:
            raise Invalid({"__all__": Message(N_("Choose one of the options."))})

        def work(s):
            # One question: the phone's own key (as over the websocket); several: one key each.
            keys = [key] if len(answers) == 1 else [f"{key}:{q}" for q, _ in answers]
            return [
                gaps.do_answer(s, tallies, participant_id, activity_id, gap_id, q, v, k, data.get("seq"))
                for (q, v), k in zip(answers, keys, strict=True)
            ]

        return work

    return await _submit(request, workshop_id, work_for)


@router.post("/p/{workshop_id}/dots", name="participant_dots")
async def participant_dots(request: Request, workshop_id: Id) -> Response:
    tallies = request.app.state.tallies

    def work_for(participant_id: int, data: dict, _segments):
        activity_id, gap_id = _ints(data, "activity", "gap")
        key = str(data.get("key") or "")
        return lambda s: gaps.do_dots(
            s, tallies, participant_id, activity_id, gap_id, data.get("dots"), key, data.get("seq")
        )

    return await _submit(request, workshop_id, work_for)


@router.post("/p/{workshop_id}/rank", name="participant_rank")
async def participant_rank(request: Request, workshop_id: Id) -> Response:
    """Save a ranking; without JavaScript, the arrow buttons post here too and get the
    page back with the changed (not yet saved) order."""
    tallies = request.app.state.tallies
    data = await form_data(request)
    posted = [i.strip() for i in data.get("order", "").split(",") if i.strip()]  # checked by do_rank
    order = [i for i in map(an_id, posted) if i is not None]
    op = data.get("op", "save")
    if op != "save":
        return await _page_in_thread(request, workshop_id, draft=ranking.apply_draft_op(order, op))

    def work_for(participant_id: int, data: dict, _segments):
        (activity_id,) = _ints(data, "activity")
        key = str(data.get("key") or "")
        return lambda s: ranking.do_rank(s, tallies, participant_id, activity_id, posted, key, data.get("seq"))

    return await _submit(request, workshop_id, work_for, draft=order)


@router.post("/p/{workshop_id}/pair", name="participant_pair")
async def participant_pair(request: Request, workshop_id: Id) -> Response:
    """One "which first?" answer of the pairwise mode."""
    tallies = request.app.state.tallies

    def work_for(participant_id: int, data: dict, _segments):
        (activity_id,) = _ints(data, "activity")
        key = f"{data.get('key') or ''}-{data.get('a')}-{data.get('b')}"
        return lambda s: ranking.do_pair(
            s,
            tallies,
            participant_id,
            activity_id,
            data.get("a"),
            data.get("b"),
            data.get("choice", ""),
            key,
            data.get("seq"),
        )

    return await _submit(request, workshop_id, work_for)
