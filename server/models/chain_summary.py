"""Summaries of closed activities, kept per workshop for the results across a chain.

Each kind counts the closed activities of one workshop into rows of numbers, by
participant attribute (``dim`` "group" or "segment", ``part`` the stakeholder group or
segment id, 0 for none): the chain's results then add a few thousand rows in the
database instead of a million answers. ``ChainStamp`` says which closed activities (and
which removals of participants) a workshop's summary was counted from: a read that finds
another stamp counts the workshop afresh, so an activity reopened leaves the results
until it closes again. See docs/performance.md.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class ChainStamp(SQLModel, table=True):
    __tablename__ = "chain_stamp"

    workshop_id: int = Field(foreign_key="workshop.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(primary_key=True, max_length=30)
    stamp: str = Field(max_length=2000)


class ChainGapCount(SQLModel, table=True):
    """Gap rating: ``measure`` is "seriousness" (value 1..5), an element (value: level
    0..3), "segment" (value: segment id hit), "segment_answers", "dots" (n: dots),
    "dot_voters" or "respondents" (value 0); ``n`` the count."""

    __tablename__ = "chain_gap_count"

    dim: str = Field(primary_key=True, max_length=8)
    workshop_id: int = Field(foreign_key="workshop.id", primary_key=True, ondelete="CASCADE")
    part: int = Field(primary_key=True)
    gap_id: int = Field(primary_key=True)
    measure: str = Field(primary_key=True, max_length=20)
    value: int = Field(primary_key=True)
    n: int = 0


class ChainRankCount(SQLModel, table=True):
    """Ranking: ``measure`` is "ballots", "voters" (a = b = 0), "offered" and "top" (line
    a, b = 0) or "pair" (ballots preferring line a to line b); ``n`` the count."""

    __tablename__ = "chain_rank_count"

    dim: str = Field(primary_key=True, max_length=8)
    workshop_id: int = Field(foreign_key="workshop.id", primary_key=True, ondelete="CASCADE")
    part: int = Field(primary_key=True)
    measure: str = Field(primary_key=True, max_length=8)
    a: int = Field(primary_key=True)
    b: int = Field(primary_key=True)
    n: int = 0
