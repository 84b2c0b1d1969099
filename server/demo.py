"""Demo data: a facilitator, three value chains with the method's library, four workshops.

:func:`load_demo` is idempotent: everything is found again by a stable name or key
(the facilitator by e-mail, chains by name and owner, segments by name, library items by
method key or title, workshops by chain and title), and what exists is left as it is.
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
from server.demo_data import CHAINS, DEMO_EMAIL, DEMO_NAME, DEMO_PASSWORD, GAPS, WORKSHOPS, DemoWorkshop
from server.demo_results import seed_past_workshops
from server.models import Activity, User, ValueChain, WorkArea, Workshop
from server.valuechains import library
from server.valuechains.service import do_add_segment, do_create_chain, segments_of
from server.workshops.service import do_create_workshop


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
    return result


def demo_login(session: Session) -> tuple[str, str] | None:
    """The demo facilitator's e-mail and password, while the account exists, is active
    and still has the demo password."""
    return (DEMO_EMAIL, DEMO_PASSWORD) if demo_password_unchanged(session) else None


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
        created["activities"] += len(session.exec(select(Activity.id).where(Activity.workshop_id == workshop.id)).all())
    return workshop
