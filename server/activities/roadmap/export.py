"""The roadmap's tables in the exports (``Roadmap.export_tables``).

Per activity: the items it worked on, with the changes, commitments and comments made in
it. Shared by every roadmap activity of the export (one table each, keys ``roadmap_*``):
the roadmap matrix (one row per item, every field), its milestones, indicators, partners,
commitments and comments. A chain's workshops often bring in the same items: each
activity's shared tables hold only the items no earlier roadmap activity of the same export
brought in, so the merged tables name every item once. Raw rows: the revisions made in the
activity (``raw_roadmap``), the participant as a pseudonymous id.

Open data: the matrix, milestones, indicators, partners and commitments (organizations and
what they committed to are public by nature; "made by" is a pseudonym or "facilitator",
never a name). Comments and revisions are not open data. Hidden comments (hidden by a
facilitator) are left out of every export, as on the roadmap's pages.

Reads ``ExportContext``: the live view's panel (the items as read from the database for
this export) and the session, for library titles and per-activity counts.
"""

from __future__ import annotations

import datetime as dt
import json
import weakref
from collections import Counter

from sqlalchemy import select

from server.activities.roadmap.fields import HORIZON_LABELS, ROLE_LABELS, STATUS_LABELS
from server.activities.tables import (
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    NUMBER,
    STRING,
    Column,
    ExportContext,
    ExportTable,
)
from server.models import ActionLine, Gap, RoadmapComment, RoadmapCommitment, RoadmapRevision

# The roadmap activities of one export, in the order the exporter asked them (keyed by the
# export's pseudonymizer, made afresh for every export): (activity id, item ids).
_EXPORTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _locale(ctx: ExportContext) -> str:
    return getattr(getattr(ctx.gettext, "__self__", None), "locale", "es")


def _items(ctx: ExportContext) -> list:
    panel = getattr(ctx.view, "panel", None)
    return list(getattr(panel, "items", None) or [])


def new_items(ctx: ExportContext) -> list:
    """The activity's items that no earlier roadmap activity of this export brought in."""
    items = _items(ctx)
    try:
        earlier = _EXPORTS.setdefault(ctx.pseudonym, [])
    except TypeError:  # a pseudonymizer that cannot be weakly referenced: no merging
        earlier = []
    seen = {i for _a, ids in earlier if _a != ctx.activity_id for i in ids}
    if not any(a == ctx.activity_id for a, _ids in earlier):
        earlier.append((ctx.activity_id, [it.id for it in items]))
    return [it for it in items if it.id not in seen]


def _when(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _made_by(ctx: ExportContext, participant_id, user_id) -> str:
    _ = ctx.gettext
    if user_id is not None:
        return _("facilitator")
    return ctx.pseudonym(participant_id) if participant_id is not None else ""


def _titles(session, model, ids) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.title).where(model.id.in_(sorted(ids)))).all())


def export_tables(ctx: ExportContext) -> list[ExportTable]:
    items = new_items(ctx)
    return [
        activity_table(ctx),
        items_table(ctx, items),
        milestones_table(ctx, items),
        indicators_table(ctx, items),
        partners_table(ctx, items),
        commitments_table(ctx, items),
        comments_table(ctx, items),
        raw_table(ctx),
    ]


def _by_item(session, model, activity_id: int, when=None) -> Counter:
    query = select(model.item_id).where(model.activity_id == activity_id)
    if when is not None:
        query = query.where(when)
    return Counter(session.execute(query).scalars())


def activity_table(ctx: ExportContext) -> ExportTable:
    _ = ctx.gettext

    def rows():
        s = ctx.session
        edits = _by_item(s, RoadmapRevision, ctx.activity_id)
        made = _by_item(s, RoadmapCommitment, ctx.activity_id)
        said = _by_item(s, RoadmapComment, ctx.activity_id, RoadmapComment.hidden.is_(False))
        for it in _items(ctx):
            yield (it.id, it.values.get("title"), edits[it.id], made[it.id], said[it.id])

    return ExportTable(
        key=f"activity_{ctx.activity_id}",
        title=ctx.label,
        description=_(
            "The roadmap items %(activity)s worked on, with the changes, commitments and comments made in it.",
            activity=ctx.label,
        ),
        columns=(
            Column("item_id", INTEGER, _("The roadmap item's id in the chain.")),
            Column("title", STRING, _("The item's title.")),
            Column("changes", INTEGER, _("Accepted changes made in this activity.")),
            Column("commitments", INTEGER, _("Commitments made in this activity.")),
            Column("comments", INTEGER, _("Comments made in this activity (hidden ones left out).")),
        ),
        rows=rows,
        open_data=True,
    )


def _item_column(_) -> Column:
    return Column("item_id", INTEGER, _("The roadmap item's id in the chain."))


def items_table(ctx: ExportContext, items: list) -> ExportTable:
    """The roadmap matrix: one row per item, every field."""
    _ = ctx.gettext
    columns = (
        _item_column(_),
        Column("workshop_id", INTEGER, _("The workshop whose roadmap activity first brought the item in.")),
        Column("activity_id", INTEGER, _("That roadmap activity.")),
        Column("position", INTEGER, _("The item's place in the chain's roadmap.")),
        Column("title", STRING, _("The item's title.")),
        Column("description", STRING, _("What will be done.")),
        Column("horizon", STRING, _("Horizon: short, medium or long term (empty: not set yet).")),
        Column("phase", STRING, _("The method's phase (empty: not set yet).")),
        Column("lead_organization", STRING, _("The organization that leads it.")),
        Column("budget_amount", NUMBER, _("Budget amount.")),
        Column("budget_currency", STRING, _("Budget currency (ISO 4217 code).")),
        Column("funding_source", STRING, _("Funding source, as written.")),
        Column("pilot", BOOLEAN, _("A pilot project.")),
        Column("status", STRING, _("Status: proposed, agreed, under way, done or dropped.")),
        Column("progress", INTEGER, _("Progress, 0 to 100 %.")),
        Column("locked", BOOLEAN, _("Locked by the facilitator (no more changes).")),
        Column("action_lines", STRING, _("The action lines it answers (titles, separated by semicolons).")),
        Column("gaps", STRING, _("The gaps it answers (titles, separated by semicolons).")),
        Column("milestones", INTEGER, _("Number of milestones.")),
        Column("indicators", INTEGER, _("Number of indicators.")),
        Column("partners", INTEGER, _("Number of partner organizations.")),
        Column("commitments", INTEGER, _("Commitments in force (withdrawn ones left out).")),
        Column("supports", INTEGER, _("Participants who gave it a +1."), count=True),
    )

    def rows():
        phases = getattr(ctx.view.panel, "phase_names", lambda _l: {})(_locale(ctx))
        lines = _titles(ctx.session, ActionLine, {i for it in items for i in it.action_lines})
        gaps = _titles(ctx.session, Gap, {i for it in items for i in it.gaps})
        for it in items:
            v = it.values
            budget = v.get("budget") or {}
            yield (
                it.id,
                ctx.workshop_id,
                ctx.activity_id,
                it.position,
                v.get("title"),
                v.get("description"),
                _(HORIZON_LABELS[v["horizon"]]) if v.get("horizon") in HORIZON_LABELS else None,
                phases.get(v.get("phase"), v.get("phase")),
                v.get("lead_organization"),
                float(budget["amount"]) if budget.get("amount") is not None else None,
                budget.get("currency"),
                v.get("funding_source"),
                bool(v.get("pilot")),
                _(STATUS_LABELS[v["status"]]) if v.get("status") in STATUS_LABELS else v.get("status"),
                v.get("progress"),
                it.locked,
                "; ".join(lines.get(i, "") for i in it.action_lines),
                "; ".join(gaps.get(i, "") for i in it.gaps),
                len(it.rows.get("milestone", ())),
                len(it.rows.get("indicator", ())),
                len(it.rows.get("partner", ())),
                len(it.active_commitments),
                it.supports,
            )

    return ExportTable(
        key="roadmap_items",
        title=_("Roadmap"),
        description=_("The roadmap matrix: one row per item, with every field."),
        columns=columns,
        rows=rows,
        open_data=True,
    )


def milestones_table(ctx: ExportContext, items: list) -> ExportTable:
    _ = ctx.gettext
    return ExportTable(
        key="roadmap_milestones",
        title=_("Milestones"),
        description=_("The roadmap items' milestones, one row each."),
        columns=(
            _item_column(_),
            Column("milestone_id", INTEGER, _("The milestone's id.")),
            Column("milestone", STRING, _("The milestone.")),
            Column("target_date", DATE, _("Its target date (empty: none given).")),
        ),
        rows=lambda: (
            (it.id, r.id, r.value.get("text"), _day(r.value.get("date")))
            for it in items
            for r in it.rows.get("milestone", ())
        ),
        open_data=True,
    )


def indicators_table(ctx: ExportContext, items: list) -> ExportTable:
    _ = ctx.gettext
    return ExportTable(
        key="roadmap_indicators",
        title=_("Indicators"),
        description=_("The roadmap items' indicators, one row each."),
        columns=(
            _item_column(_),
            Column("indicator_id", INTEGER, _("The indicator's id.")),
            Column("indicator", STRING, _("The indicator.")),
            Column("baseline", STRING, _("Its baseline, as written.")),
            Column("target", STRING, _("Its target, as written.")),
            Column("unit", STRING, _("Its unit.")),
        ),
        rows=lambda: (
            (it.id, r.id, r.value.get("name"), r.value.get("baseline"), r.value.get("target"), r.value.get("unit"))
            for it in items
            for r in it.rows.get("indicator", ())
        ),
        open_data=True,
    )


def partners_table(ctx: ExportContext, items: list) -> ExportTable:
    _ = ctx.gettext
    return ExportTable(
        key="roadmap_partners",
        title=_("Partners"),
        description=_("The roadmap items' partner organizations, one row each."),
        columns=(
            _item_column(_),
            Column("partner_id", INTEGER, _("The partner row's id.")),
            Column("organization", STRING, _("The partner organization.")),
        ),
        rows=lambda: ((it.id, r.id, r.value.get("organization")) for it in items for r in it.rows.get("partner", ())),
        open_data=True,
    )


def commitments_table(ctx: ExportContext, items: list) -> ExportTable:
    _ = ctx.gettext

    def rows():
        for it in items:
            for c in it.commitments:
                role = _(ROLE_LABELS[c.role]) if c.role in ROLE_LABELS else c.role
                by = _made_by(ctx, c.participant_id, c.user_id)
                made, gone = _when(c.made_at), _when(c.withdrawn_at)
                yield (it.id, c.id, c.organization, role, c.note, by, made, gone, c.withdrawn_note)

    return ExportTable(
        key="roadmap_commitments",
        title=_("Commitments"),
        description=_("Every commitment to a roadmap item, withdrawn ones too (with when and why)."),
        columns=(
            _item_column(_),
            Column("commitment_id", INTEGER, _("The commitment's id.")),
            Column("organization", STRING, _("The organization that committed.")),
            Column("role", STRING, _("Its role: lead, partner, funder or other.")),
            Column("note", STRING, _("What it commits to, as written.")),
            Column("made_by", STRING, _("Who recorded it: a participant's pseudonymous id, or “facilitator”.")),
            Column("made_at", DATETIME, _("When it was made (UTC).")),
            Column("withdrawn_at", DATETIME, _("When it was withdrawn (UTC; empty: in force).")),
            Column("withdrawn_note", STRING, _("Why it was withdrawn, as written.")),
        ),
        rows=rows,
        open_data=True,
    )


def comments_table(ctx: ExportContext, items: list) -> ExportTable:
    _ = ctx.gettext
    return ExportTable(
        key="roadmap_comments",
        title=_("Roadmap comments"),
        description=_("Comments on the roadmap items (those a facilitator hid are left out)."),
        columns=(
            _item_column(_),
            Column("comment_id", INTEGER, _("The comment's id.")),
            Column("comment", STRING, _("The comment.")),
            Column("made_by", STRING, _("Who wrote it: a participant's pseudonymous id, or “facilitator”.")),
            Column("made_at", DATETIME, _("When (UTC).")),
        ),
        rows=lambda: (
            (it.id, c.id, c.text, _made_by(ctx, c.participant_id, c.user_id), _when(c.created_at))
            for it in items
            for c in it.comments
            if not c.hidden
        ),
    )


def raw_table(ctx: ExportContext) -> ExportTable:
    """The revisions made in the activity, one row each (``ROW_COLUMNS``)."""
    _ = ctx.gettext

    def text(value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def rows():
        for r in ctx.raw_rows():
            yield (
                ctx.workshop_id,
                ctx.activity_id,
                r["item_id"],
                r["field"],
                r["row_id"],
                r["change"],
                text(r["old"]),
                text(r["new"]),
                r["version"],
                _made_by(ctx, r["participant_id"], r["user_id"]),
                r["at"],
            )

    return ExportTable(
        key="raw_roadmap",
        title=_("Raw changes – roadmap"),
        description=_("One row per accepted change of a roadmap item made in a roadmap activity."),
        columns=(
            Column("workshop_id", INTEGER, _("The workshop.")),
            Column("activity_id", INTEGER, _("The roadmap activity.")),
            _item_column(_),
            Column("field", STRING, _("The field, or the list (partner, milestone, indicator) or link changed.")),
            Column("row_id", INTEGER, _("The list row or the linked item (empty for a field).")),
            Column("change", STRING, _("create, edit, add, remove, restore, link, unlink or lock.")),
            Column("old", STRING, _("The value before (JSON; empty: none).")),
            Column("new", STRING, _("The value after (JSON; empty: removed).")),
            Column("version", INTEGER, _("The field's or row's version this change made.")),
            Column("made_by", STRING, _("Who: a participant's pseudonymous id, or “facilitator”.")),
            Column("at", DATETIME, _("When (UTC).")),
        ),
        rows=rows,
    )
