"""Pages and JSON of the results across a value chain, an item's history, and a region.

Who may see them follows who may see the chain (``access_chain``): its owner, those it
is shared with, admins. The filters are a GET form (no JavaScript needed).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from server.auth.deps import CurrentUser
from server.db import DbSession
from server.errors import NotFound
from server.results import chain as results
from server.valuechains.service import access_chain, visible_chains
from server.web import Id, render

router = APIRouter()


def _k(request: Request) -> int:
    return request.app.state.settings.min_group_size


def _view(request: Request, chain) -> results.ChainView:
    state = request.app.state
    return results.chain_view(
        state.db, state.registry, chain, request.query_params, _k(request), request.state.translator.locale
    )


@router.get("/chains/{chain_id}/results", name="chain_results")
def chain_results(request: Request, session: DbSession, user: CurrentUser, chain_id: Id) -> Response:
    chain = access_chain(session, user, chain_id)
    view = _view(request, chain)
    return render(
        request, "results/chain.html", {"view": view, "chain": chain}, status_code=422 if view.errors else 200
    )


@router.get("/api/chains/{chain_id}/results", name="api_chain_results")
def api_chain_results(request: Request, session: DbSession, user: CurrentUser, chain_id: Id) -> JSONResponse:
    chain = access_chain(session, user, chain_id)
    view = _view(request, chain)
    return JSONResponse(results.plain(view), status_code=422 if view.errors else 200)


def _history(request: Request, session, user, chain_id: int, activity_kind: str, item_id: int):
    chain = access_chain(session, user, chain_id)
    state = request.app.state
    found = results.item_history(
        state.db,
        state.registry,
        chain,
        activity_kind,
        item_id,
        request.query_params,
        _k(request),
        request.state.translator.locale,
    )
    if found is None:
        raise NotFound()
    return chain, found


@router.get("/chains/{chain_id}/results/{activity_kind}/{item_id}", name="chain_item_history")
def chain_item_history(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, activity_kind: str, item_id: Id
) -> Response:
    chain, (view, kind, history) = _history(request, session, user, chain_id, activity_kind, item_id)
    ctx = {"view": view, "chain": chain, "kind": kind, "history": history}
    return render(request, "results/history.html", ctx, status_code=422 if view.errors else 200)


@router.get("/api/chains/{chain_id}/results/{activity_kind}/{item_id}", name="api_chain_item_history")
def api_chain_item_history(
    request: Request, session: DbSession, user: CurrentUser, chain_id: Id, activity_kind: str, item_id: Id
) -> JSONResponse:
    _chain, (view, kind, history) = _history(request, session, user, chain_id, activity_kind, item_id)
    out = {"kind": kind.key, "filters": results.plain(view)["filters"], "min_group_size": view.k, **history}
    return JSONResponse(out, status_code=422 if view.errors else 200)


@router.get("/regions", name="region_results")
def region_results(request: Request, session: DbSession, user: CurrentUser, region: str = "") -> Response:
    chains = visible_chains(session, user)
    regions = results.regions_of(session, chains)
    error = None
    found = []
    if region and region not in regions:
        error = True
    elif region:
        state = request.app.state
        found = results.region_view(
            state.db, state.registry, chains, region, _k(request), request.state.translator.locale
        )
    ctx = {"regions": regions, "region": region if not error else "", "found": found, "region_error": error}
    return render(request, "results/region.html", ctx, status_code=422 if error else 200)
