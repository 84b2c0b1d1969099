"""Live events queued during a transaction and sent to the hub only after it commits."""

from __future__ import annotations

from sqlmodel import Session

from server.db import after_commit

CONSOLE_TOPICS = ("stage", "counts", "results")


def notify(session: Session, workshop_id: int, *topics: str) -> None:
    """Mark the workshop's ``topics`` dirty once this session commits (dropped on rollback)."""
    hub = session.info.get("hub")
    if hub is not None:
        after_commit(session, lambda: hub.mark_dirty(workshop_id, *topics))
