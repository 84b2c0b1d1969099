"""Logging in and out: argon2 hashes, revocable server-side sessions, cookie flags, limits."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient
from sqlmodel import select

from server.auth.passwords import verify_password
from server.models import LoginSession
from tests import factories
from tests.conftest import csrf_token, login


def test_passwords_are_stored_as_argon2_hashes(users):
    assert users.a.password_hash.startswith("$argon2id$")
    assert factories.PASSWORD not in users.a.password_hash
    assert verify_password(users.a.password_hash, factories.PASSWORD)
    assert not verify_password(users.a.password_hash, "wrong")


def test_an_unknown_account_is_checked_against_a_hash_made_when_first_needed():
    # Importing the app hashes nothing (argon2 is ~0.2 s of CPU: a restart under a hall's
    # reconnecting phones serves that much sooner); the first unknown login makes the hash.
    script = (
        "import server.app\n"
        "from server.auth import passwords\n"
        "before = passwords._dummy.cache_info().currsize\n"
        "print(before, passwords.verify_password(None, 'x'), passwords._dummy().startswith('$argon2id$'))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "False", "True"]


def test_login_sets_a_httponly_samesite_cookie_and_logout_revokes_it(app, users, db):
    with TestClient(app) as c:
        token = csrf_token(c)
        response = c.post(
            "/login",
            data={"email": "A@Example.org ", "password": factories.PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "minka_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain http in tests
        stolen = c.cookies.get("minka_session")
        assert c.get("/chains").status_code == 200
        c.post("/logout", data={"csrf_token": token})
        assert db.exec(select(LoginSession)).all() == []
    with TestClient(app) as thief:
        thief.cookies.set("minka_session", stolen)
        assert thief.get("/chains", follow_redirects=False).status_code == 303


def test_cookie_is_secure_over_https(app, users):
    with TestClient(app, base_url="https://testserver") as c:
        token = csrf_token(c)
        response = c.post(
            "/login",
            data={"email": users.a.email, "password": factories.PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_gets_a_translated_message(client, users):
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"email": users.a.email, "password": "nope", "csrf_token": token},
        headers={"Accept-Language": "es"},
    )
    assert response.status_code == 422
    assert "Correo o contraseña incorrectos" in response.text
    response = client.post(
        "/login",
        data={"email": users.a.email, "password": "nope", "csrf_token": token},
        headers={"Accept-Language": "en"},
    )
    assert "Wrong e-mail or password" in response.text


def test_login_is_rate_limited(app, users):
    app.state.settings.login_attempts_per_minute = 3
    try:
        with TestClient(app) as c:
            token = csrf_token(c)
            codes = [
                c.post("/login", data={"email": users.a.email, "password": "bad", "csrf_token": token}).status_code
                for _ in range(5)
            ]
            assert codes[:3] == [422, 422, 422]
            assert codes[3:] == [429, 429]
            # Even the right password waits: the limit is per account and per address.
            right = c.post(
                "/login",
                data={"email": users.a.email, "password": factories.PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    finally:
        app.state.settings.login_attempts_per_minute = 1000


def test_disabled_account_cannot_log_in(app, users, db):
    users.b.is_active = False
    db.add(users.b)
    db.commit()
    with TestClient(app) as c:
        token = csrf_token(c)
        response = c.post("/login", data={"email": users.b.email, "password": factories.PASSWORD, "csrf_token": token})
        assert response.status_code == 422


def test_login_redirects_only_to_this_site(app, users):
    with TestClient(app) as c:
        token = csrf_token(c)
        response = c.post(
            "/login",
            data={
                "email": users.a.email,
                "password": factories.PASSWORD,
                "csrf_token": token,
                "next": "https://evil.example/",
            },
            follow_redirects=False,
        )
        assert response.headers["location"].endswith("/chains")


def test_changing_password_logs_out_every_session(app, users, db):
    with TestClient(app) as first, TestClient(app) as second:
        login(first, users.a.email)
        token = login(second, users.a.email)
        response = second.post(
            "/account/password",
            data={"current_password": factories.PASSWORD, "password": "a brand new one", "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert first.get("/chains", follow_redirects=False).status_code == 303
        login(first, users.a.email, "a brand new one")


def test_short_new_password_is_refused(client_a):
    response = client_a.post(
        "/account/password",
        data={"current_password": factories.PASSWORD, "password": "short", "csrf_token": client_a.csrf},
    )
    assert response.status_code == 422
    assert client_a.get("/chains").status_code == 200
