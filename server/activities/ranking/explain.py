"""Names and one-line explanations of the ranking methods, shown beside the results."""

from __future__ import annotations

from server.i18n import N_

METHODS: dict[str, tuple[str, str]] = {
    "schulze": (
        N_("Schulze"),
        N_(
            "Compares every pair of lines: a line beats another when more people prefer it, directly or "
            "through a chain of preferences. Lines no other line beats come first, together; then the same "
            "among the rest. A line that beats every other one head to head wins."
        ),
    ),
    "borda": (
        N_("Borda count"),
        N_(
            "Points by position: with n lines, first place gets n − 1 points, the last 0. "
            "Lines someone left out share the points of the places left."
        ),
    ),
    "mean_rank": (
        N_("Mean rank"),
        N_(
            "The average place each line got (lines left out share the places left). Lower is better. "
            "Always the same order as the Borda count: the same measure, in places instead of points."
        ),
    ),
    "top_k": (
        N_("Share in the top k"),
        N_("The share of participants who put the line among their first k."),
    ),
    "bradley_terry": (
        N_("Bradley–Terry"),
        N_("From the “which first?” answers: each line's estimated chance of being preferred to another."),
    ),
}
