"""Languages: Babel catalogs, locale negotiation, translation in code and templates.

Message ids are English; ``server/locale/es/LC_MESSAGES/messages.po`` holds Spanish.
Catalogs are compiled from the ``.po`` files in memory at start-up, so no binary file is
kept in the repository and no build step is needed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("es", "en")
LOCALE_NAMES = {"es": "Español", "en": "English"}
LOCALE_DIR = Path(__file__).parent / "locale"
COOKIE = "minka_lang"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural pair for extraction (``scripts/i18n`` reads ``Nn_`` as ``ngettext``);
    translated where it is shown, with ``ngettext(singular, plural, n)``."""
    return singular, plural


@cache
def translations(locale: str) -> NullTranslations:
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def pick_locale(cookie: str | None, accept_language: str | None, default: str) -> str:
    """The cookie's choice, else the browser's preference, else the installation default."""
    if cookie in LOCALES:
        return cookie
    if accept_language:
        wanted = []
        for part in accept_language.split(","):
            tag = part.split(";")[0].strip()
            if tag and tag != "*":
                wanted.append(tag.replace("-", "_"))
        found = negotiate_locale(wanted, LOCALES, sep="_")
        if found is None:
            found = negotiate_locale([w.split("_")[0] for w in wanted], LOCALES)
        if found:
            return found
    return default if default in LOCALES else LOCALES[0]


@dataclass(frozen=True)
class Message:
    """A message to show later, in the reader's language: ``Message(N_("..."), n=3)``."""

    msgid: str
    params: dict = field(default_factory=dict)

    def __init__(self, msgid: str, **params):
        object.__setattr__(self, "msgid", msgid)
        object.__setattr__(self, "params", params)

    def translate(self, locale: str) -> str:
        text = translations(locale).gettext(self.msgid)
        return text % self.params if self.params else text


class Translator:
    """The translation functions of one request, in its locale."""

    def __init__(self, locale: str):
        self.locale = locale
        self._t = translations(locale)

    def gettext(self, message: str, **params) -> str:
        text = self._t.gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text % {"num": n, **params}

    def message(self, message: Message | str) -> str:
        if isinstance(message, Message):
            return message.translate(self.locale)
        return self.gettext(message)

    def date(self, value) -> str:
        return format_date(value, format="long", locale=Locale.parse(self.locale))
