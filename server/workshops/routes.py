"""Facilitator pages of workshops: create (optionally from a method template), edit,
join code and QR code, and the agenda of activities."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.activities.kinds import KINDS
from server.activities.values import an_id
from server.auth.deps import CurrentUser
from server.db import DbSession
from server.errors import Invalid, NotFound
from server.i18n import LOCALE_NAMES, LOCALES
from server.models import Attendance
from server.valuechains.service import access_chain
from server.web import Id, Posted, field_list, fields, hx_target, redirect, render
from server.workshops import codes
from server.workshops import service as workshops
from server.workshops.methods import TEMPLATES
from server.workshops.qr import qr_svg
from server.workshops.reach import reach

router = APIRouter()

DELTAS = {"up": -1, "down": 1}


def join_base(request: Request) -> str:
    """The address participants open: the setting, else the one this page was asked at."""
    return request.app.state.settings.base_url or str(request.base_url)


def join_url(request: Request, code: str | None) -> str:
    return f"{join_base(request).rstrip('/')}/join/{code or ''}"


def _floor(request: Request) -> int:
    """The installation's minimum group size: a workshop may only raise it."""
    return request.app.state.settings.min_group_size


def _form_context(chain, workshop=None, **extra) -> dict:
    return {
        "chain": chain,
        "workshop": workshop,
        "languages": [(code, LOCALE_NAMES[code]) for code in LOCALES],
        "attendance_options": list(Attendance),
        "templates": list(TEMPLATES.values()),
        **extra,
    }


@router.get("/chains/{chain_id}/workshops/new", name="workshop_new")
def workshop_new(request: Request, session: DbSession, user: CurrentUser, chain_id: Id) -> Response:
    chain = access_chain(session, user, chain_id)
    form = {
        "date": dt.date.today().isoformat(),
        "language": request.state.translator.locale,
        "attendance": Attendance.full.value,
        "region": chain.regions[0] if chain.regions else "",
        "template": "diagnosis",
    }
    return render(request, "workshops/form.html", _form_context(chain, form=form, floor=_floor(request)))


@router.post("/chains/{chain_id}/workshops/new", name="workshop_create")
def workshop_create(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, form: Posted) -> Response:
    chain = access_chain(session, user, chain_id)
    data = fields(form)
    try:
        workshop = workshops.do_create_workshop(session, user, chain, data, floor=_floor(request))
    except Invalid as exc:
        return render(
            request,
            "workshops/form.html",
            _form_context(chain, form=data, errors=exc.errors, floor=_floor(request)),
            status_code=422,
        )
    return redirect(request, request.url_for("workshop_detail", workshop_id=workshop.id))


def _detail_context(request, session, workshop, chain, **extra) -> dict:
    agenda = workshops.agenda_of(session, workshop)
    return {
        "workshop": workshop,
        "chain": chain,
        "agenda": agenda,
        "items": {a.id: workshops.activity_items(session, a) for a in agenda},
        "kinds": KINDS,
        "join_url": join_url(request, workshop.join_code),
        "spaced_code": codes.spaced(workshop.join_code or ""),
        "reach": reach(join_base(request)),
        "runs_live": any(KINDS[a.kind].live for a in agenda if a.kind in KINDS),
        **extra,
    }


@router.get("/workshops/{workshop_id}", name="workshop_detail")
def workshop_detail(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id) -> Response:
    workshop, chain = workshops.access_workshop(session, user, workshop_id)
    return render(request, "workshops/detail.html", _detail_context(request, session, workshop, chain))


@router.get("/workshops/{workshop_id}/edit", name="workshop_edit")
def workshop_edit(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id) -> Response:
    workshop, chain = workshops.access_workshop(session, user, workshop_id)
    form = workshop.model_dump()
    form["date"] = workshop.date.isoformat()
    return render(request, "workshops/form.html", _form_context(chain, workshop, form=form, floor=_floor(request)))


@router.post("/workshops/{workshop_id}/edit", name="workshop_update")
def workshop_update(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, form: Posted) -> Response:
    workshop, chain = workshops.access_workshop(session, user, workshop_id)
    data = fields(form)
    try:
        workshops.do_update_workshop(session, workshop, data, floor=_floor(request))
    except Invalid as exc:
        return render(
            request,
            "workshops/form.html",
            _form_context(chain, workshop, form=data, errors=exc.errors, floor=_floor(request)),
            status_code=422,
        )
    return redirect(request, request.url_for("workshop_detail", workshop_id=workshop.id))


@router.post("/workshops/{workshop_id}/code", name="workshop_new_code")
def workshop_new_code(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id) -> Response:
    workshop, _chain = workshops.access_workshop(session, user, workshop_id)
    workshops.do_new_code(session, workshop)
    return redirect(request, request.url_for("workshop_detail", workshop_id=workshop.id))


@router.get("/workshops/{workshop_id}/qr.svg", name="workshop_qr")
def workshop_qr(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id) -> Response:
    workshop, _chain = workshops.access_workshop(session, user, workshop_id)
    if not workshop.join_code:
        raise NotFound()
    svg = qr_svg(join_url(request, workshop.join_code))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=300"})


# Agenda ----------------------------------------------------------------------------


def _activity_form_context(session, workshop, chain, kind, activity=None, **extra) -> dict:
    return {
        "workshop": workshop,
        "chain": chain,
        "kind": kind,
        "activity": activity,
        "library_items": workshops.available_items(session, chain, kind),
        **extra,
    }


def _kind_or_404(key: str):
    kind = KINDS.get(key)
    if kind is None:
        raise NotFound()
    return kind


@router.get("/workshops/{workshop_id}/activities/new", name="activity_new")
def activity_new(
    request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, kind: str = "gap_rating"
) -> Response:
    workshop, chain = workshops.access_workshop(session, user, workshop_id)
    k = _kind_or_404(kind)
    items = workshops.available_items(session, chain, k)
    form = {**k.defaults(), "title": request.state.translator.gettext(k.label)}
    ctx = _activity_form_context(session, workshop, chain, k, form=form, chosen={i.id for i in items})
    return render(request, "workshops/activity_form.html", ctx)


@router.post("/workshops/{workshop_id}/activities/new", name="activity_create")
def activity_create(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, form: Posted) -> Response:
    workshop, chain = workshops.access_workshop(session, user, workshop_id)
    data = fields(form)
    item_ids = field_list(form, "items")
    try:
        workshops.do_add_activity(session, chain, workshop, data, item_ids)
    except Invalid as exc:
        k = KINDS.get(data.get("kind", ""))
        if k is None:
            raise
        chosen = {an_id(i) for i in item_ids}
        ctx = _activity_form_context(session, workshop, chain, k, form=data, errors=exc.errors, chosen=chosen)
        return render(request, "workshops/activity_form.html", ctx, status_code=422)
    return redirect(request, str(request.url_for("workshop_detail", workshop_id=workshop.id)) + "#agenda")


@router.get("/workshops/{workshop_id}/activities/{activity_id}/edit", name="activity_edit")
def activity_edit(
    request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, activity_id: Id
) -> Response:
    workshop, chain = workshops.access_workshop(session, user, workshop_id)
    activity = workshops.access_activity(session, workshop, activity_id)
    k = KINDS[activity.kind]
    chosen = {i.id for i in workshops.activity_items(session, activity)}
    form = {**k.stored(activity.settings), "title": activity.title}
    ctx = _activity_form_context(session, workshop, chain, k, activity, form=form, chosen=chosen)
    return render(request, "workshops/activity_form.html", ctx)


@router.post("/workshops/{workshop_id}/activities/{activity_id}/edit", name="activity_update")
def activity_update(
    request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, activity_id: Id, form: Posted
) -> Response:
    workshop, chain = workshops.access_workshop(session, user, workshop_id)
    activity = workshops.access_activity(session, workshop, activity_id)
    data = fields(form)
    item_ids = field_list(form, "items")
    try:
        workshops.do_update_activity(session, chain, activity, data, item_ids)
    except Invalid as exc:
        chosen = {an_id(i) for i in item_ids}
        ctx = _activity_form_context(
            session, workshop, chain, KINDS[activity.kind], activity, form=data, errors=exc.errors, chosen=chosen
        )
        return render(request, "workshops/activity_form.html", ctx, status_code=422)
    return redirect(request, str(request.url_for("workshop_detail", workshop_id=workshop.id)) + "#agenda")


@router.post("/workshops/{workshop_id}/activities/{activity_id}/{action}", name="activity_action")
def activity_action(
    request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, activity_id: Id, action: str
) -> Response:
    """Move a pending activity up or down the agenda, or remove it."""
    workshop, chain = workshops.access_workshop(session, user, workshop_id)
    activity = workshops.access_activity(session, workshop, activity_id)
    errors = {}
    try:
        if action in DELTAS:
            workshops.do_move_activity(session, workshop, activity, DELTAS[action])
        elif action == "remove":
            workshops.do_remove_activity(session, workshop, activity)
        else:
            raise NotFound()
    except Invalid as exc:
        errors = {f"activity-{activity.id}": exc.errors["__all__"]}
    status = 422 if errors else 200
    if hx_target(request) == "agenda":
        ctx = _detail_context(request, session, workshop, chain, errors=errors)
        return render(request, "workshops/_agenda.html", ctx, status_code=status)
    if errors:
        ctx = _detail_context(request, session, workshop, chain, errors=errors)
        return render(request, "workshops/detail.html", ctx, status_code=status)
    return redirect(request, str(request.url_for("workshop_detail", workshop_id=workshop.id)) + "#agenda")
