"""Smaller hardening: no caching of facilitator pages, a Permissions-Policy, a demo account
that is no admin and is loudly reported while its published password is unchanged."""

from __future__ import annotations

import gc
import sys

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from server.auth.service import do_set_password
from server.demo import load_demo
from server.demo_data import DEMO_EMAIL, DEMO_PASSWORD
from server.models import User
from tests import factories
from tests.conftest import login
from tests.live_helpers import join, room

WARNING = "still has its published password"


def test_facilitator_pages_and_results_are_never_stored(app, db, users, client_a):
    r = room(app, db, users.a)
    for url in (
        "/chains",
        f"/workshops/{r.workshop_id}",
        f"/workshops/{r.workshop_id}/live",
        f"/workshops/{r.workshop_id}/projector",
        f"/api/workshops/{r.workshop_id}/activities/{r.activity_id}/results",
        "/account/password",
    ):
        response = client_a.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "no-store", url
    htmx = client_a.get(f"/workshops/{r.workshop_id}/live", headers={"HX-Request": "true"})
    assert htmx.headers["cache-control"] == "no-store"
    # The static files stay cacheable.
    assert "no-store" not in client_a.get("/static/minka.css").headers.get("cache-control", "")


def test_every_page_carries_a_permissions_policy(app, db, users, client, client_a):
    r = room(app, db, users.a)
    with TestClient(app) as phone:
        join(phone, r)
        pages = [client.get("/"), client.get("/login"), client_a.get("/chains"), phone.get(f"/p/{r.workshop_id}")]
    for page in pages:
        policy = page.headers["permissions-policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()"):
            assert feature in policy


def test_the_demo_account_is_a_plain_facilitator(db, app):
    result = load_demo(db)
    db.commit()
    assert result.user.is_admin is False and result.demoted is False
    assert client_may_administer(app) is False


def client_may_administer(app) -> bool:
    with TestClient(app) as demo:
        login(demo, DEMO_EMAIL, DEMO_PASSWORD)
        return demo.get("/admin/users").status_code == 200


def test_an_older_demo_admin_with_the_published_password_is_demoted(db):
    factories.user(db, DEMO_EMAIL, "Demo", admin=True)
    account = db.exec(select(User).where(User.email == DEMO_EMAIL)).one()
    do_set_password(db, account, DEMO_PASSWORD)
    db.commit()
    result = load_demo(db)
    db.commit()
    assert result.demoted and not db.exec(select(User).where(User.email == DEMO_EMAIL)).one().is_admin


def test_an_admin_who_changed_the_demo_password_keeps_the_role(db):
    factories.user(db, DEMO_EMAIL, "Demo", admin=True)  # a password of its own
    assert load_demo(db).demoted is False
    db.commit()
    assert db.exec(select(User).where(User.email == DEMO_EMAIL)).one().is_admin


def test_the_login_page_warns_while_the_demo_password_is_unchanged(app, db, client):
    english = {"Accept-Language": "en"}
    assert WARNING not in client.get("/login", headers=english).text  # no demo account at all
    load_demo(db)
    db.commit()
    page = client.get("/login", headers=english)
    assert DEMO_EMAIL in page.text and WARNING in page.text and 'role="alert"' in page.text
    spanish = client.get("/login", headers={"Accept-Language": "es"}).text
    assert "contraseña publicada" in spanish
    account = db.exec(select(User).where(User.email == DEMO_EMAIL)).one()
    do_set_password(db, account, "a password of its own")
    db.commit()
    assert DEMO_EMAIL not in client.get("/login").text


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("MINKA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("MINKA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MINKA_FORWARDED_ALLOW_IPS", raising=False)
    switch, thresholds = sys.getswitchinterval(), gc.get_threshold()
    yield
    sys.setswitchinterval(switch)
    gc.set_threshold(*thresholds)


def test_serve_warns_while_the_demo_password_is_unchanged(cli_env, monkeypatch):
    import uvicorn

    from server.cli import app as cli

    started: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda **options: started.append(options))
    runner = CliRunner()
    assert "WARNING" not in runner.invoke(cli, ["serve"]).output
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    served = runner.invoke(cli, ["serve"])
    assert served.exit_code == 0, served.output
    assert "WARNING: the demo account still has its published password" in served.output
    assert started[-1]["ws_max_size"] == 4096 and started[-1]["proxy_headers"] is False
