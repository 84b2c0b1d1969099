"""Database engine and the per-request session.

One transaction per request: the session dependency commits when the route returns
without an exception and rolls back otherwise. Services only ``flush``; they never commit.
Callbacks queued with :func:`after_commit` run once the transaction is committed and are
dropped on rollback (the outbox for live events).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

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
            self.reader = create_engine(url, connect_args=args)
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


# The live hot path (a vote) runs these thousands of times a second: statements are built
# once per table and dialect, and executed as Core on the session's connection, with the
# values as parameters (no ORM bulk machinery, no rebuilding of ON CONFLICT clauses).
_STATEMENTS: dict[tuple, object] = {}


def _statement(session: Session, key: tuple, build):
    dialect = session.get_bind().dialect.name
    statement = _STATEMENTS.get((dialect, *key))
    if statement is None:
        statement = _STATEMENTS[(dialect, *key)] = build(_insert_for(dialect))
    return statement


def _table(model):
    return getattr(model, "__table__", model)


def insert_ignore(session: Session, table, values: dict) -> bool:
    """INSERT that does nothing when a unique key already exists. True when a row was added."""
    # psycopg 3 forgets the row count when the cursor closes, unless asked to keep it.
    result = session.connection().execute(
        _ignoring(session, table), values, execution_options={"preserve_rowcount": True}
    )
    return result.rowcount == 1


def insert_ignore_many(session: Session, table, rows: list[dict]) -> None:
    """``insert_ignore`` for many rows in one statement (executemany)."""
    session.connection().execute(_ignoring(session, table), rows)


def upsert(session: Session, table, values: dict | list[dict], keys: list[str], update: list[str]) -> None:
    """INSERT, or UPDATE the ``update`` columns of the row with the same ``keys``. Given a
    list of rows (whose keys do not repeat), one statement writes them all."""
    t = _table(table)

    def build(insert):
        statement = insert(t)
        return statement.on_conflict_do_update(index_elements=keys, set_={c: statement.excluded[c] for c in update})

    statement = _statement(session, ("upsert", t.name, tuple(keys), tuple(update)), build)
    session.connection().execute(statement, values)


def _ignoring(session: Session, table):
    t = _table(table)
    return _statement(session, ("ignore", t.name), lambda insert: insert(t).on_conflict_do_nothing())


def _insert_for(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
