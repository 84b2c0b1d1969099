"""The chain's roadmap page and its items' pages, outside a live workshop.

Who may see a chain (``valuechains.service.access_chain``: its owner, the facilitators
it is shared with, admins) may read its roadmap and act on it as its facilitator:
create items (new, or from an action line), edit a field or a list row, restore an
earlier revision (a new revision), lock and unlock an item, hide a comment, link the
item to the chain's action lines and gaps, record and withdraw commitments. Every write
goes through the roadmap's service functions (``activities/roadmap/``), as the live
kind's do, so the checks and the conflict rules are the same: a form carries the
version its reader saw, and an edit of a field that moved since is not applied; the
page shows the editor's own text kept, the current value and who made it.

Plain forms answered with a redirect (Post/Redirect/Get); each form carries a key made
when it was shown, so a form sent twice changes things once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.activities.roadmap import items as roadmap_items
from server.activities.roadmap import reading, social
from server.activities.roadmap import service as roadmap
from server.activities.roadmap.actors import as_facilitator
from server.activities.roadmap.outcomes import Conflict
from server.auth.deps import CurrentUser
from server.db import DbSession
from server.errors import Invalid, NotFound
from server.valuechains import roadmap_pages as pages
from server.valuechains import roadmap_views as rv
from server.valuechains import service as chains
from server.web import Id, Posted, fields, redirect, render

router = APIRouter(prefix="/chains/{chain_id}/roadmap")

LINK_TARGETS = ("action_line", "gap")


# The roadmap page ------------------------------------------------------------------------


@router.get("", name="roadmap")
def roadmap_page(request: Request, session: DbSession, user: CurrentUser, chain_id: Id) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    ctx = rv.common(request, session, chain)
    views = reading.item_views(session, reading.chain_items(session, chain.id))
    filters = pages.clean_filters(request.query_params, [p.key for p in ctx["phases"]])
    shown = [v for v in views if filters.matches(v)]
    ctx.update(
        views=shown,
        item_views=shown,
        total=len(views),
        filters=filters,
        library=pages.library_of(session, chain.id),
        workshops=pages.workshops_by_item(session, [v.id for v in shown]),
        grid=pages.by_horizon(shown, [p.key for p in ctx["phases"]]),
        free_lines=pages.lines_without_item(session, chain.id),
    )
    return render(request, "roadmap/page.html", ctx)


@router.get("/new", name="roadmap_item_new")
def roadmap_item_new(request: Request, session: DbSession, user: CurrentUser, chain_id: Id) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    line = request.query_params.get("line", "")
    return rv.new_form(
        request, session, chain, form={"status": "proposed", "progress": "0", "line": line, "key": rv.new_key()}
    )


@router.post("/new", name="roadmap_item_create")
def roadmap_item_create(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, form: Posted
) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    data = fields(form)
    actor = as_facilitator(session, user, chain.id)
    try:
        done = roadmap_items.create_item(
            session, actor, pages.new_item_raw(data), action_line_id=data.get("line") or None, key=data.get("key")
        )
    except Invalid as exc:
        return rv.new_form(
            request, session, chain, form={**data, "key": rv.new_key()}, errors=exc.errors, status_code=422
        )
    return redirect(request, rv.item_url(request, chain.id, done.item_id, saved="item"))


# An item ------------------------------------------------------------------------------------


@router.get("/{rm_item_id}", name="roadmap_item")
def roadmap_item(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, rm_item_id: Id) -> Response:
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    return rv.item_page(request, session, chain, item)


@router.get("/{rm_item_id}/fields/{field_name}", name="roadmap_field_edit")
def roadmap_field_edit(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, rm_item_id: Id, field_name: str
) -> Response:
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    name = rv.field_name_of(field_name)
    view = reading.item_view(session, item.id)
    form = pages.form_value(name, view.values[name])
    return rv.field_form(request, session, chain, item, name, form=form, base=view.versions[name])


@router.post("/{rm_item_id}/fields/{field_name}", name="roadmap_field_update")
def roadmap_field_update(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, rm_item_id: Id, field_name: str, form: Posted
) -> Response:
    """Set a field from the version the form was shown at: applied, or the conflict page
    (the editor's text kept in the form, now from the current version)."""
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    name = rv.field_name_of(field_name)
    data = fields(form)
    actor = as_facilitator(session, user, chain.id)
    value = pages.field_value(name, data)
    try:
        out = roadmap.edit_field(session, actor, item.id, name, data.get("base"), value, key=data.get("key") or None)
    except Invalid as exc:
        return rv.field_form(
            request,
            session,
            chain,
            item,
            name,
            form=data,
            base=data.get("base", ""),
            errors=exc.errors,
            status_code=422,
        )
    if isinstance(out, Conflict):
        form = {**data, **pages.form_value(name, out.yours)}
        return rv.field_form(
            request, session, chain, item, name, form=form, base=out.version, conflict=out, status_code=409
        )
    return redirect(request, rv.item_url(request, chain.id, item.id, f"field-{name}", saved=name))


# List rows (partners, milestones, indicators) --------------------------------------------------


@router.post("/{rm_item_id}/rows/{row_kind}", name="roadmap_row_add")
def roadmap_row_add(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, rm_item_id: Id, row_kind: str, form: Posted
) -> Response:
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    kind = rv.row_kind_of(row_kind)
    data = fields(form)
    actor = as_facilitator(session, user, chain.id)
    try:
        roadmap.add_row(session, actor, item.id, kind, pages.row_value_from(kind, data), key=data.get("key") or None)
    except Invalid as exc:
        errors = rv.under(f"add-{kind}", exc)
        return rv.item_page(request, session, chain, item, errors=errors, form={f"add-{kind}": data}, status_code=422)
    return redirect(request, rv.item_url(request, chain.id, item.id, f"rows-{kind}", saved=kind))


@router.post("/{rm_item_id}/rows/{row_kind}/{row_id}", name="roadmap_row_update")
def roadmap_row_update(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    chain_id: Id,
    rm_item_id: Id,
    row_kind: str,
    row_id: Id,
    form: Posted,
) -> Response:
    """Change a row (or remove it: the form's "remove" button) from the version seen."""
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    kind = rv.row_kind_of(row_kind)
    data = fields(form)
    actor = as_facilitator(session, user, chain.id)
    value = None if data.get("remove") else pages.row_value_from(kind, data)
    try:
        out = roadmap.edit_row(
            session, actor, item.id, kind, row_id, data.get("base"), value, key=data.get("key") or None
        )
    except Invalid as exc:
        errors = rv.under(f"{kind}-{row_id}", exc)
        return rv.item_page(
            request, session, chain, item, errors=errors, form={f"{kind}-{row_id}": data}, status_code=422
        )
    if isinstance(out, Conflict):
        ctx = rv.common(request, session, chain)
        ctx.update(view=reading.item_view(session, item.id), kind=kind, row_id=row_id, conflict=out, key=rv.new_key())
        return render(request, "roadmap/row_conflict.html", ctx, status_code=409)
    return redirect(request, rv.item_url(request, chain.id, item.id, f"rows-{kind}", saved=kind))


# The facilitator's tools -----------------------------------------------------------------


@router.post("/{rm_item_id}/restore/{revision_id}", name="roadmap_restore")
def roadmap_restore(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, rm_item_id: Id, revision_id: Id, form: Posted
) -> Response:
    """Set a field or row back to the value a revision made (a new revision)."""
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    revision = pages.access_revision(session, item, revision_id)
    data = fields(form)
    actor = as_facilitator(session, user, chain.id)
    try:
        out = roadmap.restore(session, actor, revision.id, key=data.get("key") or None)
    except Invalid as exc:
        return rv.item_page(request, session, chain, item, errors=exc.errors, status_code=422)
    if isinstance(out, Conflict):  # the slot moved while this ran: nothing was written
        return redirect(request, rv.item_url(request, chain.id, item.id, "history"))
    return redirect(request, rv.item_url(request, chain.id, item.id, "history", saved="restored"))


@router.post("/{rm_item_id}/lock", name="roadmap_lock")
def roadmap_lock(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, rm_item_id: Id, form: Posted
) -> Response:
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    data = fields(form)
    try:
        roadmap.set_locked(session, as_facilitator(session, user, chain.id), item.id, rv.flag(data, "locked"))
    except Invalid as exc:
        return rv.item_page(request, session, chain, item, errors=exc.errors, status_code=422)
    return redirect(request, rv.item_url(request, chain.id, item.id, saved="lock"))


@router.post("/{rm_item_id}/comments/{comment_id}/hide", name="roadmap_comment_hide")
def roadmap_comment_hide(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, rm_item_id: Id, comment_id: Id, form: Posted
) -> Response:
    """Hide a comment from participants (or show it again)."""
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    data = fields(form)
    try:
        hidden = rv.flag(data, "hidden")
        comment = pages.access_comment(session, item, comment_id)
        social.hide_comment(session, as_facilitator(session, user, chain.id), comment.id, hidden)
    except Invalid as exc:
        return rv.item_page(request, session, chain, item, errors=exc.errors, status_code=422)
    return redirect(request, rv.item_url(request, chain.id, item.id, "comments"))


@router.post("/{rm_item_id}/comments", name="roadmap_comment")
def roadmap_comment(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, rm_item_id: Id, form: Posted
) -> Response:
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    data = fields(form)
    actor = as_facilitator(session, user, chain.id)
    try:
        social.comment(session, actor, item.id, data.get("text", ""), key=data.get("key") or None)
    except Invalid as exc:
        errors = rv.under("comment", exc)
        return rv.item_page(request, session, chain, item, errors=errors, form={"comment": data}, status_code=422)
    return redirect(request, rv.item_url(request, chain.id, item.id, "comments"))


@router.post("/{rm_item_id}/links/{target}", name="roadmap_link")
def roadmap_link(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, rm_item_id: Id, target: str, form: Posted
) -> Response:
    """Link the item to an action line or a gap of the chain (``linked`` 1), or unlink it."""
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    if target not in LINK_TARGETS:
        raise NotFound()
    data = fields(form)
    actor = as_facilitator(session, user, chain.id)
    try:
        linked = rv.flag(data, "linked")
        roadmap.set_link(session, actor, item.id, target, data.get("target_id"), linked, key=data.get("key") or None)
    except Invalid as exc:
        errors = rv.under(f"link-{target}", exc)
        return rv.item_page(request, session, chain, item, errors=errors, status_code=422)
    return redirect(request, rv.item_url(request, chain.id, item.id, "links"))


@router.post("/{rm_item_id}/commitments", name="roadmap_commit")
def roadmap_commit(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, rm_item_id: Id, form: Posted
) -> Response:
    """Record an organization's commitment (kept as made; withdrawing it is a record too)."""
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    data = fields(form)
    actor = as_facilitator(session, user, chain.id)
    try:
        social.commit(
            session,
            actor,
            item.id,
            data.get("organization", ""),
            data.get("role", ""),
            data.get("note", ""),
            key=data.get("key") or None,
        )
    except Invalid as exc:
        errors = rv.under("commit", exc)
        return rv.item_page(request, session, chain, item, errors=errors, form={"commit": data}, status_code=422)
    return redirect(request, rv.item_url(request, chain.id, item.id, "commitments", saved="commitment"))


@router.post("/{rm_item_id}/commitments/{commitment_id}/withdraw", name="roadmap_withdraw")
def roadmap_withdraw(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    chain_id: Id,
    rm_item_id: Id,
    commitment_id: Id,
    form: Posted,
) -> Response:
    chain, item = pages.access_chain_item(session, user, chain_id, rm_item_id)
    commitment = pages.access_commitment(session, item, commitment_id)
    data = fields(form)
    actor = as_facilitator(session, user, chain.id)
    try:
        social.withdraw(session, actor, commitment.id, data.get("note", ""), key=data.get("key") or None)
    except Invalid as exc:
        errors = rv.under(f"withdraw-{commitment.id}", exc)
        return rv.item_page(request, session, chain, item, errors=errors, status_code=422)
    return redirect(request, rv.item_url(request, chain.id, item.id, "commitments"))
