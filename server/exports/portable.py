"""Full-fidelity JSON of a workshop or a chain: everything needed to rebuild it in another
Minka installation (``importer.py``): the chain with its segments and library, the
reference lists it uses (by key), the workshops with their agendas, participants and every
stored answer (each kind's ``raw_rows``). The schema is versioned and documented in
docs/json-format.md; ids are this installation's and only tie the document together.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlmodel import Session, col, select

from server.exports.gather import Scope
from server.models import ActivityItem, Participant, Segment, StakeholderGroup, WorkArea
from server.valuechains.library import ACTION_LINES, GAPS, items_of
from server.workshops.service import agenda_of

FORMAT = "minka-export"
VERSION = 2  # 2: the kinds' data kept with the chain (``kinds``: the roadmap)
READABLE = (1, 2)  # the versions the importer reads


def _plain(value):
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value  # Lazy stays lazy: its rows are made plain as they are read


class Lazy:
    """A list written as it is read (a million answers are never all in memory)."""

    def __init__(self, items):
        self.items = items  # a callable returning an iterable

    def __iter__(self):
        return iter(self.items())


def document(session: Session, scope: Scope, registry) -> dict:
    """The whole document as plain data (in memory: for tests and small exports)."""
    return _materialized(lazy_document(session, scope, registry))


def _materialized(value):
    if isinstance(value, Lazy):
        return [_materialized(v) for v in value]
    if isinstance(value, dict):
        return {k: _materialized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_materialized(v) for v in value]
    return value


def canonical_chunks(value):
    """``value`` as canonical JSON text, piece by piece: keys sorted, no spaces, UTF-8 as
    is; the same text as ``json.dumps(value, ensure_ascii=False, sort_keys=True,
    separators=(",", ":"))`` of the materialized document."""
    if isinstance(value, dict):
        yield "{"
        for i, key in enumerate(sorted(value)):
            yield ("," if i else "") + json.dumps(key, ensure_ascii=False) + ":"
            yield from canonical_chunks(value[key])
        yield "}"
    elif isinstance(value, Lazy | list):
        yield "["
        for i, item in enumerate(value):
            if i:
                yield ","
            yield from canonical_chunks(item)
        yield "]"
    else:
        yield json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def lazy_document(session: Session, scope: Scope, registry) -> dict:
    """The document, its answers read when written (``Lazy``)."""
    chain = scope.chain
    groups = {g.id: g for g in session.exec(select(StakeholderGroup))}
    areas = {a.id: a for a in session.exec(select(WorkArea))}
    segments = list(session.exec(select(Segment).where(Segment.value_chain_id == chain.id).order_by(Segment.position)))
    gaps, lines = items_of(session, chain, GAPS), items_of(session, chain, ACTION_LINES)
    used_areas = {line.work_area_id for line in lines if line.work_area_id}
    workshops = []
    used_groups: set[int] = set()
    for w in scope.workshops:
        people = list(session.exec(select(Participant).where(Participant.workshop_id == w.id).order_by(Participant.id)))
        used_groups |= {p.stakeholder_group_id for p in people if p.stakeholder_group_id}
        activities = []
        for a in agenda_of(session, w):
            column = ActivityItem.gap_id if GAPS.slug == _library_of(a.kind) else ActivityItem.action_line_id
            items = session.exec(
                select(column)
                .where(ActivityItem.activity_id == a.id)
                .order_by(col(ActivityItem.position), col(ActivityItem.id))
            )
            kind = registry.get(a.kind)
            activities.append(
                {
                    "id": a.id,
                    "kind": a.kind,
                    "title": a.title,
                    "position": a.position,
                    "settings": a.settings,
                    "status": a.status.value,
                    "opened_at": a.opened_at,
                    "closed_at": a.closed_at,
                    "revealed": a.revealed,
                    "items": list(items),
                    "answers": Lazy(
                        lambda kind=kind, a=a: (
                            (_plain(r) for r in kind.iter_raw_rows(session, a.id))
                            if kind is not None and kind.answers_in_document
                            else ()
                        )
                    ),
                }
            )
        workshops.append(
            {
                "id": w.id,
                "title": w.title,
                "date": w.date,
                "region": w.region,
                "town": w.town,
                "language": w.language,
                "attendance": w.attendance.value,
                "status": w.status.value,
                "joining_open": w.joining_open,
                "min_group_size": w.min_group_size,
                "created_at": w.created_at,
                "participants": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "organization": p.organization,
                        "stakeholder_group": groups[p.stakeholder_group_id].key if p.stakeholder_group_id else None,
                        "segment": p.segment_id,
                        "joined_at": p.joined_at,
                        "removed": p.removed,
                    }
                    for p in people
                ],
                "activities": activities,
            }
        )
    known = {
        "participant": {p["id"] for w in workshops for p in w["participants"]},
        "activity": {a["id"] for w in workshops for a in w["activities"]},
        "workshop": {w["id"] for w in workshops},
    }
    activity_ids = sorted(known["activity"])
    kinds = {}
    for kind in registry:
        found = kind.portable_section(session, chain.id, activity_ids, known, scope.whole_chain)
        if found is not None:
            kinds[kind.key] = found
    return _plain(
        {
            "format": FORMAT,
            "version": VERSION,
            "scope": scope.what,
            "exported_at": scope.made_at,
            "exported_by": scope.user.email,
            "stakeholder_groups": [
                {"key": g.key, "name_es": g.name_es, "name_en": g.name_en, "position": g.position}
                for g in sorted(groups.values(), key=lambda g: (g.position, g.id))
                if g.id in used_groups
            ],
            "work_areas": [
                {"key": a.key, "name_es": a.name_es, "name_en": a.name_en, "position": a.position}
                for a in sorted(areas.values(), key=lambda a: (a.position, a.id))
                if a.id in used_areas
            ],
            "chain": {
                "id": chain.id,
                "name": chain.name,
                "product": chain.product,
                "regions": chain.regions,
                "description": chain.description,
                "segments": [{"id": s.id, "name": s.name, "position": s.position} for s in segments],
                "gaps": [
                    {
                        "id": g.id,
                        "key": g.key,
                        "title": g.title,
                        "description": g.description,
                        "mechanisms": g.mechanisms,
                        "position": g.position,
                        "archived": g.archived,
                    }
                    for g in gaps
                ],
                "action_lines": [
                    {
                        "id": a.id,
                        "key": a.key,
                        "title": a.title,
                        "description": a.description,
                        "work_area": areas[a.work_area_id].key if a.work_area_id in areas else None,
                        "position": a.position,
                        "archived": a.archived,
                    }
                    for a in lines
                ],
            },
            "workshops": workshops,
            "kinds": kinds,
        }
    )


def _library_of(kind: str) -> str:
    from server.activities.kinds import KINDS

    return KINDS[kind].library if kind in KINDS else ""


def write_json(session: Session, state, scope: Scope, path: Path, progress=None) -> None:
    """The document in canonical form (keys sorted, compact), streamed to ``path``;
    ``progress`` (``jobs.Progress``) is told of each activity's answers as they are written."""
    doc = lazy_document(session, scope, state.registry)
    if progress is not None:
        activities = [a for w in doc["workshops"] for a in w["activities"]]
        progress.start(len(activities))
        for a in activities:
            a["answers"] = _counted(a["title"], a["answers"], progress)
    with path.open("w", encoding="utf-8") as out:
        for chunk in canonical_chunks(doc):
            out.write(chunk)


def _counted(title: str, answers, progress) -> Lazy:
    def items():
        progress.next_table(title)
        return progress.counted(iter(answers))

    return Lazy(items)
