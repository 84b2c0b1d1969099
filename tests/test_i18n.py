"""Spanish and English everywhere: every string is in the catalog, none outside it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from server import ROOT
from server.i18n import LOCALE_DIR

KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
METHOD_MAP = [("server/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
# Words that are the same in both languages, or are not words.
NOT_WORDS = {"Minka", "QR", "Español", "English", "ES", "EN", "k"}


def _extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, METHOD_MAP, options_map=OPTIONS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog():
    with (LOCALE_DIR / "es" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale="es")


def test_every_string_in_the_code_has_a_spanish_translation():
    catalog = _catalog()
    translated = {}
    for m in catalog:
        if m.id:
            key = m.id if isinstance(m.id, str) else m.id[0]
            strings = [m.string] if isinstance(m.string, str) else list(m.string)
            if all(strings) and not m.fuzzy:
                translated[key] = strings
    missing = sorted(_extracted() - set(translated))
    assert missing == [], f"run scripts/i18n and translate: {missing}"


def test_translations_keep_their_placeholders():
    for m in _catalog():
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        wanted = set(re.findall(r"%\(\w+\)s", ids[0]))
        for s in filter(None, strings):  # untranslated ones are the other test's business
            assert set(re.findall(r"%\(\w+\)s", s)) == wanted, m.id


class _TextFinder(HTMLParser):
    """Collects literal text and user-facing attribute values left in a template."""

    ATTRS = frozenset({"title", "alt", "placeholder", "aria-label"})

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in self.ATTRS and value:
                self.found.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


def _literal_words(source: str) -> list[str]:
    stripped = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", " ", source, flags=re.S)
    finder = _TextFinder()
    finder.feed(stripped)
    words = []
    for text in finder.found:
        for word in re.findall(r"[^\W\d_]{2,}", text):
            if word not in NOT_WORDS:
                words.append(word)
    return words


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*.html"))
)
def test_no_literal_text_outside_the_catalog(template):
    assert _literal_words((ROOT / template).read_text()) == []


def test_the_finder_finds_literal_text():
    assert _literal_words('<p>{{ _("Save") }} Guardar</p><img alt="Logo">') == ["Guardar", "Logo"]


def test_pages_follow_the_browser_language_and_the_switch(client):
    assert "Ingreso de facilitadores" in client.get("/login", headers={"Accept-Language": "es-PE,es;q=0.9"}).text
    assert "Facilitator log in" in client.get("/login", headers={"Accept-Language": "en-US"}).text
    switched = client.get("/lang/en?next=/login", headers={"Accept-Language": "es"})
    assert switched.url.path == "/login"
    assert "Facilitator log in" in switched.text
    assert client.get("/login", headers={"Accept-Language": "es"}).headers["content-language"] == "en"
