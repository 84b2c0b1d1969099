"""The log of exports (and imports): who took what out of Minka, when. Visible to admins."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from server.models.base import utcnow


class ExportLog(SQLModel, table=True):
    __tablename__ = "export_log"

    id: int | None = Field(default=None, primary_key=True)
    # Kept as they were (name, email) should the account go later.
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    user_name: str = Field(max_length=200)
    user_email: str = Field(max_length=254)
    scope: str = Field(max_length=12)  # "workshop", "chain"
    subject_id: int  # the workshop's or the chain's id
    subject: str = Field(max_length=300)  # its title, as it was
    product: str = Field(max_length=20)  # "xlsx", "csv", "opendata", "json", "pdf", "import", ...
    sha256: str = Field(default="", max_length=64)  # of the file handed out
    created_at: datetime = Field(default_factory=utcnow, index=True)
