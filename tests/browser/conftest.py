"""Browser fixtures: Debian's Chromium driven by Playwright against the ``live_server``
fixture (the session's ``app`` served by uvicorn in a thread, in tests/conftest.py), and a phone page that fails its test on any console
error, uncaught exception or failed request (CSP violations show up as console errors).

Tests with several phones and a laptop take the ``devices`` fixture (``support.Devices``).

Run them alone with ``pytest tests/browser`` or leave them out with ``-m "not browser"``.
A failed test leaves a screenshot in ``test-artifacts/<test name>.png`` (with ``devices``,
one per page: ``<test name>-<page>.png``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.support import ARTIFACTS, PHONE_LOCALE, PHONE_WIDTH, Devices, _aborted

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # This hook sees the whole session's items: mark only the ones in this folder.
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (``item.rep_call``) for fixtures' teardown."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium; scripts/test does it)"
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


class PageProblems:
    """What went wrong in the page while the test ran; ``allow`` what the test expects."""

    def __init__(self):
        self.problems: list[str] = []
        self._allowed: list[re.Pattern] = []

    def add(self, text: str) -> None:
        self.problems.append(text)

    def allow(self, pattern: str) -> None:
        self._allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a.search(p) for a in self._allowed)]


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def phone(request, browser, live_server, page_problems):
    """A page on a 360 px wide touch phone asking for Spanish (Peru), with ``base_url`` set.

    The test fails at teardown if the page logged a console error, threw, or a request
    failed; an expected one can be allowed with ``page_problems.allow(regex)``.
    """
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": PHONE_WIDTH, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=PHONE_LOCALE,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on(
        "console", lambda m: m.type == "error" and page_problems.add(f"console: {m.text} ({m.location.get('url', '')})")
    )
    page.on("pageerror", lambda exc: page_problems.add(f"page error: {exc}"))
    # A GET the browser gave up as the page moved on is no fault of the server's (support.py).
    page.on(
        "requestfailed", lambda r: _aborted(r) or page_problems.add(f"request failed: {r.method} {r.url}: {r.failure}")
    )
    # Chromium fetches the icon on its own and drops it when the test moves on: not a failure.
    page_problems.allow(r"^request failed: GET \S+/favicon\.svg\S*: net::ERR_ABORTED$")
    try:
        yield page
        problems = page_problems.unexpected()
        report = getattr(request.node, "rep_call", None)
        if problems or (report is not None and report.failed):
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            except Exception as exc:  # a screenshot must not hide the test's own failure
                print(f"no screenshot of {name}: {exc}")
        if problems:
            pytest.fail("the page reported problems:\n" + "\n".join(problems), pytrace=False)
    finally:
        context.close()


@pytest.fixture
def devices(request, browser, live_server, page_problems):
    """Phones and a laptop for one test (see ``support.Devices``), failing it at teardown on
    any page's problem like ``phone``, with a screenshot of each page if the test failed."""
    # Chromium fetches the icon on its own and drops it when the test moves on: not a failure.
    page_problems.allow(r"request failed: GET \S+/favicon\.svg\S*: net::ERR_ABORTED$")
    d = Devices(browser, live_server, page_problems)
    try:
        yield d
        problems = page_problems.unexpected()
        report = getattr(request.node, "rep_call", None)
        if problems or (report is not None and report.failed):
            ARTIFACTS.mkdir(exist_ok=True)
            test = re.sub(r"[^\w.-]+", "_", request.node.name)
            for name, page in d.pages:
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{test}-{name}.png"), full_page=True)
                except Exception as exc:  # a screenshot must not hide the test's own failure
                    print(f"no screenshot of {test}-{name}: {exc}")
        if problems:
            pytest.fail("the pages reported problems:\n" + "\n".join(problems), pytrace=False)
    finally:
        for context in d.contexts:
            context.close()
