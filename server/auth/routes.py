"""Login, logout and the facilitator's own password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.auth.deps import SESSION_COOKIE, CurrentUser, MaybeUser, optional_user
from server.auth.service import demo_password_unchanged, do_change_own_password, do_login, do_logout
from server.db import DbSession, read_in_thread
from server.demo_data import DEMO_EMAIL
from server.errors import Invalid, RateLimited
from server.web import Posted, fields, is_htmx, redirect, render, render_shared, safe_next, secure_cookies

router = APIRouter()


@router.get("/", name="home")
async def home(request: Request) -> Response:
    """The page a hall of phones opens first: without a login cookie it is answered on the
    event loop, shared (no database read, no worker thread: a sync route with the session
    and user dependencies took four thread hand-offs for it)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token is None and not is_htmx(request):
        return render_shared(request, "home", "auth/home.html", dict)

    def page(session) -> Response:
        if optional_user(request, session) is None and not is_htmx(request):
            return render_shared(request, "home", "auth/home.html", dict)
        return render(request, "auth/home.html")

    return await read_in_thread(request.app.state.db.reader, page)


def _login_page(request: Request, session, context: dict, status_code: int = 200) -> Response:
    """The login form; it warns while the demo account keeps its published password."""
    context = {**context, "demo_exposed": DEMO_EMAIL if demo_password_unchanged(session) else None}
    return render(request, "auth/login.html", context, status_code=status_code)


@router.get("/login", name="login_form")
def login_form(request: Request, session: DbSession, user: MaybeUser, next: str = "") -> Response:
    if user is not None:
        return redirect(request, safe_next(next, str(request.url_for("chain_list"))))
    return _login_page(request, session, {"next": safe_next(next, "")})


@router.post("/login", name="login")
def login(request: Request, session: DbSession, form: Posted) -> Response:
    data = fields(form)
    next_url = safe_next(data.get("next"), str(request.url_for("chain_list")))
    limiter = request.app.state.ratelimiter
    limit = request.app.state.settings.login_attempts_per_minute
    client = request.client.host if request.client else "?"
    email = data.get("email", "").strip().lower()[:254]
    wait = max(limiter.hit(f"login:ip:{client}", limit), limiter.hit(f"login:user:{email}", limit))
    if wait:
        raise RateLimited(wait)
    try:
        _user, token = do_login(
            session,
            data.get("email", ""),
            data.get("password", ""),
            days=request.app.state.settings.session_days,
            user_agent=request.headers.get("user-agent", ""),
        )
    except Invalid as exc:
        return _login_page(
            request, session, {"errors": exc.errors, "form": {"email": email}, "next": data.get("next", "")}, 422
        )
    response = redirect(request, next_url)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        max_age=request.app.state.settings.session_days * 86400,
    )
    return response


@router.post("/logout", name="logout")
def logout(request: Request, session: DbSession) -> Response:
    do_logout(session, request.cookies.get(SESSION_COOKIE))
    response = redirect(request, str(request.url_for("home")))
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account/password", name="password_form")
def password_form(request: Request, user: CurrentUser) -> Response:
    return render(request, "auth/password.html")


@router.post("/account/password", name="password_change")
def password_change(request: Request, session: DbSession, user: CurrentUser, form: Posted) -> Response:
    try:
        do_change_own_password(session, user, str(form.get("current_password", "")), str(form.get("password", "")))
    except Invalid as exc:
        return render(request, "auth/password.html", {"errors": exc.errors}, status_code=422)
    response = redirect(request, str(request.url_for("login_form")))
    response.delete_cookie(SESSION_COOKIE)
    return response
