"""The roadmap's part of a chain's results, through the app on a real database: the JSON
is a recount of the stored rows, for each filter; the page shows it, in both languages."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlmodel import select

from server.models import (
    Activity,
    Participant,
    RoadmapActivityItem,
    RoadmapCommitment,
    RoadmapItem,
    RoadmapWithdrawal,
    StakeholderGroup,
)
from tests import factories

STATUS_HORIZON = [("agreed", "short"), ("proposed", "medium"), ("under_way", "short"), ("proposed", None)]


@pytest.fixture
def roadmap_world(db, users):
    factories.reference_lists(db)
    chain = factories.chain(db, users.a, gaps=1, action_lines=1)
    public, private = (g.id for g in db.exec(select(StakeholderGroup).order_by(StakeholderGroup.position)))
    workshops = []
    for title, region, day in (("Cusco", "Cusco", 5), ("Puno", "Puno", 20)):
        w = factories.workshop(db, users.a, chain, template="diagnosis", title=title)
        w.region, w.date = region, dt.date(2026, 3, day)
        db.add(w)
        workshops.append(w)
    db.commit()
    items = [
        RoadmapItem(value_chain_id=chain.id, title=f"Acción {n + 1}", status=s, horizon=h, position=n)
        for n, (s, h) in enumerate(STATUS_HORIZON)
    ]
    db.add_all(items)
    activities = [Activity(workshop_id=w.id, kind="roadmap", title="Hoja de ruta") for w in workshops]
    db.add_all(activities)
    db.commit()
    # Cusco brings in items 1-3, Puno items 1 and 4.
    for a, its in ((activities[0], items[:3]), (activities[1], [items[0], items[3]])):
        db.add_all(RoadmapActivityItem(activity_id=a.id, item_id=i.id, position=n) for n, i in enumerate(its))
    people = {}
    for w in workshops:
        for n in range(8):
            group = public if w.title == "Puno" or n < 6 else private  # Cusco: 6 public, 2 private; Puno: 8 public
            p = Participant(workshop_id=w.id, token_hash=f"rm-{w.id}-{n}", stakeholder_group_id=group)
            db.add(p)
            people[(w.id, n)] = p
    db.commit()
    made = []
    for wi, (w, a) in enumerate(zip(workshops, activities, strict=True)):
        for n in range(8):
            item = items[n % 2] if wi == 0 else items[0]  # what each activity brought in
            org = ("Municipalidad de Quillabamba", "municipalidad de quillabamba ", "Cooperativa Alto Urubamba")[n % 3]
            made.append(
                RoadmapCommitment(
                    item_id=item.id,
                    organization=org,
                    role="partner",
                    participant_id=people[(w.id, n)].id,
                    activity_id=a.id,
                    author=f"P{n}",
                )
            )
    # A facilitator's record naming no one, in Cusco; one naming a private participant, in Puno.
    made.append(
        RoadmapCommitment(
            item_id=items[1].id,
            organization="DRA Cusco",
            role="funder",
            user_id=users.a.id,
            activity_id=activities[0].id,
        )
    )
    made.append(
        RoadmapCommitment(
            item_id=items[0].id,
            organization="Sierra Exportadora",
            role="lead",
            user_id=users.a.id,
            participant_id=people[(workshops[1].id, 7)].id,
            activity_id=activities[1].id,
        )
    )
    # Made outside any workshop (the chain's roadmap page): only in a view of every workshop.
    made.append(
        RoadmapCommitment(item_id=items[2].id, organization="Gobierno Regional", role="lead", user_id=users.a.id)
    )
    db.add_all(made)
    db.commit()
    db.add(RoadmapWithdrawal(commitment_id=made[0].id, participant_id=made[0].participant_id))
    db.commit()
    return chain, workshops, items, (public, private)


def _recount(db, chain, workshop_ids, whole, group=None):
    """From the stored rows, by hand: what the view must show (no group is under k here
    but the private one: 2 people a workshop)."""
    wd = {a.id: a.workshop_id for a in db.exec(select(Activity))}
    gone = {w.commitment_id for w in db.exec(select(RoadmapWithdrawal))}
    p_group = {p.id: p.stakeholder_group_id for p in db.exec(select(Participant))}
    items = {i.id: i for i in db.exec(select(RoadmapItem).where(RoadmapItem.value_chain_id == chain.id))}
    active, withdrawn = Counter(), Counter()
    for c in db.exec(select(RoadmapCommitment)):
        w = wd.get(c.activity_id)
        if not (w in workshop_ids or (w is None and whole)):
            continue
        if group is not None and p_group.get(c.participant_id) != group:
            continue
        key = " ".join(c.organization.split()).casefold()
        (withdrawn if c.id in gone else active)[key] += 1
    return items, active, withdrawn


@pytest.mark.parametrize("cut", ["", "workshop", "region", "public", "private"])
def test_the_json_is_a_recount_of_the_stored_rows(client_a, db, roadmap_world, cut):
    chain, workshops, items, (public, private) = roadmap_world
    ids, whole, group, query = {w.id for w in workshops}, True, None, ""
    if cut == "workshop":
        ids, whole, query = {workshops[0].id}, False, f"?workshop={workshops[0].id}"
    elif cut == "region":
        ids, whole, query = {workshops[1].id}, False, "?region=Puno"
    elif cut:
        group = public if cut == "public" else private
        query = f"?group={group}"
        # Cusco's 2 private people are under k, so its 5 public ones (one withdrew) are held
        # back with them (else the total would give the 2 away): only Puno's count.
        ids = {workshops[1].id}
    got = client_a.get(f"/api/chains/{chain.id}/results{query}").json()["results"]["roadmap"]
    stored, active, withdrawn = _recount(db, chain, ids, whole, group)
    if cut == "private":
        active, withdrawn = Counter(), Counter()  # 2 people in Cusco alone: under k
    assert {" ".join(o["organization"].split()).casefold(): o["commitments"] for o in got["organizations"]} == active
    assert {
        " ".join(o["organization"].split()).casefold(): o["commitments"] for o in got["withdrawn_by_organization"]
    } == withdrawn
    assert got["commitments"] == sum(active.values()) and got["withdrawn"] == sum(withdrawn.values())
    shown = {i["id"] for i in got["items"]}
    expected_items = {
        "workshop": {items[0].id, items[1].id, items[2].id},
        "region": {items[0].id, items[3].id},
    }.get(cut, set(stored))
    assert shown == expected_items
    matrix = Counter((stored[i].status, stored[i].horizon or "none") for i in shown)
    assert {(s, h): n for s, row in got["matrix"].items() for h, n in row.items() if n} == matrix
    if cut == "":
        # Puno: 8 people and the record naming one of them; Cusco's 7 active are held back.
        assert got["by_group"]["parts"] == {str(public): {"commitments": 9, "committers": 8}}
        assert got["by_group"]["held_back"] == 7
        assert got["by_group"]["facilitator"] == 2  # DRA Cusco and Gobierno Regional
        assert got["uncommitted"] == [items[3].id]
    assert got["by_group"] is None if cut in ("public", "private") else got["by_group"] is not None


def test_a_commitment_made_now_shows_at_once(client_a, db, roadmap_world):
    chain, _workshops, items, _groups = roadmap_world
    before = client_a.get(f"/api/chains/{chain.id}/results").json()["results"]["roadmap"]
    assert items[3].id in before["uncommitted"]
    db.add(RoadmapCommitment(item_id=items[3].id, organization="PNIPA", role="funder", user_id=1))
    db.commit()
    after = client_a.get(f"/api/chains/{chain.id}/results").json()["results"]["roadmap"]
    assert after["uncommitted"] == [] and after["commitments"] == before["commitments"] + 1


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_page_shows_the_roadmap_section(client_a, roadmap_world, lang):
    chain, _workshops, _items, _groups = roadmap_world
    page = client_a.get(f"/chains/{chain.id}/results", headers={"Accept-Language": lang})
    assert page.status_code == 200
    text = page.text
    assert 'id="kind-roadmap"' in text and 'id="chart-roadmap-status"' in text and 'id="table-roadmap-orgs"' in text
    assert "Municipalidad de Quillabamba" in text and 'id="table-roadmap-withdrawn"' in text
    assert ("Recorded by a facilitator" if lang == "en" else "Registrado por un facilitador") in text
    assert ("Items no one has committed to" if lang == "en" else "Ítems con los que nadie se ha comprometido") in text
    region = client_a.get("/regions?region=Puno", headers={"Accept-Language": lang})
    assert region.status_code == 200 and f"<h3>{'Roadmap' if lang == 'en' else 'Hoja de ruta'}</h3>" in region.text


def test_two_groups_side_by_side(client_a, roadmap_world):
    chain, _workshops, _items, (public, private) = roadmap_world
    page = client_a.get(f"/chains/{chain.id}/results?group={public}&compare=groups&group_b={private}")
    assert page.status_code == 200 and 'id="table-compare-roadmap"' in page.text


def test_another_facilitator_sees_nothing_of_it(client_b, roadmap_world):
    chain, *_ = roadmap_world
    assert client_b.get(f"/api/chains/{chain.id}/results").status_code in (403, 404)
