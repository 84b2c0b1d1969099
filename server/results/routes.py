"""Results as JSON, for facilitators and organizers (documented in docs/api.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from server.auth.deps import CurrentUser
from server.db import DbSession
from server.results.service import activity_results
from server.web import Id
from server.workshops.screens import results_view
from server.workshops.service import access_activity, access_workshop

router = APIRouter(prefix="/api")


@router.get("/workshops/{workshop_id}/activities/{activity_id}/results", name="api_activity_results")
def api_activity_results(
    request: Request, session: DbSession, user: CurrentUser, workshop_id: Id, activity_id: Id
) -> JSONResponse:
    workshop, _chain = access_workshop(session, user, workshop_id)
    activity = access_activity(session, workshop, activity_id)
    view = results_view(session, request.app.state, workshop, activity)
    return JSONResponse(activity_results(view, request.app.state.tallies.get(activity.id, workshop.id)))
