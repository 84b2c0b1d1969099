"""Roadmap items: creating one (new, or from an action line, keeping the link), and the
items a roadmap activity brings in (``bring_in``, by its settings, see ``spec.py``).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select
from sqlmodel import Session

from server.activities.ranking import service as ranking
from server.activities.ranking.spec import RANKING
from server.activities.ranking.tally import live_results
from server.activities.receipts import refuse
from server.activities.roadmap import merge
from server.activities.roadmap.actors import Actor, check_facilitator
from server.activities.roadmap.fields import ITEM_FIELDS, clean_field, from_columns, to_columns
from server.activities.roadmap.outcomes import Done, Outcome
from server.activities.roadmap.service import Who_, add_revision, keyed, phase_keys
from server.activities.values import an_id
from server.errors import Invalid
from server.i18n import N_, Message
from server.models import (
    ActionLine,
    Activity,
    ActivityItem,
    RoadmapActivityItem,
    RoadmapItem,
    RoadmapItemActionLine,
    Workshop,
)
from server.statements import insert_ignore

MAX_ITEMS = 500  # per chain
CLOSED = ("done", "dropped")


def check_item_fields(session: Session, raw: dict, *, title_required: bool = True) -> dict:
    """The fields given for a new item, each checked (all messages at once)."""
    errors, clean = {}, {}
    phases = phase_keys(session)
    for field in ITEM_FIELDS:
        if field not in raw or (field == "title" and not title_required and not raw.get("title")):
            continue
        try:
            clean[field] = clean_field(field, raw[field], phases)
        except Invalid as exc:
            errors.update(exc.errors)
    if title_required and "title" not in clean and "title" not in errors:
        errors["title"] = Message(N_("This field is required."))
    if errors:
        raise Invalid(errors)
    return clean


def _new_item(session: Session, actor: Actor, clean: dict, line: ActionLine | None) -> RoadmapItem:
    count, last = session.execute(
        select(func.count(), func.max(RoadmapItem.position)).where(RoadmapItem.value_chain_id == actor.chain_id)
    ).one()
    if count >= MAX_ITEMS:
        raise refuse(N_("A roadmap holds at most %(n)s items."), n=MAX_ITEMS)
    if line is not None:
        clean.setdefault("title", line.title[:300])
        clean.setdefault("description", line.description)
    columns = {}
    for field, value in clean.items():
        columns.update(to_columns(field, value))
    item = RoadmapItem(value_chain_id=actor.chain_id, position=(last if last is not None else -1) + 1, **columns)
    session.add(item)
    session.flush()
    if line is not None:
        session.add(RoadmapItemActionLine(item_id=item.id, action_line_id=line.id))
    created = {field: from_columns(field, item) for field in ITEM_FIELDS}
    if line is not None:
        created["action_lines"] = [line.id]
    add_revision(session, actor, item.id, "item", merge.Revision("item", None, created, 0, merge.CREATE))
    if actor.activity_id is not None:
        _bring(session, actor.activity_id, [item.id])
    return item


def _line(session: Session, actor: Actor, action_line_id) -> ActionLine | None:
    if action_line_id is None or action_line_id == "":
        return None
    line = session.get(ActionLine, an_id(action_line_id)) if an_id(action_line_id) is not None else None
    if line is None or line.value_chain_id != actor.chain_id:
        raise refuse(N_("Choose items from the chain's library."))
    return line


def create_item(session: Session, who: Who_, raw: dict, *, action_line_id=None, key=None) -> Outcome:
    """A new item of the actor's chain (brought into the actor's activity): from an action
    line (its title and description unless given, and the link), or new. Participants
    may create items only where they edit directly."""

    def check(actor: Actor):
        if actor.suggest:
            raise refuse(N_("In this activity the facilitator adds the items; suggest changes to them instead."))
        line = _line(session, actor, action_line_id)
        if not isinstance(raw, dict):
            raise refuse(N_("Fill in the row's fields."))
        return check_item_fields(session, raw, title_required=line is None), line

    def write(actor: Actor, prepared) -> Outcome:
        clean, line = prepared
        item = _new_item(session, actor, clean, line)
        return Done(item.id, "item", item.id)

    return keyed(session, who, key, check, write)


# Bringing items into an activity ----------------------------------------------------


def _bring(session: Session, activity_id: int, item_ids: list[int]) -> None:
    last = session.execute(
        select(func.max(RoadmapActivityItem.position)).where(RoadmapActivityItem.activity_id == activity_id)
    ).scalar_one()
    position = (last if last is not None else -1) + 1
    for item_id in item_ids:
        row = {"activity_id": activity_id, "item_id": item_id, "position": position}
        if insert_ignore(session, RoadmapActivityItem, row):
            position += 1


def items_of_activity(session: Session, activity_id: int) -> list[int]:
    """The items an activity brought in, in its order."""
    return list(
        session.execute(
            select(RoadmapActivityItem.item_id)
            .where(RoadmapActivityItem.activity_id == activity_id)
            .order_by(RoadmapActivityItem.position, RoadmapActivityItem.id)
        ).scalars()
    )


def ranking_order(session: Session, activity: Activity) -> list[int] | None:
    """The action lines of the workshop's ranking activity (the last one before this
    activity on the agenda, else the first after it), in its headline order: lines with
    no placement (no ballot yet) keep the ranking's own order. None without a ranking."""
    rankings = list(
        session.execute(
            select(Activity)
            .where(Activity.workshop_id == activity.workshop_id, Activity.kind == RANKING.key)
            .order_by(Activity.position, Activity.id)
        ).scalars()
    )
    if not rankings:
        return None
    before = [a for a in rankings if a.position < activity.position]
    source = before[-1] if before else rankings[0]
    tally = ranking.recount(session, source.id)
    results = live_results(tally, 1)
    settings = source.settings or {}
    headline = settings.get("headline") or ("bradley_terry" if settings.get("mode") == "pairwise" else "schulze")
    placements = results.get(headline) or next(iter(results.values()), [])
    ordered = [p.item for p in sorted(placements, key=lambda p: p.rank)]
    return ordered + [i for i in tally.items if i not in ordered]


def lines_for(session: Session, activity: Activity) -> list[int]:
    """The action lines whose items the activity brings in (``spec.py``: ``lines_from``)."""
    settings = activity.settings or {}
    chosen = list(
        session.execute(
            select(ActivityItem.action_line_id)
            .where(ActivityItem.activity_id == activity.id, ActivityItem.action_line_id.is_not(None))
            .order_by(ActivityItem.position, ActivityItem.id)
        ).scalars()
    )
    if settings.get("lines_from", "ranking") == "ranking":
        ranked = ranking_order(session, activity)
        if ranked:
            return ranked[: int(settings.get("top", 5))]
    return chosen


def bring_in(session: Session, actor: Actor, activity: Activity, lines: list[int] | None = None) -> list[int]:
    """Bring the activity's items in (when it opens; again changes nothing): the chain's
    open items and/or an item per action line (``lines``, by default ``lines_for``),
    reusing the chain's item already made from that line. The activity's item ids, in order."""
    check_facilitator(actor)
    workshop = session.get(Workshop, activity.workshop_id)
    if workshop.value_chain_id != actor.chain_id:
        raise refuse(N_("This activity does not exist."))
    bring = (activity.settings or {}).get("bring", "open_and_lines")
    wanted: list[int] = []
    if bring in ("open_and_lines", "open"):
        wanted += session.execute(
            select(RoadmapItem.id)
            .where(RoadmapItem.value_chain_id == actor.chain_id, RoadmapItem.status.not_in(CLOSED))
            .order_by(RoadmapItem.position, RoadmapItem.id)
        ).scalars()
    if bring in ("open_and_lines", "lines"):
        made = dict(
            session.execute(
                select(RoadmapItemActionLine.action_line_id, func.min(RoadmapItemActionLine.item_id))
                .join(RoadmapItem, RoadmapItem.id == RoadmapItemActionLine.item_id)
                .where(RoadmapItem.value_chain_id == actor.chain_id)
                .group_by(RoadmapItemActionLine.action_line_id)
            ).all()
        )
        on_record = replace(actor, activity_id=None)  # brought in below, in order
        for line_id in lines if lines is not None else lines_for(session, activity):
            if line_id not in made:
                line = _line(session, actor, line_id)
                made[line_id] = _new_item(session, on_record, {}, line).id
            wanted.append(made[line_id])
    _bring(session, activity.id, list(dict.fromkeys(wanted)))
    return items_of_activity(session, activity.id)


def lock_activity(session: Session, actor: Actor, activity: Activity, locked: bool) -> Done:
    """Lock the whole activity (``settings["locked"]``): participants change nothing."""
    check_facilitator(actor)
    activity.settings = {**(activity.settings or {}), "locked": bool(locked)}
    session.add(activity)
    session.flush()
    return Done(0, "lock_activity", activity.id, bool(locked))
