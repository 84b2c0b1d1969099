"""Results of an activity as plain data: the JSON endpoint and, later, the exports."""

from __future__ import annotations

from dataclasses import asdict

from server.activities.ranking.explain import METHODS
from server.activities.ranking.tally import stability
from server.workshops.screens import LiveView


def activity_results(view: LiveView, tally) -> dict:
    """Everything the results screens show, for the activity of ``view``."""
    activity = view.activity
    out = {
        "activity": {
            "id": activity.id,
            "kind": activity.kind,
            "title": activity.title,
            "status": activity.status.value,
            "settings": activity.settings,
        },
        "workshop": {"id": view.workshop.id, "title": view.workshop.title},
        "respondents": view.answered,
        "items": [{"id": item.id, "title": item.title} for item in view.gaps],
        "min_group_size": view.min_group_size,
    }
    if activity.kind == "ranking":
        # computed once per set of ballots; nothing below the minimum
        robust = stability(tally, view.k, closed=True, min_answers=view.min_group_size)
        out["ranking"] = {
            "headline": view.headline,
            "methods": {
                name: {
                    "label": METHODS[name][0],
                    "explanation": METHODS[name][1],
                    "placements": [asdict(p) for p in placements],
                }
                for name, placements in view.ranking.items()
            },
            "kendall_w": view.agreement,
            "bradley_terry_hidden": view.hidden_lines,
            "k": view.k,
            "stability_top_k": {str(item): share for item, share in robust.items()},
            "borda_partial_rule": "With n lines, place p earns n - p points; lines left out share the points of the places left.",
            "by_group": {
                view.groups[g].key: {str(item): rank for item, rank in ranks.items()}
                for g, ranks in view.group_ranks.items()
                if g in view.groups
            },
            "public_private_gaps": [[item, diff] for item, diff in view.rank_gaps],
        }
    else:
        out["gaps"] = [asdict(r) for r in view.results]
        out["by_group"] = {
            view.groups[g].key: [asdict(r) for r in results]
            for g, results in view.group_results.items()
            if g in view.groups
        }
        out["public_private_disagreement"] = [[gap, diff] for gap, diff in view.disagreement]
    return out
