"""Shared pieces of the tables: metadata naming convention, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import SQLModel

# Stable constraint names, so Alembic migrations name what they alter (SQLite batch mode).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME_MAX = 200
TEXT_MAX = 4000


def utcnow() -> datetime:
    return datetime.now(UTC)
