"""Gap rating as the agenda sees it: its label, its library (gaps) and its settings.
Pure: no I/O, no framework."""

from __future__ import annotations

from server.activities.gaps.tally import ELEMENTS
from server.activities.settings import GAPS, ActivityKind, Choice, Setting
from server.i18n import N_, Message

# The questions a rating may ask on each gap, besides how serious it is (always asked):
# the facilitator chooses them per activity, fewer making a long list quicker on a phone.
QUESTIONS = N_("Questions on each gap besides how serious it is")
QUESTION_LABELS = {
    "specialization": N_("Relevance to specialization"),
    "diversification": N_("Relevance to diversification"),
    "global_context": N_("Relevance to the global context"),
    "segments": N_("Which segments of the chain it hits"),
}


def _dots_within_budget(clean: dict, errors: dict) -> None:
    if clean["dot_max_per_item"] > clean["dot_budget"]:
        errors["dot_max_per_item"] = Message(N_("The maximum per gap cannot exceed the budget."))


def _upgrade(stored: dict) -> dict:
    """Settings stored before each relevance question had its own switch: one switch,
    ``ask_relevance``, asked all three or none."""
    if "ask_relevance" not in stored:
        return stored
    settings = {k: v for k, v in stored.items() if k != "ask_relevance"}
    for element in ELEMENTS:
        settings.setdefault(f"ask_{element}", bool(stored["ask_relevance"]))
    return settings


def asked(settings: dict) -> tuple[str, ...]:
    """The questions a rating activity with these (stored) settings asks on each gap, in
    the phone's order: how serious (always), the relevance asked, then the segments."""
    current = GAP_RATING.stored(settings)
    return ("seriousness", *(q for q in (*ELEMENTS, "segments") if current.get(f"ask_{q}")))


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
        *(Setting(f"ask_{q}", label, "bool", True, group=QUESTIONS) for q, label in QUESTION_LABELS.items()),
        Setting("dot_budget", N_("Dots per participant"), "int", 10, minimum=1, maximum=100),
        Setting("dot_max_per_item", N_("Most dots on one gap"), "int", 3, minimum=1, maximum=100),
    ),
    check=_dots_within_budget,
    live=True,
    upgrade=_upgrade,
)
