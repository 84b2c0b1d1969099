"""The roadmap across a chain: the chain's items and commitments read as they stand
(``section``); the counting is ``chain.py``'s. No summary is kept: the roadmap is the
chain's (not a closed activity's answers), a few hundred rows, read at each view."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select, union
from sqlmodel import Session, col

from server.activities.chain_rules import ChainScope
from server.activities.roadmap import chain as rm_chain
from server.models import (
    Activity,
    Participant,
    RoadmapActivityItem,
    RoadmapCommitment,
    RoadmapItem,
    RoadmapRevision,
    RoadmapWithdrawal,
    Workshop,
)


def items(session: Session, chain_id: int) -> list[rm_chain.Item]:
    rows = session.execute(
        select(RoadmapItem.id, RoadmapItem.title, RoadmapItem.status, RoadmapItem.horizon, RoadmapItem.position)
        .where(RoadmapItem.value_chain_id == chain_id)
        .order_by(RoadmapItem.position, RoadmapItem.id)
    ).all()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    brought = (
        select(RoadmapActivityItem.item_id, Activity.workshop_id)
        .join(Activity, col(Activity.id) == RoadmapActivityItem.activity_id)
        .where(col(RoadmapActivityItem.item_id).in_(ids))
    )
    changed = select(RoadmapRevision.item_id, RoadmapRevision.workshop_id).where(
        col(RoadmapRevision.item_id).in_(ids), col(RoadmapRevision.workshop_id).is_not(None)
    )
    touched: dict[int, set[int]] = defaultdict(set)
    for item_id, workshop_id in session.execute(union(brought, changed)):
        touched[item_id].add(workshop_id)
    return [
        rm_chain.Item(i, title, status, horizon, position, frozenset(touched.get(i, ())))
        for i, title, status, horizon, position in rows
    ]


def commitments(session: Session, chain_id: int) -> list[rm_chain.Commitment]:
    c, p = RoadmapCommitment, Participant
    rows = session.execute(
        select(
            c.id,
            c.item_id,
            c.organization,
            c.role,
            Activity.workshop_id,
            c.participant_id,
            p.stakeholder_group_id,
            p.segment_id,
            c.user_id,
            RoadmapWithdrawal.commitment_id,
        )
        .join(RoadmapItem, col(RoadmapItem.id) == c.item_id)
        .outerjoin(Activity, col(Activity.id) == c.activity_id)
        .outerjoin(p, col(p.id) == c.participant_id)
        .outerjoin(RoadmapWithdrawal, col(RoadmapWithdrawal.commitment_id) == c.id)
        .where(RoadmapItem.value_chain_id == chain_id)
        .order_by(c.id)
    )
    return [
        rm_chain.Commitment(
            cid, item, org, role, workshop, participant, group, segment, user is not None, withdrawal is not None
        )
        for cid, item, org, role, workshop, participant, group, segment, user, withdrawal in rows
    ]


def view_of(session: Session, scope: ChainScope) -> rm_chain.View:
    every = set(session.execute(select(Workshop.id).where(Workshop.value_chain_id == scope.chain_id)).scalars())
    return rm_chain.View(scope.ks, whole=every <= set(scope.workshop_ids), cut=scope.cut, k=scope.k)


def section(session: Session, scope: ChainScope) -> dict | None:
    """The roadmap's part of the chain's results (docs/api.md); None: the chain has no roadmap."""
    found = items(session, scope.chain_id)
    if not found:
        return None
    view = view_of(session, scope)
    return {**rm_chain.aggregate(found, commitments(session, scope.chain_id), view), "whole": view.whole}
