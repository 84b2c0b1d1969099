"""Password hashing (argon2id, the library's current parameters)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 8


@cache
def _dummy() -> str:
    """A hash to verify against when the account does not exist, so timing tells nothing.
    Made at the first login, not at import: hashing takes ~0.2 s of CPU, and a server
    restarted under a hall's reconnecting phones should serve again as soon as it can."""
    return _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
