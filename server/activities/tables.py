"""The tables an activity kind gives the exports (``ActivityType.export_tables``).

A table is named by ``key``: tables of several activities with the same key are one table
in the export (the rows of each activity in turn), so every ranking of a chain lands on one
"Action lines" sheet. ``rows`` is called when the table is written, once per file, and may
yield rows lazily (a million stored answers are never all in memory). Each row is a tuple in
the order of ``columns``; a string cell is user text until proven otherwise (the writers
neutralize formulas in every one).

Pure: no framework, no database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

# Column types: those of a Frictionless Table Schema.
STRING, INTEGER, NUMBER, DATE, DATETIME, BOOLEAN = "string", "integer", "number", "date", "datetime", "boolean"


@dataclass(frozen=True)
class Column:
    name: str  # machine name: CSV header, schema field
    type: str = STRING
    description: str = ""  # already translated, for the codebook and the README
    # A count of participants or answers: the open-data package leaves it empty under k.
    count: bool = False


@dataclass
class ExportTable:
    key: str  # file name (CSV), resource name (open data): [a-z0-9_]
    title: str  # sheet name (translated, at most 31 characters)
    description: str  # translated: what a row is
    columns: Sequence[Column]
    rows: Callable[[], Iterable[Sequence]]
    # Whether it may go in the open-data package: no names, no cell resting on fewer
    # than k participants (raw answers and attendance lists never do).
    open_data: bool = False
    # Value labels for the codebook: column name -> {value: meaning}.
    labels: dict = field(default_factory=dict)


@dataclass
class ExportContext:
    """What a kind needs to build its tables for one activity.

    ``view`` is the activity's results view (as the results page shows it, nothing resting on
    fewer than ``view.min_group_size`` answers), ``tally`` its tally counted from the stored
    rows, ``results`` the kind's ``results(view, tally)``; ``gettext`` translates into the
    export's language; ``pseudonym(participant_id)`` names a participant without saying who;
    ``raw_rows()`` yields the stored answers (``ROW_COLUMNS`` dicts)."""

    session: object
    view: object
    tally: object
    results: dict
    gettext: Callable[..., str]
    pseudonym: Callable[[int], str]
    raw_rows: Callable[[], Iterable[dict]]
    label: str  # how the exports name this activity: "W1 · A2 Gap rating"
    workshop_id: int
    activity_id: int
    group_names: dict = field(default_factory=dict)  # group key -> name
    item_titles: dict = field(default_factory=dict)  # item id -> title
    segment_names: dict = field(default_factory=dict)  # segment id -> name


def flatten(data, prefix: str = "") -> Iterable[tuple[str, object]]:
    """(path, value) of every leaf of plain JSON data: the default results table of a kind
    that gives no tables of its own."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from flatten(value, f"{prefix}[{i}]")
    else:
        yield prefix, data


def plain_value(value):
    """A raw answer's value as one cell: lists joined with spaces, the rest as it is."""
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return value
