"""Downloads from a workshop's or a chain's page, through an export job (``jobs.py``).

The page's button posts (CSRF) the product; the export starts in the worker process and
the route waits up to ``MINKA_EXPORT_WAIT_SECONDS``: a small export is then handed out at
once (a redirect to its file), a long one redirects to its job page, which shows how far
it is (htmx asks for the status fragment every second; without JavaScript the page
reloads itself) and offers the file when it is ready, or says plainly that it failed.

Every route checks the facilitator's access to the workshop or chain (404 otherwise), and
then that the job is theirs and of that workshop or chain: a job id alone opens nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from server.auth.deps import CurrentUser
from server.db import DbSession
from server.errors import NotFound
from server.exports import jobs, service
from server.exports.pdf import PdfUnavailable
from server.exports.routes import EXPORTS_PER_MINUTE, _limit
from server.web import Id, Posted, is_htmx, redirect, render

router = APIRouter()

SCOPES = {"workshop": "workshop_id", "chain": "chain_id"}


def _scope(request: Request, session, user, what: str, subject_id: int):
    if what == "workshop":
        return service.workshop_scope(session, user, subject_id)
    return service.chain_scope(session, user, subject_id, request.state.translator.locale)


def _job(request: Request, user, what: str, subject_id: int, job_id: str) -> jobs.JobStatus:
    job = jobs.find(request.app.state.settings, job_id, user, what, subject_id)
    if job is None:
        raise NotFound()
    return job


def _url(request: Request, what: str, subject_id: int, name: str, **params) -> str:
    return str(request.url_for(f"{what}_export_{name}", **{SCOPES[what]: subject_id}, **params))


def _back(request: Request, what: str, subject_id: int) -> str:
    if what == "workshop":
        return str(request.url_for("workshop_detail", workshop_id=subject_id)) + "#exports"
    return str(request.url_for("chain_detail", chain_id=subject_id)) + "#exports"


def _start(request: Request, session, user, what: str, subject_id: int, form) -> Response:
    scope = _scope(request, session, user, what, subject_id)
    product = str(form.get("product") or "")
    if product not in service.PRODUCTS:  # no button of the page: back to it
        return redirect(request, _back(request, what, subject_id))
    scope.names = form.get("names") == "1"
    _limit(request, user, "export", EXPORTS_PER_MINUTE)
    state = request.app.state
    try:
        job_id = service.start_job(state, scope, product)
    except PdfUnavailable:
        return render(request, "exports/pdf_unavailable.html", {"scope": scope}, status_code=503)
    # The request's transaction ends before the wait: held, its write lock (SQLite's BEGIN
    # IMMEDIATE) would stop every vote of a live room for as long as the export is awaited.
    session.commit()
    job = jobs.wait(state.settings, job_id, state.settings.export_wait_seconds)
    if job is not None and job.state == jobs.DONE:
        return redirect(request, _url(request, what, subject_id, "file", job_id=job_id))
    return redirect(request, _url(request, what, subject_id, "job", job_id=job_id))


def _page(request: Request, session, user, what: str, subject_id: int, job_id: str) -> Response:
    scope = _scope(request, session, user, what, subject_id)
    job = _job(request, user, what, subject_id, job_id)
    context = {
        "job": job,
        "scope": scope,
        "subject": scope.workshops[0].title if what == "workshop" else scope.chain.name,
        "status_url": _url(request, what, subject_id, "job", job_id=job_id),
        "file_url": _url(request, what, subject_id, "file", job_id=job_id),
        "back_url": _back(request, what, subject_id),
    }
    if is_htmx(request):
        return render(request, "exports/_job_status.html", context, fragment=True)
    return render(request, "exports/job.html", context)


def _file(request: Request, session, user, what: str, subject_id: int, job_id: str) -> Response:
    scope = _scope(request, session, user, what, subject_id)
    job = _job(request, user, what, subject_id, job_id)
    path = jobs.file_path(request.app.state.settings, job)
    if job.state != jobs.DONE or not path.is_file():
        raise NotFound()
    service.do_log(request.app.state.db.writer, user, scope, job.product, job.sha256)
    return FileResponse(
        path,
        media_type=job.media_type,
        filename=job.filename,
        headers={"X-Content-Type-Options": "nosniff", "X-Export-SHA256": job.sha256},
    )


@router.post("/workshops/{workshop_id}/exports", name="workshop_export_start")
def workshop_export_start(
    request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, form: Posted
) -> Response:
    return _start(request, session, user, "workshop", workshop_id, form)


@router.post("/chains/{chain_id}/exports", name="chain_export_start")
def chain_export_start(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, form: Posted) -> Response:
    return _start(request, session, user, "chain", chain_id, form)


@router.get("/workshops/{workshop_id}/exports/{job_id}", name="workshop_export_job")
def workshop_export_job(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, job_id: str):
    return _page(request, session, user, "workshop", workshop_id, job_id)


@router.get("/chains/{chain_id}/exports/{job_id}", name="chain_export_job")
def chain_export_job(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, job_id: str):
    return _page(request, session, user, "chain", chain_id, job_id)


@router.get("/workshops/{workshop_id}/exports/{job_id}/file", name="workshop_export_file", response_class=FileResponse)
def workshop_export_file(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, job_id: str):
    return _file(request, session, user, "workshop", workshop_id, job_id)


@router.get("/chains/{chain_id}/exports/{job_id}/file", name="chain_export_file", response_class=FileResponse)
def chain_export_file(request: Request, session: DbSession, user: CurrentUser, chain_id: Id, job_id: str):
    return _file(request, session, user, "chain", chain_id, job_id)
