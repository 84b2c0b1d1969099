"""Pages of value chains: list, create, edit, segments, sharing and the library.

Routes parse, authorize (through the service's ``access_*``), call the service and
render. Segment and library changes answer an htmx request with the updated partial
and a plain form post with a redirect, so every control works without JavaScript.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.activities.roadmap.reading import chain_items
from server.auth.deps import CurrentUser
from server.db import DbSession
from server.errors import Invalid, NotFound
from server.valuechains import library
from server.valuechains import service as chains
from server.web import Id, Posted, fields, hx_target, redirect, render

router = APIRouter(prefix="/chains")

DELTAS = {"up": -1, "down": 1}


@router.get("", name="chain_list")
def chain_list(request: Request, session: DbSession, user: CurrentUser) -> Response:
    return render(request, "valuechains/list.html", {"chains": chains.visible_chains(session, user)})


@router.get("/new", name="chain_new")
def chain_new(request: Request, user: CurrentUser) -> Response:
    return render(request, "valuechains/form.html", {"chain": None})


@router.post("/new", name="chain_create")
def chain_create(request: Request, session: DbSession, user: CurrentUser, form: Posted) -> Response:
    data = fields(form)
    try:
        chain = chains.do_create_chain(session, user, data)
    except Invalid as exc:
        return render(
            request, "valuechains/form.html", {"chain": None, "form": data, "errors": exc.errors}, status_code=422
        )
    return redirect(request, request.url_for("chain_detail", chain_id=chain.id))


def _detail_context(session, user, chain, **extra) -> dict:
    from server.workshops.service import workshops_of

    return {
        "chain": chain,
        "segments": chains.segments_of(session, chain),
        "shares": chains.shares_of(session, chain),
        "is_owner": user.is_admin or chain.owner_id == user.id,
        "workshops": workshops_of(session, chain),
        "gap_count": len(library.items_of(session, chain, library.GAPS, archived=False)),
        "action_line_count": len(library.items_of(session, chain, library.ACTION_LINES, archived=False)),
        "roadmap_count": len(chain_items(session, chain.id)),
        **extra,
    }


@router.get("/{chain_id}", name="chain_detail")
def chain_detail(request: Request, session: DbSession, user: CurrentUser, chain_id: Id) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    return render(request, "valuechains/detail.html", _detail_context(session, user, chain))


@router.get("/{chain_id}/edit", name="chain_edit")
def chain_edit(request: Request, session: DbSession, user: CurrentUser, chain_id: Id) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    form = {
        "name": chain.name,
        "product": chain.product,
        "regions": ", ".join(chain.regions),
        "description": chain.description,
    }
    return render(request, "valuechains/form.html", {"chain": chain, "form": form})


@router.post("/{chain_id}/edit", name="chain_update")
def chain_update(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, form: Posted) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    data = fields(form)
    try:
        chains.do_update_chain(session, chain, data)
    except Invalid as exc:
        return render(
            request, "valuechains/form.html", {"chain": chain, "form": data, "errors": exc.errors}, status_code=422
        )
    return redirect(request, request.url_for("chain_detail", chain_id=chain.id))


# Segments --------------------------------------------------------------------------


def _segments_answer(request, session, user, chain, *, errors=None, form=None) -> Response:
    """The segment list partial for htmx, else the chain page (with errors) or a redirect."""
    status = 422 if errors else 200
    if hx_target(request) == "segments":
        ctx = {
            "chain": chain,
            "segments": chains.segments_of(session, chain),
            "errors": errors or {},
            "form": form or {},
        }
        return render(request, "valuechains/_segments.html", ctx, status_code=status)
    if errors:
        ctx = _detail_context(session, user, chain, errors=errors, form=form or {})
        return render(request, "valuechains/detail.html", ctx, status_code=status)
    return redirect(request, str(request.url_for("chain_detail", chain_id=chain.id)) + "#segments")


@router.post("/{chain_id}/segments", name="segment_add")
def segment_add(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, form: Posted) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    data = fields(form)
    try:
        chains.do_add_segment(session, chain, data)
    except Invalid as exc:
        return _segments_answer(request, session, user, chain, errors=exc.errors, form=data)
    return _segments_answer(request, session, user, chain)


@router.post("/{chain_id}/segments/{segment_id}/rename", name="segment_rename")
def segment_rename(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, segment_id: Id, form: Posted
) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    segment = chains.access_segment(session, chain, segment_id)
    data = fields(form)
    try:
        chains.do_rename_segment(session, chain, segment, data)
    except Invalid as exc:
        errors = {f"segment-{segment.id}": exc.errors["name"]}
        return _segments_answer(request, session, user, chain, errors=errors)
    return _segments_answer(request, session, user, chain)


@router.post("/{chain_id}/segments/{segment_id}/move/{direction}", name="segment_move")
def segment_move(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, segment_id: Id, direction: str
) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    segment = chains.access_segment(session, chain, segment_id)
    chains.do_move_segment(session, chain, segment, DELTAS.get(direction, 0))
    return _segments_answer(request, session, user, chain)


@router.post("/{chain_id}/segments/{segment_id}/delete", name="segment_delete")
def segment_delete(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, segment_id: Id) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    segment = chains.access_segment(session, chain, segment_id)
    try:
        chains.do_remove_segment(session, chain, segment)
    except Invalid as exc:
        errors = {f"segment-{segment.id}": exc.errors["segment"]}
        return _segments_answer(request, session, user, chain, errors=errors)
    return _segments_answer(request, session, user, chain)


# Sharing ---------------------------------------------------------------------------


@router.post("/{chain_id}/shares", name="chain_share")
def chain_share(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, form: Posted) -> Response:
    chain = chains.access_chain_owner(session, user, chain_id)
    data = fields(form)
    try:
        chains.do_share(session, chain, data)
    except Invalid as exc:
        ctx = _detail_context(session, user, chain, share_errors=exc.errors, share_form=data)
        return render(request, "valuechains/detail.html", ctx, status_code=422)
    return redirect(request, str(request.url_for("chain_detail", chain_id=chain.id)) + "#sharing")


@router.post("/{chain_id}/shares/{user_id}/delete", name="chain_unshare")
def chain_unshare(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, user_id: Id) -> Response:
    chain = chains.access_chain_owner(session, user, chain_id)
    chains.do_unshare(session, chain, user_id)
    return redirect(request, str(request.url_for("chain_detail", chain_id=chain.id)) + "#sharing")


# Library ---------------------------------------------------------------------------


def _library_context(session, chain, kind, **extra) -> dict:
    return {
        "chain": chain,
        "kind": kind,
        "items": library.items_of(session, chain, kind, archived=False),
        "archived": library.items_of(session, chain, kind, archived=True),
        "work_areas": library.work_areas(session),
        **extra,
    }


def _library_answer(request, session, chain, kind, *, errors=None, form=None) -> Response:
    status = 422 if errors else 200
    if hx_target(request) == "library-items":
        ctx = _library_context(session, chain, kind, errors=errors or {}, form=form or {})
        return render(request, "valuechains/_library_items.html", ctx, status_code=status)
    if errors:
        ctx = _library_context(session, chain, kind, errors=errors, form=form or {})
        return render(request, "valuechains/library.html", ctx, status_code=status)
    return redirect(request, request.url_for("library", chain_id=chain.id, kind=kind.slug))


@router.get("/{chain_id}/library/{kind}", name="library")
def library_page(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, kind: str) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    return render(request, "valuechains/library.html", _library_context(session, chain, library.kind_named(kind)))


@router.post("/{chain_id}/library/{kind}", name="library_add")
def library_add(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, kind: str, form: Posted
) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    lk = library.kind_named(kind)
    data = fields(form)
    try:
        library.do_add_item(session, chain, lk, data)
    except Invalid as exc:
        return _library_answer(request, session, chain, lk, errors=exc.errors, form=data)
    return _library_answer(request, session, chain, lk)


@router.get("/{chain_id}/library/{kind}/{item_id}/edit", name="library_edit")
def library_edit(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, kind: str, item_id: Id
) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    lk = library.kind_named(kind)
    item = library.access_item(session, chain, lk, item_id)
    form = item.model_dump()
    if lk is library.GAPS:
        form["mechanisms"] = "\n".join(item.mechanisms)
    ctx = {"chain": chain, "kind": lk, "item": item, "form": form, "work_areas": library.work_areas(session)}
    return render(request, "valuechains/library_item.html", ctx)


@router.post("/{chain_id}/library/{kind}/{item_id}/edit", name="library_update")
def library_update(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, kind: str, item_id: Id, form: Posted
) -> Response:
    chain = chains.access_chain(session, user, chain_id)
    lk = library.kind_named(kind)
    item = library.access_item(session, chain, lk, item_id)
    data = fields(form)
    try:
        library.do_update_item(session, chain, lk, item, data)
    except Invalid as exc:
        ctx = {
            "chain": chain,
            "kind": lk,
            "item": item,
            "form": data,
            "errors": exc.errors,
            "work_areas": library.work_areas(session),
        }
        return render(request, "valuechains/library_item.html", ctx, status_code=422)
    return redirect(request, request.url_for("library", chain_id=chain.id, kind=lk.slug))


@router.post("/{chain_id}/library/{kind}/{item_id}/{action}", name="library_action")
def library_action(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, kind: str, item_id: Id, action: str
) -> Response:
    """Move an item up or down, remove it (archived when in use) or restore it."""
    chain = chains.access_chain(session, user, chain_id)
    lk = library.kind_named(kind)
    item = library.access_item(session, chain, lk, item_id)
    if action in DELTAS:
        library.do_move_item(session, chain, lk, item, DELTAS[action])
    elif action == "remove":
        library.do_remove_item(session, chain, lk, item)
    elif action == "restore":
        library.do_restore_item(session, chain, item)
    else:
        raise NotFound()
    return _library_answer(request, session, chain, lk)
