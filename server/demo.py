"""Demo data: a facilitator, three value chains with the method's library, four workshops,
and the coffee chain's roadmap (items with their rows, a few revisions and commitments).

:func:`load_demo` is idempotent: everything is found again by a stable name or key
(the facilitator by e-mail, chains by name and owner, segments by name, library items by
method key or title, workshops by chain and title; the roadmap is loaded when the chain
has none), and what exists is left as it is.
It goes through the same use cases as the web pages, so the data is valid by the same
rules. Flushes; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import Session, or_, select

from server.auth.service import demo_password_unchanged, do_create_user
from server.defaults import ensure_reference_lists, method
from server.demo_data import (
    CHAINS,
    DEMO_EMAIL,
    DEMO_NAME,
    DEMO_PASSWORD,
    GAPS,
    ROADMAP,
    ROADMAP_CHAIN,
    WORKSHOPS,
    DemoItem,
    DemoWorkshop,
)
from server.demo_results import seed_past_workshops
from server.i18n import N_, Translator
from server.models import (
    ActionLine,
    Activity,
    FundingSource,
    Gap,
    RoadmapItem,
    User,
    ValueChain,
    WorkArea,
    Workshop,
)
from server.valuechains import library
from server.valuechains.service import do_add_segment, do_create_chain, segments_of
from server.workshops.service import agenda_of, do_add_activity, do_create_workshop


@dataclass
class DemoResult:
    user: User
    chains: list[ValueChain] = field(default_factory=list)
    workshops: list[Workshop] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)  # what this run added, by table
    demoted: bool = False  # an older demo account, an admin with the published password, was demoted

    @property
    def login(self) -> tuple[str, str]:
        return DEMO_EMAIL, DEMO_PASSWORD


def load_demo(session: Session, today: dt.date | None = None) -> DemoResult:
    today = today or dt.date.today()
    created = ensure_reference_lists(session, fill_missing=True)
    result = DemoResult(user=_facilitator(session, created), created=created)
    if result.user.is_admin and demo_password_unchanged(session):
        # Older versions made the demo account an admin: with a published password, it
        # must not be one.
        result.user.is_admin = False
        session.add(result.user)
        session.flush()
        result.demoted = True
    areas = {area.key: area for area in session.exec(select(WorkArea))}
    chains = {}
    for spec in method()["value_chains"]:
        chain = chains[spec["key"]] = _chain(session, result.user, spec, created)
        _library(session, chain, areas, created)
    result.chains = list(chains.values())
    for spec in WORKSHOPS:
        result.workshops.append(_workshop(session, result.user, chains[spec.chain], spec, today, created))
    if "coffee" in chains:  # past workshops, ended, with answers: the chain's results are full
        seed_past_workshops(session, result.user, chains["coffee"], method(), today, created)
    _roadmap(session, result.user, chains[ROADMAP_CHAIN], today, created)
    return result


def _facilitator(session: Session, created: Counter) -> User:
    user = session.exec(select(User).where(User.email == DEMO_EMAIL)).first()
    if user is None:
        data = {"email": DEMO_EMAIL, "name": DEMO_NAME, "password": DEMO_PASSWORD}
        user = do_create_user(session, data)  # a plain facilitator: its password is published
        created["facilitators"] += 1
    return user


def _chain(session: Session, owner: User, spec: dict, created: Counter) -> ValueChain:
    query = select(ValueChain).where(ValueChain.name == spec["es"], ValueChain.owner_id == owner.id)
    chain = session.exec(query).first()
    if chain is None:
        data = {"name": spec["es"], "regions": "\n".join(spec["regions"]), **CHAINS[spec["key"]]}
        chain = do_create_chain(session, owner, data)
        created["value_chains"] += 1
    have = {segment.name.lower() for segment in segments_of(session, chain)}
    for name in spec["segments_es"]:
        if name.lower() not in have:
            do_add_segment(session, chain, {"name": name})
            created["segments"] += 1
    return chain


def _library(session: Session, chain: ValueChain, areas: dict[str, WorkArea], created: Counter) -> None:
    items = [
        (
            library.GAPS,
            gap["key"],
            {
                "title": gap["es"],
                "description": GAPS[gap["key"]].description,
                "mechanisms": "\n".join(GAPS[gap["key"]].mechanisms),
            },
        )
        for gap in method()["gaps"]
    ] + [
        (
            library.ACTION_LINES,
            line["key"],
            {
                "title": line["es"],
                "work_area_id": str(areas[line["work_area"]].id) if line["work_area"] in areas else "",
            },
        )
        for line in method()["action_lines"]
    ]
    for kind, key, data in items:
        model = kind.model
        same = or_(model.key == key, model.title == data["title"])
        if session.exec(select(model.id).where(model.value_chain_id == chain.id, same)).first():
            continue
        item = library.do_add_item(session, chain, kind, data)
        item.key = key
        session.add(item)
        session.flush()
        created["gaps" if kind is library.GAPS else "action_lines"] += 1


def _workshop(
    session: Session, user: User, chain: ValueChain, spec: DemoWorkshop, today: dt.date, created: Counter
) -> Workshop:
    query = select(Workshop).where(Workshop.value_chain_id == chain.id, Workshop.title == spec.title)
    workshop = session.exec(query).first()
    if workshop is None:
        data = {
            "title": spec.title,
            "region": spec.region,
            "town": spec.town,
            "date": (today + dt.timedelta(days=spec.days_ahead)).isoformat(),
            "language": "es",
            "attendance": "full",
            "template": spec.template,
        }
        workshop = do_create_workshop(session, user, chain, data)
        created["workshops"] += 1
        _roadmap_after_ranking(session, chain, workshop)
        created["activities"] += len(session.exec(select(Activity.id).where(Activity.workshop_id == workshop.id)).all())
    return workshop


# The roadmap -------------------------------------------------------------------------

# A roadmap activity's settings on the demo's agenda: the chain's open items and new items
# from the top 3 lines of the workshop's ranking, in its order.
ROADMAP_SETTINGS = {"bring": "open_and_lines", "lines_from": "ranking", "top": "3", "edit_mode": "direct"}


def _roadmap_after_ranking(session: Session, chain: ValueChain, workshop: Workshop) -> None:
    """A new demo workshop with a ranking gets a roadmap activity right after it (the
    roadmap template's has one already: set to the ranking's top 3)."""
    agenda = agenda_of(session, workshop)
    kinds = [a.kind for a in agenda]
    if "ranking" not in kinds:
        return
    if "roadmap" in kinds:
        activity = agenda[kinds.index("roadmap")]
        activity.settings = {**activity.settings, "bring": "open_and_lines", "lines_from": "ranking", "top": 3}
        session.add(activity)
        session.flush()
        return
    lines = session.exec(
        select(ActionLine.id).where(ActionLine.value_chain_id == chain.id, ActionLine.archived == False)  # noqa: E712
    ).all()
    title = Translator(workshop.language).gettext(N_("Build the roadmap"))
    do_add_activity(
        session, chain, workshop, {"kind": "roadmap", "title": title, **ROADMAP_SETTINGS}, [str(i) for i in lines]
    )


def _roadmap(session: Session, user: User, chain: ValueChain, today: dt.date, created: Counter) -> None:
    """The chain's roadmap from the report's recommendations, through the roadmap's own
    service functions (so every value is checked as a form's would be), when it has none."""
    from server.activities.roadmap import service as roadmap
    from server.activities.roadmap import social
    from server.activities.roadmap.actors import as_facilitator
    from server.activities.roadmap.items import create_item

    if session.exec(select(RoadmapItem.id).where(RoadmapItem.value_chain_id == chain.id)).first() is not None:
        return
    lines = {
        line.key: line.id for line in session.exec(select(ActionLine).where(ActionLine.value_chain_id == chain.id))
    }
    gaps = {gap.key: gap.id for gap in session.exec(select(Gap).where(Gap.value_chain_id == chain.id))}
    sources = {source.key: source.name_es for source in session.exec(select(FundingSource))}
    actor = as_facilitator(session, user, chain.id)
    for spec in ROADMAP:
        if spec.line not in lines:
            continue
        _item(session, roadmap, social, create_item, actor, spec, lines[spec.line], gaps, sources, today)
        created["roadmap items"] += 1


def _item(session, roadmap, social, create_item, actor, spec: DemoItem, line_id, gaps, sources, today) -> None:
    fields = {
        "title": spec.title,
        "description": spec.description,
        "horizon": spec.horizon,
        "phase": spec.phase,
        "lead_organization": spec.lead,
        "budget": {"amount": spec.budget[0], "currency": spec.budget[1]},
        "funding_source": sources.get(spec.funding, ""),
        "pilot": spec.pilot,
    }
    item = create_item(session, actor, fields, action_line_id=line_id).item_id
    for key in spec.gaps:
        if key in gaps:
            roadmap.set_link(session, actor, item, "gap", gaps[key], True)
    for organization in spec.partners:
        roadmap.add_row(session, actor, item, "partner", {"organization": organization})
    for text, days in spec.milestones:
        when = (today + dt.timedelta(days=days)).isoformat()
        roadmap.add_row(session, actor, item, "milestone", {"text": text, "date": when})
    for name, baseline, target, unit in spec.indicators:
        value = {"name": name, "baseline": baseline, "target": target, "unit": unit}
        roadmap.add_row(session, actor, item, "indicator", value)
    versions: dict[str, int] = {}
    for name, value in spec.then:
        roadmap.edit_field(session, actor, item, name, versions.get(name, 0), value)
        versions[name] = versions.get(name, 0) + 1
    for organization, role, note, withdrawn in spec.commitments:
        made = social.commit(session, actor, item, organization, role, note)
        if withdrawn is not None:
            social.withdraw(session, actor, made.id, withdrawn)
