"""What participants answered in live activities.

One row per participant, activity, item and question, enforced by a unique constraint:
a changed answer replaces the row (the latest counts). ``seq`` is the phone's own order
of the stored answer (None for a form posted without JavaScript): an answer the phone
sent earlier never replaces it (``activities.values.superseded``). ``Receipt`` holds the
idempotency key of every write a phone sent, so a retry never counts twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.models.base import utcnow


class GapAnswer(SQLModel, table=True):
    """An answer to one question about one gap: seriousness (1-5), relevance to an
    element (0 low .. 3 very high), or the segments the gap hits (``segments``)."""

    __tablename__ = "gap_answer"
    __table_args__ = (UniqueConstraint("participant_id", "activity_id", "gap_id", "question"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", ondelete="CASCADE")
    gap_id: int = Field(foreign_key="gap.id")
    question: str = Field(max_length=20)
    value: int | None = None
    segments: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    seq: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class DotVote(SQLModel, table=True):
    """Dots one participant put on one gap in a dot-voting activity."""

    __tablename__ = "dot_vote"
    __table_args__ = (UniqueConstraint("participant_id", "activity_id", "gap_id"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", ondelete="CASCADE")
    gap_id: int = Field(foreign_key="gap.id")
    dots: int = 0
    seq: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Receipt(SQLModel, table=True):
    """The idempotency key of a write a participant's phone sent (made by the phone)."""

    participant_id: int = Field(foreign_key="participant.id", primary_key=True, ondelete="CASCADE")
    key: str = Field(primary_key=True, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)


class RankingBallot(SQLModel, table=True):
    """A participant's ranking of an activity's action lines, most important first.
    Lines left out tie below the ranked ones (a partial ranking)."""

    __tablename__ = "ranking_ballot"
    __table_args__ = (UniqueConstraint("participant_id", "activity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", ondelete="CASCADE")
    ranking: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    seq: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class PairwiseAnswer(SQLModel, table=True):
    """One "which first?" answer of the pairwise mode; ``item_a`` < ``item_b``, ``choice``
    is "a", "b" or "tie" (can't decide)."""

    __tablename__ = "pairwise_answer"
    __table_args__ = (UniqueConstraint("participant_id", "activity_id", "item_a", "item_b"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", ondelete="CASCADE")
    item_a: int = Field(foreign_key="action_line.id")
    item_b: int = Field(foreign_key="action_line.id")
    choice: str = Field(max_length=4)
    seq: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: dt.datetime = Field(default_factory=utcnow)
