"""The facilitator's live console and the projector page, and the live controls."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.auth.deps import CurrentUser
from server.db import DbSession
from server.errors import Invalid, NotFound
from server.web import Id, Posted, fields, hx_target, redirect, render
from server.workshops import live
from server.workshops.reach import reach
from server.workshops.routes import join_base, join_url
from server.workshops.screens import live_view, results_view
from server.workshops.service import access_activity, access_workshop

router = APIRouter(prefix="/workshops/{workshop_id}")


def _context(request: Request, session, workshop, chain, **extra) -> dict:
    online = len(request.app.state.hub.online(workshop.id))
    state = request.app.state
    view = live_view(session, workshop, state.tallies, state.registry, online, state.settings.min_group_size)
    view.people = live.participants_of(session, workshop)
    return {
        "view": view,
        "workshop": workshop,
        "chain": chain,
        "join_url": join_url(request, workshop.join_code),
        "participants": view.people,
        "join_base": join_base(request),
        "reach": reach(join_base(request)),
        **extra,
    }


@router.get("/live", name="console")
def console(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id) -> Response:
    workshop, chain = access_workshop(session, user, workshop_id)
    return render(request, "live/console.html", _context(request, session, workshop, chain))


@router.get("/projector", name="projector")
def projector(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id) -> Response:
    workshop, chain = access_workshop(session, user, workshop_id)
    return render(request, "live/projector.html", _context(request, session, workshop, chain), fragment=False)


def _opened(request: Request, session, user):
    """What opening an activity asks of its kind (``ActivityType.opened``)."""
    registry = request.app.state.registry

    def opened(activity) -> None:
        kind = registry.get(activity.kind)
        if kind is not None:
            kind.opened(session, activity, user)

    return opened


def _answer(request: Request, session, workshop, chain, errors=None) -> Response:
    """The console's body for htmx, else back to the console page."""
    if errors or hx_target(request) == "console":
        ctx = _context(request, session, workshop, chain, errors=errors or {})
        status = 422 if errors else 200
        template = "live/_console_body.html" if hx_target(request) == "console" else "live/console.html"
        return render(request, template, ctx, status_code=status)
    return redirect(request, request.url_for("console", workshop_id=workshop.id))


@router.post("/live/activities/{activity_id}/{control}", name="live_activity")
def live_activity(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    workshop_id: Id,
    activity_id: Id,
    control: str,
    form: Posted,
) -> Response:
    """Open, close, reopen an activity; reveal or hide its results; start or stop its timer."""
    workshop, chain = access_workshop(session, user, workshop_id)
    activity = access_activity(session, workshop, activity_id)
    data = fields(form)
    try:
        if control in ("open", "reopen"):
            live.do_open(session, workshop, activity, _opened(request, session, user))
        elif control == "close":
            live.do_close(session, workshop, activity)
        elif control in ("reveal", "hide"):
            live.do_reveal(session, workshop, activity, control == "reveal")
        elif control == "headline":
            kind = request.app.state.registry.get(activity.kind)
            live.do_headline(session, workshop, activity, data.get("method"), kind)
        elif control == "timer":
            live.do_timer(session, workshop, activity, data.get("minutes"))
        else:
            raise NotFound()
    except Invalid as exc:
        return _answer(request, session, workshop, chain, exc.errors)
    return _answer(request, session, workshop, chain)


@router.post("/live/activities/{activity_id}/kind/{control}", name="live_kind_control")
def live_kind_control(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    workshop_id: Id,
    activity_id: Id,
    control: str,
    form: Posted,
) -> Response:
    """A control of the activity's own kind (``ActivityType.controls``: a roadmap's locks,
    hidden comments, suggestions, restored revisions)."""
    workshop, chain = access_workshop(session, user, workshop_id)
    activity = access_activity(session, workshop, activity_id)
    kind = request.app.state.registry.get(activity.kind)
    if kind is None or control not in kind.controls:
        raise NotFound()
    try:
        kind.control(session, user, chain.id, activity, control, fields(form))
    except Invalid as exc:
        return _answer(request, session, workshop, chain, exc.errors)
    back = fields(form).get("back")
    if back == "page" and hx_target(request) != "console":  # from the kind's own page: back to it
        page = request.url_for("activity_kind_page", workshop_id=workshop.id, activity_id=activity.id, page="history")
        item = fields(form).get("item", "")
        return redirect(request, f"{page}?item={item}" if str(item).isdigit() else page)
    return _answer(request, session, workshop, chain)


@router.get("/activities/{activity_id}/kind/{page}", name="activity_kind_page")
def activity_kind_page(
    request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, activity_id: Id, page: str
) -> Response:
    """A page of the activity's own kind for the facilitator (a roadmap item's history)."""
    workshop, chain = access_workshop(session, user, workshop_id)
    activity = access_activity(session, workshop, activity_id)
    kind = request.app.state.registry.get(activity.kind)
    found = None
    if kind is not None:
        found = kind.facilitator_page(session, user, chain.id, activity, page, dict(request.query_params))
    if found is None:
        raise NotFound()
    template, ctx = found
    return render(request, template, {"workshop": workshop, "chain": chain, "activity": activity, **ctx})


@router.post("/live/activities/{activity_id}/projector/{screen}", name="live_projector")
def live_projector(
    request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, activity_id: Id, screen: str
) -> Response:
    """The projector: show an activity's results there before phones ("show"), or follow
    the phones' reveal again ("follow")."""
    workshop, chain = access_workshop(session, user, workshop_id)
    activity = access_activity(session, workshop, activity_id)
    if screen not in ("show", "follow"):
        raise NotFound()
    live.do_projector(session, workshop, activity, screen == "show")
    return _answer(request, session, workshop, chain)


@router.post("/live/next", name="live_next")
def live_next(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id) -> Response:
    workshop, chain = access_workshop(session, user, workshop_id)
    live.do_next(session, workshop, _opened(request, session, user))
    return _answer(request, session, workshop, chain)


@router.post("/live/joining/{state}", name="live_joining")
def live_joining(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, state: str) -> Response:
    workshop, chain = access_workshop(session, user, workshop_id)
    if state not in ("open", "lock"):
        raise NotFound()
    live.do_joining(session, workshop, state == "open")
    return _answer(request, session, workshop, chain)


@router.post("/live/participants/{participant_id}/remove", name="live_remove")
def live_remove(
    request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, participant_id: Id
) -> Response:
    workshop, chain = access_workshop(session, user, workshop_id)
    live.do_remove_participant(session, workshop, participant_id, request.app.state.tallies)
    return _answer(request, session, workshop, chain)


@router.post("/end", name="workshop_end")
def workshop_end(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id) -> Response:
    """End the workshop (the form asked for confirmation): back to the workshop's page."""
    workshop, _chain = access_workshop(session, user, workshop_id)
    live.do_end(session, workshop)
    return redirect(request, request.url_for("workshop_detail", workshop_id=workshop.id))


@router.get("/activities/{activity_id}/results", name="activity_results")
def activity_results(
    request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, activity_id: Id
) -> Response:
    """An activity's results in full, as the console shows them, open or closed."""
    workshop, chain = access_workshop(session, user, workshop_id)
    activity = access_activity(session, workshop, activity_id)
    view = results_view(session, request.app.state, workshop, activity)
    return render(request, "workshops/results.html", {"view": view, "workshop": workshop, "chain": chain})


@router.get("/attendance", name="workshop_attendance")
def workshop_attendance(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id) -> Response:
    """Who joined (as the workshop asked them): name, organization, group, segment."""
    workshop, chain = access_workshop(session, user, workshop_id)
    participants, groups, segments = live.attendance_of(session, workshop)
    ctx = {"workshop": workshop, "chain": chain, "participants": participants, "groups": groups, "segments": segments}
    return render(request, "workshops/attendance.html", ctx)
