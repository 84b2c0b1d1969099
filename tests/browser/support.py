"""What the browser tests share: the phone's screen and language, ``Devices`` (the browser
contexts of a test with several phones and a laptop; the ``devices`` fixture is in
conftest.py) and the steps every test takes (log in, check a page fits the screen, check
it was not reloaded)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from server.i18n import translations
from tests import factories

PHONE_LOCALE = "es-PE"
PHONE_WIDTH = 360
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

LANG = PHONE_LOCALE.split("-")[0]

# What the pages must say, written out here so that an untranslated page fails.
GROUP_NAMES = {"public": "Sector público", "private": "Sector privado", "academia": "Academia"}


def t(msgid: str) -> str:
    """The app's own translation of a label, to find controls by what the reader sees."""
    return translations(LANG).gettext(msgid)


def voted(num: int, total: int) -> str:
    return f"{num} de {total} {'votó' if num == 1 else 'votaron'}"


# -- devices --------------------------------------------------------------------------------


def _aborted(request) -> bool:
    """A load the browser itself gave up because the page moved on (a link followed while a
    script or an image of the page still loaded; seen on a loaded machine): no fault of the
    server's, which answers with an error status, not a failed request."""
    return request.failure == "net::ERR_ABORTED" and request.method == "GET"


class Devices:
    """Browser contexts for one test (each its own cookies), watched like the ``phone`` fixture:
    any console error, uncaught exception or failed request fails the test at teardown.

    ``phone_scripts`` run in every phone with JavaScript before the page's own scripts.
    """

    def __init__(self, browser, base_url: str, problems):
        self.browser, self.base_url, self.problems = browser, base_url, problems
        self.contexts: list[BrowserContext] = []
        self.pages: list[tuple[str, Page]] = []
        self.phone_scripts: list[str] = []

    def watch(self, page: Page, name: str) -> Page:
        add = self.problems.add
        page.on(
            "console", lambda m: m.type == "error" and add(f"{name}: console: {m.text} ({m.location.get('url', '')})")
        )
        page.on("pageerror", lambda exc: add(f"{name}: page error: {exc}"))
        page.on(
            "requestfailed", lambda r: _aborted(r) or add(f"{name}: request failed: {r.method} {r.url}: {r.failure}")
        )
        self.pages.append((name, page))
        return page

    def _context(self, **options) -> BrowserContext:
        context = self.browser.new_context(base_url=self.base_url, locale=PHONE_LOCALE, **options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context

    def phone(self, name: str, *, javascript: bool = True, width: int = PHONE_WIDTH, **options) -> Page:
        """A 360 px wide touch phone (or ``width``); ``options`` go to the context (a ``user_agent``, say)."""
        context = self._context(
            viewport={"width": width, "height": 740},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            java_script_enabled=javascript,
            **options,
        )
        if javascript:
            for script in self.phone_scripts:
                context.add_init_script(script)
        return self.watch(context.new_page(), name)

    def desk(self) -> BrowserContext:
        """The facilitator's laptop: open its pages with ``page``."""
        return self._context(viewport={"width": 1280, "height": 900})

    def page(self, context: BrowserContext, name: str) -> Page:
        return self.watch(context.new_page(), name)


# -- steps ----------------------------------------------------------------------------------


def fits_the_screen(page: Page, screen: int = PHONE_WIDTH) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= screen, f"{page.url} is {width} px wide on a {screen} px screen"


def mark(page: Page) -> None:
    page.evaluate("window.__m = 1")


def not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__m") == 1, f"{page.url} was reloaded"


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label(t("E-mail")).fill(email)
    page.get_by_label(t("Password")).fill(factories.PASSWORD)
    page.get_by_role("button", name=t("Log in")).click()
    expect(page).to_have_url(re.compile(r"/chains$"))
    # Loaded to the end: a test going on at once would abort the page's htmx download, a
    # failed request that fails the test (seen under load).
    page.wait_for_load_state("load")
