"""Idempotency and order of the writes phones send, shared by every live activity.

Each write carries a key the phone made, and may carry its sequence (the phone's own
order of its answers, ``values.superseded``). ``seen`` tells a retry of a committed write (it is
acknowledged again, even after the activity closed, and changes nothing); ``take`` records
the key in the same transaction as the write, so a write and its receipt commit together.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlmodel import Session

from server.activities import values
from server.errors import Invalid
from server.i18n import N_, Message
from server.models import Receipt, utcnow
from server.statements import insert_ignore

KEY_MIN, KEY_MAX = 8, 64


def refuse(message: str, **params) -> Invalid:
    """A refusal of a participant's write, shown on their phone."""
    return Invalid({"__all__": Message(message, **params)})


def check_key(key: str) -> str:
    key = key.strip() if isinstance(key, str) else ""
    if not (KEY_MIN <= len(key) <= KEY_MAX and key.isascii() and key.isprintable()):
        raise refuse(N_("Your phone sent an incomplete answer; please try again."))
    return key


def check_sequence(raw) -> int | None:
    """The phone's order of the write (``values.sequence``), or None when it sent none."""
    try:
        return values.sequence(raw)
    except ValueError:
        raise refuse(N_("Your phone sent an incomplete answer; please try again.")) from None


_RECEIPTS = Receipt.__table__
_SEEN = select(_RECEIPTS.c.key).where(
    _RECEIPTS.c.participant_id == bindparam("participant"), _RECEIPTS.c.key == bindparam("key")
)


def seen(session: Session, participant_id: int, key: str) -> bool:
    """A retry of a write already committed."""
    found = session.connection().execute(_SEEN, {"participant": participant_id, "key": key})
    return found.first() is not None


def take(session: Session, participant_id: int, key: str) -> bool:
    """Record the key; False when a concurrent write with the same key got there first."""
    return insert_ignore(session, Receipt, {"participant_id": participant_id, "key": key, "created_at": utcnow()})
