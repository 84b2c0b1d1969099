"""Alembic environment of Minka.

Where the database comes from, first match wins:

1. ``config.attributes["connection"]``: a SQLAlchemy connection handed over by the caller
   (tests, scripts). It is used as it is; the caller owns it and its transaction.
2. ``config.attributes["database_url"]``: set by :func:`server.migrate.alembic_config`.
3. ``Settings().database_url`` (``MINKA_DATABASE_URL``), for the plain ``alembic`` command.

On SQLite, tables are altered by copying them (``render_as_batch``), which would trip
foreign keys: our own connections therefore run with ``PRAGMA foreign_keys=OFF``, in one
explicit transaction (SQLite's DDL is transactional, so a failed upgrade changes nothing),
and ``PRAGMA foreign_key_check`` must come back clean before that transaction commits.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, event, pool, text
from sqlmodel import SQLModel

import server.models  # noqa: F401  (registers every table on SQLModel.metadata)
from server.config import Settings
from server.db import normalize_url

config = context.config

# Only when run through alembic.ini (the ``alembic`` command): the app's own calls build
# their Config in code and leave logging alone.
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata

OPTIONS = {
    "target_metadata": target_metadata,
    "render_as_batch": True,  # SQLite cannot ALTER most things: copy-and-move instead
    "compare_type": True,
}


def database_url() -> str:
    url = config.attributes.get("database_url") or Settings().database_url
    return normalize_url(url)


def _sqlite_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy issue BEGIN (the driver would not open one before DDL).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _check_sqlite_foreign_keys(connection) -> None:
    broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
    if broken:
        rows = ", ".join(f"{row[0]} rowid {row[1]} -> {row[2]}" for row in broken[:10])
        raise RuntimeError(f"migration left broken foreign keys: {rows}")


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) instead of running it."""
    context.configure(
        url=database_url(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_with(connection, *, own: bool) -> None:
    sqlite = connection.dialect.name == "sqlite"
    # Our SQLite connections emit BEGIN themselves, so the whole upgrade is one
    # transaction (Alembic would otherwise commit after each revision).
    extra = {"transactional_ddl": True} if own and sqlite else {}
    context.configure(connection=connection, **OPTIONS, **extra)
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            _check_sqlite_foreign_keys(connection)


def run_migrations_online() -> None:
    handed_over = config.attributes.get("connection")
    if handed_over is not None:
        run_with(handed_over, own=False)
        return
    url = database_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    try:
        with engine.connect() as connection:
            run_with(connection, own=True)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
