"""The chain's roadmap page, outside a live workshop: what the pages read (items with
their library links and the workshops that touched them, filters, an item's history as
people read it) and how the facilitator's plain forms become the values the roadmap's
service functions take (``activities/roadmap/``, the same functions the live kind calls,
so the same checks and conflict rules).

No writes here: the routes call ``activities.roadmap.service`` / ``items`` / ``social``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, union
from sqlmodel import Session

from server.activities.roadmap import merge, reading
from server.activities.roadmap.fields import (
    FIELD_LABELS,
    HORIZON_LABELS,
    HORIZONS,
    ITEM_FIELDS,
    ROLE_LABELS,
    ROW_FIELDS,
    ROW_KINDS,
    STATUS_LABELS,
    STATUSES,
)
from server.errors import NotFound
from server.i18n import N_, Translator
from server.models import (
    ActionLine,
    Activity,
    FundingSource,
    Gap,
    RoadmapActivityItem,
    RoadmapComment,
    RoadmapCommitment,
    RoadmapItem,
    RoadmapItemActionLine,
    RoadmapPhase,
    RoadmapRevision,
    ValueChain,
    Workshop,
)
from server.valuechains.service import access_chain

NO_VALUE = "—"


# Loading what a route names -----------------------------------------------------------


def access_chain_item(session: Session, user, chain_id: int, item_id: int) -> tuple[ValueChain, RoadmapItem]:
    """The chain, authorized for ``user``, and one of its items; else 404."""
    chain = access_chain(session, user, chain_id)
    return chain, access_item(session, chain.id, item_id)


def access_item(session: Session, chain_id: int, item_id: int) -> RoadmapItem:
    """An item of the chain (the route has authorized the chain); else 404."""
    item = session.get(RoadmapItem, item_id)
    if item is None or item.value_chain_id != chain_id:
        raise NotFound()
    return item


def access_revision(session: Session, item: RoadmapItem, revision_id: int) -> RoadmapRevision:
    revision = session.get(RoadmapRevision, revision_id)
    if revision is None or revision.item_id != item.id:
        raise NotFound()
    return revision


def access_comment(session: Session, item: RoadmapItem, comment_id: int) -> RoadmapComment:
    comment = session.get(RoadmapComment, comment_id)
    if comment is None or comment.item_id != item.id:
        raise NotFound()
    return comment


def access_commitment(session: Session, item: RoadmapItem, commitment_id: int) -> RoadmapCommitment:
    commitment = session.get(RoadmapCommitment, commitment_id)
    if commitment is None or commitment.item_id != item.id:
        raise NotFound()
    return commitment


# Reference lists ----------------------------------------------------------------------


def phases(session: Session) -> list[RoadmapPhase]:
    """Every phase (active or not: an item may still name a deactivated one), in order."""
    return list(session.execute(select(RoadmapPhase).order_by(RoadmapPhase.position, RoadmapPhase.id)).scalars())


def funding_sources(session: Session) -> list[FundingSource]:
    query = select(FundingSource).where(FundingSource.active).order_by(FundingSource.position, FundingSource.id)
    return list(session.execute(query).scalars())


# Filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The roadmap page's filters (from the query string); an unknown value means "all"."""

    status: str | None = None
    horizon: str | None = None  # a horizon, or "none" (no horizon yet)
    phase: str | None = None  # a phase key, or "none"

    @property
    def active(self) -> bool:
        return any((self.status, self.horizon, self.phase))

    def matches(self, view: reading.ItemView) -> bool:
        def same(wanted, value) -> bool:
            return wanted is None or (value is None if wanted == "none" else value == wanted)

        return (
            same(self.status, view.values["status"])
            and same(self.horizon, view.values["horizon"])
            and same(self.phase, view.values["phase"])
        )


def clean_filters(params, phase_keys) -> Filters:
    def pick(name: str, allowed) -> str | None:
        value = params.get(name)
        return value if isinstance(value, str) and value in allowed else None

    return Filters(
        status=pick("status", STATUSES),
        horizon=pick("horizon", (*HORIZONS, "none")),
        phase=pick("phase", (*phase_keys, "none")),
    )


# The page's data ----------------------------------------------------------------------


@dataclass
class Library:
    """The chain's action lines and gaps by id (archived ones too: an item keeps its links)."""

    lines: dict[int, ActionLine] = field(default_factory=dict)
    gaps: dict[int, Gap] = field(default_factory=dict)


def library_of(session: Session, chain_id: int) -> Library:
    lines = session.execute(select(ActionLine).where(ActionLine.value_chain_id == chain_id)).scalars()
    gaps = session.execute(select(Gap).where(Gap.value_chain_id == chain_id)).scalars()
    return Library({x.id: x for x in lines}, {g.id: g for g in gaps})


def workshops_by_item(session: Session, item_ids: list[int]) -> dict[int, list[Workshop]]:
    """For each item, the workshops that touched it (brought it into an activity, or
    changed it), by date: ``reading.workshops_of_item`` for many items in one query."""
    if not item_ids:
        return {}
    brought = (
        select(RoadmapActivityItem.item_id, Activity.workshop_id)
        .join(Activity, Activity.id == RoadmapActivityItem.activity_id)
        .where(RoadmapActivityItem.item_id.in_(item_ids))
    )
    changed = select(RoadmapRevision.item_id, RoadmapRevision.workshop_id).where(
        RoadmapRevision.item_id.in_(item_ids), RoadmapRevision.workshop_id.is_not(None)
    )
    pairs = session.execute(union(brought, changed)).all()
    workshops = {}
    if pairs:
        ids = {w for _, w in pairs}
        workshops = {w.id: w for w in session.execute(select(Workshop).where(Workshop.id.in_(ids))).scalars()}
    out: dict[int, list[Workshop]] = {i: [] for i in item_ids}
    for item_id, workshop_id in pairs:
        out[item_id].append(workshops[workshop_id])
    for found in out.values():
        found.sort(key=lambda w: (w.date, w.id))
    return out


def lines_without_item(session: Session, chain_id: int) -> list[ActionLine]:
    """The chain's action lines (not archived) that no roadmap item answers yet."""
    linked = (
        select(RoadmapItemActionLine.action_line_id)
        .join(RoadmapItem, RoadmapItem.id == RoadmapItemActionLine.item_id)
        .where(RoadmapItem.value_chain_id == chain_id)
    )
    query = select(ActionLine).where(
        ActionLine.value_chain_id == chain_id, ActionLine.archived.is_(False), ActionLine.id.not_in(linked)
    )
    return list(session.execute(query.order_by(ActionLine.position, ActionLine.id)).scalars())


@dataclass
class Cell:
    horizon: str | None
    phase: str | None
    items: list[reading.ItemView]


def by_horizon(views: list[reading.ItemView], phase_keys: list[str]) -> list[list[Cell]]:
    """The items in a grid: a row per horizon (then "no horizon"), a column per phase
    (then "no phase"), each cell in the roadmap's order. Rows and columns left empty by
    every item are dropped, except the three horizons (no items: no grid)."""
    if not views:
        return []
    columns = [*phase_keys, None]
    rows = [*HORIZONS, None]
    grid = [[Cell(h, p, []) for p in columns] for h in rows]
    for view in views:
        h, p = view.values["horizon"], view.values["phase"]
        row = rows.index(h) if h in rows else len(rows) - 1
        col = columns.index(p) if p in columns else len(columns) - 1
        grid[row][col].items.append(view)
    used_columns = [c for c in range(len(columns)) if any(grid[r][c].items for r in range(len(rows)))]
    keep_rows = [r for r in range(len(rows)) if rows[r] is not None or any(grid[r][c].items for c in used_columns)]
    return [[grid[r][c] for c in used_columns] for r in keep_rows]


# An item's history as people read it --------------------------------------------------


def restorable(history: list[reading.RevisionView]) -> set[int]:
    """The revisions a facilitator may restore: changes of a field or a list row whose
    value is no longer the slot's (the last change of each slot is what it holds now)."""
    last: dict[str, reading.RevisionView] = {}
    for revision in history:
        if revision.field in ITEM_FIELDS or revision.field in ROW_KINDS:
            last[revision.slot] = revision
    return {
        r.id
        for r in history
        if (r.field in ITEM_FIELDS or r.field in ROW_KINDS)
        and r.change != merge.CREATE
        and last[r.slot].id != r.id
        and last[r.slot].new != r.new
    }


def phase_names(phase_list: list[RoadmapPhase], locale: str) -> dict[str, str]:
    return {p.key: p.name(locale) for p in phase_list}


def amount_text(amount: str, locale: str) -> str:
    """An amount with two decimals, grouped as the reader writes numbers."""
    from babel.numbers import format_decimal

    return format_decimal(Decimal(amount), format="#,##0.00", locale=locale)


def display(t: Translator, name: str, value, phase_name: dict[str, str]) -> str:
    """A field's or a row's value (JSON, as stored and revised) as a reader sees it."""
    if value is None or value == "":
        return NO_VALUE
    if name == "horizon":
        return t.gettext(HORIZON_LABELS[value]) if value in HORIZON_LABELS else str(value)
    if name == "phase":
        return phase_name.get(value, str(value))
    if name == "status":
        return t.gettext(STATUS_LABELS[value]) if value in STATUS_LABELS else str(value)
    if name == "pilot":
        return t.gettext("Yes") if value else t.gettext("No")
    if name == "progress":
        return f"{value} %"
    if name == "budget" and isinstance(value, dict):
        return f"{amount_text(value['amount'], t.locale)} {value['currency']}"
    if name == "role":
        return t.gettext(ROLE_LABELS[value]) if value in ROLE_LABELS else str(value)
    if name in ROW_KINDS and isinstance(value, dict):
        return row_text(t, name, value)
    if isinstance(value, bool):
        return t.gettext("Yes") if value else t.gettext("No")
    return str(value)


def row_text(t: Translator, kind: str, value: dict) -> str:
    if kind == "partner":
        return value["organization"]
    if kind == "milestone":
        when = value.get("date")
        return f"{value['text']} ({t.date(dt.date.fromisoformat(when))})" if when else value["text"]
    parts = [value["name"]]
    if value.get("baseline") or value.get("target"):
        parts.append(f"{value.get('baseline') or NO_VALUE} → {value.get('target') or NO_VALUE}")
    if value.get("unit"):
        parts.append(value["unit"])
    return " · ".join(parts)


def field_label(t: Translator, name: str) -> str:
    return t.gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else name


# Forms --------------------------------------------------------------------------------


def field_value(name: str, data: dict):
    """What a field's form sends, as ``fields.clean_field`` reads it (the budget: two inputs)."""
    if name == "budget":
        return {"amount": data.get("amount", ""), "currency": data.get("currency", "")}
    return data.get("value")


def row_value_from(kind: str, data: dict) -> dict:
    return {name: data.get(name, "") for name in ROW_FIELDS[kind]}


def form_value(name: str, value) -> dict:
    """A field's value as its form shows it (the inverse of ``field_value``)."""
    if name == "budget":
        return {"amount": (value or {}).get("amount", ""), "currency": (value or {}).get("currency", "")}
    if name == "pilot":
        return {"value": "yes" if value else "no"}
    return {"value": "" if value is None else value}


def new_item_raw(data: dict) -> dict:
    """The fields of the new-item form that were filled in (left empty: the default, or
    the action line's title and description)."""
    raw = {}
    for name in ITEM_FIELDS:
        if name == "budget":
            if data.get("amount", "") or data.get("currency", ""):
                raw[name] = field_value(name, data)
        elif data.get(name, "") != "":
            raw[name] = data[name]
    return raw


# Times and the history ------------------------------------------------------------------


def when_text(iso: str | None, locale: str) -> str:
    """A stored time (ISO, UTC) as the reader reads a date and time."""
    if not iso:
        return ""
    from babel.dates import format_datetime

    return format_datetime(dt.datetime.fromisoformat(iso), format="medium", tzinfo=dt.UTC, locale=locale)


CHANGES = {
    "create": N_("created"),
    "edit": N_("changed"),
    "add": N_("added"),
    "remove": N_("removed"),
    "restore": N_("restored"),
    "link": N_("linked"),
    "unlink": N_("unlinked"),
}
LINK_LABELS = {"action_line": N_("Action line"), "gap": N_("Competitive gap")}


@dataclass
class HistoryRow:
    """One revision as the item page shows it."""

    id: int
    what: str
    change: str
    author: str
    user_id: int | None
    at: str
    old: str = ""
    new: str = ""
    shows_values: bool = True
    restorable: bool = False


def history_rows(
    t: Translator, history: list[reading.RevisionView], library: Library, phase_name: dict[str, str]
) -> list[HistoryRow]:
    """The item's revisions, newest first, in words (``restorable`` marks what may be restored)."""
    can = restorable(history)
    rows = []
    for r in reversed(history):
        row = HistoryRow(
            r.id, field_label(t, r.field), t.gettext(CHANGES.get(r.change, r.change)), r.author, r.user_id, r.created_at
        )
        if r.field == "item":
            row.what, row.shows_values = t.gettext("The item"), False
        elif r.field == "locked":
            row.what = t.gettext("Lock")
            row.change = t.gettext("locked") if r.new else t.gettext("unlocked")
            row.shows_values = False
        elif r.field in LINK_LABELS:
            found = (library.lines if r.field == "action_line" else library.gaps).get(r.row_id)
            row.what = f"{t.gettext(LINK_LABELS[r.field])}: {found.title if found else r.row_id}"
            row.shows_values = False
        else:
            row.old = display(t, r.field, r.old, phase_name)
            row.new = display(t, r.field, r.new, phase_name)
            row.restorable = r.id in can
        rows.append(row)
    return rows
