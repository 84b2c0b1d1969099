"""Results of an activity as plain data: the JSON endpoint and, later, the exports.

The kind's own figures come from its ``ActivityType.results`` (the only source); this
adds what every activity has: the activity, its workshop, its items, its respondents.
"""

from __future__ import annotations

from server.workshops.screens import LiveView


def activity_results(view: LiveView, tally) -> dict:
    """Everything the results screens show, for the activity of ``view`` (a kind that runs live)."""
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
    out.update(view.kind.results(view, tally))
    return out
