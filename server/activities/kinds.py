"""The catalogue of activity types an agenda can hold, with their settings: each live
kind's description comes from its package (``<kind>/spec.py``); roadmap editing is listed
before it can run live. The agenda (workshops/service.py, routes.py) reads this pure
catalogue; everything live goes through ``activities.registry``. Pure: no I/O, no framework.
"""

from __future__ import annotations

from server.activities.gaps.spec import GAP_RATING
from server.activities.ranking.spec import RANKING
from server.activities.settings import ACTION_LINES, GAPS, ActivityKind, Choice, Setting
from server.i18n import N_

__all__ = ["ACTION_LINES", "GAPS", "GAP_RATING", "KINDS", "RANKING", "ROADMAP", "ActivityKind", "Choice", "Setting"]

ROADMAP = ActivityKind(
    key="roadmap",
    label=N_("Roadmap editing"),
    description=N_("The room turns action lines into roadmap items: who does what, when, with which money."),
    library=ACTION_LINES,
)

KINDS: dict[str, ActivityKind] = {k.key: k for k in (GAP_RATING, RANKING, ROADMAP)}


def kind(key: str) -> ActivityKind | None:
    return KINDS.get(key)
