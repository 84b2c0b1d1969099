"""Facilitator and organizer accounts, and their login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from server.models.base import utcnow


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    is_admin: bool = False
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class LoginSession(SQLModel, table=True):
    """A server-side login: the cookie holds a random token, the table its SHA-256.

    Deleting the row logs the browser out (logout, password change, account disabled).
    """

    __tablename__ = "login_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    user_agent: str = Field(default="", max_length=300)
