"""Workshops of a value chain and their agenda.

Access to a workshop follows access to its value chain. Activities can be added,
configured, reordered and removed while they are pending (before they run).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.activities.kinds import KINDS, ActivityKind
from server.activities.values import an_id
from server.db import current, lock
from server.errors import Conflict, Invalid, NotFound, clean_text
from server.i18n import LOCALES, N_, Message, Translator
from server.models import (
    ActionLine,
    Activity,
    ActivityItem,
    ActivityStatus,
    Attendance,
    Gap,
    User,
    ValueChain,
    Workshop,
    WorkshopStatus,
)
from server.ordering import moved, renumber
from server.valuechains.library import KINDS as LIBRARY_KINDS
from server.valuechains.library import items_of
from server.valuechains.service import access_chain
from server.workshops import codes
from server.workshops.methods import TEMPLATES

MAX_ACTIVITIES = 30


def workshops_of(session: Session, chain: ValueChain) -> list[Workshop]:
    query = select(Workshop).where(Workshop.value_chain_id == chain.id)
    return list(session.exec(query.order_by(col(Workshop.date).desc(), col(Workshop.id).desc())))


def access_workshop(session: Session, user: User, workshop_id: int) -> tuple[Workshop, ValueChain]:
    """The workshop and its chain, if the user may see the chain."""
    workshop = session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound()
    return workshop, access_chain(session, user, workshop.value_chain_id)


MAX_MIN_GROUP_SIZE = 100


def check_min_group_size(raw, floor: int, errors: dict) -> int | None:
    """A workshop's minimum number of answers behind a shown figure: empty (the installation's
    ``floor``), or a whole number from ``floor`` up (a workshop may raise it, never lower it)."""
    text = str(raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or not floor <= int(text) <= MAX_MIN_GROUP_SIZE:
        errors["min_group_size"] = Message(
            N_("Enter a whole number from %(low)s to %(high)s, or leave it empty."), low=floor, high=MAX_MIN_GROUP_SIZE
        )
        return None
    return int(text)


def min_group_size(workshop: Workshop, installation: int) -> int:
    """The fewest answers behind any figure shown of this workshop."""
    return max(installation, workshop.min_group_size or 0)


def check_workshop(data: dict, floor: int = 1) -> dict:
    errors: dict = {}
    clean: dict = {
        "title": clean_text(data, "title", errors),
        "region": clean_text(data, "region", errors, required=False, max_length=120),
        "town": clean_text(data, "town", errors, required=False, max_length=120),
    }
    raw_date = str(data.get("date") or "").strip()
    try:
        clean["date"] = dt.date.fromisoformat(raw_date)
    except ValueError:
        errors["date"] = Message(N_("Enter a date (year-month-day)."))
    language = str(data.get("language") or "")
    if language not in LOCALES:
        errors["language"] = Message(N_("Choose one of the options."))
    clean["language"] = language
    try:
        clean["attendance"] = Attendance(str(data.get("attendance") or ""))
    except ValueError:
        errors["attendance"] = Message(N_("Choose one of the options."))
    template = str(data.get("template") or "")
    if template and template not in TEMPLATES:
        errors["template"] = Message(N_("Choose one of the options."))
    clean["template"] = template
    clean["min_group_size"] = check_min_group_size(data.get("min_group_size"), floor, errors)
    if errors:
        raise Invalid(errors)
    return clean


def _unused_code(session: Session) -> str:
    for _ in range(50):
        code = codes.new_code()
        if session.exec(select(Workshop.id).where(Workshop.join_code == code)).first() is None:
            return code
    raise RuntimeError("no free join code")  # 900,000 codes: practically unreachable


def do_create_workshop(session: Session, user: User, chain: ValueChain, data: dict, floor: int = 1) -> Workshop:
    """``floor``: the installation's minimum group size, which the workshop may only raise."""
    clean = check_workshop(data, floor)
    template = clean.pop("template")
    workshop = Workshop(value_chain_id=chain.id, created_by=user.id, **clean)
    # The unique constraint settles a race between two creations that drew the same code.
    for attempt in range(5):
        workshop.join_code = _unused_code(session)
        try:
            with session.begin_nested():
                session.add(workshop)
                session.flush()
            break
        except IntegrityError:
            if attempt == 4:
                raise
    if template:
        apply_template(session, chain, workshop, template)
    return workshop


def do_update_workshop(session: Session, workshop: Workshop, data: dict, floor: int = 1) -> Workshop:
    clean = check_workshop({**data, "template": ""}, floor)
    clean.pop("template")
    for key, value in clean.items():
        setattr(workshop, key, value)
    session.add(workshop)
    session.flush()
    return workshop


def do_new_code(session: Session, workshop: Workshop) -> str:
    if workshop.status == WorkshopStatus.ended:  # its code stays released
        raise Invalid({"__all__": Message(N_("This workshop has ended."))})
    workshop.join_code = _unused_code(session)
    session.add(workshop)
    session.flush()
    return workshop.join_code


# Agenda ----------------------------------------------------------------------------


def agenda_of(session: Session, workshop: Workshop) -> list[Activity]:
    """The agenda as it is now (rows loaded earlier are refreshed: see ``db.lock``)."""
    query = select(Activity).where(Activity.workshop_id == workshop.id).execution_options(populate_existing=True)
    return list(session.exec(query.order_by(Activity.position, Activity.id)))


def _still_pending(session: Session, workshop: Workshop, activity: Activity) -> Activity:
    """Lock the agenda; the activity as it is now, if it was not removed meanwhile and has
    not run (see ``check_pending``)."""
    lock(session, workshop)
    now = current(session, activity)
    if now is None:
        raise Conflict()
    check_pending(now)
    return now


def access_activity(session: Session, workshop: Workshop, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None or activity.workshop_id != workshop.id:
        raise NotFound()
    return activity


def activity_items(session: Session, activity: Activity) -> list[Gap | ActionLine]:
    """The library items an activity draws, in order."""
    kind = KINDS[activity.kind]
    model, column = (Gap, ActivityItem.gap_id) if kind.library == "gaps" else (ActionLine, ActivityItem.action_line_id)
    query = (
        select(model)
        .join(ActivityItem, column == model.id)
        .where(ActivityItem.activity_id == activity.id)
        .order_by(ActivityItem.position, ActivityItem.id)
    )
    return list(session.exec(query))


def available_items(session: Session, chain: ValueChain, kind: ActivityKind):
    return items_of(session, chain, LIBRARY_KINDS[kind.library], archived=False)


def check_activity(
    session: Session,
    chain: ValueChain,
    kind_key: str,
    data: dict,
    item_ids: list[str],
    agenda: frozenset[str] = frozenset(),
) -> tuple[ActivityKind, dict]:
    """``agenda``: the kinds of the workshop's other activities (a roadmap may take its
    action lines from a ranking there, and then needs none chosen)."""
    errors: dict = {}
    kind = KINDS.get(kind_key)
    if kind is None:
        raise Invalid({"kind": Message(N_("Choose one of the options."))})
    clean: dict = {"title": clean_text(data, "title", errors)}
    clean["settings"] = kind.check_settings(data, errors)
    library = {item.id: item for item in available_items(session, chain, kind)}
    chosen: list[int] = []
    for raw in item_ids:
        item_id = an_id(raw)
        if item_id not in library:
            errors["items"] = Message(N_("Choose items from the chain's library."))
            break
        if item_id not in chosen:
            chosen.append(item_id)
    if not chosen and "items" not in errors:
        needed = N_("Choose at least one item.")
        if kind.items_needed is not None:
            needed = kind.items_needed(clean["settings"], agenda)
        if needed:
            errors["items"] = Message(needed)
    order = {item_id: n for n, item_id in enumerate(library)}
    clean["items"] = sorted(chosen, key=order.__getitem__)
    if errors:
        raise Invalid(errors)
    return kind, clean


def _set_items(session: Session, activity: Activity, kind: ActivityKind, item_ids: list[int]) -> None:
    for row in session.exec(select(ActivityItem).where(ActivityItem.activity_id == activity.id)):
        session.delete(row)
    session.flush()
    column = "gap_id" if kind.library == "gaps" else "action_line_id"
    for position, item_id in enumerate(item_ids):
        session.add(ActivityItem(activity_id=activity.id, position=position, **{column: item_id}))
    session.flush()


def do_add_activity(
    session: Session, chain: ValueChain, workshop: Workshop, data: dict, item_ids: list[str]
) -> Activity:
    lock(session, workshop)
    agenda = agenda_of(session, workshop)
    kinds = frozenset(a.kind for a in agenda)
    kind, clean = check_activity(session, chain, str(data.get("kind") or ""), data, item_ids, kinds)
    if len(agenda) >= MAX_ACTIVITIES:
        raise Invalid({"kind": Message(N_("An agenda holds at most %(n)s activities."), n=MAX_ACTIVITIES)})
    activity = Activity(
        workshop_id=workshop.id,
        kind=kind.key,
        title=clean["title"],
        settings=clean["settings"],
        position=len(agenda),
    )
    session.add(activity)
    session.flush()
    _set_items(session, activity, kind, clean["items"])
    return activity


def check_pending(activity: Activity) -> None:
    if activity.status != ActivityStatus.pending:
        raise Invalid({"__all__": Message(N_("This activity has already run; it can no longer be changed."))})


def do_update_activity(
    session: Session, chain: ValueChain, activity: Activity, data: dict, item_ids: list[str]
) -> Activity:
    workshop = session.get(Workshop, activity.workshop_id)
    activity = _still_pending(session, workshop, activity)
    kinds = frozenset(a.kind for a in agenda_of(session, workshop) if a.id != activity.id)
    kind, clean = check_activity(session, chain, activity.kind, data, item_ids, kinds)
    activity.title, activity.settings = clean["title"], clean["settings"]
    session.add(activity)
    session.flush()
    _set_items(session, activity, kind, clean["items"])
    return activity


def do_move_activity(session: Session, workshop: Workshop, activity: Activity, delta: int) -> None:
    activity = _still_pending(session, workshop, activity)
    order = moved(agenda_of(session, workshop), activity.id, delta)
    renumber(order)
    session.add_all(order)
    session.flush()


def do_remove_activity(session: Session, workshop: Workshop, activity: Activity) -> None:
    activity = _still_pending(session, workshop, activity)
    session.delete(activity)
    session.flush()
    renumber(agenda_of(session, workshop))
    session.flush()


def apply_template(session: Session, chain: ValueChain, workshop: Workshop, key: str) -> list[Activity]:
    """Append the template's steps to the agenda, each drawing every active library item."""
    t = Translator(workshop.language)
    created = []
    for step in TEMPLATES[key].steps:
        kind = KINDS[step.kind]
        items = [str(i.id) for i in available_items(session, chain, kind)]
        if not items:
            continue
        data = {**kind.defaults(), **step.settings, "kind": kind.key, "title": t.gettext(step.title)}
        data = {k: ("on" if v is True else "" if v is False else v) for k, v in data.items()}
        created.append(do_add_activity(session, chain, workshop, data, items))
    return created
