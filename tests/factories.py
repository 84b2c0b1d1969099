"""Small plain functions that put data in the database for a test (they commit)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from server.auth.service import do_create_user
from server.models import StakeholderGroup, User, ValueChain, WorkArea, Workshop
from server.valuechains import library
from server.valuechains.service import do_create_chain
from server.workshops.service import do_create_workshop

PASSWORD = "correct horse battery"


@dataclass
class Users:
    a: User
    b: User
    admin: User


def user(db: Session, email: str, name: str = "Someone", *, admin: bool = False) -> User:
    u = do_create_user(db, {"name": name, "email": email, "password": PASSWORD}, is_admin=admin)
    db.commit()
    return u


def chain(
    db: Session,
    owner: User,
    name: str = "Café",
    segments: str = "Productores\nCooperativas\nExportadores",
    gaps: int = 3,
    action_lines: int = 3,
) -> ValueChain:
    c = do_create_chain(db, owner, {"name": name, "product": "café", "regions": "Cusco, Puno", "segments": segments})
    for n in range(gaps):
        library.do_add_item(db, c, library.GAPS, {"title": f"Brecha {n + 1}", "mechanisms": "Capacitación"})
    for n in range(action_lines):
        library.do_add_item(db, c, library.ACTION_LINES, {"title": f"Línea {n + 1}"})
    db.commit()
    return c


def workshop(
    db: Session, owner: User, c: ValueChain, template: str = "prioritization", title: str = "Taller"
) -> Workshop:
    w = do_create_workshop(
        db,
        owner,
        c,
        {
            "title": title,
            "date": dt.date(2026, 12, 1).isoformat(),
            "language": "es",
            "attendance": "full",
            "template": template,
            "region": "Cusco",
        },
    )
    db.commit()
    return w


def reference_lists(db: Session) -> None:
    db.add(StakeholderGroup(key="public", name_es="Sector público", name_en="Public sector", position=0))
    db.add(StakeholderGroup(key="private", name_es="Sector privado", name_en="Private sector", position=1))
    db.add(WorkArea(key="training", name_es="Formación", name_en="Training", position=0))
    db.commit()
