"""What a roadmap write came to, and its idempotency key.

Every write returns one of ``Applied`` (stored; ``revision_id`` None when the value was
already that), ``Conflict`` (the field or row moved since the editor saw it: nothing was
stored, the editor's own value is kept in ``yours``), ``Suggested`` (an activity whose
participants suggest: the facilitator decides) or ``Done`` (a commitment, withdrawal,
comment, +1: ``id`` of the record). Each has ``told()`` (what the phone is told, JSON) and
the fields ``duplicate``, ``superseded`` and ``seq`` the host's ``ack_json`` reads.

Idempotency: like the other kinds (``activities/receipts.py``: the same key rules,
``check_key``), every participant write carries a key the phone made; here the key is
recorded with the **outcome** (``RoadmapReceipt``), so a repeat is answered with the first
outcome (a conflict stays that conflict) and changes nothing. The key is claimed before
anything is written (``claim``): of two writes with one key arriving at once, the second
waits for the first's transaction (PostgreSQL's unique index; SQLite has one writer) and
then answers with its outcome. A refused write (``Invalid``) is rolled back with its
claim, so it can be sent again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from server.activities.receipts import check_key
from server.models import RoadmapReceipt, utcnow
from server.statements import insert_ignore


@dataclass
class Who:
    """Who made a change: a participant or a facilitator (a user), with the name shown."""

    participant_id: int | None = None
    user_id: int | None = None
    name: str = ""
    at: str | None = None  # ISO time

    def told(self) -> dict:
        return asdict(self)


@dataclass
class Applied:
    item_id: int
    slot: str  # "title", "budget", ..., or "milestone:12"
    value: Any  # as stored (JSON); None for a removed row
    version: int  # the slot's version now
    revision_id: int | None = None  # None: the value was already that, nothing changed
    kind: str = field(default="applied", init=False)
    duplicate: bool = False
    superseded: bool = False
    seq: int | None = None

    @property
    def changed(self) -> bool:
        return self.revision_id is not None

    def told(self) -> dict:
        return {
            "applied": True,
            "item": self.item_id,
            "slot": self.slot,
            "value": self.value,
            "version": self.version,
            "rev": self.revision_id,
        }


@dataclass
class Conflict:
    item_id: int
    slot: str
    yours: Any  # what the editor sent, kept for them
    current: Any  # the value now
    version: int  # the version now: an edit "keep mine" or "edit from current" starts from it
    by: Who = field(default_factory=Who)  # who made the current version
    kind: str = field(default="conflict", init=False)
    duplicate: bool = False
    superseded: bool = False
    seq: int | None = None

    def told(self) -> dict:
        return {
            "conflict": True,
            "item": self.item_id,
            "slot": self.slot,
            "yours": self.yours,
            "current": self.current,
            "version": self.version,
            "by": self.by.told(),
        }


@dataclass
class Suggested:
    item_id: int
    suggestion_id: int
    slot: str
    value: Any
    kind: str = field(default="suggested", init=False)
    duplicate: bool = False
    superseded: bool = False
    seq: int | None = None

    def told(self) -> dict:
        return {
            "suggested": True,
            "item": self.item_id,
            "slot": self.slot,
            "value": self.value,
            "id": self.suggestion_id,
        }


@dataclass
class Done:
    """A record was added or changed: ``what`` is commitment, withdrawal, comment, hidden,
    support, item, link or lock; ``id`` the record (or the item)."""

    item_id: int
    what: str
    id: int | None = None
    value: Any = None
    kind: str = field(default="done", init=False)
    duplicate: bool = False
    superseded: bool = False
    seq: int | None = None

    def told(self) -> dict:
        return {"done": self.what, "item": self.item_id, "id": self.id, "value": self.value}


Outcome = Applied | Conflict | Suggested | Done
_TYPES = {"applied": Applied, "conflict": Conflict, "suggested": Suggested, "done": Done}


def to_json(outcome: Outcome) -> dict:
    data = asdict(outcome)
    for transient in ("duplicate", "superseded", "seq"):
        data.pop(transient)
    return data


def from_json(data: dict) -> Outcome:
    data = dict(data)
    cls = _TYPES[data.pop("kind")]
    if cls is Conflict:
        data["by"] = Who(**data["by"])
    return cls(**data)


# Keys ------------------------------------------------------------------------------


@dataclass
class Claim:
    """A claimed key (``where``: its receipt, by owner and key), or the outcome a first
    write with that key had."""

    where: tuple | None = None
    earlier: Outcome | None = None


def _owner(participant_id: int | None, user_id: int | None) -> tuple:
    if participant_id is not None:
        return (RoadmapReceipt.participant_id == participant_id,)
    return (RoadmapReceipt.user_id == user_id,)


def _find(session: Session, participant_id: int | None, user_id: int | None, key: str):
    return session.execute(
        select(RoadmapReceipt.id, RoadmapReceipt.outcome).where(
            *_owner(participant_id, user_id), RoadmapReceipt.key == key
        )
    ).first()


def earlier(session: Session, participant_id: int | None, user_id: int | None, key: str | None) -> Outcome | None:
    """The outcome of a write already made with this key (a repeat), else None."""
    if key is None:
        return None
    found = _find(session, participant_id, user_id, key)
    if found is None or found.outcome is None:
        return None
    outcome = from_json(found.outcome)
    outcome.duplicate = True
    return outcome


def clean_key(key, required: bool) -> str | None:
    """The write's key (``receipts.check_key``); a facilitator's form may send none."""
    if not required and (key is None or key == ""):
        return None
    return check_key(key)


def claim(session: Session, participant_id: int | None, user_id: int | None, key: str | None) -> Claim:
    """Record the key before writing; when another write took it first, its outcome."""
    if key is None:
        return Claim()
    row = {"participant_id": participant_id, "user_id": user_id, "key": key, "outcome": None, "created_at": utcnow()}
    if insert_ignore(session, RoadmapReceipt, row):  # found again by its unique owner and key
        return Claim(where=(*_owner(participant_id, user_id), RoadmapReceipt.key == key))
    return Claim(earlier=earlier(session, participant_id, user_id, key))


def record(session: Session, claimed: Claim, outcome: Outcome) -> Outcome:
    """Keep the outcome with its key (in the write's transaction)."""
    if claimed.where is not None:
        session.connection().execute(update(RoadmapReceipt).where(*claimed.where).values(outcome=to_json(outcome)))
    return outcome
