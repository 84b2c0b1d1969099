"""Results across the workshops of a value chain: the filters, the view's workshops, the
summaries kept fresh, and each kind's part (``ActivityType.chain_results``) around them.

Only closed activities count. Each kind keeps a summary per workshop, counted from the
workshop's closed activities; a stamp of which activities those were (and how many
participants were removed) is kept beside it, and a read that finds another stamp counts
that workshop afresh first (``refresh_stale``): an activity reopened leaves the results
until it closes again. The host never branches on a kind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from server.activities.chain_rules import GROUP, SEGMENT, ChainScope, Cut, ScopeWorkshop
from server.activities.registry import Registry
from server.db import Database, lock, transaction
from server.i18n import N_, Message
from server.models import (
    ActionLine,
    Activity,
    ActivityStatus,
    ChainStamp,
    Gap,
    Participant,
    Segment,
    StakeholderGroup,
    ValueChain,
    Workshop,
)

COMPARE = ("", "groups", "periods")


@dataclass
class Filters:
    group: int | None = None
    segment: int | None = None
    workshop: int | None = None
    region: str = ""
    town: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    compare: str = ""
    group_b: int | None = None
    from_b: dt.date | None = None
    to_b: dt.date | None = None
    raw: dict = field(default_factory=dict)  # what the form shows again

    @property
    def cut(self) -> Cut:
        if self.group is not None:
            return Cut(GROUP, self.group)
        if self.segment is not None:
            return Cut(SEGMENT, self.segment)
        return Cut()

    @property
    def active(self) -> bool:
        return any(v not in (None, "") for k, v in self.raw.items())


FIELDS = ("group", "segment", "workshop", "region", "town", "from", "to", "compare", "group_b", "from_b", "to_b")


def _an_id(raw: str, allowed: set[int], errors: dict, name: str) -> int | None:
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and int(raw) in allowed:
        return int(raw)
    errors[name] = Message(N_("Choose one of the options."))
    return None


def _a_date(raw: str, errors: dict, name: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = Message(N_("Give a date as YYYY-MM-DD."))
        return None


def parse_filters(query, groups: set[int], segments: set[int], workshops: list[Workshop]) -> tuple[Filters, dict]:
    """The filters of a query string, and the errors (field -> message). With errors, the
    caller shows the results unfiltered: nothing of a bad filter is applied."""
    raw = {name: str(query.get(name) or "").strip()[:120] for name in FIELDS}
    errors: dict = {}
    f = Filters(raw=raw)
    f.group = _an_id(raw["group"], groups, errors, "group")
    f.segment = _an_id(raw["segment"], segments, errors, "segment")
    f.workshop = _an_id(raw["workshop"], {w.id for w in workshops}, errors, "workshop")
    if raw["region"] and raw["region"] not in {w.region for w in workshops}:
        errors["region"] = Message(N_("Choose one of the options."))
    if raw["town"] and raw["town"] not in {w.town for w in workshops}:
        errors["town"] = Message(N_("Choose one of the options."))
    f.region, f.town = raw["region"], raw["town"]
    f.date_from, f.date_to = _a_date(raw["from"], errors, "from"), _a_date(raw["to"], errors, "to")
    f.from_b, f.to_b = _a_date(raw["from_b"], errors, "from_b"), _a_date(raw["to_b"], errors, "to_b")
    f.group_b = _an_id(raw["group_b"], groups, errors, "group_b")
    if f.group is not None and f.segment is not None:
        errors["segment"] = Message(N_("Choose a stakeholder group or a segment, not both."))
    for start, end, name in ((f.date_from, f.date_to, "to"), (f.from_b, f.to_b, "to_b")):
        if start and end and start > end:
            errors[name] = Message(N_("The end comes before the start."))
    if raw["compare"] not in COMPARE:
        errors["compare"] = Message(N_("Choose one of the options."))
    f.compare = raw["compare"] if raw["compare"] in COMPARE else ""
    if f.compare == "groups" and (f.group is None or f.group_b is None):
        errors["group_b"] = Message(N_("Choose the two stakeholder groups to compare."))
    if f.compare == "periods" and not ((f.date_from or f.date_to) and (f.from_b or f.to_b)):
        errors["from_b"] = Message(N_("Give the dates of the two periods to compare."))
    return f, errors


def _in_view(w: Workshop, f: Filters, start: dt.date | None, end: dt.date | None) -> bool:
    return (
        (f.workshop is None or w.id == f.workshop)
        and (not f.region or w.region == f.region)
        and (not f.town or w.town == f.town)
        and (start is None or w.date >= start)
        and (end is None or w.date <= end)
    )


def scope_of(
    chain: ValueChain, workshops: list[Workshop], f: Filters, k: int, locale: str, *, b: bool = False
) -> ChainScope:
    """The view's workshops (date order), each with its minimum, and the cut; ``b``: the
    second side of a comparison (the second group, or the second period)."""
    start, end = (f.from_b, f.to_b) if b and f.compare == "periods" else (f.date_from, f.date_to)
    cut = Cut(GROUP, f.group_b) if b and f.compare == "groups" and f.group_b is not None else f.cut
    chosen = sorted((w for w in workshops if _in_view(w, f, start, end)), key=lambda w: (w.date, w.id))
    return ChainScope(
        chain.id,
        tuple(ScopeWorkshop(w.id, w.date, w.title, max(k, w.min_group_size or 0)) for w in chosen),
        cut,
        k,
        locale,
    )


# Summaries ------------------------------------------------------------------------------


def _stamps(
    session: Session, workshop_ids: list[int], registry: Registry
) -> dict[tuple[int, str], tuple[str, list[int]]]:
    """(workshop, kind) -> (stamp, closed activity ids in the order they closed)."""
    closed = session.execute(
        select(Activity.workshop_id, Activity.kind, Activity.id, Activity.closed_at)
        .where(col(Activity.workshop_id).in_(workshop_ids), Activity.status == ActivityStatus.closed)
        .order_by(Activity.closed_at, Activity.id)
    ).all()
    removed = dict(
        session.execute(
            select(Participant.workshop_id, func.count())
            .where(col(Participant.workshop_id).in_(workshop_ids), Participant.removed == True)  # noqa: E712
            .group_by(Participant.workshop_id)
        ).all()
    )
    found: dict[tuple[int, str], list] = defaultdict(list)
    for workshop_id, kind, activity_id, closed_at in closed:
        found[(workshop_id, kind)].append((activity_id, closed_at))
    out = {}
    for workshop_id in workshop_ids:
        for kind in registry:
            done = found.get((workshop_id, kind.key), [])
            text = ";".join(f"{a}@{at.isoformat() if at else ''}" for a, at in done) + f"|{removed.get(workshop_id, 0)}"
            stamp = hashlib.sha256(text.encode()).hexdigest() if done else ""
            out[(workshop_id, kind.key)] = (stamp, [a for a, _ in done])
    return out


def _stored(session: Session, workshop_ids: list[int]) -> dict[tuple[int, str], str]:
    rows = session.execute(
        select(ChainStamp.workshop_id, ChainStamp.kind, ChainStamp.stamp).where(
            col(ChainStamp.workshop_id).in_(workshop_ids)
        )
    )
    return {(w, k): s for w, k, s in rows}


def refresh_stale(db: Database, registry: Registry, workshop_ids: list[int]) -> int:
    """Count afresh every workshop whose closed activities changed since its summary was
    kept; the number of summaries counted."""
    return _refresh(db, registry, workshop_ids)[0]


def _refresh(db: Database, registry: Registry, workshop_ids: list[int]) -> tuple[int, str]:
    """``refresh_stale``, and a digest of the stamps the summaries now have."""
    if not workshop_ids:
        return 0, ""
    with Session(db.reader) as session:
        now, stored = _stamps(session, workshop_ids, registry), _stored(session, workshop_ids)
    digest = hashlib.sha256(repr(sorted((key, stamp) for key, (stamp, _) in now.items())).encode()).hexdigest()
    stale = sorted({w for (w, kind), (stamp, _) in now.items() if stored.get((w, kind), "") != stamp})
    done = 0
    for workshop_id in stale:
        with transaction(db.writer) as session:
            workshop = session.get(Workshop, workshop_id)
            if workshop is None:
                continue
            lock(session, workshop)  # one counter at a time; then read the stamps again
            now, stored = _stamps(session, [workshop_id], registry), _stored(session, [workshop_id])
            for (w, key), (stamp, activity_ids) in now.items():
                if stored.get((w, key), "") == stamp:
                    continue
                registry[key].chain_refresh(session, w, activity_ids)
                row = session.get(ChainStamp, (w, key))
                if row is None:
                    session.add(ChainStamp(workshop_id=w, kind=key, stamp=stamp))
                else:
                    row.stamp = stamp
                    session.add(row)
                done += 1
    return done, digest


# The view ---------------------------------------------------------------------------


@dataclass
class ChainView:
    chain: ValueChain
    filters: Filters
    errors: dict
    workshops: list[Workshop]  # every workshop of the chain (the filters' choices)
    scope: ChainScope
    groups: list[StakeholderGroup]
    segments: list[Segment]
    sections: list[tuple[object, dict]]  # (kind, its part), kinds with results
    compare: list[tuple[object, dict, dict]] = field(default_factory=list)  # (kind, side a, side b)
    k: int = 5

    def group_name(self, part: int | str, locale: str) -> str:
        for g in self.groups:
            if str(g.id) == str(part):
                return g.name(locale)
        return ""

    @property
    def workshop_options(self) -> list[tuple[int, str]]:
        return [(w.id, f"{w.title} · {w.date.isoformat()}") for w in self.workshops]

    @property
    def region_options(self) -> list[tuple[str, str]]:
        return [(r, r) for r in sorted({w.region for w in self.workshops if w.region})]

    @property
    def town_options(self) -> list[tuple[str, str]]:
        return [(t, t) for t in sorted({w.town for w in self.workshops if w.town})]

    def segment_name(self, part: int | str) -> str:
        return next((s.name for s in self.segments if str(s.id) == str(part)), "")


def chain_workshops(session: Session, chain: ValueChain) -> list[Workshop]:
    query = select(Workshop).where(Workshop.value_chain_id == chain.id).order_by(Workshop.date, Workshop.id)
    return list(session.exec(query))


# The kinds' parts of recent views, by scope and the digest of the summaries' stamps: a
# part read again (the same filters, nothing closed or reopened since) is not counted again.
_SECTIONS: OrderedDict = OrderedDict()
SECTIONS_KEPT = 64


def _library_digest(session: Session, chain_ids: list[int]) -> str:
    """What the kinds' parts name besides the counts: the library's titles, the segments."""
    rows = []
    for model in (Gap, ActionLine):
        rows += session.execute(
            select(model.id, model.title, model.archived, model.position).where(
                col(model.value_chain_id).in_(chain_ids)
            )
        ).all()
    rows += session.execute(
        select(Segment.id, Segment.name, Segment.position).where(col(Segment.value_chain_id).in_(chain_ids))
    ).all()
    return hashlib.sha256(repr(sorted(map(tuple, rows), key=repr)).encode()).hexdigest()


def _sections(session: Session, registry: Registry, scope: ChainScope, digest: str = "") -> list[tuple[object, dict]]:
    """The kinds' parts, in the registry's order; a kind that reads live rows
    (``chain_reads_live``) is asked at every view, the others' parts are kept."""
    key = (id(registry), scope, digest and digest + _library_digest(session, [scope.chain_id]))
    if digest and key in _SECTIONS:
        _SECTIONS.move_to_end(key)
        kept = _SECTIONS[key]
    else:
        kept = {}
        for kind in registry:
            if not kind.chain_reads_live:
                kept[kind.key] = kind.chain_results(session, scope)
        if digest:
            _SECTIONS[key] = kept
            while len(_SECTIONS) > SECTIONS_KEPT:
                _SECTIONS.popitem(last=False)
    out = []
    for kind in registry:
        section = kind.chain_results(session, scope) if kind.chain_reads_live else kept.get(kind.key)
        if section is not None:
            out.append((kind, section))
    return out


def chain_view(
    db: Database, registry: Registry, chain: ValueChain, query, k: int, locale: str, *, sections: bool = True
) -> ChainView:
    """Everything the chain's results page and its JSON show, for the filters of ``query``
    (without the kinds' parts when ``sections`` is false: an item's history)."""
    with Session(db.reader) as session:
        workshops = chain_workshops(session, chain)
    _done, digest = _refresh(db, registry, [w.id for w in workshops])
    with Session(db.reader, expire_on_commit=False) as session:
        groups = list(session.exec(select(StakeholderGroup).order_by(StakeholderGroup.position, StakeholderGroup.id)))
        segments = list(
            session.exec(select(Segment).where(Segment.value_chain_id == chain.id).order_by(Segment.position))
        )
        filters, errors = parse_filters(query, {g.id for g in groups}, {s.id for s in segments}, workshops)
        if errors:
            filters = Filters(raw=filters.raw)
        scope = scope_of(chain, workshops, filters, k, locale)
        parts = _sections(session, registry, scope, digest) if sections else []
        view = ChainView(chain, filters, errors, workshops, scope, groups, segments, parts, k=k)
        if filters.compare and sections:
            side_b = _sections(session, registry, scope_of(chain, workshops, filters, k, locale, b=True), digest)
            view.compare = [(kind, a, b) for (kind, a), (_k, b) in zip(view.sections, side_b, strict=True)]
    return view


def item_history(
    db: Database, registry: Registry, chain: ValueChain, kind_key: str, item_id: int, query, k: int, locale: str
):
    """(view, kind, history) of one library item; None when the kind or item has none."""
    kind = registry.get(kind_key)
    if kind is None:
        return None
    view = chain_view(db, registry, chain, query, k, locale, sections=False)
    with Session(db.reader) as session:
        history = kind.chain_history(session, view.scope, item_id)
    return None if history is None else (view, kind, history)


def region_view(db: Database, registry: Registry, chains: list[ValueChain], region: str, k: int, locale: str):
    """The chains with workshops in ``region``, each with its kinds' parts for those workshops."""
    with Session(db.reader) as session:
        per_chain = [(chain, [w for w in chain_workshops(session, chain) if w.region == region]) for chain in chains]
    per_chain = [(chain, ws) for chain, ws in per_chain if ws]
    _done, digest = _refresh(db, registry, [w.id for _chain, ws in per_chain for w in ws])
    out = []
    with Session(db.reader) as session:
        for chain, ws in per_chain:
            scope = scope_of(chain, ws, Filters(), k, locale)
            out.append((chain, scope, _sections(session, registry, scope, digest)))
    return out


def regions_of(session: Session, chains: list[ValueChain]) -> list[str]:
    """The regions of these chains' workshops, and the regions the chains name."""
    if not chains:
        return []
    ids = [c.id for c in chains]
    found = {r for (r,) in session.execute(select(Workshop.region).where(col(Workshop.value_chain_id).in_(ids))) if r}
    return sorted(found | {r for c in chains for r in c.regions})


def plain(view: ChainView) -> dict:
    """The JSON twin of the page (docs/api.md)."""
    f = view.filters
    out = {
        "chain": {"id": view.chain.id, "name": view.chain.name},
        "filters": {name: value or None for name, value in f.raw.items()} if not view.errors else {},
        "errors": sorted(view.errors),
        "min_group_size": view.k,
        "cut": {"dim": view.scope.cut.dim, "part": view.scope.cut.part if view.scope.cut.dim else None},
        "workshops": [
            {"id": w.id, "title": w.title, "date": w.date.isoformat(), "min_group_size": w.k}
            for w in view.scope.workshops
        ],
        "groups": [{"id": g.id, "key": g.key, "name_es": g.name_es, "name_en": g.name_en} for g in view.groups],
        "segments": [{"id": s.id, "name": s.name} for s in view.segments],
        "results": {kind.key: section for kind, section in view.sections},
    }
    if view.compare:
        out["compare"] = {
            "kind": f.compare,
            "b": {kind.key: b for kind, _a, b in view.compare},
        }
    return out
