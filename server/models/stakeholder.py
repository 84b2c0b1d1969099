"""Installation-wide reference lists: stakeholder groups and work areas.

Both carry their name in the two languages, because participants choose them on their
phones in either language.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class StakeholderGroup(SQLModel, table=True):
    __tablename__ = "stakeholder_group"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    name_es: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    position: int = 0
    active: bool = True

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_es


class WorkArea(SQLModel, table=True):
    __tablename__ = "work_area"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    name_es: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    position: int = 0

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_es
