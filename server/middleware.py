"""The application's own ASGI middleware (``app.py`` puts them in order): each request's
language, CSRF token and security headers; the allowed hosts; the phones' posts queued at
the door; the websocket's raw ``send`` kept for broadcasts."""

from __future__ import annotations

import asyncio

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.middleware.trustedhost import TrustedHostMiddleware

from server.auth import csrf
from server.config import Settings
from server.i18n import COOKIE as LANG_COOKIE
from server.i18n import Translator, pick_locale
from server.realtime.wire import RAW_SEND
from server.web import secure_cookies


class AllowedHosts(TrustedHostMiddleware):
    """``MINKA_ALLOWED_HOSTS``: a request naming another Host gets 400. The health check
    is exempt (a container's probe asks 127.0.0.1)."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'",
    ),
    (
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), accelerometer=(), gyroscope=(), "
        "magnetometer=(), display-capture=()",
    ),
)


class Admission:
    """At most ``limit`` of the phones' posts (joins, answers without the websocket) are
    worked on at once; the others wait at the door, costing nothing, before their body is
    read. A hall posting all at once then queues here instead of in the event loop, where
    it would delay everything else (the health check, the console, websocket acks) by the
    time it takes to work through the whole queue."""

    PREFIXES = ("/p/", "/join")

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(self.PREFIXES):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made in the server's event loop
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)


class KeepRawSend:
    """Keeps a websocket's ``send`` as the server gave it in its scope (``RAW_SEND``):
    wrapped by the middleware further in, it no longer leads to the socket, which
    ``server.realtime.wire`` writes broadcast frames to directly."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
        await self.app(scope, receive, send)


class RequestContext:
    """Each request's language, CSRF token and security headers. A plain ASGI middleware:
    Starlette's ``BaseHTTPMiddleware`` costs a task and a stream per request, a good part
    of a small request's time."""

    def __init__(self, app, settings: Settings, secret: str):
        self.app, self.settings, self.secret = app, settings, secret

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        locale = pick_locale(
            request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"), self.settings.default_locale
        )
        request.state.translator = Translator(locale)
        request.state.user = None
        cookie = request.cookies.get(csrf.COOKIE)
        fresh = cookie is None or not (16 <= len(cookie) <= 64)
        if fresh:
            cookie = csrf.new_cookie_value()
        request.state.csrf_token = csrf.token_for(self.secret, cookie)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if fresh:
                    carrier = Response()
                    carrier.set_cookie(
                        csrf.COOKIE, cookie, httponly=True, samesite="lax", secure=secure_cookies(request)
                    )
                    headers.append("set-cookie", carrier.headers["set-cookie"])
                for name, value in SECURITY_HEADERS:
                    if name not in headers:
                        headers[name] = value
                if request.state.user is not None and "cache-control" not in headers:
                    # A facilitator's pages and exports: kept in no cache, shared or the
                    # browser's own (the QR image keeps its own).
                    headers["Cache-Control"] = "no-store"
                headers["Content-Language"] = locale
                if "vary" not in headers:
                    headers["Vary"] = "Cookie, Accept-Language"
            await send(message)

        await self.app(scope, receive, send_with_headers)
