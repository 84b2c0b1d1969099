"""The JSON API for organizers: chains, workshops and each activity's results (the last
in ``server/results/routes.py``), described by OpenAPI at ``/api/openapi.json`` and in
docs/api.md. Same access as the pages: a facilitator's login (the ``minka_session``
cookie) and the chain's access; what a caller may not see answers 404.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from server.auth.deps import CurrentUser
from server.db import DbSession
from server.exports.gather import attendance_counts
from server.exports.service import PRODUCTS
from server.valuechains.service import access_chain, segments_of, visible_chains
from server.web import Id
from server.workshops.service import access_workshop, agenda_of, workshops_of

router = APIRouter(prefix="/api", tags=["api"])
API_VERSION = "1"


class Segment(BaseModel):
    id: int
    name: str
    position: int


class WorkshopSummary(BaseModel):
    id: int
    title: str
    date: dt.date
    region: str
    town: str
    language: str
    status: str
    participants: int


class ChainSummary(BaseModel):
    id: int
    name: str
    product: str
    regions: list[str]


class Chain(ChainSummary):
    description: str
    segments: list[Segment]
    workshops: list[WorkshopSummary]
    exports: dict[str, str]


class Activity(BaseModel):
    id: int
    kind: str
    title: str
    position: int
    status: str
    results: str | None  # the URL of its results, for a kind that runs live


class Workshop(WorkshopSummary):
    chain_id: int
    min_group_size: int | None
    activities: list[Activity]
    exports: dict[str, str]


def _summary(workshop, counts: dict[int, int]) -> WorkshopSummary:
    return WorkshopSummary(
        id=workshop.id,
        title=workshop.title,
        date=workshop.date,
        region=workshop.region,
        town=workshop.town,
        language=workshop.language,
        status=workshop.status.value,
        participants=counts.get(workshop.id, 0),
    )


@router.get("/chains", name="api_chains", response_model=list[ChainSummary])
def api_chains(session: DbSession, user: CurrentUser) -> list[ChainSummary]:
    """The value chains the caller may see."""
    return [
        ChainSummary(id=c.id, name=c.name, product=c.product, regions=c.regions) for c in visible_chains(session, user)
    ]


@router.get("/chains/{chain_id}", name="api_chain", response_model=Chain)
def api_chain(request: Request, session: DbSession, user: CurrentUser, chain_id: Id) -> Chain:
    """A chain, its segments, its workshops (with participant counts) and its exports."""
    chain = access_chain(session, user, chain_id)
    workshops = workshops_of(session, chain)
    counts = attendance_counts(session, [w.id for w in workshops])
    return Chain(
        id=chain.id,
        name=chain.name,
        product=chain.product,
        regions=chain.regions,
        description=chain.description,
        segments=[Segment(id=s.id, name=s.name, position=s.position) for s in segments_of(session, chain)],
        workshops=[_summary(w, counts) for w in workshops],
        exports={p: str(request.url_for(f"chain_export_{p}", chain_id=chain.id)) for p in PRODUCTS},
    )


@router.get("/workshops/{workshop_id}", name="api_workshop", response_model=Workshop)
def api_workshop(request: Request, session: DbSession, user: CurrentUser, workshop_id: Id) -> Workshop:
    """A workshop, its agenda (with the URL of each activity's results) and its exports."""
    workshop, _chain = access_workshop(session, user, workshop_id)
    registry = request.app.state.registry
    counts = attendance_counts(session, [workshop.id])
    activities = [
        Activity(
            id=a.id,
            kind=a.kind,
            title=a.title,
            position=a.position,
            status=a.status.value,
            results=str(request.url_for("api_activity_results", workshop_id=workshop.id, activity_id=a.id))
            if a.kind in registry
            else None,
        )
        for a in agenda_of(session, workshop)
    ]
    return Workshop(
        **_summary(workshop, counts).model_dump(),
        chain_id=workshop.value_chain_id,
        min_group_size=workshop.min_group_size,
        activities=activities,
        exports={p: str(request.url_for(f"workshop_export_{p}", workshop_id=workshop.id)) for p in PRODUCTS},
    )


def _api_routes(routes) -> list[APIRoute]:
    found = []
    for route in routes:
        if hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes)
        elif isinstance(route, APIRoute) and route.path.startswith("/api/") and route.name != "api_openapi":
            found.append(route)
    return found


@router.get("/openapi.json", name="api_openapi", include_in_schema=False)
def api_openapi(request: Request) -> JSONResponse:
    """The OpenAPI description of the JSON API (public: it describes, it holds no data)."""
    state = request.app.state
    if getattr(state, "api_openapi", None) is None:
        document = get_openapi(
            title="Minka API",
            version=API_VERSION,
            description="Chains, workshops and results for organizers; see docs/api.md.",
            routes=_api_routes(request.app.routes),
        )
        document["components"] = {
            **document.get("components", {}),
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "minka_session"}},
        }
        document["security"] = [{"session": []}]
        state.api_openapi = document
    return JSONResponse(state.api_openapi)
