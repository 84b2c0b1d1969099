"""What an export holds: the tables of a workshop or of a whole value chain, gathered from
the activity kinds through the registry (``ActivityType.export_tables``) and laid out in
the order every format writes them: README, attendance, one table per activity, the
tables shared by activities (action lines, comments, ...), raw answers, codebook.

Nothing here knows a kind's name. Each activity's results are counted afresh from the
stored rows in the export's own session (the live tallies and the single writer are left
alone: an export never delays a vote), through the same ``results_view`` the results page
and the JSON API use, so every figure is the one shown and none rests on fewer than k
answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain as chained

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.activities.tables import (
    BOOLEAN,
    DATETIME,
    INTEGER,
    STRING,
    Column,
    ExportContext,
    ExportTable,
)
from server.i18n import Translator
from server.models import (
    Activity,
    Attendance,
    Participant,
    Segment,
    StakeholderGroup,
    User,
    ValueChain,
    Workshop,
)
from server.workshops.screens import live_view
from server.workshops.service import agenda_of, workshops_of
from server.workshops.service import min_group_size as workshop_min_group_size

FORMAT_VERSION = "1"
SHEET_NAME_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass
class Scope:
    """What is exported, for whom, when."""

    chain: ValueChain
    workshops: list[Workshop]
    user: User
    locale: str
    whole_chain: bool
    made_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    names: bool = False  # the PDF report lists the participants' names (when asked for)

    @property
    def what(self) -> str:
        return "chain" if self.whole_chain else "workshop"

    @property
    def subject_id(self) -> int:
        return self.chain.id if self.whole_chain else self.workshops[0].id


@dataclass
class Export:
    scope: Scope
    tables: list[ExportTable]
    min_group_size: int  # the largest k of the workshops exported
    activities: list[tuple[Workshop, Activity, ExportContext]] = field(default_factory=list)


class _Counted:
    """The tallies an export reads: counted afresh from the stored rows in the export's
    own session, without the live tallies' lock (the single writer never waits for it)."""

    def __init__(self, session: Session, registry):
        self.session, self.registry, self._tallies = session, registry, {}

    def get(self, activity_id: int, workshop_id: int):
        if activity_id not in self._tallies:
            activity = self.session.get(Activity, activity_id)
            self._tallies[activity_id] = self.registry[activity.kind].recount(self.session, activity_id)
        return self._tallies[activity_id]

    def mark_dirty(self, *_args) -> None:
        """A figure computed in the background changes no export."""


def pseudonymizer(secret: str):
    """A participant's pseudonymous id: the same in every table and every export of this
    installation, and telling nothing of who it is (an HMAC of the id with the secret)."""
    key = hashlib.sha256(("minka-export-pseudonym:" + secret).encode()).digest()
    cache: dict[int, str] = {}

    def pseudonym(participant_id: int) -> str:
        name = cache.get(participant_id)
        if name is None:
            digest = hmac.new(key, str(participant_id).encode(), hashlib.sha256).hexdigest()
            name = cache[participant_id] = "p-" + digest[:12]
        return name

    return pseudonym


def sheet_title(text: str, taken: set[str]) -> str:
    """A worksheet name: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = _SHEET_FORBIDDEN.sub(" ", text).strip().strip("'") or "Sheet"
    title, n = base[:SHEET_NAME_MAX], 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def scope_of_workshop(session: Session, workshop: Workshop, chain: ValueChain, user: User) -> Scope:
    return Scope(chain, [workshop], user, workshop.language, whole_chain=False)


def scope_of_chain(session: Session, chain: ValueChain, user: User, locale: str) -> Scope:
    workshops = sorted(workshops_of(session, chain), key=lambda w: (w.date, w.id))
    return Scope(chain, workshops, user, locale, whole_chain=True)


def gather(session: Session, state, scope: Scope) -> Export:
    """Every table of the export (rows are read when each table is written)."""
    t = Translator(scope.locale)
    _ = t.gettext
    pseudonym = pseudonymizer(state.secret)
    installation_k = state.settings.min_group_size
    k = max([workshop_min_group_size(w, installation_k) for w in scope.workshops] or [installation_k])
    export = Export(scope, [], k)
    parts: dict[str, list[ExportTable]] = {}
    for n, workshop in enumerate(scope.workshops, start=1):
        for m, activity in enumerate(agenda_of(session, workshop), start=1):
            kind = state.registry.get(activity.kind)
            if kind is None:  # a kind that does not run (yet) has no answers to export
                continue
            tallies = _Counted(session, state.registry)
            view = live_view(session, workshop, tallies, state.registry, 0, installation_k, activity=activity)
            tally = tallies.get(activity.id, workshop.id)
            prefix = f"W{n} · A{m}" if scope.whole_chain else f"A{m}"
            ctx = ExportContext(
                session=session,
                view=view,
                tally=tally,
                results=kind.results(view, tally),
                gettext=t.gettext,
                pseudonym=pseudonym,
                raw_rows=lambda kind=kind, activity=activity: kind.iter_raw_rows(session, activity.id),
                label=f"{prefix} {activity.title}",
                workshop_id=workshop.id,
                activity_id=activity.id,
                group_names={g.key: g.name(scope.locale) for g in view.groups.values()},
                item_titles={item.id: item.title for item in view.gaps},
                segment_names={s.id: s.name for s in view.segments},
            )
            export.activities.append((workshop, activity, ctx))
            for table in kind.export_tables(ctx):
                parts.setdefault(table.key, []).append(table)
    merged = [_merge(tables) for tables in parts.values()]
    per_activity = [m for m in merged if m.key.startswith("activity_")]
    raw = [m for m in merged if m.key.startswith("raw_")]
    shared = [m for m in merged if m not in per_activity and m not in raw]
    body = [
        attendance_table(session, scope, t, pseudonym),
        attendance_summary_table(session, scope, t, k),
        *per_activity,
        *shared,
        *raw,
    ]
    taken: set[str] = set()
    readme = readme_table(session, scope, t, k, body)
    codebook = codebook_table(t, [readme, *body])
    export.tables = [readme, *body, codebook]
    for table in export.tables:
        table.title = sheet_title(table.title, taken)
    return export


def _merge(tables: list[ExportTable]) -> ExportTable:
    """Tables of several activities with one key: one table, each activity's rows in turn."""
    first = tables[0]
    if len(tables) == 1:
        return first
    return ExportTable(
        key=first.key,
        title=first.title,
        description=first.description,
        columns=first.columns,
        rows=lambda: chained.from_iterable(t.rows() for t in tables),
        open_data=all(t.open_data for t in tables),
        labels=first.labels,
    )


# Attendance ------------------------------------------------------------------------------


def _asked(workshops: Iterable[Workshop]) -> tuple[bool, bool]:
    """Whether any workshop asked names; whether any asked organization, group and segment."""
    kinds = {w.attendance for w in workshops}
    return bool(kinds & {Attendance.name, Attendance.full}), Attendance.full in kinds


def attendance_table(session: Session, scope: Scope, t: Translator, pseudonym) -> ExportTable:
    """Who joined: only what each workshop asked, with the group and segment (never in open data)."""
    _ = t.gettext
    names, full = _asked(scope.workshops)
    columns = [
        Column("workshop_id", INTEGER, _("The workshop.")),
        Column("participant", STRING, _("The participant, as a pseudonymous id (the same in every table).")),
    ]
    if names:
        columns.append(Column("name", STRING, _("Name, as the participant typed it.")))
    if full:
        columns += [
            Column("organization", STRING, _("Organization, as the participant typed it.")),
            Column("stakeholder_group", STRING, _("Stakeholder group.")),
            Column("segment", STRING, _("Segment of the chain.")),
        ]
    columns += [
        Column("joined_at", DATETIME, _("When the participant joined (UTC).")),
        Column("removed", BOOLEAN, _("Removed by the facilitator (their answers do not count).")),
    ]
    asked = {w.id: w.attendance for w in scope.workshops}

    def rows():
        groups = {g.id: g.name(scope.locale) for g in session.exec(select(StakeholderGroup))}
        segments = {s.id: s.name for s in session.exec(select(Segment).where(Segment.value_chain_id == scope.chain.id))}
        query = (
            select(Participant)
            .where(col(Participant.workshop_id).in_(list(asked)))
            .order_by(Participant.workshop_id, Participant.id)
        )
        for p in session.exec(query):
            row = [p.workshop_id, pseudonym(p.id)]
            if names:
                row.append(p.name if asked[p.workshop_id] != Attendance.none else None)
            if full:
                is_full = asked[p.workshop_id] == Attendance.full
                row += [
                    p.organization if is_full else None,
                    groups.get(p.stakeholder_group_id) if is_full else None,
                    segments.get(p.segment_id) if is_full else None,
                ]
            row += [p.joined_at, p.removed]
            yield tuple(row)

    return ExportTable(
        key="attendance",
        title=_("Attendance"),
        description=_("One row per participant who joined, with only what the workshop asked of them."),
        columns=columns,
        rows=rows,
    )


def attendance_summary_table(session: Session, scope: Scope, t: Translator, k: int) -> ExportTable:
    """Participants per workshop, stakeholder group and segment (counts; no names)."""
    _ = t.gettext
    columns = [
        Column("workshop_id", INTEGER, _("The workshop.")),
        Column("stakeholder_group", STRING, _("Stakeholder group (empty: not asked or not given).")),
        Column("segment", STRING, _("Segment of the chain (empty: not asked or not given).")),
        Column("participants", INTEGER, _("Participants who joined (removed ones left out)."), count=True),
    ]

    def rows():
        groups = {g.id: g.name(scope.locale) for g in session.exec(select(StakeholderGroup))}
        segments = {s.id: s.name for s in session.exec(select(Segment).where(Segment.value_chain_id == scope.chain.id))}
        query = (
            select(Participant.workshop_id, Participant.stakeholder_group_id, Participant.segment_id, func.count())
            .where(col(Participant.workshop_id).in_([w.id for w in scope.workshops]), Participant.removed == False)  # noqa: E712
            .group_by(Participant.workshop_id, Participant.stakeholder_group_id, Participant.segment_id)
            .order_by(Participant.workshop_id, Participant.stakeholder_group_id, Participant.segment_id)
        )
        for workshop_id, group_id, segment_id, n in session.exec(query):
            yield (workshop_id, groups.get(group_id), segments.get(segment_id), n)

    return ExportTable(
        key="attendance_summary",
        title=_("Attendance by group"),
        description=_("Participants per workshop, stakeholder group and segment."),
        columns=columns,
        rows=rows,
        open_data=True,
    )


def attendance_counts(session: Session, workshop_ids: list[int]) -> dict[int, int]:
    query = (
        select(Participant.workshop_id, func.count())
        .where(col(Participant.workshop_id).in_(workshop_ids), Participant.removed == False)  # noqa: E712
        .group_by(Participant.workshop_id)
    )
    return dict(session.exec(query).all())


# README and codebook ---------------------------------------------------------------------


def readme_table(session: Session, scope: Scope, t: Translator, k: int, tables: list[ExportTable]) -> ExportTable:
    _ = t.gettext
    chain = scope.chain
    counts = attendance_counts(session, [w.id for w in scope.workshops])
    lines: list[tuple[str, str]] = [
        (_("Export"), _("Minka export, format version %(v)s", v=FORMAT_VERSION)),
        (_("Value chain"), chain.name),
        (_("Product"), chain.product),
        (_("Regions"), ", ".join(chain.regions)),
    ]
    for w in scope.workshops:
        place = ", ".join(p for p in (w.town, w.region) if p)
        lines.append(
            (
                _("Workshop"),
                _(
                    "%(title)s — %(date)s — %(place)s — %(n)s participants",
                    title=w.title,
                    date=w.date.isoformat(),
                    place=place or "–",
                    n=counts.get(w.id, 0),
                ),
            )
        )
    lines += [
        (
            _("Methods"),
            _(
                "Gap ratings: mean seriousness (1–5), relevance as the lower median, shares of segments; "
                "rankings: Schulze, Borda, mean rank, share in the top k, Bradley–Terry (docs/methods.md)."
            ),
        ),
        (_("Small numbers"), _("No figure resting on fewer than %(k)s answers is given (empty cell).", k=k)),
        (_("Participants"), _("Named by pseudonymous ids (p-…), the same in every table of this installation.")),
        (_("Exported at"), scope.made_at.strftime("%Y-%m-%d %H:%M UTC")),
        (_("Exported by"), f"{scope.user.name} <{scope.user.email}>"),
    ]
    lines += [(_("Table: %(name)s", name=table.title), table.description) for table in tables]
    lines.append((_("Table: %(name)s", name=_("Codebook")), _("Every column of every table, with its type.")))
    return ExportTable(
        key="readme",
        title=_("README"),
        description=_("What this export holds."),
        columns=(Column("field", STRING, _("What")), Column("value", STRING, _("Its value"))),
        rows=lambda: iter(lines),
    )


def codebook_table(t: Translator, tables: list[ExportTable]) -> ExportTable:
    _ = t.gettext

    def rows():  # read when written: the sheet names are final by then
        return ((table.key, table.title, c.name, c.type, c.description) for table in tables for c in table.columns)

    return ExportTable(
        key="codebook",
        title=_("Codebook"),
        description=_("Every column of every table, with its type."),
        columns=(
            Column("table", STRING, _("The table's file name.")),
            Column("sheet", STRING, _("The table's sheet name.")),
            Column("column", STRING, _("The column.")),
            Column("type", STRING, _("Its type (string, integer, number, date, datetime, boolean).")),
            Column("description", STRING, _("What it means.")),
        ),
        rows=rows,
        open_data=True,
    )
