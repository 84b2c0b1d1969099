"""A refused answer from a phone without JavaScript, carried across a redirect.

A plain form post that is refused (the activity has closed, a bad value) is answered with
a redirect to the phone's page (Post/Redirect/Get): reloading that page never sends the
vote again. The refusal rides along in a short-lived cookie (a flash) naming the card (the
kind's ``slot``) and the message; the page shows it on that card once and drops the
cookie, so that a reload later shows the page as it is then. The cookie's value is signed,
so that nothing but Minka's own refusals is ever shown, and dated. Pure: no framework, no
database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

from server.i18n import Message

COOKIE = "minka_refused"
MAX_AGE = 60  # seconds: the redirect follows at once; a refusal is news only then
MAX_TOKEN = 1000  # characters: a longer token was not made here
_SKEW = 60  # seconds a token may seem to come from the future (a clock step)


def _mac(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), b"refused:" + body.encode(), hashlib.sha256).hexdigest()[:32]


def _plain(value) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def sign(secret: str, workshop_id: int, slot: int | str, message: Message | str, now: float | None = None) -> str:
    """The token of a refusal of workshop ``workshop_id``'s card ``slot`` with ``message``."""
    if not isinstance(message, Message):
        message = Message(str(message))
    params = message.params if all(_plain(v) for v in message.params.values()) else {}
    issued = int(time.time() if now is None else now)
    payload = json.dumps([workshop_id, slot, message.msgid, params, issued], separators=(",", ":"))
    body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    return f"{body}.{_mac(secret, body)}"


def read(secret: str, workshop_id: int, token: str | None, now: float | None = None) -> dict:
    """``{slot: Message}`` of a token made by ``sign`` for this workshop in the last
    ``MAX_AGE`` seconds; ``{}`` for anything else (tampered, old, another workshop's)."""
    if not token or len(token) > MAX_TOKEN or not token.isascii():  # a cookie may carry any byte
        return {}
    body, _, mac = token.rpartition(".")
    if not body or not hmac.compare_digest(_mac(secret, body), mac):
        return {}
    try:
        decoded = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        workshop, slot, msgid, params, issued = decoded
    except (ValueError, TypeError, binascii.Error):
        return {}
    age = (time.time() if now is None else now) - issued if isinstance(issued, int) else None
    fine = (
        workshop == workshop_id
        and isinstance(slot, int | str)
        and isinstance(msgid, str)
        and isinstance(params, dict)
        and all(_plain(v) for v in params.values())
        and age is not None
        and -_SKEW <= age <= MAX_AGE
    )
    return {slot: Message(msgid, **params)} if fine else {}
