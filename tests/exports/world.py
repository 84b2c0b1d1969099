"""A chain with two workshops whose activities have stored answers, for the export tests.

Answers are put in the tables directly (the export counts them afresh from the stored
rows, as a recount does): ``ratings`` seriousness and relevance answers per gap,
``dots``, full ranking ballots, and a few pairwise answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlmodel import Session, select

from server.models import (
    Activity,
    DotVote,
    GapAnswer,
    PairwiseAnswer,
    Participant,
    RankingBallot,
    StakeholderGroup,
    ValueChain,
    Workshop,
)
from server.valuechains.library import ACTION_LINES, GAPS, items_of
from server.valuechains.service import segments_of
from server.workshops.service import activity_items, agenda_of, apply_template
from tests import factories


@dataclass
class ExportWorld:
    chain: ValueChain
    workshop: Workshop
    other: Workshop  # a second workshop of the chain
    foreign: Workshop  # a workshop of another facilitator's chain
    agenda: list[Activity] = field(default_factory=list)
    participants: list[Participant] = field(default_factory=list)


def _join(db: Session, workshop: Workshop, n: int, name: str, groups, segments) -> list[Participant]:
    people = []
    for i in range(n):
        p = Participant(
            workshop_id=workshop.id,
            token_hash=f"{workshop.id}-{name}-{i}".ljust(64, "x")[:64],
            name=f"{name} {i}",
            organization=f"Org {i % 3}",
            stakeholder_group_id=groups[i % len(groups)].id,
            segment_id=segments[i % len(segments)].id,
        )
        db.add(p)
        people.append(p)
    db.flush()
    return people


def answer(db: Session, activity: Activity, people: list[Participant], rng: random.Random) -> None:
    items = [i.id for i in activity_items(db, activity)]
    if activity.kind == "gap_rating":
        for p in people:
            for g in items:
                if activity.settings.get("mode") == "dots":
                    db.add(DotVote(activity_id=activity.id, participant_id=p.id, gap_id=g, dots=rng.randint(0, 3)))
                    continue
                db.add(
                    GapAnswer(
                        activity_id=activity.id,
                        participant_id=p.id,
                        gap_id=g,
                        question="seriousness",
                        value=rng.randint(1, 5),
                    )
                )
                db.add(
                    GapAnswer(
                        activity_id=activity.id,
                        participant_id=p.id,
                        gap_id=g,
                        question="specialization",
                        value=rng.randint(0, 3),
                    )
                )
                db.add(
                    GapAnswer(activity_id=activity.id, participant_id=p.id, gap_id=g, question="segments", segments=[])
                )
    elif activity.kind == "ranking":
        pairwise = activity.settings.get("mode") == "pairwise"
        for p in people:
            order = items[:]
            rng.shuffle(order)
            if not pairwise:
                db.add(RankingBallot(activity_id=activity.id, participant_id=p.id, ranking=order))
                continue
            for x, y in ((0, 1), (1, 2), (0, 2)):
                a, b = sorted((order[x], order[y]))
                choice = rng.choice(("a", "b", "tie"))
                db.add(PairwiseAnswer(activity_id=activity.id, participant_id=p.id, item_a=a, item_b=b, choice=choice))


def build(db: Session, users, n: int = 12, seed: int = 1, title: str = "Taller de Cusco") -> ExportWorld:
    if db.exec(select(StakeholderGroup)).first() is None:
        factories.reference_lists(db)
    chain = factories.chain(db, users.a)
    workshop = factories.workshop(db, users.a, chain, template="diagnosis", title=title)
    apply_template(db, chain, workshop, "prioritization")
    other = factories.workshop(db, users.a, chain, template="prioritization", title="Taller de Puno")
    foreign_chain = factories.chain(db, users.b, name="Quinua")
    foreign = factories.workshop(db, users.b, foreign_chain, template="diagnosis", title="Taller ajeno")
    groups = list(db.exec(select(StakeholderGroup).order_by(StakeholderGroup.position)))
    segments = segments_of(db, chain)
    rng = random.Random(seed)
    people = _join(db, workshop, n, "Persona", groups, segments)
    others = _join(db, other, 6, "Otra", groups, segments)
    strangers = _join(db, foreign, 6, "Extraña", groups, segments_of(db, foreign_chain))
    agenda = agenda_of(db, workshop)
    for activity in agenda:
        answer(db, activity, people, rng)
    for activity in agenda_of(db, other):
        if activity.kind == "ranking":  # the second workshop compares lines two by two
            activity.settings = {**activity.settings, "mode": "pairwise"}
            db.add(activity)
        answer(db, activity, others, rng)
    for activity in agenda_of(db, foreign):
        answer(db, activity, strangers, rng)
    db.commit()
    assert items_of(db, chain, GAPS) and items_of(db, chain, ACTION_LINES)
    return ExportWorld(chain, workshop, other, foreign, agenda, people)
