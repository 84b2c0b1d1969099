"""Export downloads of a workshop and of a chain, and the export log (admins).

Every route is synchronous (FastAPI runs it in a worker thread, off the event loop): the
file is built on the request's read session into a temporary folder, logged, then
streamed from disk and deleted. Access is the chain's: a facilitator who may see the
workshop or chain (owner, shared with, admin); anyone else gets 404 like a missing id.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from server.auth.deps import AdminUser, CurrentUser
from server.db import DbSession
from server.errors import Invalid, RateLimited
from server.exports import library_import as items_import
from server.exports import service
from server.exports.pdf import PdfUnavailable
from server.i18n import N_, Message
from server.valuechains import library
from server.valuechains.service import access_chain
from server.web import Id, Posted, redirect, render

router = APIRouter()


# Exports per facilitator and minute: each is seconds of a worker's time (one at a time).
EXPORTS_PER_MINUTE = 20


def _limit(request: Request, user, what: str, limit: int) -> None:
    wait = request.app.state.ratelimiter.hit(f"{what}:user:{user.id}", limit)
    if wait:
        raise RateLimited(wait)


def _download(request: Request, session, scope, product: str) -> Response:
    state = request.app.state
    _limit(request, scope.user, "export", EXPORTS_PER_MINUTE)
    try:
        built = service.build(session, state, scope, product)
    except PdfUnavailable:
        return render(request, "exports/pdf_unavailable.html", {"scope": scope}, status_code=503)
    service.do_log(state.db.writer, scope.user, scope, product, built.sha256)
    return FileResponse(
        built.path,
        media_type=built.media_type,
        filename=built.filename,
        background=BackgroundTask(built.discard),
        headers={"X-Content-Type-Options": "nosniff", "X-Export-SHA256": built.sha256},
    )


def _workshop_route(product: str):
    def export_workshop(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id) -> Response:
        scope = service.workshop_scope(session, user, workshop_id)
        scope.names = request.query_params.get("names") == "1"
        return _download(request, session, scope, product)

    export_workshop.__name__ = f"workshop_export_{product}"
    return export_workshop


def _chain_route(product: str):
    def export_chain(request: Request, session: DbSession, user: CurrentUser, chain_id: Id) -> Response:
        scope = service.chain_scope(session, user, chain_id, request.state.translator.locale)
        scope.names = request.query_params.get("names") == "1"
        return _download(request, session, scope, product)

    export_chain.__name__ = f"chain_export_{product}"
    return export_chain


for _product in service.PRODUCTS:
    router.add_api_route(
        f"/workshops/{{workshop_id}}/export/{_product}",
        _workshop_route(_product),
        methods=["GET"],
        name=f"workshop_export_{_product}",
        response_class=FileResponse,
    )
    router.add_api_route(
        f"/chains/{{chain_id}}/export/{_product}",
        _chain_route(_product),
        methods=["GET"],
        name=f"chain_export_{_product}",
        response_class=FileResponse,
    )


@router.get("/admin/exports", name="admin_export_log")
def admin_export_log(request: Request, session: DbSession, user: AdminUser) -> Response:
    return render(request, "exports/log.html", {"entries": service.export_log(session), "section": "exports"})


# Import of library items from a file ----------------------------------------------------


def _import_page(request, chain, kind, *, rows=None, errors=None, status_code=200) -> Response:
    ready = rows is not None and not errors and not any(r.errors for r in rows)
    payload = json.dumps([{"number": r.number, "data": r.data} for r in rows or []], ensure_ascii=False)
    context = {"chain": chain, "kind": kind, "rows": rows, "errors": errors or {}, "ready": ready, "payload": payload}
    return render(request, "exports/library_import.html", context, status_code=status_code)


@router.get("/chains/{chain_id}/library-import/{kind}", name="library_import_form")
def library_import_form(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, kind: str) -> Response:
    chain = access_chain(session, user, chain_id)
    return _import_page(request, chain, library.kind_named(kind))


@router.post("/chains/{chain_id}/library-import/{kind}", name="library_import_preview")
def library_import_preview(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, kind: str, form: Posted
) -> Response:
    """The file's rows checked, one error per bad row; nothing is written here."""
    chain = access_chain(session, user, chain_id)
    lk = library.kind_named(kind)
    _limit(request, user, "library-import", EXPORTS_PER_MINUTE)
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile):
            raise Invalid({"file": Message(N_("Choose a CSV or XLSX file."))})
        try:
            content = upload.file.read(items_import.MAX_BYTES + 1)
        finally:
            upload.file.close()
        rows = items_import.read_rows(upload.filename or "", content)
    except Invalid as exc:
        return _import_page(request, chain, lk, errors=exc.errors, status_code=422)
    rows = items_import.check_rows(session, chain, lk, rows)
    request.state.rollback = True  # a preview writes nothing
    return _import_page(request, chain, lk, rows=rows, status_code=422 if any(r.errors for r in rows) else 200)


@router.post("/chains/{chain_id}/library-import/{kind}/confirm", name="library_import_confirm")
def library_import_confirm(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, kind: str, form: Posted
) -> Response:
    """Every row of the previewed file, checked again and written together, or none."""
    chain = access_chain(session, user, chain_id)
    lk = library.kind_named(kind)
    try:
        rows = items_import.posted_rows(str(form.get("rows") or ""))
    except Invalid as exc:
        return _import_page(request, chain, lk, errors=exc.errors, status_code=422)
    try:
        items_import.do_import_rows(session, user, chain, lk, rows)
    except Invalid as exc:
        return _import_page(request, chain, lk, rows=rows, errors=exc.errors, status_code=422)
    return redirect(request, request.url_for("library", chain_id=chain.id, kind=lk.slug))
