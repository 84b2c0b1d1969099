"""FastAPI dependencies: the request's database session and the logged-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from server.auth import csrf
from server.auth.service import access_admin, access_login
from server.db import DbSession
from server.errors import Forbidden
from server.models import User

SESSION_COOKIE = "minka_session"


class LoginRequired(Exception):
    """Raised for anonymous requests to facilitator pages; answered with a redirect to login."""


def optional_user(request: Request, session: DbSession) -> User | None:
    user = access_login(session, request.cookies.get(SESSION_COOKIE))
    request.state.user = user
    return user


def require_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise LoginRequired()
    return user


def require_admin(user: Annotated[User, Depends(require_user)]) -> User:
    return access_admin(user)


CurrentUser = Annotated[User, Depends(require_user)]
AdminUser = Annotated[User, Depends(require_admin)]
MaybeUser = Annotated[User | None, Depends(optional_user)]


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request without this browser's CSRF token or from another site."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    settings = request.app.state.settings
    if not csrf.origin_ok(request.headers.get("origin"), request.headers.get("host"), settings.trusted_hosts):
        raise Forbidden()
    token = request.headers.get(csrf.HEADER)
    form = None
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(csrf.FIELD)
            token = value if isinstance(value, str) else None
    if not csrf.token_ok(request.app.state.secret, request.cookies.get(csrf.COOKIE), token):
        request.state.csrf_failed = True
        if form is not None:
            await form.close()  # a refused upload's temporary file, closed now
        raise Forbidden()
