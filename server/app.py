"""create_app(settings): the only place the application is assembled."""

from __future__ import annotations

from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.middleware.gzip import GZipMiddleware

from server import ROOT
from server.activities.gaps import batch as rating_batch
from server.activities.gaps.kind import GapRating
from server.activities.ranking.kind import Ranking
from server.activities.registry import Registry
from server.activities.roadmap.kind import Roadmap
from server.auth.deps import LoginRequired, csrf_protect
from server.auth.ratelimit import MemoryRateLimiter, RedisRateLimiter
from server.config import Settings
from server.db import Database
from server.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from server.i18n import COOKIE as LANG_COOKIE
from server.i18n import LOCALES
from server.middleware import Admission, AllowedHosts, KeepRawSend, RequestContext
from server.realtime.admission import PhoneDoor
from server.realtime.topics import Topic
from server.web import SharedPages, is_htmx, make_environment, render, safe_next, secure_cookies
from server.workshops.participants import KnownParticipants
from server.workshops.ws import PHONE_PREFIX, phone_endpoint


def make_registry() -> Registry:
    """The activity kinds this app runs: one line each (docs/architecture.md, "Adding an
    activity kind"). A fresh registry per app, so that tests can build their own."""
    registry = Registry()
    registry.register(GapRating())
    registry.register(Ranking())
    registry.register(Roadmap())
    return registry


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.writer.start()
        app.state.hub.start()
        yield
        app.state.hub.stop()
        app.state.writer.stop()
        if app.state.writer._thread is None:
            app.state.db.dispose()

    app = FastAPI(title="Minka", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.secret = settings.resolved_secret_key()
    app.state.db = Database(settings)
    app.state.templates = make_environment()
    app.state.registry = make_registry()
    app.state.participants_known = KnownParticipants()
    if settings.redis_url:
        import redis

        app.state.ratelimiter = RedisRateLimiter(redis.Redis.from_url(settings.redis_url))
    else:
        app.state.ratelimiter = MemoryRateLimiter()

    _install_live(app, settings)
    _install_middleware(app, settings)
    # Poor mobile data: pages, CSS and scripts travel compressed (a phone page ~5x smaller).
    app.add_middleware(GZipMiddleware, minimum_size=800)
    app.add_middleware(Admission, limit=settings.participant_posts_in_flight)
    # A reconnect storm is shed before the app, and a phone let in goes straight to its socket.
    app.add_middleware(PhoneDoor, prefix=PHONE_PREFIX, endpoint=phone_endpoint)
    if settings.allowed_hosts:  # outermost: any other Host is refused before anything runs
        app.add_middleware(AllowedHosts, allowed_hosts=settings.allowed_hosts, www_redirect=False)
    app.add_middleware(KeepRawSend)  # outermost of all: it must see the server's own send
    _install_error_pages(app)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")

    from server.admin.routes import router as admin_router
    from server.auth.routes import router as auth_router
    from server.exports.api import router as api_router
    from server.exports.import_routes import router as json_import_router
    from server.exports.job_routes import router as export_jobs_router
    from server.exports.routes import router as exports_router
    from server.results.chain_routes import router as chain_results_router
    from server.results.routes import router as results_router
    from server.valuechains.roadmap_routes import router as roadmap_router
    from server.valuechains.routes import router as valuechains_router
    from server.workshops.console_routes import router as console_router
    from server.workshops.participant_routes import form_routes
    from server.workshops.participant_routes import router as participant_router
    from server.workshops.routes import router as workshops_router
    from server.workshops.ws import router as ws_router

    # The websockets first: each handshake (a hall reconnecting after a restart makes
    # thousands at once) is matched against the routes in order, and with 250 routes
    # ahead of it the matching alone cost about as much as the rest of the handshake.
    app.include_router(ws_router)
    protected = [Depends(csrf_protect)]
    # Then the phones' pages and posts (a hall joining asks for them hundreds of times a
    # second), and the home page they start from.
    routers = (
        participant_router,
        form_routes(app.state.registry),  # /p/{workshop_id}/<action>: each kind's form posts
        auth_router,
        valuechains_router,
        roadmap_router,
        workshops_router,
        console_router,
        admin_router,
        results_router,
        chain_results_router,
        exports_router,
        export_jobs_router,
        json_import_router,
        api_router,
    )
    for router in routers:
        app.include_router(router, dependencies=protected)
    app.include_router(_meta_router(), dependencies=protected)

    return app


def _install_live(app: FastAPI, settings: Settings) -> None:
    """The live machinery: single writer, hub (memory or Redis), tallies, screen renderer."""
    from server.activities.live import LiveTallies
    from server.realtime.admission import Doorman
    from server.realtime.hub import Hub
    from server.workshops.screens import ScreenRenderer
    from server.writer import Writer

    backend = None
    if settings.redis_url:
        from server.realtime.redis_backend import RedisBackend

        backend = RedisBackend(settings.redis_url)
    app.state.doorman = Doorman(
        settings.phone_connections_per_second,
        in_flight=settings.phone_connections_in_flight,
        line=settings.phone_connections_waiting,
    )
    app.state.hub = hub = Hub(
        backend=backend,
        interval=settings.broadcast_interval,
        phone_interval=settings.phone_results_interval,
        recheck_interval=settings.screen_recheck_interval,
    )
    app.state.writer = Writer(app.state.db.writer, {"hub": hub})
    app.state.writer.warmups.append(rating_batch.warm)
    registry = app.state.registry
    app.state.tallies = tallies = LiveTallies(app.state.db.reader, app.state.writer.lock, hub.mark_dirty, registry)
    # The join address on pushed screens: the setting, else none (each projector page
    # fills in the address it was itself opened at; never one another request chose).
    hub.renderer = ScreenRenderer(
        app.state.templates,
        app.state.db,
        tallies,
        hub,
        registry,
        settings.min_group_size,
        join_base=lambda: settings.base_url or "",
    )
    # Pages shared by a hall of phones are rendered again after any change they show.
    app.state.shared_pages = SharedPages()
    hub.listeners.append(app.state.shared_pages.changed)
    # Another process wrote answers: count this workshop's tallies afresh.
    hub.listeners.append(
        lambda workshop_id, topics, local: (
            None if local or Topic.RESULTS not in topics else tallies.forget_workshop(workshop_id)
        )
    )


def _meta_router() -> APIRouter:
    router = APIRouter()

    # The health check has worker threads of its own: a hall's requests queueing for the
    # shared ones must not make a load balancer think the server is down.
    health_threads = anyio.CapacityLimiter(2)

    @router.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> Response:
        def check() -> None:
            with request.app.state.db.reader.connect() as conn:
                conn.execute(text("SELECT 1"))

        await anyio.to_thread.run_sync(check, limiter=health_threads)
        return PlainTextResponse("ok")

    @router.get("/lang/{code}", name="set_language")
    def set_language(request: Request, code: str, next: str = "/") -> Response:
        response = RedirectResponse(safe_next(next), status_code=303)
        if code in LOCALES:
            response.set_cookie(
                LANG_COOKIE,
                code,
                max_age=365 * 86400,
                samesite="lax",
                httponly=True,
                secure=secure_cookies(request),
            )
        return response

    return router


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(RequestContext, settings=settings, secret=app.state.secret)


# PostgreSQL's answers to a lost race: deadlock detected, serialization failure, lock not available.
LOST_RACE_SQLSTATES = {"40P01", "40001", "55P03"}


def _conflict_page(request: Request) -> Response:
    """409: someone changed the same thing at the same moment. htmx puts the message in
    place of the page's content; either way it links back to the page, reloaded."""
    came_from = request.headers.get("HX-Current-URL") or request.headers.get("referer") or ""
    back = safe_next(urlsplit(came_from).path or None, str(request.url_for("home")))
    headers = {"HX-Retarget": "#main", "HX-Reswap": "innerHTML"} if is_htmx(request) else None
    return render(request, "error.html", {"status": 409, "back": back}, status_code=409, headers=headers)


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        url = str(request.url_for("login_form").include_query_params(next=request.url.path))
        if is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    def error_page(request: Request, status: int, headers: dict | None = None):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"status": status}, status_code=status, headers=headers)
        return render(request, "error.html", {"status": status}, status_code=status, headers=headers)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound):
        return error_page(request, 404)

    @app.exception_handler(404)
    async def http_not_found(request: Request, exc):
        return error_page(request, 404)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        return error_page(request, 403)

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict):
        return _conflict_page(request)

    # A lost race that no lock prevented (another kind of writer): the same answer, not a 500.
    @app.exception_handler(StaleDataError)
    async def stale(request: Request, exc: StaleDataError):
        return _conflict_page(request)

    @app.exception_handler(OperationalError)
    async def operational(request: Request, exc: OperationalError):
        if getattr(exc.orig, "sqlstate", None) not in LOST_RACE_SQLSTATES:
            raise exc
        return _conflict_page(request)

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited):
        return error_page(request, 429, {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(Invalid)
    async def invalid(request: Request, exc: Invalid):
        return render(request, "error.html", {"status": 422, "errors": exc.errors}, status_code=422)

    from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        # A path id out of range (or not a number) names nothing: 404, as for a missing id.
        if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
            return error_page(request, 404)
        return error_page(request, 400)

    @app.exception_handler(WebSocketRequestValidationError)
    async def bad_socket(websocket: WebSocket, exc: WebSocketRequestValidationError):
        await websocket.close(code=4401)  # as for a workshop that does not exist
