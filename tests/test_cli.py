"""The `minka` command: help on every command, an idempotent demo, accounts, schema."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from server.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MINKA_DATABASE_URL", url)
    monkeypatch.setenv("MINKA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MINKA_SECRET_KEY", raising=False)
    return url


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["serve"],
        ["demo"],
        ["db"],
        ["db", "upgrade"],
        ["db", "current"],
        ["db", "revision"],
        ["db", "check"],
        ["user"],
        ["user", "create"],
        ["user", "passwd"],
        ["import"],
    ],
)
def test_every_command_has_help(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output and len(result.output.splitlines()) > 3


def test_demo_twice_creates_nothing_twice(env):
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "demo@minka.local" in first.output
    engine = create_engine(env)
    with engine.connect() as conn:
        counts = [
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("value_chain", "gap", "workshop", "activity")
        ]
    assert counts[0] == 3 and all(counts)
    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0, second.output
    with engine.connect() as conn:
        again = [
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("value_chain", "gap", "workshop", "activity")
        ]
    assert again == counts
    engine.dispose()


def test_user_create_and_errors(env):
    ok = runner.invoke(app, ["user", "create", "ana@example.org", "--name", "Ana", "--password", "a long password"])
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(app, ["user", "create", "ana@example.org", "--name", "Ana", "--password", "a long password"])
    assert again.exit_code == 1 and "Another account uses this e-mail" in again.output
    short = runner.invoke(app, ["user", "create", "bo@example.org", "--name", "Bo", "--password", "short"])
    assert short.exit_code == 1 and "at least 8" in short.output


def test_db_check_passes_at_head(env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["db", "check"])
    assert result.exit_code == 0, result.output


def test_a_secret_key_is_generated_once_and_kept(tmp_path):
    from server.config import Settings

    settings = Settings(data_dir=tmp_path, secret_key=None, _env_file=None)
    first = settings.resolved_secret_key()
    assert len(first) >= 40 and (tmp_path / ".minka-secret").stat().st_mode & 0o777 == 0o600
    assert Settings(data_dir=tmp_path, secret_key=None, _env_file=None).resolved_secret_key() == first
