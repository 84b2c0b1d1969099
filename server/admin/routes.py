"""Administration pages (admins only): accounts, stakeholder groups, work areas, and the
roadmap's phases and funding sources.

Every route depends on ``AdminUser``: anonymous visitors are sent to log in, other
facilitators get 403. Routes parse, call :mod:`server.admin.service` and render. Changes
to a reference list answer an htmx request with the updated list partial and a plain
form post with a redirect (or the page with errors), so everything works without
JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.admin import service as admin
from server.auth.deps import AdminUser
from server.auth.service import list_users
from server.db import DbSession
from server.errors import Invalid, NotFound
from server.web import Id, Posted, fields, hx_target, redirect, render

router = APIRouter(prefix="/admin")

DELTAS = {"up": -1, "down": 1}


# Accounts --------------------------------------------------------------------------


@router.get("/users", name="admin_users")
def admin_users(request: Request, session: DbSession, user: AdminUser) -> Response:
    return render(request, "admin/users.html", {"users": list_users(session), "section": "users"})


@router.get("/users/new", name="admin_user_new")
def admin_user_new(request: Request, user: AdminUser) -> Response:
    return render(request, "admin/user_form.html", {"account": None, "section": "users"})


@router.post("/users/new", name="admin_user_create")
def admin_user_create(request: Request, session: DbSession, user: AdminUser, form: Posted) -> Response:
    data = fields(form)
    try:
        admin.do_create_account(session, data)
    except Invalid as exc:
        ctx = {"account": None, "form": data, "errors": exc.errors, "section": "users"}
        return render(request, "admin/user_form.html", ctx, status_code=422)
    return redirect(request, request.url_for("admin_users"))


@router.get("/users/{user_id}/edit", name="admin_user_edit")
def admin_user_edit(request: Request, session: DbSession, user: AdminUser, user_id: Id) -> Response:
    account = admin.access_account(session, user_id)
    ctx = {"account": account, "form": admin.account_form(account), "section": "users"}
    return render(request, "admin/user_form.html", ctx)


@router.post("/users/{user_id}/edit", name="admin_user_update")
def admin_user_update(request: Request, session: DbSession, user: AdminUser, user_id: Id, form: Posted) -> Response:
    account = admin.access_account(session, user_id)
    data = fields(form)
    try:
        admin.do_update_account(session, user, account, data)
    except Invalid as exc:
        ctx = {"account": account, "form": data, "errors": exc.errors, "section": "users"}
        return render(request, "admin/user_form.html", ctx, status_code=422)
    return redirect(request, request.url_for("admin_users"))


# Stakeholder groups and work areas -------------------------------------------------
# Both lists share the handlers below; each has its own small routes so that its URLs
# (/admin/groups/{group_id}/..., /admin/work-areas/{area_id}/...) and names are explicit.


@dataclass(frozen=True)
class ListRoutes:
    """The route names of one reference list and the name of its id parameter."""

    list: str
    add: str
    edit: str
    update: str
    action: str
    param: str


ROUTES = {
    admin.GROUPS.slug: ListRoutes(
        "admin_groups", "admin_group_add", "admin_group_edit", "admin_group_update", "admin_group_action", "group_id"
    ),
    admin.WORK_AREAS.slug: ListRoutes(
        "admin_work_areas",
        "admin_work_area_add",
        "admin_work_area_edit",
        "admin_work_area_update",
        "admin_work_area_action",
        "area_id",
    ),
    admin.PHASES.slug: ListRoutes(
        "admin_phases", "admin_phase_add", "admin_phase_edit", "admin_phase_update", "admin_phase_action", "phase_id"
    ),
    admin.FUNDING_SOURCES.slug: ListRoutes(
        "admin_funding_sources",
        "admin_funding_source_add",
        "admin_funding_source_edit",
        "admin_funding_source_update",
        "admin_funding_source_action",
        "source_id",
    ),
}


def _link(request: Request, kind: admin.ReferenceKind):
    """``link("edit", entry)`` or ``link("action", entry, action="up")`` in templates."""
    names = ROUTES[kind.slug]

    def link(what: str, entry=None, **params) -> str:
        if entry is not None:
            params[names.param] = entry.id
        return str(request.url_for(getattr(names, what), **params))

    return link


def _context(request, kind, **extra) -> dict:
    return {"kind": kind, "link": _link(request, kind), "section": kind.slug, **extra}


def _list_answer(request, session, kind, *, errors=None, form=None) -> Response:
    """The list partial for htmx, else the page (with errors) or a redirect to it."""
    status = 422 if errors else 200
    if hx_target(request) == "reference-entries" or errors:
        ctx = _context(request, kind, entries=admin.entries_of(session, kind), errors=errors or {}, form=form or {})
        template = (
            "admin/_reference_entries.html"
            if hx_target(request) == "reference-entries"
            else "admin/reference_list.html"
        )
        return render(request, template, ctx, status_code=status)
    return redirect(request, request.url_for(ROUTES[kind.slug].list))


def _show_list(request, session, kind) -> Response:
    ctx = _context(request, kind, entries=admin.entries_of(session, kind))
    return render(request, "admin/reference_list.html", ctx)


def _add(request, session, kind, form) -> Response:
    data = fields(form)
    try:
        admin.do_add_entry(session, kind, data)
    except Invalid as exc:
        return _list_answer(request, session, kind, errors=exc.errors, form=data)
    return _list_answer(request, session, kind)


def _edit(request, session, kind, entry_id: int) -> Response:
    entry = admin.access_entry(session, kind, entry_id)
    ctx = _context(request, kind, entry=entry, form=admin.entry_form(entry))
    return render(request, "admin/reference_form.html", ctx)


def _update(request, session, kind, entry_id: int, form) -> Response:
    entry = admin.access_entry(session, kind, entry_id)
    data = fields(form)
    try:
        admin.do_update_entry(session, kind, entry, data)
    except Invalid as exc:
        ctx = _context(request, kind, entry=entry, form=data, errors=exc.errors)
        return render(request, "admin/reference_form.html", ctx, status_code=422)
    return redirect(request, request.url_for(ROUTES[kind.slug].list))


def _action(request, session, kind, entry_id: int, action: str) -> Response:
    """Move an entry up or down, delete it (refused while in use), deactivate or activate it."""
    entry = admin.access_entry(session, kind, entry_id)
    try:
        if action in DELTAS:
            admin.do_move_entry(session, kind, entry, DELTAS[action])
        elif action == "delete":
            admin.do_delete_entry(session, kind, entry)
        elif action in ("deactivate", "activate"):
            admin.do_set_active(session, kind, entry, action == "activate")
        else:
            raise NotFound()
    except Invalid as exc:
        return _list_answer(request, session, kind, errors={f"entry-{entry.id}": exc.errors["entry"]})
    return _list_answer(request, session, kind)


@router.get("/groups", name="admin_groups")
def admin_groups(request: Request, session: DbSession, user: AdminUser) -> Response:
    return _show_list(request, session, admin.GROUPS)


@router.post("/groups", name="admin_group_add")
def admin_group_add(request: Request, session: DbSession, user: AdminUser, form: Posted) -> Response:
    return _add(request, session, admin.GROUPS, form)


@router.get("/groups/{group_id}/edit", name="admin_group_edit")
def admin_group_edit(request: Request, session: DbSession, user: AdminUser, group_id: Id) -> Response:
    return _edit(request, session, admin.GROUPS, group_id)


@router.post("/groups/{group_id}/edit", name="admin_group_update")
def admin_group_update(request: Request, session: DbSession, user: AdminUser, group_id: Id, form: Posted) -> Response:
    return _update(request, session, admin.GROUPS, group_id, form)


@router.post("/groups/{group_id}/{action}", name="admin_group_action")
def admin_group_action(request: Request, session: DbSession, user: AdminUser, group_id: Id, action: str) -> Response:
    return _action(request, session, admin.GROUPS, group_id, action)


@router.get("/work-areas", name="admin_work_areas")
def admin_work_areas(request: Request, session: DbSession, user: AdminUser) -> Response:
    return _show_list(request, session, admin.WORK_AREAS)


@router.post("/work-areas", name="admin_work_area_add")
def admin_work_area_add(request: Request, session: DbSession, user: AdminUser, form: Posted) -> Response:
    return _add(request, session, admin.WORK_AREAS, form)


@router.get("/work-areas/{area_id}/edit", name="admin_work_area_edit")
def admin_work_area_edit(request: Request, session: DbSession, user: AdminUser, area_id: Id) -> Response:
    return _edit(request, session, admin.WORK_AREAS, area_id)


@router.post("/work-areas/{area_id}/edit", name="admin_work_area_update")
def admin_work_area_update(
    request: Request, session: DbSession, user: AdminUser, area_id: Id, form: Posted
) -> Response:
    return _update(request, session, admin.WORK_AREAS, area_id, form)


@router.post("/work-areas/{area_id}/{action}", name="admin_work_area_action")
def admin_work_area_action(request: Request, session: DbSession, user: AdminUser, area_id: Id, action: str) -> Response:
    return _action(request, session, admin.WORK_AREAS, area_id, action)


@router.get("/phases", name="admin_phases")
def admin_phases(request: Request, session: DbSession, user: AdminUser) -> Response:
    return _show_list(request, session, admin.PHASES)


@router.post("/phases", name="admin_phase_add")
def admin_phase_add(request: Request, session: DbSession, user: AdminUser, form: Posted) -> Response:
    return _add(request, session, admin.PHASES, form)


@router.get("/phases/{phase_id}/edit", name="admin_phase_edit")
def admin_phase_edit(request: Request, session: DbSession, user: AdminUser, phase_id: Id) -> Response:
    return _edit(request, session, admin.PHASES, phase_id)


@router.post("/phases/{phase_id}/edit", name="admin_phase_update")
def admin_phase_update(request: Request, session: DbSession, user: AdminUser, phase_id: Id, form: Posted) -> Response:
    return _update(request, session, admin.PHASES, phase_id, form)


@router.post("/phases/{phase_id}/{action}", name="admin_phase_action")
def admin_phase_action(request: Request, session: DbSession, user: AdminUser, phase_id: Id, action: str) -> Response:
    return _action(request, session, admin.PHASES, phase_id, action)


@router.get("/funding-sources", name="admin_funding_sources")
def admin_funding_sources(request: Request, session: DbSession, user: AdminUser) -> Response:
    return _show_list(request, session, admin.FUNDING_SOURCES)


@router.post("/funding-sources", name="admin_funding_source_add")
def admin_funding_source_add(request: Request, session: DbSession, user: AdminUser, form: Posted) -> Response:
    return _add(request, session, admin.FUNDING_SOURCES, form)


@router.get("/funding-sources/{source_id}/edit", name="admin_funding_source_edit")
def admin_funding_source_edit(request: Request, session: DbSession, user: AdminUser, source_id: Id) -> Response:
    return _edit(request, session, admin.FUNDING_SOURCES, source_id)


@router.post("/funding-sources/{source_id}/edit", name="admin_funding_source_update")
def admin_funding_source_update(
    request: Request, session: DbSession, user: AdminUser, source_id: Id, form: Posted
) -> Response:
    return _update(request, session, admin.FUNDING_SOURCES, source_id, form)


@router.post("/funding-sources/{source_id}/{action}", name="admin_funding_source_action")
def admin_funding_source_action(
    request: Request, session: DbSession, user: AdminUser, source_id: Id, action: str
) -> Response:
    return _action(request, session, admin.FUNDING_SOURCES, source_id, action)
