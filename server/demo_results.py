"""Past workshops of the demo's coffee chain, ended, with answers from several stakeholder
groups, so that the chain's results page (and the region view) is full for a new user.

Answers are drawn from a fixed seed per workshop, with a tendency per group (the public
sector rates the lack of connection to knowledge providers higher, producers the poverty
of primary producers...), and written in a few multi-row statements: ``minka demo`` stays
fast. Idempotent: a workshop found by its title is left as it is. Flushes; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import Counter

from sqlalchemy import insert
from sqlmodel import Session, select

from server.models import (
    Activity,
    ActivityItem,
    ActivityStatus,
    DotVote,
    Gap,
    GapAnswer,
    Participant,
    RankingBallot,
    Segment,
    StakeholderGroup,
    User,
    ValueChain,
    Workshop,
    WorkshopStatus,
)
from server.workshops.service import apply_template, do_create_workshop

LEVEL = {"low": 0, "medium": 1, "high": 2, "very_high": 3}

# (title, region, town, days before the demo is loaded, participants, the action lines
# (by place in the library) the room leans to): the two small rooms lean alike, the two
# large ones otherwise, so pooled ballots and one vote per workshop differ somewhere.
PAST: tuple[tuple[str, str, str, int, int, dict[int, float]], ...] = (
    ("Diagnóstico participativo — Quillabamba", "Cusco", "Quillabamba", 150, 22, {4: 4.0, 5: 3.0}),
    ("Diagnóstico y priorización — Juliaca", "Puno", "Juliaca", 120, 48, {1: 2.5, 2: 2.0}),
    ("Priorización de líneas — Cusco", "Cusco", "Cusco", 75, 44, {1: 2.0, 3: 1.5}),
    ("Priorización de líneas — Sandia", "Puno", "Sandia", 40, 24, {4: 4.0, 5: 3.0}),
)
# Share of each stakeholder group in a room.
GROUP_WEIGHTS = {"public": 3, "private": 5, "academia": 2, "civil": 2}
# Extra seriousness by group and gap key (the rest is the gap's own level and noise).
GROUP_TILT = {
    "public": {"connection": 1.0, "leadership": 0.8, "information": 0.5},
    "private": {"modernization": 0.9, "bottlenecks": 0.8, "producers": 0.6},
    "academia": {"connection": 1.2, "training": 0.9, "culture": 0.5},
    "civil": {"producers": 1.2, "cooperatives": 0.8, "leadership": 0.4},
}
GAP_BASE = {
    "connection": 3.6,
    "cooperatives": 3.4,
    "bottlenecks": 3.3,
    "modernization": 3.7,
    "training": 3.9,
    "culture": 2.9,
    "information": 3.2,
    "leadership": 2.8,
    "producers": 4.1,
}


def seed_past_workshops(
    session: Session, user: User, chain: ValueChain, method: dict, today: dt.date, created: Counter
) -> None:
    relevance = {g["key"]: g["relevance"] for g in method["gaps"]}
    groups = {g.key: g.id for g in session.exec(select(StakeholderGroup))}
    segments = [
        s.id for s in session.exec(select(Segment).where(Segment.value_chain_id == chain.id).order_by(Segment.position))
    ]
    for title, region, town, days_ago, people, lean in PAST:
        if session.exec(
            select(Workshop.id).where(Workshop.value_chain_id == chain.id, Workshop.title == title)
        ).first():
            continue
        data = {
            "title": title,
            "region": region,
            "town": town,
            "date": (today - dt.timedelta(days=days_ago)).isoformat(),
            "language": "es",
            "attendance": "full",
            "template": "diagnosis",
        }
        workshop = do_create_workshop(session, user, chain, data)
        apply_template(session, chain, workshop, "prioritization")
        created["workshops"] += 1
        _answer(session, workshop, groups, segments, relevance, people, lean, random.Random(title))
        created["participants"] += people


def _answer(session, workshop, groups, segments, relevance, people, lean, rng: random.Random) -> None:
    activities = list(
        session.exec(select(Activity).where(Activity.workshop_id == workshop.id).order_by(Activity.position))
    )
    # Groups in proportion to their weights (a room of 24: 10 private, 6 public, 4 and 4).
    cycle = [k for k in GROUP_WEIGHTS if k in groups for _ in range(GROUP_WEIGHTS[k])]
    participants = []
    for i in range(people):
        key = cycle[(i * 5) % len(cycle)] if cycle else None
        token = hashlib.sha256(f"demo-{workshop.id}-{i}".encode()).hexdigest()
        participants.append(
            Participant(
                workshop_id=workshop.id,
                token_hash=token,
                name=f"Participante {i + 1}",
                stakeholder_group_id=groups.get(key),
                segment_id=rng.choice(segments) if segments else None,
            )
        )
    session.add_all(participants)
    session.flush()
    group_key = {v: k for k, v in groups.items()}
    gap_keys = {
        g.id: g.key or "" for g in session.exec(select(Gap).where(Gap.value_chain_id == workshop.value_chain_id))
    }
    answers, dots, ballots = [], [], []
    for activity in activities:
        items = list(
            session.exec(
                select(ActivityItem).where(ActivityItem.activity_id == activity.id).order_by(ActivityItem.position)
            )
        )
        for p in participants:
            tilt = GROUP_TILT.get(group_key.get(p.stakeholder_group_id, ""), {})
            if activity.kind == "gap_rating" and activity.settings.get("mode") == "dots":
                dots += _dots(activity, p, items, tilt, rng, gap_keys)
            elif activity.kind == "gap_rating":
                answers += _ratings(activity, p, items, tilt, relevance, segments, rng, gap_keys)
            elif activity.kind == "ranking":
                lines = [i.action_line_id for i in items]
                score = {line: -0.5 * n + lean.get(n, 0) + rng.gauss(0, 1.5) for n, line in enumerate(lines)}
                ballots.append(
                    {
                        "activity_id": activity.id,
                        "participant_id": p.id,
                        "ranking": sorted(lines, key=lambda x: -score[x]),
                    }
                )
    for model, rows in ((GapAnswer, answers), (DotVote, dots), (RankingBallot, ballots)):
        if rows:
            session.execute(insert(model), rows)
    now = dt.datetime.combine(workshop.date, dt.time(15, 0), tzinfo=dt.UTC)
    for n, activity in enumerate(activities):
        activity.status = ActivityStatus.closed
        activity.opened_at = now + dt.timedelta(minutes=40 * n)
        activity.closed_at = activity.opened_at + dt.timedelta(minutes=30)
        session.add(activity)
    workshop.status, workshop.join_code, workshop.joining_open = WorkshopStatus.ended, None, False
    session.add(workshop)
    session.flush()


def _ratings(activity, p, items, tilt, relevance, segments, rng, gap_keys) -> list[dict]:
    rows = []
    for item in items:
        key = gap_keys.get(item.gap_id, "")
        if rng.random() < 0.08:  # some skip a gap
            continue
        mean = GAP_BASE.get(key, 3.2) + tilt.get(key, 0)
        value = min(5, max(1, round(rng.gauss(mean, 0.9))))
        base = {"activity_id": activity.id, "participant_id": p.id, "gap_id": item.gap_id, "segments": []}
        rows.append({**base, "question": "seriousness", "value": value})
        if activity.settings.get("ask_relevance"):
            for element, level in relevance.get(key, {}).items():
                v = min(3, max(0, LEVEL.get(level, 1) + rng.choice((-1, 0, 0, 0, 1))))
                rows.append({**base, "question": element, "value": v})
        if activity.settings.get("ask_segments") and segments:
            hit = sorted(set(rng.sample(segments, k=rng.choice((1, 1, 2, 3)))))
            rows.append({**base, "question": "segments", "value": None, "segments": hit})
    return rows


def _dots(activity, p, items, tilt, rng, gap_keys) -> list[dict]:
    budget = int(activity.settings.get("dot_budget", 10))
    most = int(activity.settings.get("dot_max_per_item", 3))
    weight = {
        i.gap_id: GAP_BASE.get(gap_keys.get(i.gap_id, ""), 3) + tilt.get(gap_keys.get(i.gap_id, ""), 0) for i in items
    }
    spent: Counter = Counter()
    for _ in range(budget):
        open_gaps = [g for g in weight if spent[g] < most]
        if not open_gaps:
            break
        spent[rng.choices(open_gaps, [weight[g] ** 3 for g in open_gaps])[0]] += 1
    return [{"activity_id": activity.id, "participant_id": p.id, "gap_id": g, "dots": n} for g, n in spent.items()]
