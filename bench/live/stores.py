"""PostgreSQL and Redis for a run on several processes: emptied before, emptied after.

Only the database and Redis db named on the command line are touched (for a helper or
CI: its own, never a shared one): the database's ``public`` schema is dropped and made
again, the Redis db flushed.
"""

from __future__ import annotations


def reset_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def reset_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
