"""Import of a full-fidelity JSON export (``portable.py``) into this installation: a new
value chain owned by the importing user, with its segments, library, workshops, agendas,
participants and answers. Reference lists (stakeholder groups, work areas) are matched by
key, and made when missing. Ids are this installation's own; join codes are not carried
(the imported workshops have none: a facilitator draws one to run one again).

All or nothing: the document is checked before anything is written (``Invalid`` with a
translated message), and it is written in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy.exc import StatementError
from sqlmodel import Session, select

from server.activities.kinds import KINDS
from server.errors import Invalid
from server.exports.portable import FORMAT, READABLE
from server.i18n import N_, Message
from server.models import (
    ActionLine,
    Activity,
    ActivityItem,
    ActivityStatus,
    Attendance,
    Gap,
    Participant,
    Segment,
    StakeholderGroup,
    User,
    ValueChain,
    WorkArea,
    Workshop,
    WorkshopStatus,
)

MAX_BYTES = 200 * 1024 * 1024


def _bad(detail: str = "") -> Invalid:
    if detail:
        return Invalid(
            {"file": Message(N_("This is not a Minka export this installation can read: %(detail)s"), detail=detail)}
        )
    return Invalid({"file": Message(N_("This is not a Minka export this installation can read."))})


def _when(value) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _bad(f"{value!r}") from None


def check_document(doc) -> None:
    """The shape and version of the document, before anything is written."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _bad()
    if doc.get("version") not in READABLE:
        raise _bad(f"version {doc.get('version')!r}")
    try:
        chain = doc["chain"]
        assert isinstance(chain["name"], str) and chain["name"].strip()
        for key in ("segments", "gaps", "action_lines"):
            assert isinstance(chain[key], list)
        assert isinstance(doc["workshops"], list)
        kinds = doc.get("kinds", {})
        assert isinstance(kinds, dict) and all(k in KINDS and isinstance(v, dict) for k, v in kinds.items()), "kinds"
        for w in doc["workshops"]:
            dt.date.fromisoformat(w["date"])
            Attendance(w["attendance"])
            WorkshopStatus(w["status"])
            for a in w["activities"]:
                assert a["kind"] in KINDS, a["kind"]
                ActivityStatus(a["status"])
                assert isinstance(a["items"], list) and isinstance(a["answers"], list)
    except (KeyError, TypeError, ValueError, AssertionError) as exc:
        raise _bad(str(exc)[:200]) from None


def _reference(session: Session, model, entries: list[dict]) -> dict[str, int]:
    ids = {}
    for entry in entries:
        found = session.exec(select(model).where(model.key == entry["key"])).first()
        if found is None:
            found = model(
                key=entry["key"], name_es=entry["name_es"], name_en=entry["name_en"], position=entry["position"]
            )
            session.add(found)
            session.flush()
        ids[entry["key"]] = found.id
    return ids


def do_import(session: Session, user: User, doc: dict, registry) -> ValueChain:
    """A new chain from an export document (checked first); returns it. A reference the
    document does not hold (an item, a participant) refuses the whole import."""
    check_document(doc)
    try:
        return _import(session, user, doc, registry)
    except (KeyError, TypeError, ValueError, AttributeError, StatementError) as exc:
        raise _bad(str(exc)[:200]) from None


def _import(session: Session, user: User, doc: dict, registry) -> ValueChain:
    groups = _reference(session, StakeholderGroup, doc.get("stakeholder_groups", []))
    areas = _reference(session, WorkArea, doc.get("work_areas", []))
    c = doc["chain"]
    chain = ValueChain(
        name=c["name"],
        product=c.get("product", ""),
        regions=c.get("regions", []),
        description=c.get("description", ""),
        owner_id=user.id,
    )
    session.add(chain)
    session.flush()
    ids: dict[str, dict[int, int]] = {"segment": {}, "gap": {}, "action_line": {}, "participant": {}}
    for s in c["segments"]:
        segment = Segment(value_chain_id=chain.id, name=s["name"], position=s["position"])
        session.add(segment)
        session.flush()
        ids["segment"][s["id"]] = segment.id
    for g in c["gaps"]:
        gap = Gap(
            value_chain_id=chain.id,
            key=g.get("key"),
            title=g["title"],
            description=g.get("description", ""),
            mechanisms=g.get("mechanisms", []),
            position=g["position"],
            archived=g.get("archived", False),
        )
        session.add(gap)
        session.flush()
        ids["gap"][g["id"]] = gap.id
    for a in c["action_lines"]:
        line = ActionLine(
            value_chain_id=chain.id,
            key=a.get("key"),
            title=a["title"],
            description=a.get("description", ""),
            work_area_id=areas.get(a.get("work_area") or ""),
            position=a["position"],
            archived=a.get("archived", False),
        )
        session.add(line)
        session.flush()
        ids["action_line"][a["id"]] = line.id
    ids.update(workshop={}, activity={})
    sections = [(registry.get(key), section) for key, section in doc.get("kinds", {}).items()]
    for kind, section in sections:
        if kind is None:
            raise _bad("kinds")
        kind.import_section(session, chain.id, section, ids, user.id, "before")
    for w in doc["workshops"]:
        _import_workshop(session, user, chain, w, groups, ids, registry)
    for kind, section in sections:
        kind.import_section(session, chain.id, section, ids, user.id, "after")
    session.flush()
    return chain


def _import_workshop(session, user, chain, w: dict, groups, ids, registry) -> None:
    workshop = Workshop(
        value_chain_id=chain.id,
        title=w["title"],
        date=dt.date.fromisoformat(w["date"]),
        region=w.get("region", ""),
        town=w.get("town", ""),
        language=w.get("language", "es"),
        attendance=Attendance(w["attendance"]),
        status=WorkshopStatus(w["status"]),
        join_code=None,
        joining_open=w.get("joining_open", True),
        min_group_size=w.get("min_group_size"),
        created_by=user.id,
    )
    if w.get("created_at"):
        workshop.created_at = _when(w["created_at"])
    session.add(workshop)
    session.flush()
    ids["workshop"][w["id"]] = workshop.id
    for p in w["participants"]:
        person = Participant(
            workshop_id=workshop.id,
            token_hash=secrets.token_hex(32),
            name=p.get("name", ""),
            organization=p.get("organization", ""),
            stakeholder_group_id=groups.get(p.get("stakeholder_group") or ""),
            segment_id=ids["segment"].get(p.get("segment")),
            joined_at=_when(p["joined_at"]),
            removed=p.get("removed", False),
        )
        session.add(person)
        session.flush()
        ids["participant"][p["id"]] = person.id
    for a in w["activities"]:
        activity = Activity(
            workshop_id=workshop.id,
            kind=a["kind"],
            title=a["title"],
            position=a["position"],
            settings=a["settings"],
            status=ActivityStatus(a["status"]),
            opened_at=_when(a.get("opened_at")),
            closed_at=_when(a.get("closed_at")),
            revealed=a.get("revealed", False),
        )
        session.add(activity)
        session.flush()
        ids["activity"][a["id"]] = activity.id
        library = "gap" if KINDS[a["kind"]].library == "gaps" else "action_line"
        for position, item in enumerate(a["items"]):
            column = "gap_id" if library == "gap" else "action_line_id"
            session.add(ActivityItem(activity_id=activity.id, position=position, **{column: ids[library][item]}))
        kind = registry.get(a["kind"])
        if a["answers"]:
            if kind is None:
                raise _bad(a["kind"])
            rows = [{**row, "updated_at": _when(row.get("updated_at"))} for row in a["answers"]]
            kind.import_rows(session, activity.id, rows, ids)
        session.flush()
