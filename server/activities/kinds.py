"""The registry of activity types an agenda can hold.

Each type says which library items it draws (gaps or action lines), its settings with
their defaults, and how to validate them. Pure: no I/O, no framework.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.i18n import N_, Message

GAPS = "gaps"
ACTION_LINES = "action-lines"


@dataclass(frozen=True)
class Choice:
    key: str
    label: str  # msgid


@dataclass(frozen=True)
class Setting:
    key: str
    label: str  # msgid
    type: str  # "bool", "int" or "choice"
    default: object
    choices: tuple[Choice, ...] = ()
    minimum: int = 0
    maximum: int = 0
    hint: str = ""


@dataclass(frozen=True)
class ActivityKind:
    key: str
    label: str  # msgid
    description: str  # msgid
    library: str  # GAPS or ACTION_LINES
    settings: tuple[Setting, ...] = field(default_factory=tuple)

    def defaults(self) -> dict:
        return {s.key: s.default for s in self.settings}

    def check_settings(self, data: dict, errors: dict) -> dict:
        """Settings from a form (missing checkboxes are False); messages go in ``errors``."""
        clean: dict = {}
        for s in self.settings:
            raw = data.get(s.key)
            if s.type == "bool":
                clean[s.key] = raw not in (None, "", "0", "false", "off")
            elif s.type == "choice":
                value = str(raw or s.default)
                if value not in {c.key for c in s.choices}:
                    errors[s.key] = Message(N_("Choose one of the options."))
                clean[s.key] = value
            else:
                try:
                    value = int(str(raw).strip()) if raw not in (None, "") else int(s.default)
                except ValueError:
                    errors[s.key] = Message(N_("Enter a whole number."))
                    continue
                if not s.minimum <= value <= s.maximum:
                    errors[s.key] = Message(N_("Enter a number from %(min)s to %(max)s."), min=s.minimum, max=s.maximum)
                clean[s.key] = value
        if self.key == "gap_rating" and not errors and clean["dot_max_per_item"] > clean["dot_budget"]:
            errors["dot_max_per_item"] = Message(N_("The maximum per gap cannot exceed the budget."))
        return clean


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
)

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
)

ROADMAP = ActivityKind(
    key="roadmap",
    label=N_("Roadmap editing"),
    description=N_("The room turns action lines into roadmap items: who does what, when, with which money."),
    library=ACTION_LINES,
)

KINDS: dict[str, ActivityKind] = {k.key: k for k in (GAP_RATING, RANKING, ROADMAP)}


def kind(key: str) -> ActivityKind | None:
    return KINDS.get(key)
