"""Live tallies of activities (gap ratings, rankings), kept in memory and moved by each
committed write.

A tally is counted afresh from the database the first time it is needed (and again
after another process wrote, or a participant was removed); from then on each committed
answer moves it by its difference (old answer out, new answer in). The recount holds
the writer's lock, so it falls between two batches: every committed write is either in
the recount or applied after it, never both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from server.activities.registry import Registry
from server.models import Activity
from server.realtime.topics import Topic


def recount(session: Session, activity_id: int, registry: Registry) -> Any:
    """The tally of an activity counted afresh from the database, by its kind."""
    activity = session.get(Activity, activity_id)
    return registry[activity.kind].recount(session, activity_id)


class LiveTallies:
    def __init__(self, reader_engine, write_lock: threading.Lock, mark_dirty, registry: Registry):
        self.engine = reader_engine
        self.write_lock = write_lock
        self.mark_dirty = mark_dirty
        self.registry = registry
        self._lock = threading.Lock()
        self._tallies: dict[int, Any] = {}
        self._workshop_of: dict[int, int] = {}

    def get(self, activity_id: int, workshop_id: int) -> Any:
        with self._lock:
            tally = self._tallies.get(activity_id)
        if tally is not None:
            return tally
        with self.write_lock, Session(self.engine) as session:
            tally = recount(session, activity_id, self.registry)
            with self._lock:
                self._tallies[activity_id] = tally
                self._workshop_of[activity_id] = workshop_id
        return tally

    def apply(self, workshop_id: int, activity_id: int, change: Callable[[Any], None]) -> None:
        """Move a loaded tally by a committed write (an unloaded one is counted later)."""
        with self._lock:
            tally = self._tallies.get(activity_id)
            if tally is not None:
                change(tally)
        self.mark_dirty(workshop_id, Topic.RESULTS, Topic.COUNTS)

    def forget_workshop(self, workshop_id: int) -> None:
        """Count this workshop's tallies afresh next time (another process wrote, a
        participant was removed). Waits for a recount in progress, which may predate the
        change, so that it cannot be stored after being forgotten."""
        with self.write_lock, self._lock:
            for activity_id in [a for a, w in self._workshop_of.items() if w == workshop_id]:
                self._tallies.pop(activity_id, None)
                self._workshop_of.pop(activity_id, None)

    def forget_all(self) -> None:
        with self._lock:
            self._tallies.clear()
            self._workshop_of.clear()
