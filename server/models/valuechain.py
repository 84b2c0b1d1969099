"""A value chain, its ordered segments, who it is shared with, and its library.

The library (gaps and action lines) gives items a stable identity: every workshop of the
chain draws from it, so results can be followed across workshops. Items in use are
archived, never deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.models.base import utcnow


class ValueChain(SQLModel, table=True):
    __tablename__ = "value_chain"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    product: str = Field(default="", max_length=200)
    regions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str = Field(default="", max_length=4000)
    owner_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class ValueChainShare(SQLModel, table=True):
    """Another facilitator who may see and edit the chain and its workshops."""

    __tablename__ = "value_chain_share"

    value_chain_id: int = Field(foreign_key="value_chain.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True, ondelete="CASCADE")


class Segment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    value_chain_id: int = Field(foreign_key="value_chain.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    position: int = 0


class Gap(SQLModel, table=True):
    """A competitive gap (brecha) of the chain's library."""

    __table_args__ = (UniqueConstraint("value_chain_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    value_chain_id: int = Field(foreign_key="value_chain.id", index=True, ondelete="CASCADE")
    key: str | None = Field(default=None, max_length=40, description="Method key, if any")
    title: str = Field(max_length=300)
    description: str = Field(default="", max_length=4000)
    mechanisms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: int = 0
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class ActionLine(SQLModel, table=True):
    """A candidate action (línea de acción) of the chain's library."""

    __tablename__ = "action_line"
    __table_args__ = (UniqueConstraint("value_chain_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    value_chain_id: int = Field(foreign_key="value_chain.id", index=True, ondelete="CASCADE")
    key: str | None = Field(default=None, max_length=40)
    title: str = Field(max_length=300)
    description: str = Field(default="", max_length=4000)
    work_area_id: int | None = Field(default=None, foreign_key="work_area.id", ondelete="SET NULL")
    position: int = 0
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)
