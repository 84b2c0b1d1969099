"""Rendering: one Jinja2 environment per app, and the helpers routes use to answer.

A page template extends ``layout``: the full layout for a normal request, or
``_fragment.html`` (only the ``content`` block) when htmx asks for the page, so one
template serves both. Partials (``_name.html``) are rendered on their own for htmx swaps
and, later, websocket pushes.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from server import ROOT
from server.activities.values import MAX_ID
from server.i18n import LOCALE_NAMES, LOCALES, Message, Translator
from server.realtime.topics import Topic

STATIC_VERSION = "11"

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
    html = render_html(request, template, context, fragment=fragment, compact=compact)
    if status_code >= 400:
        request.state.rollback = True  # an error answer changes nothing
    return HTMLResponse(html, status_code=status_code, headers=headers)


def render_html(
    request: Request, template: str, context: dict[str, Any] | None, *, fragment: bool | None, compact: bool
) -> str:
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
    return compact_html(html) if compact else html


class SharedPages:
    """Rendered pages that many people are given alike but for a few strings of their own
    (their CSRF token, a form's key): a hall of phones joining asks for the same home page,
    join form and live page hundreds of times a second, and rendering them was most of a
    join's cost (docs/performance.md, "Joins").

    A page is kept under its caller's key, rendered with stand-ins for the strings of each
    request (random per process: no content can forge them), which ``render_shared``
    replaces. A live page's key carries its workshop's ``generation``, moved on by every
    change the hub hears of that phones see (``changed``, a hub listener: this process's
    writes and, through Redis, the others'). The fewest pages are kept: the least recently
    used goes first."""

    #: Topics that change nothing on a phone's page (counts and the console's roster).
    UNSEEN = frozenset({Topic.COUNTS, Topic.ROSTER})

    def __init__(self, size: int = 256):
        self.size = size
        self._lock = threading.Lock()
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        self._generations: defaultdict[int, int] = defaultdict(int)
        self.stand_ins = {name: f"{name}-{secrets.token_hex(16)}" for name in ("csrf_token", "form_key")}

    def generation(self, workshop_id: int) -> int:
        """Read before the database: a change committed meanwhile makes the page unused."""
        with self._lock:
            return self._generations[workshop_id]

    def changed(self, workshop_id: int, topics: frozenset[str], _local: bool = True) -> None:
        if not topics <= self.UNSEEN:
            with self._lock:
                self._generations[workshop_id] += 1

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            html = self._pages.get(key)
            if html is not None:
                self._pages.move_to_end(key)
            return html

    def put(self, key: Hashable, html: str) -> None:
        with self._lock:
            self._pages[key] = html
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def forget(self) -> None:
        """Every page and generation (tests, after emptying the database: ids start again)."""
        with self._lock:
            self._pages.clear()
            self._generations.clear()


def render_shared(
    request: Request,
    key: Hashable,
    template: str,
    context: Callable[[], dict],
    *,
    fills: dict[str, str] | None = None,
    compact: bool = False,
) -> HTMLResponse:
    """``render`` of a full page (not an htmx fragment) shared by everyone whose ``key``
    is the same: ``context()`` is called only when the page is not kept yet. The key must
    name everything the page shows, and the context hold nothing of one person that the
    key does not name (another would be shown it); the language, the path with its query
    and who is signed in are added here. ``fills``: this request's own strings (``form_key``...),
    given to the template as stand-ins and put in place after; the CSRF token always."""
    pages: SharedPages = request.app.state.shared_pages
    user = getattr(request.state, "user", None)
    full_key = (
        template,
        translator(request).locale,
        request.url.path,
        request.url.query,
        getattr(user, "id", None),
        key,
    )
    own = {"csrf_token": request.state.csrf_token, **(fills or {})}
    html = pages.get(full_key)
    if html is None:
        stand_ins = {name: pages.stand_ins[name] for name in own}
        html = render_html(request, template, {**context(), **stand_ins}, fragment=False, compact=compact)
        pages.put(full_key, html)
    for name, value in own.items():
        html = html.replace(pages.stand_ins[name], value)
    return HTMLResponse(html)


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
