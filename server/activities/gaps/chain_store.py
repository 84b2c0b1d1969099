"""Gap ratings across a chain: the summary kept per workshop (``refresh``) and what the
chain's results read of it (``section``, ``history``). The counting is ``chain.py``'s."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlmodel import Session, col

from server.activities.chain_rules import GROUP, ChainScope
from server.activities.gaps import chain as gap_chain
from server.models import ChainGapCell, DotVote, Gap, GapAnswer, Participant, Segment

INSERT_BATCH = 5000


def _answers(session: Session, workshop_id: int, activity_ids: list[int]) -> Iterable[gap_chain.Answer]:
    order = {a: i for i, a in enumerate(activity_ids)}
    p = Participant
    answers = session.execute(
        select(
            GapAnswer.participant_id,
            p.stakeholder_group_id,
            p.segment_id,
            GapAnswer.gap_id,
            GapAnswer.question,
            GapAnswer.value,
            GapAnswer.segments,
            GapAnswer.activity_id,
        )
        .join(p, col(p.id) == GapAnswer.participant_id)
        .where(col(GapAnswer.activity_id).in_(activity_ids))
    )
    for pid, group, segment, gap, q, value, segments, activity in answers:
        v = list(segments or []) if q == "segments" else value
        yield (workshop_id, pid, group, segment, gap, q, v, order[activity])
    dots = session.execute(
        select(
            DotVote.participant_id,
            p.stakeholder_group_id,
            p.segment_id,
            DotVote.gap_id,
            DotVote.dots,
            DotVote.activity_id,
        )
        .join(p, col(p.id) == DotVote.participant_id)
        .where(col(DotVote.activity_id).in_(activity_ids))
    )
    for pid, group, segment, gap, n, activity in dots:
        yield (workshop_id, pid, group, segment, gap, "dots", n, order[activity])


def refresh(session: Session, workshop_id: int, activity_ids: list[int]) -> int:
    """Replace the workshop's summary by the count of ``activity_ids``; the cells written."""
    session.execute(delete(ChainGapCell).where(col(ChainGapCell.workshop_id) == workshop_id))
    if not activity_ids:
        return 0
    summary = gap_chain.summarize(_answers(session, workshop_id, activity_ids))
    rows = [
        {"dim": d, "workshop_id": w, "part": p, "gap_id": g, "data": json.dumps([v, hits], separators=(",", ":"))}
        for (d, w, p, g), (v, hits) in summary.items()
    ]
    for start in range(0, len(rows), INSERT_BATCH):
        session.execute(insert(ChainGapCell), rows[start : start + INSERT_BATCH])
    return len(rows)


def _cells(session: Session, scope: ChainScope, gap_id: int | None = None) -> list[gap_chain.Cell]:
    if not scope.workshops:
        return []
    c = ChainGapCell
    query = select(c.workshop_id, c.part, c.gap_id, c.data).where(
        c.dim == scope.dim(), col(c.workshop_id).in_(scope.workshop_ids)
    )
    if gap_id is not None:
        query = query.where(c.gap_id == gap_id)
    out = []
    for w, p, g, data in session.execute(query):
        vector, hits = json.loads(data)
        out.append((w, p, g, vector, {int(s): n for s, n in hits.items()}))
    return out


def _gaps(session: Session, chain_id: int) -> list[Gap]:
    return list(session.scalars(select(Gap).where(Gap.value_chain_id == chain_id).order_by(Gap.position, Gap.id)))


def section(session: Session, scope: ChainScope) -> dict:
    """The gaps' part of the chain's results (docs/api.md)."""
    folded = gap_chain.fold(_cells(session, scope), scope.ks, scope.cut)
    asked = set(folded.respondents) | {g for counts in folded.part_respondents.values() for g in counts}
    gaps = [g for g in _gaps(session, scope.chain_id) if g.id in asked]
    order = [g.id for g in gaps]
    overall = gap_chain.chain_results(folded.overall, folded.respondents, order, scope.k)
    by_part = {
        part: gap_chain.chain_results(counts, folded.part_respondents.get(part, {}), order, scope.k)
        for part, counts in sorted(folded.parts.items())
    }
    common = []
    if scope.dim() == GROUP:
        common = gap_chain.common_ground({part: [r.result for r in rs] for part, rs in by_part.items()})
    segments = session.execute(
        select(Segment.id, Segment.name).where(Segment.value_chain_id == scope.chain_id).order_by(Segment.position)
    ).all()
    return {
        "dim": scope.dim(),
        "items": [{"id": g.id, "title": g.title, "archived": g.archived} for g in gaps],
        "segments": [{"id": s_id, "name": name} for s_id, name in segments],
        "gaps": [r.plain() for r in overall],
        "by_part": {str(part): [r.plain() for r in rs] for part, rs in by_part.items()},
        "common_ground": [{"gap": g, "lowest_share": share, "groups": n} for g, share, n in common],
        "serious_values": list(gap_chain.SERIOUS),
    }


def history(session: Session, scope: ChainScope, gap_id: int) -> dict | None:
    """One gap workshop by workshop, in date order: its figures where the workshop's own
    answers (in the cut) are enough to show them."""
    gap = session.get(Gap, gap_id)
    if gap is None or gap.value_chain_id != scope.chain_id:
        return None
    folded = gap_chain.fold(_cells(session, scope, gap_id), scope.ks, scope.cut)
    points = []
    for w in scope.workshops:
        if w.id not in folded.workshop_respondents and w.id not in folded.workshops:
            continue
        counts = folded.workshops.get(w.id, {})
        (r,) = gap_chain.chain_results(counts, folded.workshop_respondents.get(w.id, {}), [gap_id], w.k)
        points.append({"workshop": w.id, "title": w.title, "date": w.date.isoformat(), **r.plain()})
    (overall,) = gap_chain.chain_results(folded.overall, folded.respondents, [gap_id], scope.k)
    return {"item": {"id": gap.id, "title": gap.title}, "points": points, "overall": overall.plain()}
