"""Gap rating as the agenda sees it: its label, its library (gaps) and its settings.
Pure: no I/O, no framework."""

from __future__ import annotations

from server.activities.settings import GAPS, ActivityKind, Choice, Setting
from server.i18n import N_, Message


def _dots_within_budget(clean: dict, errors: dict) -> None:
    if clean["dot_max_per_item"] > clean["dot_budget"]:
        errors["dot_max_per_item"] = Message(N_("The maximum per gap cannot exceed the budget."))


GAP_RATING = ActivityKind(
    key="gap_rating",
    label=N_("Gap rating"),
    description=N_("Participants rate how serious each competitive gap is, or spread dots over them."),
    library=GAPS,
    settings=(
        Setting(
            "mode",
            N_("Mode"),
            "choice",
            "rating",
            choices=(
                Choice("rating", N_("Rate each gap (1 to 5)")),
                Choice("dots", N_("Dot voting")),
            ),
        ),
        Setting(
            "ask_relevance", N_("Ask relevance to specialization, diversification and the global context"), "bool", True
        ),
        Setting("ask_segments", N_("Ask which segments of the chain each gap hits"), "bool", True),
        Setting("dot_budget", N_("Dots per participant"), "int", 10, minimum=1, maximum=100),
        Setting("dot_max_per_item", N_("Most dots on one gap"), "int", 3, minimum=1, maximum=100),
    ),
    check=_dots_within_budget,
    live=True,
)
