"""Roadmap editing as the agenda sees it: its label, its library (action lines, from which
new items are made) and its settings. Pure: no I/O, no framework.

Settings:

* ``bring``: which items the activity works on: the chain's open items (not done, not
  dropped) and new items made from action lines (``open_and_lines``, the default), only
  the open items (``open``), or only items from action lines (``lines``).
* ``lines_from``: which action lines: by default the top ``top`` lines of a ranking
  activity of the same workshop, in its headline order (``ranking``; when the workshop has
  none, or no ballot yet, the lines chosen for this activity); or the lines chosen for
  this activity, in the agenda's order (``chosen``).
* ``top``: how many of the ranking's lines (1-50).
* ``edit_mode``: participants edit directly (``direct``), or suggest and the facilitator
  accepts (``suggest``).
* ``locked``: the whole activity is locked (participants change nothing); the
  facilitator sets it from the console while it runs.
"""

from __future__ import annotations

from server.activities.settings import ACTION_LINES, ActivityKind, Choice, Setting
from server.i18n import N_

RANKING_KEY = "ranking"  # the ranking kind's key (its spec is not imported: kinds stay apart)


def items_needed(settings: dict, agenda: frozenset[str]) -> str:
    """No action line need be chosen on the agenda when the activity brings the chain's open
    items, or takes its lines from a ranking of the same workshop; else the message."""
    if settings.get("bring") in ("open_and_lines", "open"):
        return ""
    if settings.get("lines_from") == "ranking":
        if RANKING_KEY in agenda:
            return ""
        return N_(
            "This workshop has no ranking activity: choose at least one action line, or bring the chain's open items."
        )
    return N_("Choose at least one action line, or bring the chain's open items.")


ROADMAP = ActivityKind(
    key="roadmap",
    label=N_("Roadmap editing"),
    description=N_("The room turns action lines into roadmap items: who does what, when, with which money."),
    library=ACTION_LINES,
    settings=(
        Setting(
            "bring",
            N_("Items to work on"),
            "choice",
            "open_and_lines",
            choices=(
                Choice("open_and_lines", N_("The chain's open items and new items from action lines")),
                Choice("open", N_("Only the chain's open items")),
                Choice("lines", N_("Only new items from action lines")),
            ),
        ),
        Setting(
            "lines_from",
            N_("Action lines"),
            "choice",
            "ranking",
            choices=(
                Choice("ranking", N_("The top lines of this workshop's ranking, in its order")),
                Choice("chosen", N_("The lines chosen below")),
            ),
        ),
        Setting("top", N_("How many of the ranking's top lines"), "int", 5, minimum=1, maximum=50),
        Setting(
            "edit_mode",
            N_("Who edits"),
            "choice",
            "direct",
            choices=(
                Choice("direct", N_("Participants edit directly")),
                Choice("suggest", N_("Participants suggest, the facilitator accepts")),
            ),
        ),
        Setting("locked", N_("Locked (participants change nothing)"), "bool", False),
    ),
    live=True,
    items_needed=items_needed,
    items_hint=N_(
        "Optional when the activity brings the chain's open items or takes the top lines of this workshop's ranking."
    ),
)
