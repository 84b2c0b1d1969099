"""Joining a workshop from a phone, and recognising the participant afterwards.

A participant is identified by a random token (256 bits) kept in a cookie scoped to one
workshop and never put in a URL; the database holds only its SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from server.errors import Invalid, NotFound, clean_text
from server.i18n import N_, Message
from server.models import Attendance, Participant, Segment, StakeholderGroup, Workshop, WorkshopStatus
from server.outbox import notify
from server.realtime.topics import Topic
from server.statements import driver_rows, json_value
from server.workshops import codes
from server.writer import Outcome


def cookie_name(workshop_id: int) -> str:
    return f"minka_p{workshop_id}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_workshop_by_code(session: Session, typed: str) -> Workshop:
    """The workshop a typed code names, if it has not ended."""
    code = codes.normalize(typed)
    if not codes.is_code(code):
        raise NotFound()
    workshop = session.exec(select(Workshop).where(Workshop.join_code == code)).first()
    if workshop is None or workshop.status == WorkshopStatus.ended:
        raise NotFound()
    return workshop


def access_participant(session: Session, workshop_id: int, token: str | None) -> Participant | None:
    """The participant behind this workshop's cookie, or None (unknown, removed)."""
    participant = cookie_holder(session, workshop_id, token)
    return None if participant is None or participant.removed else participant


def cookie_holder(session: Session, workshop_id: int, token: str | None) -> Participant | None:
    """The participant behind this workshop's cookie, removed or not; None for anyone else.

    Only someone holding a participant's cookie learns anything about a workshop from the
    participant's pages: a stranger gets the same answer as for a workshop that does not
    exist, never its join code.
    """
    if not token or len(token) > 100:
        return None
    participant = session.exec(select(Participant).where(Participant.token_hash == _hash(token))).first()
    if participant is None or participant.workshop_id != workshop_id:
        return None
    return participant


def phone_holder(session: Session, workshop_id: int, token: str | None) -> tuple[int, str, int | None] | None:
    """The id and name of the participant (not removed) behind this workshop's cookie, and
    the workshop's current activity, in one read: ``access_participant`` for a phone's
    socket, which keeps no more."""
    if not token or len(token) > 100:
        return None
    rows = driver_rows(
        session,
        "SELECT p.id, p.name, w.current_activity_id FROM participant p JOIN workshop w ON w.id = p.workshop_id"
        " WHERE p.token_hash = ? AND p.workshop_id = ? AND p.removed = ?",
        (_hash(token), workshop_id, False),
    )
    return (rows[0][0], rows[0][1], rows[0][2]) if rows else None


@dataclass(frozen=True)
class ActivityBrief:
    """What a phone's own answers need of an activity (``ActivityType.mine``: its id,
    workshop, kind and settings), read without the ORM: every phone's hello asks for it,
    and loading the whole row as an ``Activity`` was a seventh of a returning phone's work."""

    id: int
    workshop_id: int
    kind: str
    settings: dict


def activity_brief(session: Session, activity_id: int) -> ActivityBrief | None:
    rows = driver_rows(session, "SELECT id, workshop_id, kind, settings FROM activity WHERE id = ?", (activity_id,))
    if not rows:
        return None
    row = rows[0]
    return ActivityBrief(row[0], row[1], row[2], json_value(row[3]) or {})


class KnownParticipants:
    """Who holds a workshop's cookie, for the phones' posts: read once, then known without a
    database read (a fifth of a post's work). Only participants not removed are kept; one
    removed since is still refused by the writer, which checks every write's participant.
    Bounded: forgotten all at once past ``limit`` entries (each is read again once)."""

    def __init__(self, limit: int = 100_000):
        self.limit = limit
        self._ids: dict[tuple[int, str | None], int] = {}

    def get(self, workshop_id: int, token: str | None) -> int | None:
        return self._ids.get((workshop_id, token))

    def remember(self, workshop_id: int, token: str | None, participant_id: int) -> None:
        if len(self._ids) >= self.limit:
            self._ids.clear()
        self._ids[(workshop_id, token)] = participant_id

    def clear(self) -> None:
        self._ids.clear()


def join_choices(session: Session, workshop: Workshop) -> tuple[list[StakeholderGroup], list[Segment]]:
    groups = session.exec(
        select(StakeholderGroup).where(StakeholderGroup.active == True).order_by(StakeholderGroup.position)  # noqa: E712
    ).all()
    segments = session.exec(
        select(Segment).where(Segment.value_chain_id == workshop.value_chain_id).order_by(Segment.position)
    ).all()
    return list(groups), list(segments)


def check_join(session: Session, workshop: Workshop, data: dict, choices=None) -> dict:
    """The attendance data of a join, checked. ``choices``: the workshop's groups and
    segments when already read (a batch of joins reads them once)."""
    errors: dict = {}
    clean: dict = {"name": "", "organization": "", "stakeholder_group_id": None, "segment_id": None}
    if not workshop.joining_open:
        raise Invalid({"__all__": Message(N_("Joining is closed for this workshop. Ask the facilitator."))})
    if workshop.attendance in (Attendance.name, Attendance.full):
        clean["name"] = clean_text(data, "name", errors)
    if workshop.attendance == Attendance.full:
        clean["organization"] = clean_text(data, "organization", errors, required=False)
        groups, segments = choices or join_choices(session, workshop)
        for field, options in (("stakeholder_group_id", groups), ("segment_id", segments)):
            raw = str(data.get(field) or "")
            chosen = next((o.id for o in options if str(o.id) == raw), None)
            if chosen is None and options:
                errors[field] = Message(N_("Choose one of the options."))
            clean[field] = chosen
    if errors:
        raise Invalid(errors)
    return clean


def do_join(session: Session, workshop: Workshop | int, data: dict) -> tuple[Participant, str]:
    """Make a participant; returns it and the token for its cookie.

    Given a workshop id (as the single writer does), the workshop is read in this
    session, so a lock of joining or the end of the workshop since the phone opened the
    form is seen."""
    if not isinstance(workshop, Workshop):
        workshop = _open_workshop(session, workshop)
    participant, token = _new_participant(workshop, check_join(session, workshop, data))
    session.add(participant)
    session.flush()
    _joined(session, workshop.id)
    return participant, token


def _joined(session: Session, workshop_id: int) -> None:
    """A join changes the console's list and its count of who joined (a phone without
    JavaScript never connects, so its websocket cannot be what tells)."""
    notify(session, workshop_id, Topic.ROSTER, Topic.COUNTS)


def _open_workshop(session: Session, workshop_id: int) -> Workshop:
    workshop = session.get(Workshop, workshop_id)
    if workshop is None or workshop.status == WorkshopStatus.ended:
        raise NotFound()
    return workshop


def _new_participant(workshop: Workshop, clean: dict) -> tuple[Participant, str]:
    token = secrets.token_urlsafe(32)
    return Participant(workshop_id=workshop.id, token_hash=_hash(token), **clean), token


class Join:
    """A phone joining, as the single writer takes it: joins arriving together (a hall at
    the door) are written together, the workshop and its choices read once, the
    participants inserted in one statement; each join is checked on its own."""

    batchable = True

    def __init__(self, workshop_id: int, data: dict):
        self.workshop_id, self.data = workshop_id, data

    def __call__(self, session: Session) -> tuple[Participant, str]:
        return do_join(session, self.workshop_id, self.data)

    @staticmethod
    def run_batch(session: Session, joins: list[Join]) -> list[Outcome]:
        workshops: dict[int, tuple] = {}
        outcomes, made = [], []
        for join in joins:
            outcome = Outcome()
            try:
                if join.workshop_id not in workshops:
                    workshop = _open_workshop(session, join.workshop_id)
                    workshops[join.workshop_id] = (workshop, join_choices(session, workshop))
                workshop, choices = workshops[join.workshop_id]
                participant, token = _new_participant(workshop, check_join(session, workshop, join.data, choices))
                made.append(participant)
                outcome.set_result((participant, token))
            except (Invalid, NotFound) as exc:
                outcome.set_exception(exc)
            outcomes.append(outcome)
        if made:
            session.add_all(made)
            session.flush()
            for workshop_id in {p.workshop_id for p in made}:
                _joined(session, workshop_id)
        return outcomes
