"""Export downloads of a workshop and of a chain, and the export log (admins).

Every route is synchronous (FastAPI runs it in a worker thread, off the event loop): the
file is built on the request's read session into a temporary folder, logged, then
streamed from disk and deleted. Access is the chain's: a facilitator who may see the
workshop or chain (owner, shared with, admin); anyone else gets 404 like a missing id.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from server.auth.deps import AdminUser, CurrentUser
from server.db import DbSession
from server.exports import service
from server.exports.pdf import PdfUnavailable
from server.web import Id, render

router = APIRouter()


def _download(request: Request, session, scope, product: str) -> Response:
    state = request.app.state
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
        return _download(request, session, scope, product)

    export_workshop.__name__ = f"workshop_export_{product}"
    return export_workshop


def _chain_route(product: str):
    def export_chain(request: Request, session: DbSession, user: CurrentUser, chain_id: Id) -> Response:
        scope = service.chain_scope(session, user, chain_id, request.state.translator.locale)
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
