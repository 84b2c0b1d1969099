"""Action-line rankings across a chain: the summary kept per workshop (``refresh``) and
what the chain's results read of it (``section``, ``history``). The counting is
``chain.py``'s. Answers of the pairwise mode are not pooled (only ballots)."""

from __future__ import annotations

import json
from collections import defaultdict

from sqlalchemy import delete, insert, select
from sqlmodel import Session, col

from server.activities.chain_rules import GROUP, ChainScope
from server.activities.ranking import chain as rank_chain
from server.models import ActionLine, ActivityItem, ChainRankCell, Participant, RankingBallot

INSERT_BATCH = 5000


def refresh(session: Session, workshop_id: int, activity_ids: list[int]) -> int:
    """Replace the workshop's summary by the count of ``activity_ids``' ballots; the rows written."""
    session.execute(delete(ChainRankCell).where(col(ChainRankCell.workshop_id) == workshop_id))
    if not activity_ids:
        return 0
    offered: dict[int, list[int]] = defaultdict(list)
    items = session.execute(
        select(ActivityItem.activity_id, ActivityItem.action_line_id)
        .where(col(ActivityItem.activity_id).in_(activity_ids), col(ActivityItem.action_line_id).is_not(None))
        .order_by(ActivityItem.activity_id, ActivityItem.position)
    )
    for activity, line in items:
        offered[activity].append(line)
    p = Participant
    ballots = session.execute(
        select(
            RankingBallot.participant_id,
            p.stakeholder_group_id,
            p.segment_id,
            RankingBallot.activity_id,
            RankingBallot.ranking,
        )
        .join(p, col(p.id) == RankingBallot.participant_id)
        .where(col(RankingBallot.activity_id).in_(activity_ids))
    )
    summary = rank_chain.summarize(
        (workshop_id, pid, group, segment, activity, tuple(offered[activity]), tuple(ranking or ()))
        for pid, group, segment, activity, ranking in ballots
    )
    rows = [
        {"dim": d, "workshop_id": w, "part": part, "data": json.dumps(data, separators=(",", ":"))}
        for (d, w, part), data in summary.items()
    ]
    for start in range(0, len(rows), INSERT_BATCH):
        session.execute(insert(ChainRankCell), rows[start : start + INSERT_BATCH])
    return len(rows)


def _folded(session: Session, scope: ChainScope) -> rank_chain.Folded:
    if not scope.workshops:
        return rank_chain.Folded()
    c = ChainRankCell
    query = select(c.workshop_id, c.part, c.data).where(
        c.dim == scope.dim(), col(c.workshop_id).in_(scope.workshop_ids)
    )
    return rank_chain.fold([(w, p, json.loads(d)) for w, p, d in session.execute(query)], scope.ks, scope.cut)


def _lines(session: Session, chain_id: int) -> list[ActionLine]:
    query = select(ActionLine).where(ActionLine.value_chain_id == chain_id)
    return list(session.scalars(query.order_by(ActionLine.position, ActionLine.id)))


def section(session: Session, scope: ChainScope) -> dict:
    """The action lines' part of the chain's results (docs/api.md)."""
    folded = _folded(session, scope)
    offered = set(folded.overall.items) | {i for room in folded.parts.values() for i in room.items}
    lines = [line for line in _lines(session, scope.chain_id) if line.id in offered]
    order = [line.id for line in lines]
    chain_lines, voted = rank_chain.chain_lines(folded, order)
    by_part = {
        str(part): [
            {"item": p.item, "rank": p.rank, "tied": p.tied, "top_share": room.top_share(p.item)}
            for p in rank_chain.pooled(room, order)
        ]
        for part, room in sorted(folded.parts.items())
    }
    common = rank_chain.common_ground(folded.parts) if scope.dim() == GROUP else []
    return {
        "dim": scope.dim(),
        "items": [{"id": line.id, "title": line.title, "archived": line.archived} for line in lines],
        "ballots": folded.overall.ballots,
        "voters": folded.voters,
        "workshops_voting": voted,
        "top": rank_chain.TOP,
        "lines": [
            {
                "item": x.item,
                "pooled_rank": x.pooled_rank,
                "pooled_tied": x.pooled_tied,
                "workshop_rank": x.workshop_rank,
                "workshop_tied": x.workshop_tied,
                "top_share": x.top_share,
                "offered": x.offered,
                "differs": x.differs,
            }
            for x in chain_lines
        ],
        "by_part": by_part,
        "common_ground": [{"item": i, "lowest_share": share, "groups": n} for i, share, n in common],
    }


def history(session: Session, scope: ChainScope, line_id: int) -> dict | None:
    """One action line workshop by workshop, in date order: its place in the workshop's
    own order (Schulze over its ballots in the cut) and its share in the first three."""
    line = session.get(ActionLine, line_id)
    if line is None or line.value_chain_id != scope.chain_id:
        return None
    folded = _folded(session, scope)
    points = []
    for w in scope.workshops:
        room = folded.workshops.get(w.id)
        if room is None or not room.offered[line_id]:
            continue
        place = next(p for p in rank_chain.pooled(room) if p.item == line_id)
        points.append(
            {
                "workshop": w.id,
                "title": w.title,
                "date": w.date.isoformat(),
                "rank": place.rank,
                "tied": place.tied,
                "lines": len(room.items),
                "ballots": room.ballots,
                "top_share": room.top_share(line_id),
            }
        )
    overall = {p.item: p for p in rank_chain.pooled(folded.overall)}.get(line_id)
    return {
        "item": {"id": line.id, "title": line.title},
        "points": points,
        "overall": None
        if overall is None
        else {
            "rank": overall.rank,
            "tied": overall.tied,
            "lines": len(folded.overall.items),
            "top_share": folded.overall.top_share(line_id),
        },
    }
