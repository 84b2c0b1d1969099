"""Rendering: one Jinja2 environment per app, and the helpers routes use to answer.

A page template extends ``layout``: the full layout for a normal request, or
``_fragment.html`` (only the ``content`` block) when htmx asks for the page, so one
template serves both. Partials (``_name.html``) are rendered on their own for htmx swaps
and, later, websocket pushes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from server import ROOT
from server.activities.values import MAX_ID
from server.i18n import LOCALE_NAMES, LOCALES, Message, Translator

STATIC_VERSION = "9"

# The type of every id in a path: one out of range (or not a number) is answered like an
# id that names nothing (404, or a websocket closed with 4401), before any query runs.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    # Vocabulary of the method, for every template (pages and live fragments alike).
    from server.activities.gaps.tally import ELEMENTS, LEVELS
    from server.activities.kinds import KINDS
    from server.activities.ranking.explain import METHODS, PLAIN

    env.globals.update(
        elements=ELEMENTS, levels=LEVELS, ranking_methods=METHODS, ranking_plain=PLAIN, activity_kinds=KINDS
    )
    env.filters["choice"] = lambda item, locale: (item.id, item.name(locale))
    env.filters["segment_choice"] = lambda segment: (segment.id, segment.name)
    return env


_INDENT = re.compile(r"\n\s+")


def compact_html(html: str) -> str:
    """Drop the templates' indentation: bytes every phone would download for nothing.
    Only for templates without <pre> or <textarea>, where it would change the text."""
    return _INDENT.sub("\n", html)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def hx_target(request: Request) -> str | None:
    return request.headers.get("HX-Target") if is_htmx(request) else None


def translator(request: Request) -> Translator:
    return request.state.translator


def _(request: Request, message: str | Message, **params) -> str:
    t = translator(request)
    return t.message(message) if isinstance(message, Message) else t.gettext(message, **params)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    fragment: bool | None = None,
    headers: dict[str, str] | None = None,
    compact: bool = False,
) -> HTMLResponse:
    """Render a page (or its htmx fragment). ``compact`` drops indentation (phone pages)."""
    env: Environment = request.app.state.templates
    t = translator(request)
    if fragment is None:
        fragment = is_htmx(request)
    ctx = {
        "request": request,
        "layout": "_fragment.html" if fragment else "layout.html",
        "t": t,
        "_": t.gettext,
        "gettext": t.gettext,
        "ngettext": t.ngettext,
        "msg": t.message,
        "locale": t.locale,
        "locales": [(code, LOCALE_NAMES[code]) for code in LOCALES],
        "user": getattr(request.state, "user", None),
        "csrf_token": request.state.csrf_token,
        "url_for": request.url_for,
        "static": lambda path: f"/static/{path}?v={STATIC_VERSION}",
        "errors": {},
        "form": {},
    }
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    if compact:
        html = compact_html(html)
    if status_code >= 400:
        request.state.rollback = True  # an error answer changes nothing
    return HTMLResponse(html, status_code=status_code, headers=headers)


def redirect(request: Request, url: str) -> RedirectResponse | HTMLResponse:
    """After a successful post: a 303 for a plain form, an ``HX-Redirect`` for htmx."""
    if is_htmx(request):
        return HTMLResponse("", status_code=204, headers={"HX-Redirect": str(url)})
    return RedirectResponse(str(url), status_code=303)


def safe_next(url: str | None, default: str = "/") -> str:
    """Only same-site paths are followed after login or a language switch."""
    if not url:
        return default
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return default
    return url


def secure_cookies(request: Request) -> bool:
    """Cookies carry the Secure flag when served over HTTPS (or when the settings force it)."""
    forced = request.app.state.settings.cookie_secure
    return forced if forced is not None else request.url.scheme == "https"


async def _posted(request: Request):
    form = await request.form()
    try:
        yield form
    finally:
        await form.close()  # an upload's temporary file, also when a later check refused the post


# The posted form, for synchronous routes: read here, on the event loop, so that the route
# itself (its database work, password hashing) runs in a worker thread. An ``async``
# route must never query the database: a query on the event loop stops every phone.
Posted = Annotated[FormData, Depends(_posted)]


def fields(form: FormData) -> dict[str, str]:
    """A posted form as a dict of strings (files are ignored)."""
    return {key: value for key, value in form.items() if isinstance(value, str)}


def field_list(form: FormData, key: str) -> list[str]:
    return [v for v in form.getlist(key) if isinstance(v, str)]


async def form_data(request: Request) -> dict[str, str]:
    """The posted form as a dict of strings (files are ignored). See ``form_list`` for lists."""
    return fields(await request.form())


async def form_list(request: Request, key: str) -> list[str]:
    return field_list(await request.form(), key)
