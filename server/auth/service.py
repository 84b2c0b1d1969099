"""Facilitator accounts and login sessions.

``access_*`` loads and authorizes, ``check_*`` validates, ``do_*`` writes. Nothing here
commits: the request's session does.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlmodel import Session, col, delete, select

from server.auth.passwords import MIN_LENGTH, hash_password, verify_password
from server.db import after_commit
from server.demo_data import DEMO_EMAIL, DEMO_PASSWORD
from server.errors import Forbidden, Invalid, clean_text
from server.i18n import N_, Message
from server.models import LoginSession, User, utcnow

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


def access_login(session: Session, token: str | None) -> User | None:
    """The active user behind a session cookie, or None when it is unknown or expired."""
    if not token or len(token) > 100:
        return None
    row = session.get(LoginSession, token_hash(token))
    if row is None or row.expires_at < utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user and user.is_active else None


def do_login(session: Session, email: str, password: str, *, days: int, user_agent: str = "") -> tuple[User, str]:
    """Check the credentials and open a login session. Returns the user and the cookie token."""
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        raise Invalid({"__all__": Message(N_("Wrong e-mail or password."))})
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            token_hash=token_hash(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=days),
            user_agent=user_agent[:300],
        )
    )
    session.exec(delete(LoginSession).where(col(LoginSession.expires_at) < utcnow()))
    session.flush()
    return user, token


def recheck_screens(session: Session, user_id: int) -> None:
    """Once this transaction commits, the user's open console and projector screens check
    their access again (in every process) and close when it is gone."""
    hub = session.info.get("hub")
    if hub is not None:
        after_commit(session, lambda: hub.recheck_user(user_id))


def do_logout(session: Session, token: str | None) -> None:
    if not token or len(token) > 100:
        return
    row = session.get(LoginSession, token_hash(token))
    if row is not None:
        session.delete(row)
        session.flush()
        recheck_screens(session, row.user_id)


def do_logout_everywhere(session: Session, user: User) -> None:
    session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user.id))
    recheck_screens(session, user.id)


def check_password(password: str, errors: dict, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        errors[field] = Message(N_("Use at least %(n)s characters."), n=MIN_LENGTH)
    elif len(password) > 200:
        errors[field] = Message(N_("At most %(n)s characters."), n=200)


def check_user(session: Session, data: dict, *, user: User | None = None) -> dict:
    """Validate the fields of a new or edited account."""
    errors: dict = {}
    name = clean_text(data, "name", errors)
    email = normalize_email(clean_text(data, "email", errors, max_length=254))
    if "email" not in errors and not EMAIL_RE.match(email):
        errors["email"] = Message(N_("Enter a valid e-mail address."))
    if "email" not in errors:
        other = session.exec(select(User).where(User.email == email)).first()
        if other is not None and (user is None or other.id != user.id):
            errors["email"] = Message(N_("Another account uses this e-mail."))
    password = str(data.get("password") or "")
    if user is None or password:
        check_password(password, errors)
    if errors:
        raise Invalid(errors)
    return {"name": name, "email": email, "password": password}


def do_create_user(session: Session, data: dict, *, is_admin: bool = False) -> User:
    clean = check_user(session, data)
    user = User(
        name=clean["name"],
        email=clean["email"],
        password_hash=hash_password(clean["password"]),
        is_admin=is_admin,
    )
    session.add(user)
    session.flush()
    return user


def do_update_user(session: Session, actor: User, user: User, data: dict) -> User:
    """An admin edits an account: name, e-mail, role, active, and optionally a new password."""
    clean = check_user(session, data, user=user)
    is_admin = bool(data.get("is_admin"))
    is_active = bool(data.get("is_active"))
    if user.id == actor.id and (not is_admin or not is_active):
        raise Invalid({"__all__": Message(N_("You cannot remove your own admin role or account."))})
    user.name, user.email = clean["name"], clean["email"]
    if user.is_admin and not is_admin:  # no longer sees every chain
        recheck_screens(session, user.id)
    user.is_admin, user.is_active = is_admin, is_active
    if clean["password"]:
        user.password_hash = hash_password(clean["password"])
        do_logout_everywhere(session, user)
    elif not is_active:
        do_logout_everywhere(session, user)
    session.add(user)
    session.flush()
    return user


def do_set_password(session: Session, user: User, password: str) -> None:
    errors: dict = {}
    check_password(password, errors)
    if errors:
        raise Invalid(errors)
    user.password_hash = hash_password(password)
    session.add(user)
    do_logout_everywhere(session, user)
    session.flush()


def do_change_own_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise Invalid({"current_password": Message(N_("Wrong password."))})
    do_set_password(session, user, new)


# The demo account's password hash -> whether it is the published password: verified once
# per hash (argon2 costs ~0.1 s; the login page asks on every view).
_demo_checked: dict[str, bool] = {}


def demo_password_unchanged(session: Session) -> bool:
    """True while the demo account exists, is active and still has its published password."""
    user = session.exec(select(User).where(User.email == DEMO_EMAIL)).first()
    if user is None or not user.is_active or not user.password_hash:
        return False
    known = _demo_checked.get(user.password_hash)
    if known is None:
        known = verify_password(user.password_hash, DEMO_PASSWORD)
        _demo_checked.clear()
        _demo_checked[user.password_hash] = known
    return known


def access_admin(user: User) -> User:
    if not user.is_admin:
        raise Forbidden()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.name)))
