"""Statements for the hottest paths (a vote, a hall's hellos after a restart): built and
compiled once per table and dialect, and handed to the database driver as its own SQL,
with the values made ready for it here. SQLAlchemy's statement building, compilation and
row handling cost several times the query itself there.

``server.db`` keeps the engines, transactions and the request's session.
"""

from __future__ import annotations

import functools
import json
import re

from sqlalchemy import and_, bindparam, func, or_, select, text
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

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
