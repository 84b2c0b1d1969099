"""Live events queued during a transaction and sent to the hub only after it commits."""

from __future__ import annotations

from sqlmodel import Session

from server.db import after_commit
from server.realtime.topics import Mark, Topic

CONSOLE_TOPICS = (Topic.STAGE, Topic.COUNTS, Topic.RESULTS)


def notify(session: Session, workshop_id: int, *topics: Mark) -> None:
    """Mark the workshop's ``topics`` dirty once this session commits (dropped on rollback)."""
    hub = session.info.get("hub")
    if hub is not None:
        after_commit(session, lambda: hub.mark_dirty(workshop_id, *topics))
