"""Join codes: six digits, easy to type on a phone's numeric keypad. Pure."""

from __future__ import annotations

import re
import secrets

LENGTH = 6
_DIGITS = re.compile(r"\D")


def new_code() -> str:
    """A random code with no leading zero (it would vanish in a spreadsheet)."""
    return str(100_000 + secrets.randbelow(900_000))


def normalize(typed: str) -> str:
    """What a participant typed, as a code: spaces, dashes and dots are dropped."""
    return _DIGITS.sub("", typed or "")[: LENGTH * 2]


def is_code(text: str) -> bool:
    return len(text) == LENGTH and text.isdigit()


def spaced(code: str) -> str:
    """``123456`` as ``123 456``, easier to read from the back of a hall."""
    return f"{code[:3]} {code[3:]}" if code and len(code) == LENGTH else (code or "")
