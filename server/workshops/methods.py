"""Method templates: a workshop's agenda pre-filled with the chain's library items.

Pure data: each template lists the activities to create (kind, title msgid, settings).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.i18n import N_


@dataclass(frozen=True)
class Step:
    kind: str
    title: str  # msgid, translated into the workshop's language
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MethodTemplate:
    key: str
    label: str  # msgid
    description: str  # msgid
    steps: tuple[Step, ...]


TEMPLATES: dict[str, MethodTemplate] = {
    t.key: t
    for t in (
        MethodTemplate(
            "diagnosis",
            N_("Diagnosis"),
            N_("Rate the competitive gaps: how serious, how relevant, which segments they hit."),
            (
                Step(
                    "gap_rating",
                    N_("How serious is each gap?"),
                    {"mode": "rating"},  # every question: the kind's defaults,
                ),
            ),
        ),
        MethodTemplate(
            "prioritization",
            N_("Prioritization"),
            N_("Spread dots over the gaps, then rank the action lines."),
            (
                Step(
                    "gap_rating",
                    N_("Which gaps matter most? (dot voting)"),
                    {"mode": "dots"},
                ),
                Step("ranking", N_("Rank the action lines"), {"mode": "full"}),
            ),
        ),
        MethodTemplate(
            "roadmap",
            N_("Roadmap"),
            N_("Pick the top action lines, then turn them into a roadmap with commitments."),
            (
                Step("ranking", N_("Pick and order the top 3 action lines"), {"mode": "top_k", "k": 3}),
                Step("roadmap", N_("Build the roadmap")),
            ),
        ),
    )
}
