"""The roadmap in the full-fidelity JSON (docs/json-format.md, ``kinds.roadmap``), and its
import into another installation.

The roadmap lives with the chain, not with one activity: every item with its fields and
their versions, its links (action lines, gaps), its list rows (partners, milestones,
indicators, removed ones too), every revision, commitment (and withdrawal), comment
(hidden ones too), +1 and suggestion, and which items each roadmap activity brought in.
People are named by the document's participant ids; a facilitator (an account of the
exporting installation) is ``by_facilitator`` (the importing account on import), with
the name shown at the time (``author``). A participant, activity or workshop the document
does not hold (a workshop exported alone, a change made in another workshop) is null.
Idempotency receipts are not carried (they only answer a phone's repeat).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlmodel import Session, col, select

from server.models import (
    RoadmapActivityItem,
    RoadmapComment,
    RoadmapCommitment,
    RoadmapIndicator,
    RoadmapItem,
    RoadmapItemActionLine,
    RoadmapItemGap,
    RoadmapMilestone,
    RoadmapPartner,
    RoadmapRevision,
    RoadmapSuggestion,
    RoadmapSupport,
    RoadmapWithdrawal,
)

ITEM_COLUMNS = (
    "title",
    "description",
    "horizon",
    "phase",
    "lead_organization",
    "budget_currency",
    "funding_source",
    "pilot",
    "status",
    "progress",
    "locked",
    "position",
    "created_at",
    "updated_at",
)
VERSIONS = ("title", "description", "horizon", "phase", "lead_organization", "budget")
VERSIONS += ("funding_source", "pilot", "status", "progress")
LISTS = {
    "partner": (RoadmapPartner, ("organization",)),
    "milestone": (RoadmapMilestone, ("text", "target_date")),
    "indicator": (RoadmapIndicator, ("name", "baseline", "target", "unit")),
}
LINKS = {"action_line": (RoadmapItemActionLine, "action_line_id"), "gap": (RoadmapItemGap, "gap_id")}


def _of(session: Session, model, item_ids: list[int], order=None):
    query = select(model).where(col(model.item_id).in_(item_ids))
    return list(session.exec(query.order_by(order if order is not None else model.id)))


def _by_item(rows) -> dict[int, list]:
    found: dict[int, list] = {}
    for row in rows:
        found.setdefault(row.item_id, []).append(row)
    return found


def section(session: Session, chain_id: int, activity_ids: list[int], known: dict[str, set], whole: bool) -> dict:
    """The roadmap of a chain export (every item), or of a workshop's (the items its
    activities brought in). ``known``: the participant, activity and workshop ids the
    document holds."""
    brought = list(
        session.exec(
            select(RoadmapActivityItem)
            .where(col(RoadmapActivityItem.activity_id).in_(activity_ids or [0]))
            .order_by(RoadmapActivityItem.activity_id, RoadmapActivityItem.position, RoadmapActivityItem.id)
        )
    )
    query = select(RoadmapItem).where(RoadmapItem.value_chain_id == chain_id)
    if not whole:
        query = query.where(col(RoadmapItem.id).in_({b.item_id for b in brought} or {0}))
    items = list(session.exec(query.order_by(RoadmapItem.position, RoadmapItem.id)))
    ids = [i.id for i in items]

    def person(pid):
        return pid if pid in known["participant"] else None

    def activity(aid):
        return aid if aid in known["activity"] else None

    def who(row) -> dict:
        return {
            "participant": person(row.participant_id),
            "by_facilitator": row.user_id is not None,
            "author": row.author,
            "activity": activity(row.activity_id),
        }

    lists = {kind: _by_item(_of(session, model, ids)) for kind, (model, _cols) in LISTS.items()}
    links = {
        kind: _by_item(_of(session, model, ids, getattr(model, column))) for kind, (model, column) in LINKS.items()
    }
    revisions = _by_item(_of(session, RoadmapRevision, ids))
    commitments = _by_item(_of(session, RoadmapCommitment, ids))
    withdrawals = {
        w.commitment_id: w
        for w in session.exec(
            select(RoadmapWithdrawal).where(
                col(RoadmapWithdrawal.commitment_id).in_([c.id for cs in commitments.values() for c in cs] or [0])
            )
        )
    }
    comments = _by_item(_of(session, RoadmapComment, ids))
    supports = _by_item(_of(session, RoadmapSupport, ids, RoadmapSupport.participant_id))
    suggestions = _by_item(_of(session, RoadmapSuggestion, ids))

    def item(i: RoadmapItem) -> dict:
        return {
            "id": i.id,
            **{c: getattr(i, c) for c in ITEM_COLUMNS},
            "budget_amount": None if i.budget_amount is None else str(i.budget_amount),
            "versions": {f: getattr(i, f"v_{f}") for f in VERSIONS},
            **{
                f"{kind}s": [getattr(r, column) for r in links[kind].get(i.id, [])]
                for kind, (_m, column) in LINKS.items()
            },
            **{
                f"{kind}s_rows": [
                    {"id": r.id, **{c: getattr(r, c) for c in cols}, "version": r.version, "removed": r.removed}
                    | {"created_at": r.created_at}
                    for r in lists[kind].get(i.id, [])
                ]
                for kind, (_m, cols) in LISTS.items()
            },
            "revisions": [
                {
                    "id": r.id,
                    "field": r.field,
                    "row_id": r.row_id,
                    "change": r.change,
                    "old": r.old,
                    "new": r.new,
                    "version": r.version,
                    "restored_from": r.restored_from,
                    "workshop": r.workshop_id if r.workshop_id in known["workshop"] else None,
                    "created_at": r.created_at,
                    **who(r),
                }
                for r in revisions.get(i.id, [])
            ],
            "commitments": [
                {
                    "id": c.id,
                    "organization": c.organization,
                    "role": c.role,
                    "note": c.note,
                    "made_at": c.made_at,
                    **who(c),
                    "withdrawal": None
                    if c.id not in withdrawals
                    else {
                        "note": withdrawals[c.id].note,
                        "made_at": withdrawals[c.id].made_at,
                        **who(withdrawals[c.id]),
                    },
                }
                for c in commitments.get(i.id, [])
            ],
            "comments": [
                {
                    "text": c.text,
                    "hidden": c.hidden,
                    "hidden_at": c.hidden_at,
                    "created_at": c.created_at,
                    **who(c),
                }
                for c in comments.get(i.id, [])
            ],
            "supports": [
                {"participant": s.participant_id, "created_at": s.created_at}
                for s in supports.get(i.id, [])
                if s.participant_id in known["participant"]
            ],
            "suggestions": [
                {
                    "change": s.change,
                    "participant": person(s.participant_id),
                    "author": s.author,
                    "activity": activity(s.activity_id),
                    "status": s.status,
                    "decided_at": s.decided_at,
                    "created_at": s.created_at,
                }
                for s in suggestions.get(i.id, [])
            ],
        }

    activity_items: dict[str, list[int]] = {}
    for b in brought:
        activity_items.setdefault(str(b.activity_id), []).append(b.item_id)
    return {"items": [item(i) for i in items], "activity_items": activity_items}


# Import ---------------------------------------------------------------------------------


def _when(value) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _slot_row(field: str, row_id, ids: dict):
    """A revision's (or suggestion's) row: a list row's or a linked library item's new id."""
    if row_id is None or row_id == 0:
        return row_id
    if field in LISTS:
        return ids["roadmap_row"][field][row_id]
    if field in LINKS:
        return ids[field][row_id]
    return row_id


def import_items(session: Session, chain_id: int, section: dict, ids: dict) -> None:
    """Before the workshops: the items, their links and list rows (``ids["roadmap_item"]``,
    ``ids["roadmap_row"][kind]`` map the document's ids to this installation's)."""
    ids["roadmap_item"], ids["roadmap_row"] = {}, {kind: {} for kind in LISTS}
    for doc in section["items"]:
        item = RoadmapItem(
            value_chain_id=chain_id,
            **{c: doc[c] for c in ITEM_COLUMNS if c not in ("created_at", "updated_at")},
            budget_amount=None if doc["budget_amount"] is None else Decimal(doc["budget_amount"]),
            created_at=_when(doc["created_at"]),
            updated_at=_when(doc["updated_at"]),
            **{f"v_{f}": int(v) for f, v in doc["versions"].items() if f in VERSIONS},
        )
        session.add(item)
        session.flush()
        ids["roadmap_item"][doc["id"]] = item.id
        for kind, (model, column) in LINKS.items():
            for other in doc[f"{kind}s"]:
                session.add(model(item_id=item.id, **{column: ids[kind][other]}))
        for kind, (model, cols) in LISTS.items():
            for r in doc[f"{kind}s_rows"]:
                values = {c: r.get(c) for c in cols}
                if values.get("target_date"):
                    values["target_date"] = dt.date.fromisoformat(values["target_date"])
                row = model(
                    item_id=item.id,
                    **values,
                    version=r["version"],
                    removed=r["removed"],
                    created_at=_when(r["created_at"]),
                )
                session.add(row)
                session.flush()
                ids["roadmap_row"][kind][r["id"]] = row.id
    session.flush()


def import_people(session: Session, section: dict, ids: dict, user_id: int) -> None:
    """After the workshops: which items each activity brought in, and everything people
    did (revisions, commitments, withdrawals, comments, +1s, suggestions)."""
    for activity, item_ids in section.get("activity_items", {}).items():
        for position, item in enumerate(item_ids):
            session.add(
                RoadmapActivityItem(
                    activity_id=ids["activity"][int(activity)], item_id=ids["roadmap_item"][item], position=position
                )
            )

    def who(doc: dict) -> dict:
        pid, aid = doc.get("participant"), doc.get("activity")
        return {
            "participant_id": None if pid is None else ids["participant"][pid],
            "user_id": user_id if doc.get("by_facilitator") else None,
            "author": doc.get("author", ""),
            "activity_id": None if aid is None else ids["activity"][aid],
        }

    revision_ids: dict[int, int] = {}
    for doc in section["items"]:
        item_id = ids["roadmap_item"][doc["id"]]
        for r in doc["revisions"]:
            new = r["new"]
            if r["field"] == "item" and isinstance(new, dict) and new.get("action_lines"):
                new = {**new, "action_lines": [ids["action_line"][a] for a in new["action_lines"]]}
            revision = RoadmapRevision(
                item_id=item_id,
                field=r["field"],
                row_id=_slot_row(r["field"], r["row_id"], ids),
                change=r["change"],
                old=r["old"],
                new=new,
                version=r["version"],
                restored_from=revision_ids[r["restored_from"]] if r["restored_from"] is not None else None,
                workshop_id=None if r["workshop"] is None else ids["workshop"][r["workshop"]],
                created_at=_when(r["created_at"]),
                **who(r),
            )
            session.add(revision)
            session.flush()
            revision_ids[r["id"]] = revision.id
        for c in doc["commitments"]:
            commitment = RoadmapCommitment(
                item_id=item_id,
                organization=c["organization"],
                role=c["role"],
                note=c["note"],
                made_at=_when(c["made_at"]),
                **who(c),
            )
            session.add(commitment)
            session.flush()
            if c["withdrawal"] is not None:
                w = c["withdrawal"]
                people = who(w)
                session.add(
                    RoadmapWithdrawal(
                        commitment_id=commitment.id, note=w["note"], made_at=_when(w["made_at"]), **people
                    )
                )
        for c in doc["comments"]:
            session.add(
                RoadmapComment(
                    item_id=item_id,
                    text=c["text"],
                    hidden=c["hidden"],
                    hidden_by=user_id if c["hidden"] else None,
                    hidden_at=_when(c["hidden_at"]),
                    created_at=_when(c["created_at"]),
                    **who(c),
                )
            )
        for s in doc["supports"]:
            session.add(
                RoadmapSupport(
                    item_id=item_id,
                    participant_id=ids["participant"][s["participant"]],
                    created_at=_when(s["created_at"]),
                )
            )
        for s in doc["suggestions"]:
            change = dict(s["change"])
            if "slot" in change:
                field, row = change["slot"].partition(":")[0], change["slot"].partition(":")[2]
                if row:
                    change["slot"] = f"{field}:{_slot_row(field, int(row), ids)}"
            people = who(s)
            session.add(
                RoadmapSuggestion(
                    item_id=item_id,
                    change=change,
                    participant_id=people["participant_id"],
                    author=people["author"],
                    activity_id=people["activity_id"],
                    status=s["status"],
                    decided_by=user_id if s["decided_at"] else None,
                    decided_at=_when(s["decided_at"]),
                    created_at=_when(s["created_at"]),
                )
            )
    session.flush()
