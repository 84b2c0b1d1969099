"""Action-line ranking as the agenda sees it: its label, its library (action lines) and
its settings. Pure: no I/O, no framework."""

from __future__ import annotations

from server.activities.settings import ACTION_LINES, ActivityKind, Choice, Setting
from server.i18n import N_

RANKING = ActivityKind(
    key="ranking",
    label=N_("Action-line ranking"),
    description=N_("Participants put the action lines in order of priority."),
    library=ACTION_LINES,
    settings=(
        Setting(
            "mode",
            N_("Mode"),
            "choice",
            "full",
            choices=(
                Choice("full", N_("Rank all lines")),
                Choice("top_k", N_("Pick and order the top k")),
                Choice("pairwise", N_("Pairwise: which of two first?")),
            ),
        ),
        Setting("k", N_("k (for top k)"), "int", 3, minimum=1, maximum=50),
    ),
    live=True,
)
