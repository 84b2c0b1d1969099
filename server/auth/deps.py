"""FastAPI dependencies: the request's database session and the logged-in user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from server.auth import csrf
from server.auth.service import access_admin, access_login
from server.db import Database, transaction
from server.errors import Forbidden
from server.models import User

SESSION_COOKIE = "minka_session"


class LoginRequired(Exception):
    """Raised for anonymous requests to facilitator pages; answered with a redirect to login."""


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route succeeds.

    Reads (GET, HEAD) use the reader engine. An error page or a form answered with
    errors (status >= 400, see ``server.web.render``) rolls the transaction back.
    """
    db: Database = request.app.state.db
    engine = db.reader if request.method in ("GET", "HEAD") else db.writer
    with transaction(engine, {"hub": getattr(request.app.state, "hub", None)}) as session:
        yield session
        if getattr(request.state, "rollback", False):
            session.rollback()


def get_read_session(request: Request) -> Iterator[Session]:
    """A read-only session, for routes that hand their writes to the single writer: they
    must not hold SQLite's write lock while they wait for it."""
    with Session(request.app.state.db.reader, expire_on_commit=False) as session:
        yield session


# scope="function": the transaction commits when the route returns, before the response
# is sent, so a browser that follows a redirect always finds what was saved.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
ReadSession = Annotated[Session, Depends(get_read_session, scope="function")]


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
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(csrf.FIELD)
            token = value if isinstance(value, str) else None
    if not csrf.token_ok(request.app.state.secret, request.cookies.get(csrf.COOKIE), token):
        request.state.csrf_failed = True
        raise Forbidden()
