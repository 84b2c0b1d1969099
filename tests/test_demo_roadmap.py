"""`minka demo` loads the coffee chain's roadmap from the report's recommendations, and a
roadmap activity after the ranking of its workshops; loading again adds nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from server.activities.roadmap import reading
from server.demo import load_demo
from server.demo_data import ROADMAP
from server.models import Activity, RoadmapCommitment, RoadmapItem, RoadmapRevision, RoadmapWithdrawal, ValueChain


def _count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).scalar_one()


def test_the_demo_loads_a_filled_roadmap_for_the_coffee_chain_once(db, client):
    today = dt.date(2026, 3, 1)
    result = load_demo(db, today=today)
    db.commit()
    assert result.created["roadmap items"] == len(ROADMAP) == 6
    coffee = db.exec(select(ValueChain).where(ValueChain.name == "Café")).scalars().one()
    views = reading.item_views(db, reading.chain_items(db, coffee.id))
    assert [v.values["title"] for v in views] == [spec.title for spec in ROADMAP]
    for view in views:
        assert view.values["horizon"] and view.values["phase"] and view.values["lead_organization"]
        assert view.values["budget"] and view.values["funding_source"]
        assert view.rows["partner"] and view.rows["milestone"] and view.rows["indicator"]
        assert len(view.action_lines) == 1 and view.gaps
    assert {v.values["horizon"] for v in views} == {"short", "medium", "long"}
    assert {v.values["status"] for v in views} >= {"proposed", "agreed", "under_way"}
    assert any(v.values["pilot"] for v in views)
    assert _count(db, RoadmapCommitment) >= 5 and _count(db, RoadmapWithdrawal) == 1
    edits = db.exec(select(func.count()).select_from(RoadmapRevision).where(RoadmapRevision.change == "edit"))
    assert edits.scalar_one() >= 5
    milestone = views[0].rows["milestone"][0].value["date"]
    assert dt.date.fromisoformat(milestone) > today
    # Every workshop with a ranking has a roadmap activity right after it, on the ranking's top 3.
    for workshop in result.workshops:
        kinds = [
            a.kind
            for a in db.exec(
                select(Activity).where(Activity.workshop_id == workshop.id).order_by(Activity.position)
            ).scalars()
        ]
        if "ranking" in kinds:
            assert kinds[kinds.index("ranking") + 1] == "roadmap", workshop.title
    settings = [a.settings for a in db.exec(select(Activity).where(Activity.kind == "roadmap")).scalars()]
    assert len(settings) == 2
    assert all((s["bring"], s["lines_from"], s["top"]) == ("open_and_lines", "ranking", 3) for s in settings)
    counts = (_count(db, RoadmapItem), _count(db, RoadmapRevision), _count(db, RoadmapCommitment), _count(db, Activity))
    again = load_demo(db, today=today)
    db.commit()
    assert "roadmap items" not in again.created
    assert (
        _count(db, RoadmapItem),
        _count(db, RoadmapRevision),
        _count(db, RoadmapCommitment),
        _count(db, Activity),
    ) == counts
