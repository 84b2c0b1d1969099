"""The catalogue of activity types an agenda can hold, with their settings: each kind's
description comes from its package (``<kind>/spec.py``); roadmap editing is listed before
it can run live. The agenda (workshops/service.py, routes.py) reads this pure catalogue;
everything live goes through ``activities.registry``. Pure: no I/O, no framework.
"""

from __future__ import annotations

from server.activities.gaps.spec import GAP_RATING
from server.activities.ranking.spec import RANKING
from server.activities.roadmap.spec import ROADMAP
from server.activities.settings import ACTION_LINES, GAPS, ActivityKind, Choice, Setting

__all__ = ["ACTION_LINES", "GAPS", "GAP_RATING", "KINDS", "RANKING", "ROADMAP", "ActivityKind", "Choice", "Setting"]

KINDS: dict[str, ActivityKind] = {k.key: k for k in (GAP_RATING, RANKING, ROADMAP)}


def kind(key: str) -> ActivityKind | None:
    return KINDS.get(key)
