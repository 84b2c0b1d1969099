"""The roadmap of a value chain (the method's step 5), co-edited live.

Roadmap items belong to the value chain, like its gaps and action lines: a workshop's
roadmap activity brings some in (``RoadmapActivityItem``) and works on them, and a later
workshop picks up the same items. Every scalar field of an item carries its own version
(``v_<field>``): an edit applies only if the version it started from is still the
stored one (one conditional UPDATE, see ``activities/roadmap/service.py``). Partners,
milestones and indicators are rows of their own, each with its version, so two people
adding a milestone at once both succeed. Every accepted change is a ``RoadmapRevision``.

Commitments are never edited: a withdrawal is a record of its own. Comments can be
hidden by a facilitator; +1 is one row per participant and item.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.models.base import utcnow


class RoadmapPhase(SQLModel, table=True):
    """One of the method's phases (installation-wide, editable; seeded from method.json)."""

    __tablename__ = "roadmap_phase"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    name_es: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    position: int = 0
    active: bool = True

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_es


class FundingSource(SQLModel, table=True):
    """A funding source offered on the item's form (installation-wide; the item's field
    is free text, so a source not on the list can still be written)."""

    __tablename__ = "funding_source"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    name_es: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    position: int = 0
    active: bool = True

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_es


class RoadmapItem(SQLModel, table=True):
    """What will be done, when, by whom, with how much money. ``v_<field>`` is the field's
    version (0 when created, one more at each accepted change)."""

    __tablename__ = "roadmap_item"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint("budget_amount IS NULL OR budget_amount >= 0", name="budget_non_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    value_chain_id: int = Field(foreign_key="value_chain.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=300)
    description: str = Field(default="", max_length=4000)
    horizon: str | None = Field(default=None, max_length=12)  # short / medium / long
    phase: str | None = Field(default=None, max_length=40)  # a RoadmapPhase key
    lead_organization: str = Field(default="", max_length=200)
    budget_amount: Decimal | None = Field(default=None, sa_type=Numeric(14, 2))
    budget_currency: str | None = Field(default=None, max_length=3)  # ISO 4217
    funding_source: str = Field(default="", max_length=200)
    pilot: bool = False
    status: str = Field(default="proposed", max_length=12)
    progress: int = 0
    v_title: int = 0
    v_description: int = 0
    v_horizon: int = 0
    v_phase: int = 0
    v_lead_organization: int = 0
    v_budget: int = 0
    v_funding_source: int = 0
    v_pilot: int = 0
    v_status: int = 0
    v_progress: int = 0
    locked: bool = False
    position: int = 0  # the chain's order of its roadmap (creation order by default)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class RoadmapItemActionLine(SQLModel, table=True):
    """An action line the item answers (kept when the item was made from it)."""

    __tablename__ = "roadmap_item_action_line"

    item_id: int = Field(foreign_key="roadmap_item.id", primary_key=True, ondelete="CASCADE")
    action_line_id: int = Field(foreign_key="action_line.id", primary_key=True, index=True, ondelete="CASCADE")


class RoadmapItemGap(SQLModel, table=True):
    """A competitive gap the item answers."""

    __tablename__ = "roadmap_item_gap"

    item_id: int = Field(foreign_key="roadmap_item.id", primary_key=True, ondelete="CASCADE")
    gap_id: int = Field(foreign_key="gap.id", primary_key=True, index=True, ondelete="CASCADE")


class RoadmapActivityItem(SQLModel, table=True):
    """An item a workshop's roadmap activity brought in, in the activity's order."""

    __tablename__ = "roadmap_activity_item"
    __table_args__ = (UniqueConstraint("activity_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="roadmap_item.id", index=True, ondelete="CASCADE")
    position: int = 0


class RoadmapPartner(SQLModel, table=True):
    """A partner organization of an item: a row of its own, with its version. A removed
    row is kept (``removed``) so that a revision can bring it back."""

    __tablename__ = "roadmap_partner"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id", index=True, ondelete="CASCADE")
    organization: str = Field(max_length=200)
    version: int = 1
    removed: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)


class RoadmapMilestone(SQLModel, table=True):
    __tablename__ = "roadmap_milestone"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id", index=True, ondelete="CASCADE")
    text: str = Field(max_length=300)
    target_date: dt.date | None = None
    version: int = 1
    removed: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)


class RoadmapIndicator(SQLModel, table=True):
    """An indicator: its name, baseline and target (as written: "12", "none yet") and unit."""

    __tablename__ = "roadmap_indicator"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    baseline: str = Field(default="", max_length=100)
    target: str = Field(default="", max_length=100)
    unit: str = Field(default="", max_length=60)
    version: int = 1
    removed: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)


class RoadmapRevision(SQLModel, table=True):
    """One accepted change of an item. ``field`` is one of the item's fields
    (``activities/roadmap/fields.py``), a list ("partner", "milestone", "indicator", with
    ``row_id``), a link ("action_line", "gap", with ``row_id`` the linked id), "item"
    (created) or "locked". ``old`` and
    ``new`` are JSON (None: the row did not exist / was removed). ``change`` is create,
    edit, add, remove, restore, link, unlink or lock. Who: a participant or a user (a
    facilitator); ``author`` keeps the name shown at the time."""

    __tablename__ = "roadmap_revision"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id", index=True, ondelete="CASCADE")
    field: str = Field(max_length=30)
    row_id: int | None = None
    change: str = Field(max_length=12)
    old: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    new: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    version: int = 0  # the field's (or row's) version this change made
    restored_from: int | None = Field(default=None, foreign_key="roadmap_revision.id", ondelete="SET NULL")
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True, ondelete="SET NULL")
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    author: str = Field(default="", max_length=200)
    activity_id: int | None = Field(default=None, foreign_key="activity.id", index=True, ondelete="SET NULL")
    workshop_id: int | None = Field(default=None, foreign_key="workshop.id", index=True, ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)


class RoadmapCommitment(SQLModel, table=True):
    """An organization commits to an item, with a role. Never edited: withdrawing it is a
    ``RoadmapWithdrawal``. Made by a participant (``participant_id``), or by a facilitator
    (``user_id``) on behalf of someone (``participant_id`` then names them, if they joined)."""

    __tablename__ = "roadmap_commitment"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id", index=True, ondelete="CASCADE")
    organization: str = Field(max_length=200)
    role: str = Field(max_length=12)  # lead / partner / funder / other
    note: str = Field(default="", max_length=500)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", ondelete="SET NULL")
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    author: str = Field(default="", max_length=200)
    activity_id: int | None = Field(default=None, foreign_key="activity.id", ondelete="SET NULL")
    made_at: dt.datetime = Field(default_factory=utcnow)


class RoadmapWithdrawal(SQLModel, table=True):
    """A commitment withdrawn (at most once: the commitment is the key)."""

    __tablename__ = "roadmap_withdrawal"

    commitment_id: int = Field(foreign_key="roadmap_commitment.id", primary_key=True, ondelete="CASCADE")
    participant_id: int | None = Field(default=None, foreign_key="participant.id", ondelete="SET NULL")
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    author: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=500)
    activity_id: int | None = Field(default=None, foreign_key="activity.id", ondelete="SET NULL")
    made_at: dt.datetime = Field(default_factory=utcnow)


class RoadmapComment(SQLModel, table=True):
    __tablename__ = "roadmap_comment"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id", index=True, ondelete="CASCADE")
    text: str = Field(max_length=1000)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", ondelete="SET NULL")
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    author: str = Field(default="", max_length=200)
    activity_id: int | None = Field(default=None, foreign_key="activity.id", ondelete="SET NULL")
    hidden: bool = False
    hidden_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    hidden_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class RoadmapSupport(SQLModel, table=True):
    """A participant's +1 on an item (one per participant and item)."""

    __tablename__ = "roadmap_support"

    item_id: int = Field(foreign_key="roadmap_item.id", primary_key=True, ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", primary_key=True, index=True, ondelete="CASCADE")
    created_at: dt.datetime = Field(default_factory=utcnow)


class RoadmapSuggestion(SQLModel, table=True):
    """A participant's change waiting for the facilitator (an activity whose edit mode is
    "suggest"): ``change`` is the edit as ``merge`` reads it (JSON). ``status``: pending,
    accepted, rejected."""

    __tablename__ = "roadmap_suggestion"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="roadmap_item.id", index=True, ondelete="CASCADE")
    change: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    participant_id: int | None = Field(default=None, foreign_key="participant.id", ondelete="SET NULL")
    author: str = Field(default="", max_length=200)
    activity_id: int | None = Field(default=None, foreign_key="activity.id", ondelete="SET NULL")
    status: str = Field(default="pending", max_length=12)
    decided_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    decided_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class RoadmapReceipt(SQLModel, table=True):
    """The idempotency key of a roadmap write and the outcome it had (JSON), so a repeat
    is answered with the first outcome. One of ``participant_id`` / ``user_id`` is set."""

    __tablename__ = "roadmap_receipt"
    __table_args__ = (UniqueConstraint("participant_id", "key"), UniqueConstraint("user_id", "key"))

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="CASCADE")
    key: str = Field(max_length=64)
    outcome: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: dt.datetime = Field(default_factory=utcnow)
