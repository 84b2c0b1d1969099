"""The ranking's tables in the exports: its results as the results page shows them (every
method, and the mean place per stakeholder group), and the "Action lines" table shared by
every ranking of the export, with every method side by side.

Reads only ``ExportContext``: the results (nothing resting on fewer than k answers).
"""

from __future__ import annotations

from server.activities.ranking.explain import METHODS
from server.activities.tables import INTEGER, NUMBER, STRING, Column, ExportContext, ExportTable
from server.models import PairwiseAnswer, RankingBallot


def _method_columns(_) -> list[Column]:
    columns = []
    for name, (label, explanation) in METHODS.items():
        columns.append(Column(f"{name}_rank", INTEGER, _("Place by %(method)s (1 is first).", method=_(label))))
        columns.append(Column(f"{name}_score", NUMBER, f"{_(label)}: {_(explanation)}"))
    return columns


def _by_item(results: dict) -> dict[str, dict[int, dict]]:
    methods = results.get("ranking", {}).get("methods", {})
    return {name: {p["item"]: p for p in m["placements"]} for name, m in methods.items()}


def _method_cells(placed: dict[str, dict[int, dict]], item: int) -> list:
    cells = []
    for name in METHODS:
        p = placed.get(name, {}).get(item)
        # mean rank is kept negated (higher is better, as for every method): shown as the place
        score = None if p is None else (-p["score"] if name == "mean_rank" else p["score"])
        cells += [p["rank"], score] if p else [None, None]
    return cells


def results_table(ctx: ExportContext) -> ExportTable:
    _ = ctx.gettext
    ranking = ctx.results.get("ranking", {})
    columns = [
        Column("group", STRING, _("Stakeholder group; “All” for the whole room.")),
        Column("line_id", INTEGER, _("The action line's id in the chain's library.")),
        Column("line", STRING, _("The action line.")),
        Column("mean_place", NUMBER, _("Mean place given by the group (lower is better).")),
        *_method_columns(_),
        Column("stability_top_k", NUMBER, _("Share of resamples of the ballots keeping the line in the top k.")),
    ]

    def rows():
        placed = _by_item(ctx.results)
        stability = ranking.get("stability_top_k", {})
        mean = placed.get("mean_rank", {})
        for item, title in ctx.item_titles.items():
            shown = mean.get(item)
            yield (
                _("All"),
                item,
                title,
                -shown["score"] if shown else None,
                *_method_cells(placed, item),
                stability.get(str(item)),
            )
        for key, ranks in ranking.get("by_group", {}).items():
            for item, title in ctx.item_titles.items():
                yield (
                    ctx.group_names.get(key, key),
                    item,
                    title,
                    ranks.get(str(item)),
                    *([None] * 2 * len(METHODS)),
                    None,
                )

    headline = ranking.get("headline", "schulze")
    label = METHODS.get(headline, ("", ""))[0]
    return ExportTable(
        key=f"activity_{ctx.activity_id}",
        title=ctx.label,
        description=_(
            "Results of %(activity)s as shown: every method for the whole room (headline: %(method)s; "
            "agreement, Kendall's W: %(w)s), and the mean place per stakeholder group; a figure resting on "
            "fewer than %(k)s ballots is empty.",
            activity=ctx.label,
            method=_(label) if label else headline,
            w="–" if ranking.get("kendall_w") is None else f"{ranking['kendall_w']:.2f}",
            k=ctx.view.min_group_size,
        ),
        columns=columns,
        rows=rows,
        open_data=True,
    )


def action_lines_table(ctx: ExportContext) -> ExportTable:
    """One row per action line of each ranking: every method side by side (shared by the
    rankings of the export: key ``action_lines``)."""
    _ = ctx.gettext
    columns = [
        Column("workshop_id", INTEGER, _("The workshop.")),
        Column("activity_id", INTEGER, _("The ranking activity.")),
        Column("activity", STRING, _("The ranking activity.")),
        Column("line_id", INTEGER, _("The action line's id in the chain's library.")),
        Column("line", STRING, _("The action line.")),
        Column("headline_method", STRING, _("The method the facilitator showed first.")),
        *_method_columns(_),
    ]
    ranking = ctx.results.get("ranking", {})
    headline = _(METHODS.get(ranking.get("headline", ""), ("",))[0]) if ranking.get("headline") in METHODS else ""

    def rows():
        placed = _by_item(ctx.results)
        for item, title in ctx.item_titles.items():
            yield (ctx.workshop_id, ctx.activity_id, ctx.label, item, title, headline, *_method_cells(placed, item))

    return ExportTable(
        key="action_lines",
        title=_("Action lines"),
        description=_("Every ranked action line, one row per line and ranking, with every method side by side."),
        columns=columns,
        rows=rows,
        open_data=True,
    )


def import_rows(session, activity_id: int, rows: list[dict], ids: dict) -> None:
    """Stored answers from another installation's export (``raw_rows``' columns)."""
    people, lines = ids["participant"], ids["action_line"]
    for row in rows:
        common = {
            "activity_id": activity_id,
            "participant_id": people[row["participant_id"]],
            "seq": row.get("seq"),
            "updated_at": row["updated_at"],
        }
        if row["answer"] == "ballot":
            session.add(RankingBallot(ranking=[lines[i] for i in row["ranking"]], **common))
        else:
            a, b = sorted((lines[row["item_a"]], lines[row["item_b"]]))
            choice = row["choice"]
            if (lines[row["item_a"]], lines[row["item_b"]]) != (a, b) and choice in ("a", "b"):
                choice = "b" if choice == "a" else "a"  # the pair is stored smaller id first
            session.add(PairwiseAnswer(item_a=a, item_b=b, choice=choice, **common))
