"""The chain's results from the database: the page and JSON equal a recount of the stored
answers, a cut equals the answers of its participants, only closed activities count (a
reopened one leaves until it closes again), and with one workshop the chain shows what the
activity's own results show."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlmodel import select

from server.activities.chain_rules import Cut
from server.activities.gaps import chain as gap_chain
from server.activities.ranking import chain as rank_chain
from server.db import transaction
from server.models import Activity, ActivityItem, ActivityStatus, GapAnswer, Participant, RankingBallot, Workshop
from server.workshops import live
from server.workshops.service import agenda_of, apply_template
from tests import factories


def _workshop(db, owner, chain, title, region, day):
    w = factories.workshop(db, owner, chain, template="diagnosis", title=title)
    w.region, w.date = region, dt.date(2026, 1, day)
    db.add(w)
    apply_template(db, chain, w, "prioritization")
    db.commit()
    return w


def _fill(db, workshop, groups, segments, rng, people=14):
    participants = []
    for i in range(people):
        p = Participant(
            workshop_id=workshop.id,
            token_hash=f"t-{workshop.id}-{i}",
            stakeholder_group_id=rng.choice(groups),
            segment_id=rng.choice(segments),
        )
        db.add(p)
        participants.append(p)
    db.commit()
    for activity in agenda_of(db, workshop):
        items = list(db.exec(select(ActivityItem).where(ActivityItem.activity_id == activity.id)))
        for p in participants:
            if activity.kind == "ranking":
                lines = [i.action_line_id for i in items]
                rng.shuffle(lines)
                db.add(
                    RankingBallot(
                        activity_id=activity.id, participant_id=p.id, ranking=lines[: rng.randint(0, len(lines))]
                    )
                )
            elif activity.settings.get("mode") == "rating":
                for item in items:
                    if rng.random() < 0.85:
                        db.add(
                            GapAnswer(
                                activity_id=activity.id,
                                participant_id=p.id,
                                gap_id=item.gap_id,
                                question="seriousness",
                                value=rng.randint(1, 5),
                            )
                        )
                    if rng.random() < 0.7:
                        db.add(
                            GapAnswer(
                                activity_id=activity.id,
                                participant_id=p.id,
                                gap_id=item.gap_id,
                                question="segments",
                                segments=rng.sample(segments, 2),
                            )
                        )
    db.commit()
    return participants


def _close_all(app, workshop_id):
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        w = session.get(Workshop, workshop_id)
        for a in agenda_of(session, w):
            if a.kind in ("gap_rating", "ranking") and a.status != ActivityStatus.closed:
                live.do_open(session, w, a)
                live.do_close(session, w, a)


@pytest.fixture
def chain_world(app, db, users):
    factories.reference_lists(db)
    chain = factories.chain(db, users.a, gaps=3, action_lines=4)
    from server.models import Segment, StakeholderGroup

    groups = [g.id for g in db.exec(select(StakeholderGroup))]
    segments = [s.id for s in db.exec(select(Segment).where(Segment.value_chain_id == chain.id))]
    rng = random.Random(7)
    w1 = _workshop(db, users.a, chain, "Cusco I", "Cusco", 5)
    w2 = _workshop(db, users.a, chain, "Puno I", "Puno", 20)
    _fill(db, w1, groups, segments, rng, people=16)
    _fill(db, w2, groups, segments, rng, people=12)
    _close_all(app, w1.id)
    _close_all(app, w2.id)
    return chain, [w1, w2], groups


def _stored_answers(db, workshop_ids):
    """The stored answers as the pure recount reads them, straight from the tables."""
    p_of = {p.id: p for p in db.exec(select(Participant))}
    closed = {a.id: a for a in db.exec(select(Activity).where(Activity.status == ActivityStatus.closed))}
    answers = []
    for a in db.exec(select(GapAnswer)):
        act = closed.get(a.activity_id)
        if act is None or act.workshop_id not in workshop_ids:
            continue
        p = p_of[a.participant_id]
        v = list(a.segments) if a.question == "segments" else a.value
        answers.append(
            (act.workshop_id, p.id, p.stakeholder_group_id, p.segment_id, a.gap_id, a.question, v, act.closed_at)
        )
    return answers


def _stored_ballots(db, workshop_ids):
    p_of = {p.id: p for p in db.exec(select(Participant))}
    closed = {a.id: a for a in db.exec(select(Activity).where(Activity.status == ActivityStatus.closed))}
    out = []
    for b in db.exec(select(RankingBallot)):
        act = closed.get(b.activity_id)
        if act is None or act.workshop_id not in workshop_ids:
            continue
        offered = tuple(
            i.action_line_id
            for i in db.exec(
                select(ActivityItem).where(ActivityItem.activity_id == act.id).order_by(ActivityItem.position)
            )
        )
        p = p_of[b.participant_id]
        out.append((act.workshop_id, p.id, p.stakeholder_group_id, p.segment_id, act.id, offered, tuple(b.ranking)))
    return out


@pytest.mark.parametrize("cut", ["", "group", "region"])
def test_the_json_is_a_recount_of_the_stored_answers(client_a, db, chain_world, cut):
    chain, workshops, groups = chain_world
    query, ids, c = "", {w.id for w in workshops}, Cut()
    if cut == "group":
        query, c = f"?group={groups[1]}", Cut("group", groups[1])
    elif cut == "region":
        query, ids = "?region=Puno", {workshops[1].id}
    got = client_a.get(f"/api/chains/{chain.id}/results{query}").json()["results"]
    ks = dict.fromkeys(ids, 5)
    gap_ids = [g["id"] for g in got["gap_rating"]["items"]]
    expected = gap_chain.recount(_stored_answers(db, ids), ks, gap_ids, c, 5)
    assert [r.plain() for r in expected] == got["gap_rating"]["gaps"]
    assert any(r.result.mean is not None for r in expected)  # the check compares shown figures
    folded = rank_chain.recount(_stored_ballots(db, ids), ks, c)
    pooled = [(p.item, p.rank) for p in rank_chain.pooled(folded.overall)]
    assert sorted(pooled) == sorted((x["item"], x["pooled_rank"]) for x in got["ranking"]["lines"])
    assert got["ranking"]["ballots"] == folded.overall.ballots


def test_one_workshop_shows_what_its_activity_shows(client_a, db, chain_world):
    chain, workshops, _groups = chain_world
    w = workshops[0]
    rating = next(a for a in agenda_of(db, w) if a.settings.get("mode") == "rating")
    own = client_a.get(f"/api/workshops/{w.id}/activities/{rating.id}/results").json()
    mine = client_a.get(f"/api/chains/{chain.id}/results?workshop={w.id}").json()["results"]["gap_rating"]["gaps"]
    fields = ("gap", "answers", "mean", "distribution", "segments")
    assert [{f: g[f] for f in fields} for g in own["gaps"]] == [{f: g[f] for f in fields} for g in mine]
    assert any(g["mean"] is not None for g in mine)
    ranking = next(a for a in agenda_of(db, w) if a.kind == "ranking")
    own_rank = client_a.get(f"/api/workshops/{w.id}/activities/{ranking.id}/results").json()["ranking"]["methods"][
        "schulze"
    ]
    lines = client_a.get(f"/api/chains/{chain.id}/results?workshop={w.id}").json()["results"]["ranking"]["lines"]
    assert sorted((p["item"], p["rank"]) for p in own_rank["placements"]) == sorted(
        (x["item"], x["pooled_rank"]) for x in lines
    )
    assert all(x["pooled_rank"] == x["workshop_rank"] for x in lines)


def test_a_reopened_activity_leaves_until_it_closes_again(app, client_a, db, chain_world):
    chain, workshops, _groups = chain_world
    w = workshops[1]
    before = client_a.get(f"/api/chains/{chain.id}/results?workshop={w.id}").json()["results"]
    assert before["ranking"]["ballots"] == 12
    ranking = next(a for a in agenda_of(db, w) if a.kind == "ranking")
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        live.do_open(session, session.get(Workshop, w.id), session.get(Activity, ranking.id))
    during = client_a.get(f"/api/chains/{chain.id}/results?workshop={w.id}").json()["results"]
    assert during["ranking"]["ballots"] == 0 and during["ranking"]["lines"] == []
    assert during["gap_rating"] == before["gap_rating"]  # the other activities stay
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        live.do_close(session, session.get(Workshop, w.id), session.get(Activity, ranking.id))
    after = client_a.get(f"/api/chains/{chain.id}/results?workshop={w.id}").json()["results"]
    assert after == before


def test_a_participant_removed_after_the_end_leaves_the_results(app, client_a, db, chain_world):
    chain, workshops, _groups = chain_world
    w = workshops[0]
    before = client_a.get(f"/api/chains/{chain.id}/results").json()["results"]["ranking"]["ballots"]
    someone = db.exec(select(Participant).where(Participant.workshop_id == w.id)).first()
    with transaction(app.state.db.writer, {"hub": app.state.hub}) as session:
        live.do_remove_participant(session, session.get(Workshop, w.id), someone.id, app.state.tallies)
    after = client_a.get(f"/api/chains/{chain.id}/results").json()["results"]["ranking"]["ballots"]
    assert after == before - 1


def test_pages_show_the_figures_and_link_the_history(client_a, chain_world):
    chain, workshops, groups = chain_world
    detail = client_a.get(f"/chains/{chain.id}")
    assert f'/chains/{chain.id}/results"' in detail.text
    page = client_a.get(f"/chains/{chain.id}/results?group={groups[0]}&region=Cusco")
    assert page.status_code == 200 and "<svg" in page.text and 'id="table-gaps"' in page.text
    data = client_a.get(f"/api/chains/{chain.id}/results?group={groups[0]}&region=Cusco").json()
    gap = data["results"]["gap_rating"]["items"][0]["id"]
    assert f"/chains/{chain.id}/results/gap_rating/{gap}?group={groups[0]}&amp;region=Cusco" in page.text
    history = client_a.get(f"/chains/{chain.id}/results/gap_rating/{gap}")
    assert history.status_code == 200 and 'id="chart-history"' in history.text
    points = client_a.get(f"/api/chains/{chain.id}/results/gap_rating/{gap}").json()["points"]
    assert [p["workshop"] for p in points] == [w.id for w in workshops]  # date order
    assert client_a.get(f"/chains/{chain.id}/results/ranking/{gap + 1000}").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("group=abc", "group"),
        ("from=2026-13-01", "from"),
        ("from=2026-02-01&to=2026-01-01", "to"),
        ("region=Lima", "region"),
    ],
)
def test_a_bad_filter_says_why_and_filters_nothing(client_a, chain_world, query, field):
    chain, _workshops, _groups = chain_world
    page = client_a.get(f"/chains/{chain.id}/results?{query}")
    assert page.status_code == 422 and f'id="err-{field}"' in page.text
    data = client_a.get(f"/api/chains/{chain.id}/results?{query}").json()
    assert data["errors"] == [field] and len(data["workshops"]) == 2 and data["cut"]["dim"] is None


def test_the_region_view_shows_the_chains_of_a_region(client_a, chain_world):
    chain, _workshops, _groups = chain_world
    chains = client_a.get("/chains")
    assert '/regions"' in chains.text
    page = client_a.get("/regions?region=Puno")
    assert page.status_code == 200 and f"/chains/{chain.id}/results?region=Puno" in page.text
    assert client_a.get("/regions?region=Atlantis").status_code == 422


def test_another_facilitator_sees_no_region_of_a_chain_not_shared(client_b, chain_world):
    page = client_b.get("/regions?region=Puno")
    assert page.status_code == 422  # not one of their regions: they see no chain there


def test_common_ground_per_activity_and_per_chain(app, client_a, db, users, min_answers):
    """Gap 1 is rated serious by both groups, gap 2 only by one; line 1 is first for both."""
    min_answers(2)
    factories.reference_lists(db)
    chain = factories.chain(db, users.a, gaps=2, action_lines=3)
    from server.models import StakeholderGroup

    public, private = (g.id for g in db.exec(select(StakeholderGroup).order_by(StakeholderGroup.position)))
    w = _workshop(db, users.a, chain, "Cusco I", "Cusco", 5)
    agenda = agenda_of(db, w)
    rating = next(a for a in agenda if a.settings.get("mode") == "rating")
    ranking = next(a for a in agenda if a.kind == "ranking")
    gaps = [i.gap_id for i in db.exec(select(ActivityItem).where(ActivityItem.activity_id == rating.id))]
    lines = [i.action_line_id for i in db.exec(select(ActivityItem).where(ActivityItem.activity_id == ranking.id))]
    for n, group in enumerate([public] * 3 + [private] * 3):
        p = Participant(workshop_id=w.id, token_hash=f"cg-{n}", stakeholder_group_id=group)
        db.add(p)
        db.flush()
        db.add(GapAnswer(activity_id=rating.id, participant_id=p.id, gap_id=gaps[0], question="seriousness", value=5))
        db.add(
            GapAnswer(
                activity_id=rating.id,
                participant_id=p.id,
                gap_id=gaps[1],
                question="seriousness",
                value=5 if group == public else 1,
            )
        )
        db.add(
            RankingBallot(
                activity_id=ranking.id,
                participant_id=p.id,
                ranking=[lines[0], lines[1]] if group == public else [lines[0], lines[2]],
            )
        )
    db.commit()
    _close_all(app, w.id)
    own = client_a.get(f"/api/workshops/{w.id}/activities/{rating.id}/results").json()
    assert [c["gap"] for c in own["common_ground"]] == [gaps[0]]
    own_rank = client_a.get(f"/api/workshops/{w.id}/activities/{ranking.id}/results").json()["ranking"]
    assert own_rank["common_ground"][0]["item"] == lines[0]
    assert lines[1] not in [c["item"] for c in own_rank["common_ground"]]
    # The chain: the same workshop's minimum is the installation's, 2 here.
    chain_json = client_a.get(f"/api/chains/{chain.id}/results").json()["results"]
    assert [c["gap"] for c in chain_json["gap_rating"]["common_ground"]] == [gaps[0]]
    assert chain_json["ranking"]["common_ground"][0]["item"] == lines[0]
