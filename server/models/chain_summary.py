"""Summaries of closed activities, kept per workshop for the results across a chain.

Each kind counts the closed activities of one workshop into a few cells, by participant
attribute (``dim`` "group" or "segment", ``part`` the stakeholder group or segment id, 0
for none, -1 for the whole workshop), each holding its counts as JSON: the chain's
results then read a few thousand cells instead of a million answers. ``ChainStamp`` says which closed activities (and
which removals of participants) a workshop's summary was counted from: a read that finds
another stamp counts the workshop afresh, so an activity reopened leaves the results
until it closes again. See docs/performance.md.
"""

from __future__ import annotations

from sqlalchemy import Text
from sqlmodel import Field, SQLModel


class ChainStamp(SQLModel, table=True):
    __tablename__ = "chain_stamp"

    workshop_id: int = Field(foreign_key="workshop.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(primary_key=True, max_length=30)
    stamp: str = Field(max_length=2000)


class ChainGapCell(SQLModel, table=True):
    """Gap rating: one gap's counts in one workshop for one part (``part`` -1: the whole
    workshop), as JSON (``gaps/chain.py``: a vector of counts and the segments hit)."""

    __tablename__ = "chain_gap_cell"

    dim: str = Field(primary_key=True, max_length=8)
    workshop_id: int = Field(foreign_key="workshop.id", primary_key=True, ondelete="CASCADE")
    part: int = Field(primary_key=True)
    gap_id: int = Field(primary_key=True)
    data: str = Field(sa_type=Text)


class ChainRankCell(SQLModel, table=True):
    """Ranking: one workshop's ballots for one part (``part`` -1: the whole workshop), as
    JSON (``ranking/chain.py``: counts per line and pair, and the room's own order)."""

    __tablename__ = "chain_rank_cell"

    dim: str = Field(primary_key=True, max_length=8)
    workshop_id: int = Field(foreign_key="workshop.id", primary_key=True, ondelete="CASCADE")
    part: int = Field(primary_key=True)
    data: str = Field(sa_type=Text)
