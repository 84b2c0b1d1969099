"""The gap rating's tables in the exports: its results as the results page shows them, the
whole room and each stakeholder group (one row per gap and group), and its raw answers.

Reads only ``ExportContext``: the results (nothing resting on fewer than k answers) and the
stored rows.
"""

from __future__ import annotations

from server.activities.gaps.tally import ELEMENTS, SERIOUSNESS
from server.activities.tables import INTEGER, NUMBER, STRING, Column, ExportContext, ExportTable
from server.i18n import N_
from server.models import DotVote, GapAnswer

LEVEL_LABELS = {"low": N_("Low"), "medium": N_("Medium"), "high": N_("High"), "very_high": N_("Very high")}
ELEMENT_LABELS = {
    "specialization": N_("Specialization"),
    "diversification": N_("Diversification"),
    "global_context": N_("Global context"),
}


def results_table(ctx: ExportContext) -> ExportTable:
    _ = ctx.gettext
    segments = list(ctx.segment_names.items())
    columns = [
        Column("group", STRING, _("Stakeholder group; “All” for the whole room.")),
        Column("gap_id", INTEGER, _("The gap's id in the chain's library.")),
        Column("gap", STRING, _("The gap.")),
        Column("answers", INTEGER, _("Number of seriousness answers."), count=True),
        Column("mean_seriousness", NUMBER, _("Mean seriousness, 1 (minor) to 5 (very serious).")),
        *(
            Column(f"seriousness_{v}", INTEGER, _("Answers rating the gap %(n)s.", n=v), count=True)
            for v in SERIOUSNESS
        ),
        *(
            Column(e, STRING, _("Relevance to %(element)s: the lower median of the answers.", element=_(label)))
            for e, label in ELEMENT_LABELS.items()
        ),
        Column("segment_answers", INTEGER, _("Answers to the question of the segments the gap hits."), count=True),
        *(
            Column(
                f"hits_segment_{sid}",
                NUMBER,
                _("Share of those answers saying the gap hits %(segment)s.", segment=name),
            )
            for sid, name in segments
        ),
        Column("dot_voters", INTEGER, _("Participants who put dots on the gap."), count=True),
        Column("dots", INTEGER, _("Dots on the gap.")),
        Column("dot_share", NUMBER, _("The gap's share of all dots.")),
    ]

    def row(group: str, r: dict):
        distribution = r.get("distribution") or [None] * len(SERIOUSNESS)
        relevance = r.get("relevance") or {}
        shares = r.get("segments")
        return (
            group,
            r["gap"],
            ctx.item_titles.get(r["gap"], ""),
            r["answers"],
            r["mean"],
            *distribution,
            *(_(LEVEL_LABELS[relevance[e]]) if relevance.get(e) else None for e in ELEMENTS),
            r.get("segment_answers", 0),
            *((shares or {}).get(sid, 0.0) if shares is not None else None for sid, _n in segments),
            r.get("dot_voters", 0),
            r["dots"],
            r["dot_share"],
        )

    def rows():
        everyone = _("All")
        for r in ctx.results.get("gaps", []):
            yield row(everyone, r)
        for key, results in ctx.results.get("by_group", {}).items():
            for r in results:
                yield row(ctx.group_names.get(key, key), r)

    return ExportTable(
        key=f"activity_{ctx.activity_id}",
        title=ctx.label,
        description=_(
            "Results of %(activity)s as shown: one row per gap, for the whole room and each stakeholder group; "
            "a figure resting on fewer than %(k)s answers is empty.",
            activity=ctx.label,
            k=ctx.view.min_group_size,
        ),
        columns=columns,
        rows=rows,
        open_data=True,
    )


def import_rows(session, activity_id: int, rows: list[dict], ids: dict) -> None:
    """Stored answers from another installation's export (``raw_rows``' columns)."""
    people, gaps, segments = ids["participant"], ids["gap"], ids["segment"]
    for row in rows:
        common = {
            "activity_id": activity_id,
            "participant_id": people[row["participant_id"]],
            "gap_id": gaps[row["gap_id"]],
            "seq": row.get("seq"),
            "updated_at": row["updated_at"],
        }
        if row["question"] == "dots":
            session.add(DotVote(dots=int(row["value"]), **common))
        else:
            chosen = [segments[s] for s in row.get("segments") or []]
            session.add(GapAnswer(question=row["question"], value=row.get("value"), segments=chosen, **common))
