"""Schema migrations through Alembic's command API: what ``minka db ...`` and the tests call.

The Config is built in code (no alembic.ini, so logging is left alone) and carries the
database URL of the given settings to ``migrations/env.py``. Revisions are numbered
``0001``, ``0002``, ... and their files named ``<number>_<slug>.py``.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, inspect, pool, text

from server import ROOT
from server.config import Settings
from server.db import normalize_url

if TYPE_CHECKING:  # Alembic is imported when used: a start at the newest revision needs none of it
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory

MIGRATIONS = ROOT / "migrations"
_REVISION = re.compile(r"^revision\b[^=]*=\s*['\"](\w+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\b[^=]*=\s*(.+)$", re.MULTILINE)


def alembic_config(settings: Settings | None = None, *, connection=None) -> Config:
    """A Config for the project's migrations and the settings' database.

    ``connection`` (optional) is used instead of opening one from the URL.
    """
    from alembic.config import Config

    settings = settings or Settings()
    config = Config(stdout=sys.stdout)  # the current one (Alembic's default is bound at import)
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["database_url"] = normalize_url(settings.database_url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def heads_on_disk() -> set[str]:
    """The newest revisions, read from the revision files' own lines (``revision = ...``,
    ``down_revision = ...``) without Alembic's machinery: a revision nobody names as its
    down revision is a head."""
    revisions, downs = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        if found := _DOWN.search(source):
            downs.update(re.findall(r"['\"](\w+)['\"]", found.group(1)))
    return revisions - downs


def upgrade_if_needed(settings: Settings | None = None) -> bool:
    """Upgrade unless the database is already at the newest revision (what ``minka
    serve`` does at every start: one query instead of running Alembic's environment, so
    a restart serves again sooner). Returns whether it upgraded."""
    settings = settings or Settings()
    engine = create_engine(normalize_url(settings.database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            if inspect(connection).has_table("alembic_version"):
                stored = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
                if stored and stored == heads_on_disk():
                    return False
    finally:
        engine.dispose()
    upgrade(settings)
    return True


def upgrade(settings: Settings | None = None, revision: str = "head", *, connection=None) -> None:
    """Bring the schema to ``revision`` (the newest by default). Keeps the data."""
    from alembic import command

    command.upgrade(alembic_config(settings, connection=connection), revision)


def downgrade(settings: Settings | None = None, revision: str = "-1", *, connection=None) -> None:
    """Step the schema back (``"base"``: drop every table). For developers and tests."""
    from alembic import command

    command.downgrade(alembic_config(settings, connection=connection), revision)


def heads() -> tuple[str, ...]:
    """The newest revision(s) in ``migrations/versions``."""
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config(Settings())).get_heads())


def current(settings: Settings | None = None) -> tuple[str, ...]:
    """The revision(s) the database is at; empty for a database never migrated."""
    from alembic.runtime.migration import MigrationContext

    settings = settings or Settings()
    engine = create_engine(normalize_url(settings.database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def is_current(settings: Settings | None = None) -> bool:
    """Whether the database is at the newest revision."""
    return set(current(settings)) == set(heads())


def next_revision_id(script: ScriptDirectory) -> str:
    numbers = [int(rev.revision) for rev in script.walk_revisions() if rev.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def revision(settings: Settings | None = None, message: str = "", autogenerate: bool = True) -> Script | None:
    """Write a new revision file (autogenerated from the models against the database,
    which must be at head). Returns the script; review it before committing it."""
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config(settings)
    rev_id = next_revision_id(ScriptDirectory.from_config(config))
    result = command.revision(config, message=message, autogenerate=autogenerate, rev_id=rev_id)
    return result[0] if isinstance(result, list) else result


def check(settings: Settings | None = None) -> None:
    """Raise ``alembic.util.exc.AutogenerateDiffsDetected`` when the models differ from
    the schema the revisions build (the database must be at head)."""
    from alembic import command

    command.check(alembic_config(settings))
