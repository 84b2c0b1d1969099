"""A workshop of a value chain, its agenda of activities, and its participants."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from server.models.base import utcnow


def _text_enum(enum: type[StrEnum]) -> SAEnum:
    """Stored as plain text (no native PostgreSQL type): adding a value needs no ALTER TYPE."""
    return SAEnum(enum, native_enum=False, length=12, values_callable=lambda e: [m.value for m in e])


class Attendance(StrEnum):
    """What a workshop asks of each participant when they join."""

    none = "none"
    name = "name"
    full = "full"  # name, organization, stakeholder group, segment


class WorkshopStatus(StrEnum):
    draft = "draft"
    live = "live"
    ended = "ended"


class Workshop(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    value_chain_id: int = Field(foreign_key="value_chain.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    date: dt.date
    region: str = Field(default="", max_length=120)
    town: str = Field(default="", max_length=120)
    language: str = Field(default="es", max_length=5)
    attendance: Attendance = Field(default=Attendance.full, sa_type=_text_enum(Attendance))
    status: WorkshopStatus = Field(default=WorkshopStatus.draft, sa_type=_text_enum(WorkshopStatus))
    # Unique among workshops that have one; released (set to NULL) when a workshop ends.
    join_code: str | None = Field(default=None, max_length=12, unique=True)
    joining_open: bool = True
    current_activity_id: int | None = Field(default=None)
    # Fewest answers behind a shown figure; None: the installation's (a workshop may only raise it).
    min_group_size: int | None = Field(default=None)
    created_by: int = Field(foreign_key="user.id")
    created_at: dt.datetime = Field(default_factory=utcnow)


class ActivityStatus(StrEnum):
    pending = "pending"
    open = "open"
    closed = "closed"


class Activity(SQLModel, table=True):
    """One step of a workshop's agenda. ``kind`` names its type in the activity registry."""

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=30)
    title: str = Field(max_length=200)
    position: int = 0
    settings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: ActivityStatus = Field(default=ActivityStatus.pending, sa_type=_text_enum(ActivityStatus))
    opened_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    # Live controls: results shown on phones (hidden by default, against anchoring), timer.
    revealed: bool = False
    # Results shown on the projector before phones; the projector otherwise follows ``revealed``.
    projector_results: bool = False
    timer_ends_at: dt.datetime | None = None


class ActivityItem(SQLModel, table=True):
    """A library item (gap or action line) that an activity draws, in its order."""

    __tablename__ = "activity_item"
    __table_args__ = (
        UniqueConstraint("activity_id", "gap_id"),
        UniqueConstraint("activity_id", "action_line_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    gap_id: int | None = Field(default=None, foreign_key="gap.id", index=True)
    action_line_id: int | None = Field(default=None, foreign_key="action_line.id", index=True)
    position: int = 0


class Participant(SQLModel, table=True):
    """Someone who joined one workshop from a phone. The token (hashed here) is theirs alone."""

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(foreign_key="workshop.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    name: str = Field(default="", max_length=200)
    organization: str = Field(default="", max_length=200)
    stakeholder_group_id: int | None = Field(default=None, foreign_key="stakeholder_group.id")
    segment_id: int | None = Field(default=None, foreign_key="segment.id", index=True)
    joined_at: dt.datetime = Field(default_factory=utcnow)
    removed: bool = False
