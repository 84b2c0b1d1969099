"""How long a value chain's results take with a programme-sized chain: 60 workshops,
30,000 participants, 1,000,000 gap answers and 100,000 ranking ballots.

    .venv/bin/python bench/chain_results.py                 # SQLite (a file in /tmp)
    .venv/bin/python bench/chain_results.py --pg            # PostgreSQL: database test_chain
    .venv/bin/python bench/chain_results.py --database-url postgresql+psycopg://...

Builds the chain with bulk inserts (the schema dropped and made again: a throw-away
database), closes every activity, counts the summaries the way closing activities does
(timed apart: once per workshop when its activities close), then asks the app (in-process,
one logged-in client) for the chain's results page, its JSON and every cut, each three
times, and prints the first time (counted from the summaries) and the best of the two
others (the view kept, nothing closed since). Target: under 1 s each, the first time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.app import create_app
from server.auth.service import do_create_user
from server.config import Settings
from server.db import Database
from server.migrate import upgrade
from server.models import (
    ActionLine,
    Activity,
    ActivityItem,
    Gap,
    GapAnswer,
    Participant,
    RankingBallot,
    Segment,
    StakeholderGroup,
    ValueChain,
    Workshop,
)
from server.results import chain as chain_results
from server.results.chain import refresh_stale

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test_chain"
WORKSHOPS, PARTICIPANTS, GAP_ANSWERS, BALLOTS = 60, 30_000, 1_000_000, 100_000
GAPS, LINES, SEGMENTS, RANKINGS, LINES_PER_RANKING = 9, 20, 6, 4, 12
REGIONS = {
    "Cusco": ("Cusco", "Quillabamba", "Echarati"),
    "Puno": ("Puno", "Juliaca", "Sandia"),
    "Junín": ("Huancayo", "Satipo"),
}
QUESTIONS = ("seriousness", "specialization", "diversification", "global_context", "segments")
BATCH = 20_000


def fresh_schema(settings: Settings) -> None:
    if not settings.is_sqlite:
        db = Database(settings)
        with db.writer.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.dispose()
    upgrade(settings)


def bulk(session: Session, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(model), rows[start : start + BATCH])


def build(settings: Settings, seed: int) -> int:
    rng = random.Random(seed)
    db = Database(settings)
    with Session(db.writer) as s:
        user = do_create_user(s, {"email": "bench@example.org", "name": "Bench", "password": "bench-password-1"})
        groups = []
        for n, key in enumerate(("public", "private", "academia", "civil")):
            g = StakeholderGroup(key=key, name_es=key, name_en=key, position=n)
            s.add(g)
            groups.append(g)
        chain = ValueChain(name="Café (bench)", regions=list(REGIONS), owner_id=user.id)
        s.add(chain)
        s.flush()
        segments = [Segment(value_chain_id=chain.id, name=f"Eslabón {i + 1}", position=i) for i in range(SEGMENTS)]
        gaps = [Gap(value_chain_id=chain.id, title=f"Brecha {i + 1}", position=i) for i in range(GAPS)]
        lines = [ActionLine(value_chain_id=chain.id, title=f"Línea {i + 1}", position=i) for i in range(LINES)]
        s.add_all(segments + gaps + lines)
        s.flush()
        seg_ids, gap_ids, line_ids, group_ids = (
            [x.id for x in segments],
            [x.id for x in gaps],
            [x.id for x in lines],
            [g.id for g in groups],
        )
        start = dt.date(2024, 1, 15)
        regions = [(r, t) for r, towns in REGIONS.items() for t in towns]
        workshops = []
        for i in range(WORKSHOPS):
            region, town = regions[i % len(regions)]
            w = Workshop(
                value_chain_id=chain.id,
                title=f"Taller {i + 1} — {town}",
                date=start + dt.timedelta(days=12 * i),
                region=region,
                town=town,
                status="ended",
                joining_open=False,
                created_by=user.id,
            )
            workshops.append(w)
        s.add_all(workshops)
        s.flush()
        closed = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        rating_of, rankings_of, activities = {}, {}, []
        for w in workshops:
            a = Activity(
                workshop_id=w.id,
                kind="gap_rating",
                title="Brechas",
                settings={"mode": "rating", "ask_relevance": True, "ask_segments": True},
                status="closed",
                closed_at=closed,
            )
            activities.append(a)
            rating_of[w.id] = a
            rankings_of[w.id] = []
            for r in range(RANKINGS):
                b = Activity(
                    workshop_id=w.id,
                    kind="ranking",
                    title=f"Líneas {r + 1}",
                    position=r + 1,
                    settings={"mode": "full"},
                    status="closed",
                    closed_at=closed,
                )
                activities.append(b)
                rankings_of[w.id].append(b)
        s.add_all(activities)
        s.flush()
        items, offered = [], {}
        for w in workshops:
            items += [{"activity_id": rating_of[w.id].id, "gap_id": g, "position": n} for n, g in enumerate(gap_ids)]
            for b in rankings_of[w.id]:
                offered[b.id] = rng.sample(line_ids, LINES_PER_RANKING)
                items += [
                    {"activity_id": b.id, "action_line_id": x, "position": n} for n, x in enumerate(offered[b.id])
                ]
        bulk(s, ActivityItem, items)
        per_workshop = PARTICIPANTS // WORKSHOPS
        people = [
            {
                "workshop_id": w.id,
                "token_hash": f"bench-{w.id}-{i}",
                "stakeholder_group_id": rng.choice(group_ids),
                "segment_id": rng.choice(seg_ids),
            }
            for w in workshops
            for i in range(per_workshop)
        ]
        bulk(s, Participant, people)
        s.commit()
        pids = [(pid, w) for pid, w in s.execute(text("SELECT id, workshop_id FROM participant ORDER BY id"))]
        slots = len(pids) * GAPS * len(QUESTIONS)
        chosen = sorted(rng.sample(range(slots), GAP_ANSWERS))
        appeal = {g: rng.uniform(2.2, 4.4) for g in gap_ids}
        rows = []
        for slot in chosen:
            p, rest = divmod(slot, GAPS * len(QUESTIONS))
            g, q = divmod(rest, len(QUESTIONS))
            pid, w = pids[p]
            gap, question = gap_ids[g], QUESTIONS[q]
            row = {
                "activity_id": rating_of[w].id,
                "participant_id": pid,
                "gap_id": gap,
                "question": question,
                "segments": [],
            }
            if question == "seriousness":
                row["value"] = min(5, max(1, round(rng.gauss(appeal[gap], 1))))
            elif question == "segments":
                row["value"], row["segments"] = None, rng.sample(seg_ids, rng.randint(1, 3))
            else:
                row["value"] = rng.randint(0, 3)
            rows.append(row)
            if len(rows) >= BATCH:
                s.execute(insert(GapAnswer), rows)
                rows = []
        if rows:
            s.execute(insert(GapAnswer), rows)
        s.commit()
        ballot_slots = sorted(rng.sample(range(len(pids) * RANKINGS), BALLOTS))
        line_appeal = {x: rng.gauss(0, 1) for x in line_ids}
        rows = []
        for slot in ballot_slots:
            p, r = divmod(slot, RANKINGS)
            pid, w = pids[p]
            activity = rankings_of[w][r]
            order = sorted(offered[activity.id], key=lambda x: line_appeal[x] + rng.gauss(0, 1.5))
            if rng.random() < 0.25:
                order = order[: rng.randint(1, len(order) - 1)]
            rows.append({"activity_id": activity.id, "participant_id": pid, "ranking": order})
            if len(rows) >= BATCH:
                s.execute(insert(RankingBallot), rows)
                rows = []
        if rows:
            s.execute(insert(RankingBallot), rows)
        s.commit()
        chain_id = chain.id
    db.dispose()
    return chain_id


def timed(label: str, fn, runs: int = 3) -> list[float]:
    chain_results._SECTIONS.clear()  # the first time counts the view from the summaries
    times, cpu = [], 0.0
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu = cpu or time.process_time() - start_cpu
    print(
        f"  {label:<28} first {times[0] * 1000:6.0f} ms (CPU {cpu * 1000:4.0f} ms)   again {min(times[1:]) * 1000:5.0f} ms",
        flush=True,
    )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true", help=f"PostgreSQL at {PG_URL}")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reuse", action="store_true", help="time again on the chain a previous run built (summaries counted afresh)"
    )
    args = parser.parse_args()
    url = args.database_url or (PG_URL if args.pg else "sqlite:////tmp/minka-bench-chain.db")
    settings = Settings(
        database_url=url, secret_key="bench-" + "x" * 40, _env_file=None, login_attempts_per_minute=1000
    )
    print(f"database: {url}")
    if args.reuse:
        upgrade(settings)
        db = Database(settings)
        with db.writer.begin() as conn:
            conn.execute(text("DELETE FROM chain_stamp"))
            chain_id = conn.execute(text("SELECT min(id) FROM value_chain")).scalar_one()
        db.dispose()
    else:
        if url.startswith("sqlite:////"):
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        fresh_schema(settings)
        start = time.perf_counter()
        chain_id = build(settings, args.seed)
        print(
            f"built: {WORKSHOPS} workshops, {PARTICIPANTS} participants, {GAP_ANSWERS} gap answers, "
            f"{BALLOTS} ballots in {time.perf_counter() - start:.1f} s"
        )
    app = create_app(settings)
    with TestClient(app) as client:
        db, registry = app.state.db, app.state.registry
        with Session(db.reader) as s:
            workshop_ids = [w for (w,) in s.execute(text(f"SELECT id FROM workshop WHERE value_chain_id = {chain_id}"))]
            groups = [g for (g,) in s.execute(text("SELECT id FROM stakeholder_group ORDER BY id"))]
            segment = s.execute(text(f"SELECT min(id) FROM segment WHERE value_chain_id = {chain_id}")).scalar_one()
            gap = s.execute(text(f"SELECT min(id) FROM gap WHERE value_chain_id = {chain_id}")).scalar_one()
            line = s.execute(text(f"SELECT min(id) FROM action_line WHERE value_chain_id = {chain_id}")).scalar_one()
        start = time.perf_counter()
        counted = refresh_stale(db, registry, workshop_ids)
        total = time.perf_counter() - start
        print(
            f"summaries counted, as closing the activities does: {counted} in {total:.1f} s "
            f"({total / len(workshop_ids) * 1000:.0f} ms a workshop)"
        )
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"email": "bench@example.org", "password": "bench-password-1", "csrf_token": token})
        base = f"/chains/{chain_id}/results"
        # The templates are compiled once per process: not what a view costs.
        for path in (f"{base}?workshop={workshop_ids[0]}", f"{base}/gap_rating/{gap}?workshop={workshop_ids[0]}"):
            client.get(path)
        client.get(f"{base}/ranking/{line}?workshop={workshop_ids[0]}")
        client.get(f"{base}?workshop={workshop_ids[0]}&compare=groups&group={groups[0]}&group_b={groups[1]}")
        client.get(f"/regions?region=Cusco&workshop={workshop_ids[0]}")
        cuts = {
            "results page (everyone)": "",
            "JSON (everyone)": "",
            "stakeholder group": f"?group={groups[0]}",
            "participant's segment": f"?segment={segment}",
            "one workshop": f"?workshop={workshop_ids[5]}",
            "region": "?region=Puno",
            "town": "?town=Juliaca",
            "date range (a year)": "?from=2024-01-01&to=2024-12-31",
            "group and region": f"?group={groups[1]}&region=Cusco",
            "compare two groups": f"?compare=groups&group={groups[0]}&group_b={groups[1]}",
            "compare two periods": "?compare=periods&from=2024-01-01&to=2024-12-31&from_b=2025-01-01&to_b=2025-12-31",
        }
        worst = []
        print("times (first: counted from the summaries; again: the same view, nothing changed since):")
        for label, query in cuts.items():
            path = ("/api" + base if label.startswith("JSON") else base) + query

            def get(path=path):
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code, response.text[:300])

            worst.append(timed(label, get)[0])
        for label, path in (
            ("gap history page", f"{base}/gap_rating/{gap}"),
            ("action line history page", f"{base}/ranking/{line}"),
            ("region view", "/regions?region=Cusco"),
        ):
            worst.append(timed(label, lambda path=path: client.get(path).raise_for_status())[0])
        print(
            f"slowest first time: {max(worst) * 1000:.0f} ms; median first time: {statistics.median(worst) * 1000:.0f} ms"
        )
    app.state.db.dispose()


if __name__ == "__main__":
    main()
