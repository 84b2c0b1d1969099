"""The roadmap activity's live state: its "tally" (the items it works on, read from the
database and read again when a committed write marks one stale; edits and conflicts so
far) and who is editing which field now (``Presence``: in memory, never written).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session

from server.activities.roadmap import reading
from server.activities.roadmap.items import items_of_activity
from server.activities.roadmap.suggestions import PENDING
from server.models import (
    Activity,
    FundingSource,
    Participant,
    RoadmapPhase,
    RoadmapReceipt,
    RoadmapRevision,
    RoadmapSuggestion,
)

PRESENCE_SECONDS = 20.0  # "someone is editing this field" fades after this long
FOCUS_EVERY = 0.5  # a phone's focus messages beyond one per this many seconds are dropped


@dataclass
class SuggestionView:
    id: int
    item_id: int
    slot: str
    value: object
    author: str


@dataclass
class RoadmapTally:
    activity_id: int
    workshop_id: int
    item_ids: list[int] = field(default_factory=list)
    views: dict[int, reading.ItemView] = field(default_factory=dict)
    phases: list[tuple[str, str, str]] = field(default_factory=list)  # key, name_es, name_en
    funding: list[tuple[str, str]] = field(default_factory=list)  # name_es, name_en
    suggestions: dict[int, list[SuggestionView]] = field(default_factory=dict)
    edits: int = 0
    conflicts: int = 0
    contributors: set[int] = field(default_factory=set)
    stale: set[int] = field(default_factory=set)
    list_stale: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def respondents(self) -> int:
        return len(self.contributors)

    def snapshot(self) -> dict:
        return {"items": len(self.item_ids), "edits": self.edits, "conflicts": self.conflicts}

    def moved(self, outcome, participant_id: int | None) -> None:
        """A committed write (after commit): counts, and its item read again next time."""
        with self.lock:
            if outcome.kind == "conflict":
                self.conflicts += 1
            elif outcome.kind == "applied" and outcome.changed:
                self.edits += 1
            if participant_id is not None and outcome.kind != "conflict":
                self.contributors.add(participant_id)
            if outcome.kind == "done" and outcome.what == "item":
                self.list_stale = True
            if outcome.item_id:
                self.stale.add(outcome.item_id)

    def touch(self, item_id: int | None = None) -> None:
        with self.lock:
            if item_id:
                self.stale.add(item_id)
            else:
                self.list_stale = True


def _suggestions(session: Session, item_ids) -> dict[int, list[SuggestionView]]:
    found: dict[int, list[SuggestionView]] = {}
    if not item_ids:
        return found
    rows = session.execute(
        select(RoadmapSuggestion)
        .where(RoadmapSuggestion.item_id.in_(list(item_ids)), RoadmapSuggestion.status == PENDING)
        .order_by(RoadmapSuggestion.id)
    ).scalars()
    for s in rows:
        view = SuggestionView(s.id, s.item_id, s.change["slot"], s.change["value"], s.author)
        found.setdefault(s.item_id, []).append(view)
    return found


def recount(session: Session, activity_id: int) -> RoadmapTally:
    activity = session.get(Activity, activity_id)
    tally = RoadmapTally(activity_id, activity.workshop_id)
    tally.item_ids = items_of_activity(session, activity_id)
    tally.views = {v.id: v for v in reading.item_views(session, tally.item_ids, hidden_comments=True)}
    tally.suggestions = _suggestions(session, tally.item_ids)
    tally.phases = [
        (p.key, p.name_es, p.name_en)
        for p in session.execute(
            select(RoadmapPhase).where(RoadmapPhase.active).order_by(RoadmapPhase.position, RoadmapPhase.id)
        ).scalars()
    ]
    tally.funding = [
        (f.name_es, f.name_en)
        for f in session.execute(
            select(FundingSource).where(FundingSource.active).order_by(FundingSource.position, FundingSource.id)
        ).scalars()
    ]
    tally.edits = session.execute(
        select(func.count())
        .select_from(RoadmapRevision)
        .where(RoadmapRevision.activity_id == activity_id, RoadmapRevision.change.in_(("edit", "add", "remove")))
    ).scalar_one()
    tally.contributors = set(
        session.execute(
            select(RoadmapRevision.participant_id).where(
                RoadmapRevision.activity_id == activity_id, RoadmapRevision.participant_id.is_not(None)
            )
        ).scalars()
    )
    outcomes = session.execute(
        select(RoadmapReceipt.outcome)
        .join(Participant, Participant.id == RoadmapReceipt.participant_id)
        .where(Participant.workshop_id == activity.workshop_id)
    ).scalars()
    tally.conflicts = sum(1 for o in outcomes if o and o.get("kind") == "conflict")
    return tally


def fresh(session: Session, tally: RoadmapTally) -> None:
    """Read again what committed writes marked stale (taken before reading: a write
    committed meanwhile marks its item again, read at the next render).

    The reads go through a transaction of their own, begun after the marks were taken:
    the render's ``session`` may hold a snapshot older than a write whose mark is taken
    here (SQLite's starts at its first read), and reading the item from it would clear the
    mark with the old value, which phones then kept until that field's next edit (seen as
    one edit in 500 reaching no phone in bench/roadmap.py)."""
    with tally.lock:
        stale, tally.stale = tally.stale, set()
        list_stale, tally.list_stale = tally.list_stale, False
    if not (stale or list_stale):
        return
    with Session(session.get_bind()) as now:
        if list_stale:
            ids = items_of_activity(now, tally.activity_id)
            stale |= set(ids) - set(tally.views)
            tally.item_ids = ids
        if not stale:
            return
        views = reading.item_views(now, sorted(stale), hidden_comments=True)
        suggestions = _suggestions(now, stale)
    with tally.lock:
        for v in views:
            tally.views[v.id] = v
        for item_id in stale:
            tally.suggestions[item_id] = suggestions.get(item_id, [])


@dataclass
class Editing:
    participant_id: int
    name: str
    until: float  # time.time() when it fades


class Presence:
    """Who is editing which field now, per workshop: from the phones' focus messages, in
    this process's memory (each process hears every focus through the hub's marks)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by: dict[int, dict[tuple[int, str], dict[int, Editing]]] = {}
        self._last: dict[int, float] = {}

    def allow(self, participant_id: int, blur: bool) -> bool:
        """Rate limit: one focus a participant per ``FOCUS_EVERY`` (leaving a field always)."""
        now = time.monotonic()
        with self._lock:
            if not blur and now - self._last.get(participant_id, 0.0) < FOCUS_EVERY:
                return False
            self._last[participant_id] = now
            if len(self._last) > 10000:
                self._last.clear()
        return True

    def note(self, workshop_id: int, item_id: int, field_name: str, participant_id: int, name: str) -> set[int]:
        """``participant_id`` edits that field now (or nothing: ``field_name`` empty). The
        items whose "editing" line changed."""
        now = time.time()
        changed = {item_id}
        with self._lock:
            fields = self._by.setdefault(workshop_id, {})
            for (item, f), who in list(fields.items()):
                if participant_id in who and (item, f) != (item_id, field_name):
                    del who[participant_id]
                    changed.add(item)
                if not who:
                    del fields[(item, f)]
            if field_name:
                fields.setdefault((item_id, field_name), {})[participant_id] = Editing(
                    participant_id, name, now + PRESENCE_SECONDS
                )
        return changed

    def editing(self, workshop_id: int) -> dict[int, dict[str, list[Editing]]]:
        """item -> field -> who (not faded)."""
        now = time.time()
        out: dict[int, dict[str, list[Editing]]] = {}
        with self._lock:
            fields = self._by.get(workshop_id, {})
            for (item, f), who in list(fields.items()):
                for pid, e in list(who.items()):
                    if e.until < now:
                        del who[pid]
                if not who:
                    del fields[(item, f)]
                    continue
                out.setdefault(item, {})[f] = sorted(who.values(), key=lambda e: e.name)
        return out
