"""Database engine and the per-request session.

One transaction per request: the session dependency commits when the route returns
without an exception and rolls back otherwise. Services only ``flush``; they never commit.
Callbacks queued with :func:`after_commit` run once the transaction is committed and are
dropped on rollback (the outbox for live events).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from server.config import Settings


def normalize_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Database:
    """The engines of one app: ``writer`` for requests that change data, ``reader`` for reads.

    On SQLite the writer opens every transaction with ``BEGIN IMMEDIATE`` so that two
    writers queue on the lock instead of failing mid-transaction; readers stay deferred
    and never wait for a writer (WAL). On PostgreSQL both are the same engine.
    """

    def __init__(self, settings: Settings):
        url = normalize_url(settings.database_url)
        self.url = url
        if url.startswith("sqlite"):
            args = {"check_same_thread": False, "timeout": 30}
            self.writer = create_engine(url, connect_args=args)
            # A connection kept for each worker thread (40), and more for the hub and the
            # writer's reads: a read never queues for one, nor opens one (an overflow
            # connection is opened and closed each time, its pragmas run again: a hall
            # reconnecting after a restart spent a tenth of the server's time there).
            pool = {"pool_size": 40, "max_overflow": 20} if url not in ("sqlite://", "sqlite:///:memory:") else {}
            self.reader = create_engine(url, connect_args=args, **pool)
            for engine in (self.writer, self.reader):
                event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(self.writer, "begin", _sqlite_begin_immediate)
            event.listen(self.reader, "begin", _sqlite_begin_deferred)
        else:
            self.writer = self.reader = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    def dispose(self) -> None:
        self.writer.dispose()
        self.reader.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy own transactions (the driver's implicit BEGIN would skip our hook).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_deferred(conn) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_begin_immediate(conn) -> None:
    # Take the write lock at the start: no "database is locked" upgrade failures mid-request.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


T = TypeVar("T")


async def read_in_thread(engine: Engine, load: Callable[[Session], T]) -> T:
    """``load(session)`` on a short-lived read session in a worker thread, for async
    routes: the event loop never waits on the database, and no connection is held while
    the route then waits for something else (the single writer, say)."""

    def run() -> T:
        with Session(engine, expire_on_commit=False) as session:
            return load(session)

    return await anyio.to_thread.run_sync(run)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` after this session's transaction commits; forget it on rollback."""
    session.info.setdefault("after_commit", []).append(callback)


@contextmanager
def transaction(engine: Engine, info: dict | None = None) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on error.

    ``info`` is copied into ``session.info`` (the hub, for live events).
    """
    with Session(engine, expire_on_commit=False) as session:
        session.info.update(info or {})
        try:
            yield session
            session.commit()
        except BaseException:
            # Keep what was loaded readable (an error page still shows who is logged in).
            session.expunge_all()
            session.rollback()
            session.info.pop("after_commit", None)
            raise
        for callback in session.info.pop("after_commit", []):
            callback()


def lock(session: Session, parent) -> None:
    """Take ``parent``'s row lock for the rest of the transaction, and read it afresh.

    Changes to an ordered list (a chain's segments and library, a workshop's agenda) lock
    the list's parent first: "count, then insert" and renumbering then run one at a time,
    and each reads the list as the one before it left it. On PostgreSQL this is
    ``SELECT ... FOR UPDATE`` (a second writer waits here); on SQLite the writer's
    ``BEGIN IMMEDIATE`` has serialized writers already (``FOR UPDATE`` is not rendered).
    Read the list after the lock with ``populate_existing`` (``current`` for one row).
    """
    session.refresh(parent, with_for_update=True)


def current(session: Session, row):
    """``row`` as it is now (after ``lock``), or None when it was deleted meanwhile."""
    return session.get(type(row), row.id, populate_existing=True)


# The request's session (FastAPI dependencies).


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
