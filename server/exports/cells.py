"""One rule for every cell of a spreadsheet or CSV file that may hold user text.

A spreadsheet program reads a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in
some programs, a tab or a carriage return before them) as a formula: a title typed by
a participant such as ``=HYPERLINK("http://evil", "click")`` would run when the organizer
opens the export. ``neutral`` prefixes such a text with an apostrophe, which every
spreadsheet program shows as text (OWASP's advice on CSV injection). XLSX and CSV writers
both pass every string through it; numbers and dates are written as numbers and dates.

Pure: no I/O.
"""

from __future__ import annotations

# What a formula may start with, and the full-width forms some programs also accept.
TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# Blanks a program may skip before the formula sign.
_BLANKS = " \u00a0\u3000"


def neutral(value: str) -> str:
    """``value`` as a text no spreadsheet reads as a formula (unchanged when harmless)."""
    if not value:
        return value
    first = value.lstrip(_BLANKS)[:1]
    if value[0] in TRIGGERS or (first and first in TRIGGERS):
        return "'" + value
    return value


def cell(value):
    """A cell's value for a file: strings neutralized, everything else as it is."""
    return neutral(value) if isinstance(value, str) else value
