"""Test fixtures: a real database (SQLite file, or PostgreSQL when MINKA_TEST_DATABASE_URL
is set), built by Alembic, emptied after each test; the app; logged-in clients.

Run the suite twice to cover both backends: ``scripts/test`` does.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import zlib

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlmodel import Session, SQLModel

from server.app import create_app
from server.config import Settings
from server.db import normalize_url
from tests import factories


def _own_services_per_worker() -> None:
    """Under pytest-xdist (``scripts/test`` runs each backend on two workers), each worker
    gets a PostgreSQL database of its own (``<name>_gw0``, created when missing) and a
    Redis database of its own (the given number + 2 × the worker's: every second number,
    so that a test's "another database" is nobody's), written back to the environment so
    that the tests reading it themselves use them too."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    n = int(worker.removeprefix("gw"))
    pg = os.environ.get("MINKA_TEST_DATABASE_URL")
    if pg:
        from sqlalchemy.engine import make_url

        base = make_url(normalize_url(pg))
        own = base.set(database=f"{base.database}_{worker}")
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own.database}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{own.database}"'))
        engine.dispose()
        os.environ["MINKA_TEST_DATABASE_URL"] = own.render_as_string(hide_password=False)
    redis_url = os.environ.get("MINKA_TEST_REDIS_URL")
    if redis_url:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(redis_url)
        number = int(parts.path.strip("/") or 0) + 2 * n
        os.environ["MINKA_TEST_REDIS_URL"] = urlunsplit(parts._replace(path=f"/{number}"))


_own_services_per_worker()
PG_URL = os.environ.get("MINKA_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("MINKA_TEST_REDIS_URL")


def pytest_report_header(config):
    return f"minka database: {PG_URL or 'SQLite (temporary file)'}; redis: {REDIS_URL or 'none (memory hub)'}"


# The fixture every test that reaches a database (or the app, or a served page) needs.
DATABASE_FIXTURE = "settings"


BROWSER_SHARE = os.environ.get("MINKA_TEST_BROWSER_SHARE") == "1"


def _browser_run(item) -> str:
    """Which of the two runs of ``scripts/test`` takes this browser test when they share
    them out (``MINKA_TEST_BROWSER_SHARE=1``): a fixed half each, by the test's name."""
    return "postgresql" if zlib.crc32(item.nodeid.encode()) % 2 else "sqlite"


def pytest_collection_modifyitems(config, items):
    """In the PostgreSQL + Redis run, leave out the tests that touch neither: pure
    functions, hypothesis properties, scripts with their own SQLite file. They ran in the
    SQLite run already and would give the same result (a tenth of the suite's time, run
    twice for nothing). A test that reads MINKA_TEST_DATABASE_URL or MINKA_TEST_REDIS_URL
    itself is marked ``services`` and stays.

    With ``MINKA_TEST_BROWSER_SHARE=1`` (``scripts/test`` sets it when both runs go), the
    browser tests that use the database are shared out between the two runs, each run
    once: they drive Chromium, half the suite's time, and what they check is the pages
    and their scripts; every rule of the server under them is tested on both databases
    by the tests without a browser (docs/testing.md)."""
    this_run = "postgresql" if PG_URL or REDIS_URL else "sqlite"
    kept, once, elsewhere = [], [], []
    for item in items:
        needs = DATABASE_FIXTURE in getattr(item, "fixturenames", ()) or item.get_closest_marker("services")
        if this_run == "postgresql" and not needs:
            once.append(item)
        elif BROWSER_SHARE and needs and "tests/browser/" in item.nodeid and _browser_run(item) != this_run:
            elsewhere.append(item)
        else:
            kept.append(item)
    if once or elsewhere:
        config.hook.pytest_deselected(items=once + elsewhere)
        items[:] = kept
        config._minka_once = len(once)
        config._minka_elsewhere = len(elsewhere)


def pytest_terminal_summary(terminalreporter, config):
    once = getattr(config, "_minka_once", 0)
    if once:
        terminalreporter.write_line(
            f"{once} tests that touch no database or Redis ran in the SQLite run only (deselected here)."
        )
    elsewhere = getattr(config, "_minka_elsewhere", 0)
    if elsewhere:
        terminalreporter.write_line(
            f"{elsewhere} browser tests ran in the other run (MINKA_TEST_BROWSER_SHARE=1; deselected here)."
        )


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Argon2 with its production cost takes ~0.1 s a hash; tests use the same algorithm, cheaper."""
    from argon2 import PasswordHasher

    from server.auth import passwords

    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = production


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    data_dir = tmp_path_factory.mktemp("minka")
    url = PG_URL or f"sqlite:///{data_dir / 'test.db'}"
    return Settings(
        database_url=url,
        redis_url=REDIS_URL,
        secret_key="test-secret-" + "x" * 40,
        data_dir=data_dir,
        login_attempts_per_minute=1000,
        _env_file=None,
    )


def _reset_schema(settings: Settings) -> None:
    from server.db import Database
    from server.migrate import upgrade

    if not settings.is_sqlite:
        db = Database(settings)
        with db.writer.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.dispose()
    upgrade(settings)


@pytest.fixture(scope="session")
def app(settings):
    _reset_schema(settings)
    application = create_app(settings)
    # The writer's and the hub's threads run for the whole session, as in a server that
    # stays up: each test's clients then only count themselves in and out of them (their
    # lifespans nest), instead of starting both threads, the Redis listener and a pool of
    # connections for every test and waiting for them to stop after it (~0.4 s a test on
    # PostgreSQL + Redis, most of that run's time).
    application.state.writer.start()
    application.state.hub.start()
    yield application
    application.state.hub.stop()
    application.state.writer.stop()
    application.state.db.dispose()


_SEQUENCES: list[str] = []


def _empty_tables(app) -> None:
    """Every table emptied, children first, and (PostgreSQL) every id sequence back at 1.
    DELETE and ``setval`` instead of TRUNCATE ... RESTART IDENTITY: for a test's few rows
    ~10 ms instead of ~0.3-0.5 s (TRUNCATE replaces every table's files), which was most
    of the PostgreSQL run's time."""
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    engine = app.state.db.writer
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            if not _SEQUENCES:
                _SEQUENCES.extend(
                    row[0]
                    for row in conn.execute(
                        text(
                            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                            "FROM pg_sequences WHERE schemaname = current_schema()"
                        )
                    )
                )
            conn.execute(text("; ".join(f'DELETE FROM "{t}"' for t in tables)))
            if _SEQUENCES:
                conn.execute(text("SELECT " + ", ".join(f"setval('{s}', 1, false)" for s in _SEQUENCES)))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture(autouse=True)
def _clean_database(request):
    yield
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        # Emptying waits for every open transaction on the tables: let no tick render and
        # no batch write meanwhile.
        with app.state.hub.paused(), app.state.writer.lock:
            _empty_tables(app)
        # Ids start again at 1 after the tables are emptied: forget in-memory live state.
        app.state.tallies.forget_all()
        app.state.participants_known.clear()
        app.state.hub.forget_all()
        app.state.shared_pages.forget()
        limiter = app.state.ratelimiter
        if hasattr(limiter, "_redis"):
            limiter._redis.flushdb()
        else:
            limiter.__init__()


@pytest.fixture(scope="session")
def arrange_engine(app, settings):
    """An engine for the tests' own session, apart from the app's.

    On SQLite it keeps the driver's default: reads run outside a transaction, so the test
    never holds a snapshot or the write lock while the app serves a request.
    """
    engine = create_engine(normalize_url(settings.database_url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
    yield engine
    engine.dispose()


@pytest.fixture
def db(arrange_engine):
    """A session for arranging and checking data; commit what you arrange.

    Call ``db.expunge_all()`` before reading again what a request changed.
    """
    with Session(arrange_engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def csrf_token(client: TestClient) -> str:
    """This client's CSRF token, read from a page as a browser would."""
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def login(client: TestClient, email: str, password: str = factories.PASSWORD) -> str:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return token


@pytest.fixture
def users(db):
    """Facilitators A and B and an admin."""
    return factories.Users(
        a=factories.user(db, "a@example.org", "Facilitator A"),
        b=factories.user(db, "b@example.org", "Facilitator B"),
        admin=factories.user(db, "admin@example.org", "Admin", admin=True),
    )


def give_csrf(app, client: TestClient) -> str:
    """Give ``client`` a CSRF cookie as the first page it loads would; its token."""
    from server.auth import csrf

    cookie = csrf.new_cookie_value()
    client.cookies.set(csrf.COOKIE, cookie)
    return csrf.token_for(app.state.secret, cookie)


def signed_in(app, client: TestClient, email: str) -> str:
    """Give ``client`` the two cookies a browser holds after logging in (a login session
    opened by the service the login form calls, and a CSRF cookie) without the two
    requests of ``login``: most of the suite's tests start from a logged-in facilitator,
    and the form itself is tested in test_auth.py. Returns the CSRF token."""
    from server.auth.deps import SESSION_COOKIE
    from server.auth.service import do_login

    with Session(app.state.db.writer) as session:
        _user, token = do_login(session, email, factories.PASSWORD, days=1)
        session.commit()
    client.cookies.set(SESSION_COOKIE, token)
    return give_csrf(app, client)


@pytest.fixture
def client_a(app, users):
    with TestClient(app) as c:
        c.csrf = signed_in(app, c, users.a.email)
        yield c


@pytest.fixture
def client_b(app, users):
    with TestClient(app) as c:
        c.csrf = signed_in(app, c, users.b.email)
        yield c


@pytest.fixture
def client_admin(app, users):
    with TestClient(app) as c:
        c.csrf = signed_in(app, c, users.admin.email)
        yield c


@pytest.fixture(params=[False, True], ids=["page", "htmx"])
def htmx(request) -> dict:
    """Headers for a page request, as a full page and as an htmx fragment."""
    return {"HX-Request": "true"} if request.param else {}


@pytest.fixture(scope="session")
def live_server(app):
    """The base URL of the session's ``app``, served by uvicorn in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # a free port, held from here on: no race with other runs
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=5,
    )
    config.load()  # in the main thread: any warning is an error pytest reports
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            pytest.fail("the live server did not start")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    assert not thread.is_alive(), "the live server did not stop"


@pytest.fixture
def min_answers(app, monkeypatch):
    """Set the installation's minimum number of answers behind a shown figure (5 by default)
    for one test, e.g. ``min_answers(1)`` for a room of two phones."""

    def set_to(n: int) -> None:
        monkeypatch.setattr(app.state.settings, "min_group_size", n)
        monkeypatch.setattr(app.state.hub.renderer, "min_group_size", n)

    return set_to
