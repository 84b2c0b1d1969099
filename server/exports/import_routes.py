"""Administration › Import: a full-data JSON export uploaded, previewed, then imported as
a new value chain (``json_import.py``). Admins only; every form carries its CSRF token.
Routes are synchronous: the checks and the import run in a worker thread, off the event
loop, in the request's transaction (a preview's is rolled back: it writes nothing)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from server.auth.deps import AdminUser
from server.db import DbSession
from server.errors import Invalid
from server.exports import json_import
from server.exports.routes import EXPORTS_PER_MINUTE, _limit
from server.i18n import N_, Message
from server.web import Posted, redirect, render

router = APIRouter()


def _page(request: Request, session, *, errors=None, summary=None, token="", owner=None, status_code=200):
    context = {
        "section": "import",
        "errors": errors or {},
        "summary": summary,
        "token": token,
        "owner": owner,
        "owners": json_import.owners(session),
        "max_mb": json_import.MAX_BYTES // 2**20,
    }
    return render(request, "exports/json_import.html", context, status_code=status_code)


@router.get("/admin/import", name="admin_import_form")
def admin_import_form(request: Request, session: DbSession, user: AdminUser) -> Response:
    return _page(request, session)


@router.post("/admin/import", name="admin_import_preview")
def admin_import_preview(request: Request, form: Posted, session: DbSession, user: AdminUser) -> Response:
    """The file checked and summed up (a trial import, rolled back); nothing is written."""
    _limit(request, user, "json-import", EXPORTS_PER_MINUTE)
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile):
            raise Invalid({"file": Message(N_("Choose a full-data JSON file exported from Minka."))})
        try:
            content = upload.file.read(json_import.MAX_BYTES + 1)
        finally:
            upload.file.close()
        owner = json_import.owner_of(session, form.get("owner"))
        doc = json_import.read_document(content)
        json_import.trial(session, owner, doc, request.app.state.registry)
    except Invalid as exc:
        return _page(request, session, errors=exc.errors, status_code=422)
    session.rollback()  # the trial wrote nothing that stays
    request.state.rollback = True
    token = json_import.stage(request.app.state.settings, user, owner, content)
    return _page(request, session, summary=json_import.summary(doc), token=token, owner=owner)


@router.post("/admin/import/confirm", name="admin_import_confirm")
def admin_import_confirm(request: Request, form: Posted, session: DbSession, user: AdminUser) -> Response:
    """The previewed file imported as a new chain, all or nothing; then its page."""
    settings = request.app.state.settings
    token = str(form.get("token") or "")
    found = json_import.staged(settings, user, token)
    try:
        if found is None:
            raise Invalid({"file": Message(N_("This preview has expired: choose the file again."))})
        owner = json_import.owner_of(session, found[0])
        doc = json_import.read_document(found[1])
        chain = json_import.do_import(session, user, owner, doc, request.app.state.registry)
    except Invalid as exc:
        return _page(request, session, errors=exc.errors, status_code=422)
    json_import.unstage(settings, token)
    return redirect(request, request.url_for("chain_detail", chain_id=chain.id))
