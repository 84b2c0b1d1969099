"""The participant's side, phone first: join by code or QR, the live page, and answers
posted as plain forms (no JavaScript needed) or by fetch when the websocket is down."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from server.activities.acks import ack_json
from server.activities.gaps import service as gaps
from server.activities.gaps.tally import ELEMENTS
from server.activities.ranking import service as ranking
from server.auth.deps import DbSession, ReadSession
from server.errors import Invalid, NotFound, RateLimited
from server.i18n import N_, Message
from server.models import Workshop
from server.web import form_data, form_list, render, secure_cookies
from server.workshops.participants import (
    access_participant,
    access_workshop_by_code,
    cookie_name,
    do_join,
    join_choices,
)
from server.workshops.screens import live_view

router = APIRouter()

FAILED_JOINS_PER_MINUTE = 20
JOINS_PER_MINUTE = 600  # one address can be a whole hall behind the venue's Wi-Fi


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _limit(request: Request, what: str, limit: int) -> None:
    wait = request.app.state.ratelimiter.hit(f"{what}:{_client(request)}", limit)
    if wait:
        raise RateLimited(wait)


@router.post("/join", name="join_code")
async def join_code(request: Request, session: DbSession) -> Response:
    data = await form_data(request)
    try:
        workshop = access_workshop_by_code(session, data.get("code", ""))
    except NotFound:
        _limit(request, "join-fail", FAILED_JOINS_PER_MINUTE)
        errors = {"code": Message(N_("No open workshop has this code. Check the numbers on the screen."))}
        return render(request, "auth/home.html", {"errors": errors, "form": data}, status_code=422)
    return RedirectResponse(str(request.url_for("join", code=workshop.join_code)), status_code=303)


def _join_context(session, workshop, **extra) -> dict:
    groups, segments = join_choices(session, workshop)
    return {"workshop": workshop, "groups": groups, "segments": segments, **extra}


@router.get("/join/{code}", name="join")
def join_page(request: Request, session: DbSession, code: str) -> Response:
    try:
        workshop = access_workshop_by_code(session, code)
    except NotFound:
        _limit(request, "join-fail", FAILED_JOINS_PER_MINUTE)
        raise
    if access_participant(session, workshop.id, request.cookies.get(cookie_name(workshop.id))):
        return RedirectResponse(str(request.url_for("participant", workshop_id=workshop.id)), status_code=303)
    return render(request, "participant/join.html", _join_context(session, workshop), fragment=False)


@router.post("/join/{code}", name="join_submit")
async def join_submit(request: Request, session: DbSession, code: str) -> Response:
    _limit(request, "join", JOINS_PER_MINUTE)
    workshop = access_workshop_by_code(session, code)
    data = await form_data(request)
    try:
        _participant, token = do_join(session, workshop, data)
    except Invalid as exc:
        ctx = _join_context(session, workshop, errors=exc.errors, form=data)
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


def _participant_or_join(request: Request, session: Session, workshop_id: int):
    workshop = session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound()
    participant = access_participant(session, workshop_id, request.cookies.get(cookie_name(workshop_id)))
    return workshop, participant


def _rejoin(request: Request, workshop: Workshop) -> Response:
    if workshop.join_code:
        return RedirectResponse(str(request.url_for("join", code=workshop.join_code)), status_code=303)
    raise NotFound()


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


@router.get("/p/{workshop_id}", name="participant")
def participant_page(request: Request, session: DbSession, workshop_id: int, saved: str | None = None) -> Response:
    workshop, participant = _participant_or_join(request, session, workshop_id)
    if participant is None:
        return _rejoin(request, workshop)
    return _page(request, session, workshop, participant, saved=saved)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def _submit(request: Request, session: Session, workshop_id: int, work_for, draft=None) -> Response:
    """Run a participant's write through the single writer; answer as JSON or as a page."""
    workshop, participant = _participant_or_join(request, session, workshop_id)
    if participant is None:
        if _wants_json(request):
            return JSONResponse(
                {"ok": False, "error": request.state.translator.gettext("You are no longer part of this workshop.")},
                status_code=403,
            )
        return _rejoin(request, workshop)
    data = await form_data(request)
    segments = await form_list(request, "segments")
    gap_id = int(data["gap"]) if data.get("gap", "").isdigit() else 0
    try:
        work = work_for(participant.id, data, segments)
        ack = await request.app.state.writer.submit(work)
    except Invalid as exc:
        if _wants_json(request):
            error = request.state.translator.message(next(iter(exc.errors.values())))
            return JSONResponse({"ok": False, "error": error}, status_code=422)
        return _page(
            request, session, workshop, participant, errors={gap_id: next(iter(exc.errors.values()))}, status_code=422
        )
    if _wants_json(request):
        acks = ack if isinstance(ack, list) else [ack]
        return JSONResponse({"ok": True, "acks": [ack_json(a) for a in acks]})
    if gap_id:
        url = request.url_for("participant", workshop_id=workshop_id).include_query_params(saved=gap_id)
        return RedirectResponse(f"{url}#gap-{gap_id}", status_code=303)
    url = request.url_for("participant", workshop_id=workshop_id).include_query_params(saved="ranking")
    return RedirectResponse(str(url), status_code=303)


def _ints(data: dict, *names: str) -> list[int]:
    try:
        return [int(data.get(n, "")) for n in names]
    except ValueError:
        raise Invalid({"__all__": Message(N_("Choose one of the options."))}) from None


@router.post("/p/{workshop_id}/answer", name="participant_answer")
async def participant_answer(request: Request, session: ReadSession, workshop_id: int) -> Response:
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
                gaps.do_answer(s, tallies, participant_id, activity_id, gap_id, q, v, k)
                for (q, v), k in zip(answers, keys, strict=True)
            ]

        return work

    return await _submit(request, session, workshop_id, work_for)


@router.post("/p/{workshop_id}/dots", name="participant_dots")
async def participant_dots(request: Request, session: ReadSession, workshop_id: int) -> Response:
    tallies = request.app.state.tallies

    def work_for(participant_id: int, data: dict, _segments):
        activity_id, gap_id = _ints(data, "activity", "gap")
        key = str(data.get("key") or "")
        return lambda s: gaps.do_dots(s, tallies, participant_id, activity_id, gap_id, data.get("dots"), key)

    return await _submit(request, session, workshop_id, work_for)


@router.post("/p/{workshop_id}/rank", name="participant_rank")
async def participant_rank(request: Request, session: ReadSession, workshop_id: int) -> Response:
    """Save a ranking; without JavaScript, the arrow buttons post here too and get the
    page back with the changed (not yet saved) order."""
    tallies = request.app.state.tallies
    data = await form_data(request)
    order = [int(i) for i in data.get("order", "").split(",") if i.strip().isdigit()]
    op = data.get("op", "save")
    if op != "save":
        workshop, participant = _participant_or_join(request, session, workshop_id)
        if participant is None:
            return _rejoin(request, workshop)
        return _page(request, session, workshop, participant, draft=ranking.apply_draft_op(order, op))

    def work_for(participant_id: int, data: dict, _segments):
        (activity_id,) = _ints(data, "activity")
        key = str(data.get("key") or "")
        return lambda s: ranking.do_rank(s, tallies, participant_id, activity_id, order, key)

    return await _submit(request, session, workshop_id, work_for, draft=order)


@router.post("/p/{workshop_id}/pair", name="participant_pair")
async def participant_pair(request: Request, session: ReadSession, workshop_id: int) -> Response:
    """One "which first?" answer of the pairwise mode."""
    tallies = request.app.state.tallies

    def work_for(participant_id: int, data: dict, _segments):
        (activity_id,) = _ints(data, "activity")
        key = f"{data.get('key') or ''}-{data.get('a')}-{data.get('b')}"
        return lambda s: ranking.do_pair(
            s, tallies, participant_id, activity_id, data.get("a"), data.get("b"), data.get("choice", ""), key
        )

    return await _submit(request, session, workshop_id, work_for)
