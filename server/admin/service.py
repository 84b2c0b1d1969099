"""Administration: facilitator accounts and the installation-wide reference lists.

Accounts reuse the use cases of :mod:`server.auth.service`. Stakeholder groups, work
areas, the roadmap's phases and its funding sources have the same shape (a stable
``key``, a name in each language, a position), so one set of use cases serves them all;
``ReferenceKind`` says which table, what refers to it (by id, or by key), and whether
entries can be deactivated instead of deleted.

``access_*`` loads, ``check_*`` validates, ``do_*`` writes. Nothing here commits. Who
may call these (admins only) is checked by the routes' ``AdminUser`` dependency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, SQLModel, func, select

from server.auth.service import do_create_user, do_update_user
from server.errors import Invalid, NotFound, clean_text
from server.i18n import N_, Message
from server.models import (
    ActionLine,
    FundingSource,
    Participant,
    RoadmapItem,
    RoadmapPhase,
    StakeholderGroup,
    User,
    WorkArea,
)
from server.ordering import moved, renumber

# Accounts --------------------------------------------------------------------------


def checked(data: dict, field: str) -> bool:
    """A checkbox: present with any non-empty value means ticked."""
    return bool(str(data.get(field) or "").strip())


def access_account(session: Session, user_id: int) -> User:
    account = session.get(User, user_id)
    if account is None:
        raise NotFound()
    return account


def account_form(account: User) -> dict:
    """The edit form's initial values (never the password)."""
    return {
        "name": account.name,
        "email": account.email,
        "is_admin": "on" if account.is_admin else "",
        "is_active": "on" if account.is_active else "",
    }


def do_create_account(session: Session, data: dict) -> User:
    return do_create_user(session, data, is_admin=checked(data, "is_admin"))


def do_update_account(session: Session, actor: User, account: User, data: dict) -> User:
    """Edit an account; an admin cannot demote or deactivate themselves (the service refuses)."""
    clean = {**data, "is_admin": checked(data, "is_admin"), "is_active": checked(data, "is_active")}
    return do_update_user(session, actor, account, clean)


# Reference lists: stakeholder groups and work areas --------------------------------

KEY_RE = re.compile(r"^[a-z0-9_]+$")
KEY_MAX = 40
NAME_MAX = 200
MAX_ENTRIES = 100


@dataclass(frozen=True)
class ReferenceKind:
    slug: str  # in URLs
    model: type[SQLModel]
    used_by: Any  # the column of another table that points at an entry (None: nothing does)
    title: Message
    add_title: Message
    edit_title: Message
    empty: Message
    in_use: Message  # why an entry in use cannot be deleted
    can_deactivate: bool  # the model has an ``active`` flag
    by_key: bool = False  # ``used_by`` holds the entry's key, not its id


GROUPS = ReferenceKind(
    slug="groups",
    model=StakeholderGroup,
    used_by=Participant.stakeholder_group_id,
    title=Message(N_("Stakeholder groups")),
    add_title=Message(N_("Add a stakeholder group")),
    edit_title=Message(N_("Edit stakeholder group")),
    empty=Message(N_("No stakeholder groups yet.")),
    in_use=Message(N_("Participants chose this group, so it cannot be deleted. Deactivate it instead.")),
    can_deactivate=True,
)
WORK_AREAS = ReferenceKind(
    slug="work-areas",
    model=WorkArea,
    used_by=ActionLine.work_area_id,
    title=Message(N_("Work areas")),
    add_title=Message(N_("Add a work area")),
    edit_title=Message(N_("Edit work area")),
    empty=Message(N_("No work areas yet.")),
    in_use=Message(N_("Action lines use this work area, so it cannot be deleted.")),
    can_deactivate=False,
)

PHASES = ReferenceKind(
    slug="phases",
    model=RoadmapPhase,
    used_by=RoadmapItem.phase,
    title=Message(N_("Roadmap phases")),
    add_title=Message(N_("Add a phase")),
    edit_title=Message(N_("Edit phase")),
    empty=Message(N_("No phases yet.")),
    in_use=Message(N_("Roadmap items are in this phase, so it cannot be deleted. Deactivate it instead.")),
    can_deactivate=True,
    by_key=True,
)
FUNDING_SOURCES = ReferenceKind(
    slug="funding-sources",
    model=FundingSource,
    used_by=None,  # an item's funding source is free text: the list only offers names
    title=Message(N_("Funding sources")),
    add_title=Message(N_("Add a funding source")),
    edit_title=Message(N_("Edit funding source")),
    empty=Message(N_("No funding sources yet.")),
    in_use=Message(N_("This funding source is in use.")),
    can_deactivate=True,
)


def entries_of(session: Session, kind: ReferenceKind) -> list:
    model = kind.model
    return list(session.exec(select(model).order_by(model.position, model.id)))


def access_entry(session: Session, kind: ReferenceKind, entry_id: int):
    entry = session.get(kind.model, entry_id)
    if entry is None:
        raise NotFound()
    return entry


def entry_form(entry) -> dict:
    return {"key": entry.key, "name_es": entry.name_es, "name_en": entry.name_en}


def check_entry(session: Session, kind: ReferenceKind, data: dict, *, entry=None) -> dict:
    """Validate a new entry (key and both names) or an edited one (names only: keys are stable)."""
    errors: dict = {}
    model = kind.model
    clean: dict = {}
    if entry is None:
        key = clean_text(data, "key", errors, max_length=KEY_MAX).lower()
        if "key" not in errors and not KEY_RE.match(key):
            errors["key"] = Message(N_("Use only lowercase letters, digits and underscores, e.g. civil_society."))
        if "key" not in errors and session.exec(select(model.id).where(model.key == key)).first() is not None:
            errors["key"] = Message(N_("Another entry uses this key."))
        clean["key"] = key
    for field in ("name_es", "name_en"):
        name = clean_text(data, field, errors, max_length=NAME_MAX)
        if field not in errors:
            column = getattr(model, field)
            query = select(model.id).where(func.lower(column) == name.lower())
            other = session.exec(query).first()
            if other is not None and (entry is None or other != entry.id):
                errors[field] = Message(N_("Another entry has this name."))
        clean[field] = name
    if errors:
        raise Invalid(errors)
    return clean


def do_add_entry(session: Session, kind: ReferenceKind, data: dict):
    clean = check_entry(session, kind, data)
    existing = entries_of(session, kind)
    if len(existing) >= MAX_ENTRIES:
        raise Invalid({"key": Message(N_("A list holds at most %(n)s entries."), n=MAX_ENTRIES)})
    entry = kind.model(position=len(existing), **clean)
    session.add(entry)
    session.flush()
    return entry


def do_update_entry(session: Session, kind: ReferenceKind, entry, data: dict):
    clean = check_entry(session, kind, data, entry=entry)
    entry.name_es, entry.name_en = clean["name_es"], clean["name_en"]
    session.add(entry)
    session.flush()
    return entry


def do_move_entry(session: Session, kind: ReferenceKind, entry, delta: int) -> None:
    order = moved(entries_of(session, kind), entry.id, delta)
    renumber(order)
    session.add_all(order)
    session.flush()


def entry_in_use(session: Session, kind: ReferenceKind, entry) -> bool:
    if kind.used_by is None:
        return False
    query = select(kind.used_by).where(kind.used_by == (entry.key if kind.by_key else entry.id)).limit(1)
    return session.exec(query).first() is not None


def do_delete_entry(session: Session, kind: ReferenceKind, entry) -> None:
    """Delete an entry nothing refers to; one in use is kept, with a message."""
    if entry_in_use(session, kind, entry):
        raise Invalid({"entry": kind.in_use})
    session.delete(entry)
    session.flush()
    renumber(entries_of(session, kind))
    session.flush()


def do_set_active(session: Session, kind: ReferenceKind, entry, active: bool) -> None:
    """Offer an entry again (a group to participants, a phase or a funding source on the
    roadmap's forms), or stop offering it (past choices are kept)."""
    if not kind.can_deactivate:
        raise NotFound()
    entry.active = active
    session.add(entry)
    session.flush()
