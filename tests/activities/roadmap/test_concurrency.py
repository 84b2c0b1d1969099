"""Concurrent edits never lose work, on SQLite and on PostgreSQL (the suite runs on both).

Each edit runs in a thread of its own, in its own transaction of the app's writer engine
(as requests and processes would: not through the single writer, which would serialize
them), all released at once by a barrier."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from server.activities.roadmap import reading
from server.activities.roadmap import service as roadmap
from server.activities.roadmap.fields import ITEM_FIELDS
from server.activities.roadmap.outcomes import Applied, Conflict
from server.db import transaction
from server.models import RoadmapMilestone, RoadmapRevision

N = 50

VALUES = {
    "title": lambda n: f"Título {n}",
    "description": lambda n: f"Descripción {n}",
    "horizon": lambda n: ("medium", "long")[n % 2],
    "phase": lambda n: ("governance", "strategic_plan")[n % 2],
    "lead_organization": lambda n: f"Org {n}",
    "budget": lambda n: {"amount": f"{1000 + n}.25", "currency": "USD"},
    "funding_source": lambda n: f"Fondo {n}",
    "pilot": lambda n: True,
    "status": lambda n: "under_way",
    "progress": lambda n: n % 101,
}


def _race(world, works) -> list:
    """Run every ``work(session)`` at once, each in its own thread and transaction."""
    barrier = threading.Barrier(len(works))
    outcomes: list = [None] * len(works)

    def run(n: int) -> None:
        barrier.wait()
        try:
            with transaction(world.app.state.db.writer) as session:
                outcomes[n] = works[n](session)
        except Exception as exc:
            outcomes[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_fifty_edits_of_one_field_from_the_same_version_one_applies_and_49_conflict(world):
    item = world.items[0]

    def edit(n):
        return lambda s: roadmap.edit_field(s, world.phone(n % 3), item, "title", 0, f"Versión {n}", f"race-key-{n:04}")

    outcomes = _race(world, [edit(n) for n in range(N)])
    applied = [o for o in outcomes if isinstance(o, Applied)]
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(applied), len(conflicts)) == (1, N - 1), [o for o in outcomes if not isinstance(o, Applied | Conflict)]
    winner = applied[0]
    # no silent overwrite: the stored title is the one edit told it applied, made once
    view = world.run(lambda s: reading.item_view(s, item))
    assert view.values["title"] == winner.value and view.versions["title"] == 1
    assert all(c.current == winner.value and c.version == 1 and c.yours != winner.value for c in conflicts)
    title_revisions = world.run(
        lambda s: s.execute(
            select(func.count()).where(RoadmapRevision.item_id == item, RoadmapRevision.field == "title")
        ).scalar_one()
    )
    assert title_revisions == 1


def test_fifty_edits_of_fifty_different_fields_and_rows_all_apply(world):
    rows = [
        world.run(
            lambda s, n=n: roadmap.add_row(s, world.facilitator(s), world.items[0], "milestone", {"text": f"Hito {n}"})
        )
        for n in range(N - len(world.items) * len(ITEM_FIELDS))
    ]
    works = []
    for i, item in enumerate(world.items):
        for f, field in enumerate(ITEM_FIELDS):
            n = i * len(ITEM_FIELDS) + f
            works.append(
                lambda s, item=item, field=field, n=n: roadmap.edit_field(
                    s, world.phone(n % 3), item, field, 0, VALUES[field](n), f"field-key-{n:04}"
                )
            )
    for r, row in enumerate(rows):
        row_id = int(row.slot.split(":")[1])
        works.append(
            lambda s, row_id=row_id, r=r: roadmap.edit_row(
                s,
                world.phone(r % 3),
                world.items[0],
                "milestone",
                row_id,
                1,
                {"text": f"Hito {r} bis"},
                f"row-key-{r:04}",
            )
        )
    assert len(works) == N
    outcomes = _race(world, works)
    assert all(isinstance(o, Applied) and o.changed for o in outcomes), outcomes
    views = world.run(lambda s: reading.item_views(s, world.items))
    for i, view in enumerate(views):
        for f, field in enumerate(ITEM_FIELDS):
            assert view.values[field] == outcomes[i * len(ITEM_FIELDS) + f].value
            assert view.versions[field] == 1
    assert sorted(r.value["text"] for r in views[0].rows["milestone"]) == sorted(
        f"Hito {r} bis" for r in range(len(rows))
    )


def test_fifty_milestones_added_at_once_are_all_kept(world):
    item = world.items[1]

    def add(n):
        return lambda s: roadmap.add_row(
            s, world.phone(n % 3), item, "milestone", {"text": f"Hito {n}"}, f"add-key-{n:04}"
        )

    outcomes = _race(world, [add(n) for n in range(N)])
    assert all(isinstance(o, Applied) for o in outcomes), outcomes
    count = world.run(lambda s: s.execute(select(func.count()).where(RoadmapMilestone.item_id == item)).scalar_one())
    assert count == N
