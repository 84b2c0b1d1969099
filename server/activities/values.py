"""What a phone may send as a number: strict, so that nothing is stored other than it was sent.

A rating of 3.5 is not a 3, ``true`` is not a 1, and an id that overflows the database's
integers is no id at all: each is refused before it reaches the database. JSON numbers
arrive as ``int``; forms send strings of ASCII digits. Pure: no I/O, no framework.
"""

from __future__ import annotations

MAX_BIGINT = 2**63 - 1  # the largest integer both databases store (BIGINT, SQLite INTEGER)
# Ids are INTEGER columns: 32 bits on PostgreSQL, and SQLAlchemy binds an id as INTEGER, so a
# larger one fails inside the query ("integer out of range"); none can exist anyway.
MAX_ID = 2**31 - 1
_DIGITS = len(str(MAX_BIGINT))


def whole(raw) -> int | None:
    """``raw`` as an integer if it is one: an ``int`` (not a ``bool``), or a string of ASCII
    digits with an optional minus sign (what a form sends); otherwise None. Never a float,
    never a rounded value, never more digits than a database integer holds."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        digits = text[1:] if text.startswith("-") else text
        if 0 < len(digits) <= _DIGITS and digits.isascii() and digits.isdigit():
            return int(text)
    return None


def whole_in(raw, low: int, high: int) -> int | None:
    """``whole(raw)`` when it lies in ``low..high``, otherwise None."""
    value = whole(raw)
    return value if value is not None and low <= value <= high else None


def an_id(raw) -> int | None:
    """A row id (1 .. MAX_ID) as a phone or a form sends one, otherwise None."""
    return whole_in(raw, 1, MAX_ID)


def sequence(raw) -> int | None:
    """The phone's order of an answer (see docs/architecture.md): a positive integer, or
    None when the write carries none (a form posted without JavaScript). ValueError when
    it carries something else."""
    if raw is None or raw == "":
        return None
    value = whole_in(raw, 1, MAX_BIGINT)
    if value is None:
        raise ValueError(raw)
    return value


def superseded(stored: int | None, incoming: int | None) -> bool:
    """Whether the stored answer is newer than an incoming one, by the phone's own order.
    Answers without a sequence go in the order they arrive (they replace, and are
    replaced by, anything)."""
    return stored is not None and incoming is not None and stored > incoming
