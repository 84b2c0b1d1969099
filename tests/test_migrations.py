"""Alembic is the only way the schema changes: models and migrations never drift."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text
from sqlmodel import Session, SQLModel

from server.config import Settings
from server.demo import load_demo
from server.migrate import check, current, downgrade, heads, upgrade


def test_models_and_migrations_do_not_drift(app, settings):
    # The app fixture built this database (SQLite or PostgreSQL) with `upgrade head`.
    assert current(settings) == heads()
    check(settings)  # raises when autogenerate would find a difference


def test_upgrade_from_empty_to_head_and_back_on_a_fresh_sqlite_file(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}", secret_key="x" * 40, _env_file=None)
    upgrade(settings)
    engine = create_engine(settings.database_url)
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    downgrade(settings, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(settings)
    engine.dispose()


def test_upgrade_keeps_existing_data(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}", secret_key="x" * 40, _env_file=None)
    upgrade(settings)
    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        load_demo(session)
        session.commit()
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM gap")).scalar_one()
    upgrade(settings)  # again: a no-op at head, and must never lose rows
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM gap")).scalar_one() == before > 0
    engine.dispose()


def test_a_start_at_head_skips_alembic_and_a_start_behind_it_upgrades(tmp_path):
    """``minka serve`` checks the stored revision against the files' own heads (no Alembic
    import, a faster restart) and upgrades only when they differ."""
    from server.migrate import heads_on_disk, upgrade_if_needed

    assert heads_on_disk() == set(heads())
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'start.db'}", secret_key="x" * 40, _env_file=None)
    assert upgrade_if_needed(settings) is True  # empty: built
    assert set(current(settings)) == set(heads())
    assert upgrade_if_needed(settings) is False  # at head: nothing to run
    downgrade(settings, "-1")
    assert upgrade_if_needed(settings) is True  # one behind: upgraded
    assert set(current(settings)) == set(heads())
