"""Database engine and the per-request session.

One transaction per request: the session dependency commits when the route returns
without an exception and rolls back otherwise. Services only ``flush``; they never commit.
Callbacks queued with :func:`after_commit` run once the transaction is committed and are
dropped on rollback (the outbox for live events).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy import and_, bindparam, event, func, or_, select, text
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
    """``insert_ignore`` for many rows (multi-row statements, see ``_write_rows``)."""
    _write_rows(session, table, rows)


def upsert(session: Session, table, values: dict | list[dict], keys: list[str], update: list[str]) -> None:
    """INSERT, or UPDATE the ``update`` columns of the row with the same ``keys``. Given a
    list of rows (whose keys do not repeat), they are written with a few statements."""
    if isinstance(values, list):
        _write_rows(session, table, values, (tuple(keys), tuple(update)))
        return
    t = _table(table)
    statement = _statement(session, ("upsert", t.name, tuple(keys), tuple(update)), _upserting(t, keys, update))
    session.connection().execute(statement, values)


def _upserting(t, keys, update):
    def build(insert, values=None):
        statement = insert(t) if values is None else insert(t).values(values)
        return statement.on_conflict_do_update(index_elements=keys, set_={c: statement.excluded[c] for c in update})

    return build


# Rows go in multi-row INSERT statements of these sizes (90 rows: 64 + 16 + 4 + 4 + 1 + 1):
# a handful of database calls instead of one per row. Each call lets another thread take
# Python's lock, and getting it back can wait for a busy event loop: per-row calls made a
# batch of votes many times slower under load than alone.
ROW_CHUNKS = (64, 16, 4, 1)


def prepare_rows(session: Session, table, columns: tuple[str, ...], upserting: tuple | None = None) -> None:
    """Build the statements ``insert_ignore_many`` (or, given ``(keys, update)``, a list
    ``upsert``) uses for rows of these columns, before the first rows come: building the
    largest takes tens of milliseconds, which a live room would feel."""
    for size in ROW_CHUNKS:
        _driver_sql(session, _table(table), columns, size, upserting)
    _processors(session.get_bind().dialect, _table(table), columns)


def _rows_statement(session: Session, t, columns: tuple[str, ...], size: int, upserting: tuple | None):
    def build(_insert):
        # SQLAlchemy compiles a multi-row INSERT afresh on every execution (it is not
        # cached): it is compiled here once, to text with typed parameters, which is.
        # Written as SQLite's INSERT ... ON CONFLICT, which PostgreSQL reads the same
        # (its own compiler would add casts to the parameters that text() cannot read).
        values = [{c: bindparam(f"{c}_{n}") for c in columns} for n in range(size)]
        if upserting is None:
            statement = sqlite_insert(t).values(values).on_conflict_do_nothing()
        else:
            statement = _upserting(t, *upserting)(sqlite_insert, values)
        sql = str(statement.compile(dialect=sqlite_dialect(paramstyle="named")))
        return text(sql).bindparams(*(bindparam(f"{c}_{n}", type_=t.c[c].type) for n in range(size) for c in columns))

    return _statement(session, ("rows", t.name, columns, size, upserting), build)


def _write_rows(session: Session, table, rows: list[dict], upserting: tuple | None = None) -> None:
    """Multi-row statements handed to the driver as they are: each value is made ready
    for it here (by its column type's own bind processor, once per distinct value object:
    a batch's rows share their timestamp), which is what SQLAlchemy's execution did at
    several times the cost per value — most of the writer's time in a busy room."""
    if not rows:
        return
    t = _table(table)
    columns = tuple(rows[0])
    conn = session.connection()
    dialect = conn.dialect
    processors = _processors(dialect, t, columns)
    ready: dict[tuple[str, int], object] = {}
    done = 0
    while done < len(rows):
        size = next(s for s in ROW_CHUNKS if s <= len(rows) - done)
        sql = _driver_sql(session, t, columns, size, upserting)
        params = {}
        for n, row in enumerate(rows[done : done + size]):
            for c, process in processors:
                value = row[c]
                if process is not None and value is not None:
                    memo = (c, id(value))
                    if memo not in ready:
                        ready[memo] = process(value)
                    value = ready[memo]
                params[f"{c}_{n}"] = value
        conn.exec_driver_sql(sql, params)
        done += size


@functools.lru_cache(maxsize=64)
def _processors(dialect, t, columns: tuple[str, ...]) -> tuple:
    """Each column's bind processor for this dialect (None: the driver takes the value as is)."""
    return tuple((c, t.c[c].type.dialect_impl(dialect).bind_processor(dialect)) for c in columns)


def _driver_sql(session: Session, t, columns: tuple[str, ...], size: int, upserting: tuple | None) -> str:
    """``_rows_statement`` as the driver's own SQL: named parameters as ``:name``
    (sqlite3) or ``%(name)s`` (psycopg)."""

    def build(_insert):
        sql = str(
            _rows_statement(session, t, columns, size, upserting).compile(dialect=sqlite_dialect(paramstyle="named"))
        )
        if session.get_bind().dialect.paramstyle == "pyformat":
            sql = re.sub(r":(\w+)", r"%(\1)s", sql)
        return sql

    return _statement(session, ("driver-rows", t.name, columns, size, upserting), build)


# A few reads on the hottest paths (a phone's hello after a restart, thousands at once):
# handed to the driver as written. The ORM's statement and row handling cost about three
# times the query itself there.


def driver_rows(session: Session, sql: str, params: tuple) -> list[tuple]:
    """The rows of ``sql``, written with ``?`` for its parameters, as the driver returns
    them (JSON columns as text on SQLite, parsed on PostgreSQL: see ``json_value``)."""
    conn = session.connection()
    return conn.exec_driver_sql(_placeholders(sql, conn.dialect.paramstyle), params).fetchall()


@functools.lru_cache(maxsize=256)
def _placeholders(sql: str, paramstyle: str) -> str:
    return sql if paramstyle == "qmark" else sql.replace("?", "%s")


def json_value(raw):
    """A JSON column's value as ``driver_rows`` gives it: text (SQLite) or parsed."""
    return json.loads(raw) if isinstance(raw, str | bytes) else raw


# Reading many rows at once, for the same hot path.


def folded(statement):
    """The same rows as one JSON array of arrays, in a single row (SQLite)."""
    rows = statement.subquery()
    return select(func.json_group_array(func.json_array(*rows.c)))


def fetch_all(conn, statements: tuple, params: dict) -> list[tuple]:
    """The rows of ``statements[0]``; on SQLite, fetched folded (``statements[1]``). Each
    row fetched from SQLite lets the event loop take Python's lock, and getting it back
    could wait up to the switch interval: fetched row by row, a batch of votes took
    several times longer under load than alone."""
    if conn.dialect.name == "sqlite":
        return [tuple(row) for row in json.loads(conn.execute(statements[1], params).scalar_one())]
    return [tuple(row) for row in conn.execute(statements[0], params)]


@functools.lru_cache(maxsize=32)
def _matching_statement(table, columns: tuple[str, ...], match: tuple[str, ...], size: int) -> tuple:
    """SELECT ``columns`` of the rows whose ``match`` columns equal one of ``size`` given
    tuples: an OR of equalities, for which both databases search the key once per tuple
    (SQLite scans the whole table for a row-value IN, and probes every combination of
    several IN lists). With its folded form (``fetch_all``)."""
    t = table
    tuples = (and_(*(t.c[m] == bindparam(f"{m}_{n}") for m in match)) for n in range(size))
    statement = select(*(t.c[c] for c in columns)).where(or_(*tuples))
    return statement, folded(statement)


MATCH_CHUNK = 64


def rows_matching(conn, table, columns: tuple[str, ...], match: tuple[str, ...], wanted: list[tuple]) -> list:
    """The ``columns`` of the rows matching one of the ``wanted`` tuples of ``match``
    columns. Up to 64 tuples per statement, padded to a power of two (repeating the last
    tuple): a handful of statements, each built and compiled once (warmed up by callers
    on a hot path, see ``activities.gaps.batch.warm``)."""
    rows = []
    sqlite = conn.dialect.name == "sqlite"
    for start in range(0, len(wanted), MATCH_CHUNK):
        chunk = wanted[start : start + MATCH_CHUNK]
        size = 1 << (len(chunk) - 1).bit_length()
        padded = chunk + [chunk[-1]] * (size - len(chunk))
        params = {f"{m}_{n}": v for n, values in enumerate(padded) for m, v in zip(match, values, strict=True)}
        # Handed to the driver as its own SQL (ids and keys need no conversion): the
        # statement's execution through SQLAlchemy cost more than the search itself.
        sql = _matching_sql(conn.dialect, table, columns, match, size)
        if sqlite:
            rows.extend(tuple(row) for row in json.loads(conn.exec_driver_sql(sql, params).scalar_one()))
        else:
            rows.extend(tuple(row) for row in conn.exec_driver_sql(sql, params))
    return rows


@functools.lru_cache(maxsize=64)
def _matching_sql(dialect, table, columns: tuple[str, ...], match: tuple[str, ...], size: int) -> str:
    """``_matching_statement`` compiled once to the driver's SQL (folded on SQLite)."""
    plain, folded_ = _matching_statement(table, columns, match, size)
    if dialect.name == "sqlite":  # sqlite3 takes named parameters as :name
        return str(folded_.compile(dialect=sqlite_dialect(paramstyle="named")))
    return str(plain.compile(dialect=dialect))


def _ignoring(session: Session, table):
    t = _table(table)
    return _statement(session, ("ignore", t.name), lambda insert: insert(t).on_conflict_do_nothing())


def _insert_for(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


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
