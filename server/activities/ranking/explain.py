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

# The same methods in plain words, for the live screens (phones and console): a plain
# name and one short line. The methods' own names and full explanations (``METHODS``)
# stay on the facilitator's results page. ``%(k)s``: how many places count as the top.
PLAIN: dict[str, tuple[str, str]] = {
    "schulze": (
        N_("Wins head to head"),
        N_("Lines that more people put ahead of the others, pair by pair, come first."),
    ),
    "borda": (
        N_("Points by place"),
        N_("Each place earns points, the first the most; the most points come first."),
    ),
    "mean_rank": (
        N_("Average place"),
        N_("The average place each line got; the lowest comes first."),
    ),
    "top_k": (
        N_("Most often near the top"),
        N_("The share of people who put the line among their first %(k)s."),
    ),
    "bradley_terry": (
        N_("Chosen in pairs"),
        N_("From the “which first?” answers: how likely each line is to be chosen over another."),
    ),
}
