"""CSRF protection for every state-changing request, htmx included.

Each browser gets a random ``minka_csrf`` cookie (HttpOnly, SameSite=Lax). Pages embed
``HMAC(secret, cookie)`` as a hidden ``csrf_token`` field in forms and in a ``<meta>``
tag that htmx sends as the ``X-CSRF-Token`` header. A POST is accepted only when the
token matches the cookie and, where the browser says where it comes from (Origin), it
comes from this site.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

COOKIE = "minka_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def new_cookie_value() -> str:
    return secrets.token_urlsafe(24)


def token_for(secret: str, cookie_value: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + cookie_value.encode(), hashlib.sha256).hexdigest()


def token_ok(secret: str, cookie_value: str | None, token: str | None) -> bool:
    if not cookie_value or not token:
        return False
    return hmac.compare_digest(token_for(secret, cookie_value), token)


def origin_ok(origin: str | None, host: str | None, trusted: list[str]) -> bool:
    """True when there is no Origin header (old browsers, same-origin GET) or it is ours."""
    if not origin:
        return True
    if origin == "null":
        return False
    netloc = urlsplit(origin).netloc
    return netloc == host or netloc in trusted
