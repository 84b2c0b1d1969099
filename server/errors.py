"""Errors services raise; the app turns them into translated pages or form messages."""

from __future__ import annotations

from server.activities.values import an_id
from server.i18n import N_, Message


class Invalid(Exception):
    """Bad input. ``errors`` maps a form field (or ``"__all__"``) to what is wrong with it.

    Raised before anything is written, so the request changes nothing.
    """

    def __init__(self, errors: dict[str, Message]):
        super().__init__(errors)
        self.errors = errors


class NotFound(Exception):
    """No such object, or not one the caller may see (the two are not told apart)."""


class Forbidden(Exception):
    """The caller is known but may not do this."""


class Conflict(Exception):
    """Someone else changed the same thing at the same moment; this request changed nothing
    and may simply be tried again."""


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def clean_text(data: dict, field: str, errors: dict, *, required: bool = True, max_length: int = 200) -> str:
    """Strip a text field and record a message in ``errors`` when it is missing or too long."""
    value = str(data.get(field) or "").strip()
    if required and not value:
        errors[field] = Message(N_("This field is required."))
    elif len(value) > max_length:
        errors[field] = Message(N_("At most %(n)s characters."), n=max_length)
    return value


def clean_int(data: dict, field: str, errors: dict, *, required: bool = True) -> int | None:
    raw = str(data.get(field) or "").strip()
    if not raw:
        if required:
            errors[field] = Message(N_("This field is required."))
        return None
    try:
        return int(raw)
    except ValueError:
        errors[field] = Message(N_("Choose one of the options."))
        return None


def clean_id(data: dict, field: str, errors: dict, *, required: bool = True) -> int | None:
    """An id chosen in a form (a select's value): missing, malformed or out of range is
    recorded in ``errors`` as a choice that is not one of the options."""
    raw = str(data.get(field) or "").strip()
    if not raw:
        if required:
            errors[field] = Message(N_("This field is required."))
        return None
    value = an_id(raw)
    if value is None:
        errors[field] = Message(N_("Choose one of the options."))
    return value
