"""Reading the roadmap: an item with its fields (and their versions), rows, links,
commitments, comments and +1s; a chain's or an activity's items; an item's history and
the workshops that touched it. Plain data (dataclasses of JSON values) for templates,
the live kind and the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, union
from sqlmodel import Session

from server.activities.roadmap import merge
from server.activities.roadmap.fields import ITEM_FIELDS, ROW_KINDS, from_columns
from server.activities.roadmap.service import ROW_MODELS, row_value
from server.models import Activity as ActivityRow
from server.models import (
    RoadmapActivityItem,
    RoadmapComment,
    RoadmapCommitment,
    RoadmapItem,
    RoadmapItemActionLine,
    RoadmapItemGap,
    RoadmapRevision,
    RoadmapSupport,
    RoadmapWithdrawal,
)


@dataclass
class RowView:
    id: int
    value: dict
    version: int


@dataclass
class CommitmentView:
    id: int
    organization: str
    role: str
    note: str
    author: str
    participant_id: int | None
    user_id: int | None  # a facilitator recorded it (on behalf of ``participant_id``, if any)
    made_at: str
    withdrawn_at: str | None = None
    withdrawn_note: str = ""


@dataclass
class CommentView:
    id: int
    text: str
    author: str
    participant_id: int | None
    user_id: int | None
    created_at: str
    hidden: bool


@dataclass
class ItemView:
    id: int
    chain_id: int
    values: dict[str, Any]  # field -> value (JSON)
    versions: dict[str, int]  # field -> version
    locked: bool
    position: int
    rows: dict[str, list[RowView]] = field(default_factory=dict)  # kind -> rows not removed
    action_lines: list[int] = field(default_factory=list)
    gaps: list[int] = field(default_factory=list)
    commitments: list[CommitmentView] = field(default_factory=list)
    comments: list[CommentView] = field(default_factory=list)
    supports: int = 0
    supported: bool = False  # by the participant reading

    def slots(self) -> dict[str, merge.Slot]:
        """The item as ``merge`` reads it."""
        out = {f: merge.Slot(self.values[f], self.versions[f]) for f in ITEM_FIELDS}
        for kind, rows in self.rows.items():
            out.update({merge.row_slot(kind, r.id): merge.Slot(r.value, r.version) for r in rows})
        return out

    @property
    def active_commitments(self) -> list[CommitmentView]:
        return [c for c in self.commitments if c.withdrawn_at is None]


def _iso(at) -> str | None:
    return at.isoformat() if at is not None else None


def item_views(
    session: Session, item_ids: list[int], *, participant_id: int | None = None, hidden_comments: bool = False
) -> list[ItemView]:
    """The items, in the order given, read with a few queries whatever their number."""
    if not item_ids:
        return []
    items = {i.id: i for i in session.execute(select(RoadmapItem).where(RoadmapItem.id.in_(item_ids))).scalars()}
    views = {
        i.id: ItemView(
            id=i.id,
            chain_id=i.value_chain_id,
            values={f: from_columns(f, i) for f in ITEM_FIELDS},
            versions={f: getattr(i, f"v_{f}") for f in ITEM_FIELDS},
            locked=i.locked,
            position=i.position,
            rows={k: [] for k in ROW_KINDS},
        )
        for i in items.values()
    }
    for kind in ROW_KINDS:
        model = ROW_MODELS[kind]
        query = select(model).where(model.item_id.in_(views), model.removed.is_(False)).order_by(model.id)
        for row in session.execute(query).scalars():
            views[row.item_id].rows[kind].append(RowView(row.id, row_value(kind, row), row.version))
    for item_id, line in session.execute(
        select(RoadmapItemActionLine.item_id, RoadmapItemActionLine.action_line_id).where(
            RoadmapItemActionLine.item_id.in_(views)
        )
    ):
        views[item_id].action_lines.append(line)
    for item_id, gap in session.execute(
        select(RoadmapItemGap.item_id, RoadmapItemGap.gap_id).where(RoadmapItemGap.item_id.in_(views))
    ):
        views[item_id].gaps.append(gap)
    commitments = session.execute(
        select(RoadmapCommitment, RoadmapWithdrawal)
        .outerjoin(RoadmapWithdrawal, RoadmapWithdrawal.commitment_id == RoadmapCommitment.id)
        .where(RoadmapCommitment.item_id.in_(views))
        .order_by(RoadmapCommitment.id)
    )
    for c, w in commitments:
        views[c.item_id].commitments.append(
            CommitmentView(
                c.id,
                c.organization,
                c.role,
                c.note,
                c.author,
                c.participant_id,
                c.user_id,
                _iso(c.made_at),
                _iso(w.made_at) if w else None,
                w.note if w else "",
            )
        )
    comments = select(RoadmapComment).where(RoadmapComment.item_id.in_(views)).order_by(RoadmapComment.id)
    if not hidden_comments:
        comments = comments.where(RoadmapComment.hidden.is_(False))
    for c in session.execute(comments).scalars():
        views[c.item_id].comments.append(
            CommentView(c.id, c.text, c.author, c.participant_id, c.user_id, _iso(c.created_at), c.hidden)
        )
    supports = select(RoadmapSupport.item_id, func.count()).where(RoadmapSupport.item_id.in_(views))
    for item_id, count in session.execute(supports.group_by(RoadmapSupport.item_id)):
        views[item_id].supports = count
    if participant_id is not None:
        mine = select(RoadmapSupport.item_id).where(
            RoadmapSupport.item_id.in_(views), RoadmapSupport.participant_id == participant_id
        )
        for item_id in session.execute(mine).scalars():
            views[item_id].supported = True
    return [views[i] for i in item_ids if i in views]


def item_view(session: Session, item_id: int, **options) -> ItemView | None:
    found = item_views(session, [item_id], **options)
    return found[0] if found else None


def chain_items(session: Session, chain_id: int) -> list[int]:
    """The chain's roadmap, in its order."""
    query = select(RoadmapItem.id).where(RoadmapItem.value_chain_id == chain_id)
    return list(session.execute(query.order_by(RoadmapItem.position, RoadmapItem.id)).scalars())


@dataclass
class RevisionView:
    id: int
    item_id: int
    field: str
    row_id: int | None
    change: str
    old: Any
    new: Any
    version: int
    author: str
    participant_id: int | None
    user_id: int | None
    activity_id: int | None
    workshop_id: int | None
    restored_from: int | None
    created_at: str

    @property
    def slot(self) -> str:
        return self.field if self.row_id is None else merge.row_slot(self.field, self.row_id)

    def as_merge(self) -> merge.Revision:
        return merge.Revision(self.slot, self.old, self.new, self.version, self.change, id=self.id)


def history(session: Session, item_id: int) -> list[RevisionView]:
    """Every accepted change of the item, oldest first."""
    rows = session.execute(
        select(RoadmapRevision).where(RoadmapRevision.item_id == item_id).order_by(RoadmapRevision.id)
    ).scalars()
    return [
        RevisionView(
            r.id,
            r.item_id,
            r.field,
            r.row_id,
            r.change,
            r.old,
            r.new,
            r.version,
            r.author,
            r.participant_id,
            r.user_id,
            r.activity_id,
            r.workshop_id,
            r.restored_from,
            _iso(r.created_at),
        )
        for r in rows
    ]


def workshops_of_item(session: Session, item_id: int) -> list[int]:
    """The workshops that touched the item: brought it into an activity, or changed it."""
    brought = (
        select(ActivityRow.workshop_id)
        .join(RoadmapActivityItem, RoadmapActivityItem.activity_id == ActivityRow.id)
        .where(RoadmapActivityItem.item_id == item_id)
    )
    changed = select(RoadmapRevision.workshop_id).where(
        RoadmapRevision.item_id == item_id, RoadmapRevision.workshop_id.is_not(None)
    )
    return sorted(session.execute(union(brought, changed)).scalars())
