"""The roadmap's part of a chain's results, pure (``activities/roadmap/chain.py``): every
count is a recount, a filter is aggregating only the commitments it keeps, a withdrawn
commitment is never active, and no figure by stakeholder group rests on fewer than k."""

from __future__ import annotations

from collections import Counter, defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from server.activities.chain_rules import GROUP, Cut
from server.activities.roadmap import chain as rm
from server.activities.roadmap.chain import FACILITATOR, Commitment, Item, View, aggregate, counted, part_of

WORKSHOPS = (1, 2, 3)
ORGS = (
    "Municipalidad de Quillabamba",
    "municipalidad  de quillabamba",
    "Cooperativa Alto Urubamba",
    "DRA Cusco",
    "ONG",
)


def _item(i, status="proposed", horizon=None, workshops=()):
    return Item(i, f"Item {i}", status, horizon, i, frozenset(workshops))


def test_counts_by_status_horizon_and_organization():
    items = [_item(1, "agreed", "short", (1,)), _item(2, "agreed", "short", (2,)), _item(3, "done", None, (1,))]
    cs = [
        Commitment(1, 1, "DRA Cusco", "lead", 1, 10, group=1),
        Commitment(2, 2, "dra  cusco", "funder", 2, 20, group=1),
        Commitment(3, 1, "ONG", "partner", 1, 11, group=2, withdrawn=True),
    ]
    out = aggregate(items, cs, View({1: 5, 2: 5, 3: 5}))
    assert out["matrix"]["agreed"]["short"] == 2 and out["matrix"]["done"]["none"] == 1
    assert out["cells"]["agreed"]["short"] == [1, 2]
    assert out["commitments"] == 2 and out["withdrawn"] == 1
    (dra,) = out["organizations"]  # one organization however it was typed
    assert dra["commitments"] == 2 and dra["roles"] == {"funder": 1, "lead": 1}
    assert [o["organization"] for o in out["withdrawn_by_organization"]] == ["ONG"]
    assert out["uncommitted"] == [3]  # item 1's only other commitment was withdrawn: it still has DRA's


def test_a_workshop_filter_keeps_its_items_and_its_commitments():
    items = [_item(1, workshops=(1,)), _item(2, workshops=(2,)), _item(3)]
    cs = [Commitment(1, 2, "ONG", "lead", 2, 20), Commitment(2, 3, "DRA", "lead", None, None, facilitator=True)]
    whole = aggregate(items, cs, View({1: 5, 2: 5}))
    assert [i["id"] for i in whole["items"]] == [1, 2, 3] and whole["commitments"] == 2
    one = aggregate(items, cs, View({2: 5}, whole=False))
    assert [i["id"] for i in one["items"]] == [2] and one["commitments"] == 1  # made outside: not in a workshop's view
    assert one["uncommitted"] == []


def test_a_facilitators_record_counts_as_such_unless_it_names_a_group():
    alone = Commitment(1, 1, "A", "lead", 1, None, facilitator=True)
    behalf = Commitment(2, 1, "B", "lead", 1, 7, group=3, facilitator=True)
    behalf_no_group = Commitment(3, 1, "C", "lead", 1, 8, facilitator=True)
    own_no_group = Commitment(4, 1, "D", "lead", 1, 9)
    assert [part_of(c, GROUP) for c in (alone, behalf, behalf_no_group, own_no_group)] == [
        FACILITATOR,
        3,
        FACILITATOR,
        0,
    ]


def test_a_small_group_is_held_back_and_the_rest_with_it_when_it_would_show():
    items = [_item(1)]
    big = [Commitment(i, 1, f"Org {i}", "partner", 1, 100 + i, group=1) for i in range(5)]
    small = [Commitment(10 + i, 1, f"Small {i}", "partner", 1, 200 + i, group=2) for i in range(2)]
    out = aggregate(items, big + small, View({1: 5}))
    # Group 2 (2 people) is held back; group 1 would then reveal it by subtraction, so it goes too.
    assert out["by_group"]["parts"] == {} and out["by_group"]["held_back"] == 7
    more = [Commitment(20 + i, 1, f"More {i}", "partner", 1, 300 + i, group=3) for i in range(5)]
    out = aggregate(items, big + small + more, View({1: 5}))
    # 2 held back is still fewer than 5: the smallest shown group (1, by its id) joins them.
    assert out["by_group"]["parts"] == {"3": {"commitments": 5, "committers": 5}}
    assert out["by_group"]["held_back"] == 7
    even_more = [Commitment(30 + i, 1, f"Plus {i}", "lead", 1, 400 + i, group=4) for i in range(3)]
    out = aggregate(items, big + small + more + even_more, View({1: 5}))
    assert set(out["by_group"]["parts"]) == {"1", "3"} and out["by_group"]["held_back"] == 5
    # Under the cut of a held-back group nothing of it is counted; of a shown one, all.
    assert aggregate(items, big + small + more, View({1: 5}, cut=Cut(GROUP, 2)))["commitments"] == 0
    assert aggregate(items, big + small + more, View({1: 5}, cut=Cut(GROUP, 3)))["commitments"] == 5


# Property tests ------------------------------------------------------------------------

commitment_parts = st.tuples(
    st.integers(1, 6),  # item
    st.sampled_from(ORGS),
    st.sampled_from(("lead", "partner", "funder", "other")),
    st.sampled_from((*WORKSHOPS, None)),
    st.one_of(st.none(), st.integers(1, 25)),  # participant
    st.one_of(st.none(), st.integers(1, 3)),  # group
    st.booleans(),  # by a facilitator
    st.booleans(),  # withdrawn
)
items_st = st.lists(
    st.tuples(
        st.sampled_from(rm.STATUSES),
        st.sampled_from(("short", "medium", "long", None)),
        st.frozensets(st.sampled_from(WORKSHOPS)),
    ),
    min_size=6,
    max_size=6,
)


def _world(items_raw, raw):
    items = [Item(i + 1, f"I{i + 1}", s, h, i, ws) for i, (s, h, ws) in enumerate(items_raw)]
    cs = []
    for n, (item, org, role, w, person, group, fac, withdrawn) in enumerate(raw):
        if person is None:
            fac = True  # only a facilitator records a commitment naming no one
        # A participant is of one workshop: their id says which.
        person_id = None if person is None else person * 10 + (w or 0)
        group = None if person is None else (group if (person + (group or 0)) % 4 else None)
        cs.append(Commitment(n + 1, item, org, role, w, person_id, group, None, fac, withdrawn))
    return items, cs


views = st.tuples(st.frozensets(st.sampled_from(WORKSHOPS)), st.integers(1, 4), st.one_of(st.none(), st.integers(0, 3)))


def _view(raw) -> View:
    ids, k, group = raw
    cut = Cut(GROUP, group) if group is not None else Cut()
    return View(dict.fromkeys(ids, k), whole=ids == frozenset(WORKSHOPS), cut=cut, k=k)


@settings(max_examples=300, deadline=None)
@given(items_st, st.lists(commitment_parts, max_size=40), views)
def test_every_count_is_a_recount(items_raw, raw, view_raw):
    items, cs = _world(items_raw, raw)
    view = _view(view_raw)
    out = aggregate(items, cs, view)
    kept = counted(cs, view)
    shown = {i["id"] for i in out["items"]}
    by_id = {i.id: i for i in items}
    recount = Counter((by_id[i].status, by_id[i].horizon or "none") for i in shown)
    assert all(out["matrix"][s][h] == recount[(s, h)] for s in rm.STATUSES for h in rm.HORIZONS)
    assert sum(sum(row.values()) for row in out["matrix"].values()) == len(shown)
    active = [c for c in kept if not c.withdrawn and c.item in shown]
    assert out["commitments"] == len(active) == sum(o["commitments"] for o in out["organizations"])
    per_org = Counter(rm.org_key(c.organization) for c in active)
    assert {rm.org_key(o["organization"]): o["commitments"] for o in out["organizations"]} == per_org
    assert out["uncommitted"] == [i["id"] for i in out["items"] if i["id"] not in {c.item for c in active}]
    if out["by_group"] is not None:
        g = out["by_group"]
        assert sum(p["commitments"] for p in g["parts"].values()) + g["facilitator"] + g["held_back"] == len(active)


@settings(max_examples=300, deadline=None)
@given(items_st, st.lists(commitment_parts, max_size=40), views)
def test_a_filter_is_aggregating_only_the_commitments_it_keeps(items_raw, raw, view_raw):
    items, cs = _world(items_raw, raw)
    view = _view(view_raw)
    kept = counted(cs, view)
    assert aggregate(items, cs, view) == aggregate(items, kept, view)
    # In view: made in a workshop of the view (or outside any, when it holds them all) ...
    in_view = [c for c in cs if (c.workshop in view.ks) or (c.workshop is None and view.whole)]
    if view.cut.dim is None:
        assert kept == in_view
    else:  # ... and under a cut, of the cut's group only.
        assert {c.id for c in kept} <= {c.id for c in in_view if part_of(c, GROUP) == view.cut.part}


@settings(max_examples=300, deadline=None)
@given(items_st, st.lists(commitment_parts, max_size=40), views)
def test_a_withdrawn_commitment_is_never_active(items_raw, raw, view_raw):
    items, cs = _world(items_raw, raw)
    out = aggregate(items, cs, _view(view_raw))
    gone = {c.item for c in cs if c.withdrawn} - {c.item for c in cs if not c.withdrawn}
    # An item whose every commitment was withdrawn has no active one, whatever the view.
    for o in out["organizations"]:
        assert not {x["item"] for x in o["items"]} & gone
    assert out["commitments"] == sum(1 for c in counted(cs, _view(view_raw)) if not c.withdrawn)


@settings(max_examples=300, deadline=None)
@given(items_st, st.lists(commitment_parts, max_size=60), views)
def test_no_group_figure_rests_on_fewer_than_k(items_raw, raw, view_raw):
    items, cs = _world(items_raw, raw)
    view = _view((view_raw[0], view_raw[1], None))
    out = aggregate(items, cs, view)
    active = [c for c in counted(cs, view) if not c.withdrawn]
    people: dict = defaultdict(lambda: defaultdict(set))
    for c in active:
        if part_of(c, GROUP) != FACILITATOR:
            people[c.workshop][part_of(c, GROUP)].add(c.participant)
    shown_total = 0
    for part, fig in out["by_group"]["parts"].items():
        assert fig["committers"] >= view.k
        shown_total += fig["commitments"]
        # Each workshop's share of a shown group is at least k people, or none.
        for parts in people.values():
            n = len(parts.get(int(part), ()))
            assert (
                n == 0
                or n >= view.k
                or not any(c.workshop is not None and part_of(c, GROUP) == int(part) for c in active)
            )
    # What is held back in a workshop showing any group is no one, or at least k people
    # (no subtraction from the public total isolates fewer).
    ok = rm.entered(active, GROUP, view)
    for room, parts in people.items():
        hidden = sum(len(who) for part, who in parts.items() if (room, part) not in ok)
        if any((room, part) in ok for part in parts):
            assert hidden == 0 or hidden >= view.room_k(room)
    # Under a group's cut, only what enters is counted.
    for group in range(4):
        cut = View(view.ks, view.whole, Cut(GROUP, group), view.k)
        for c in counted(cs, cut):
            if not c.withdrawn:
                assert (c.workshop, group) in ok
