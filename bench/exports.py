"""Exports of a large chain while a live vote runs: time, memory, and the votes' acks.

    .venv/bin/python bench/exports.py                          # 1,000,000 answers (the target)
    .venv/bin/python bench/exports.py --answers 100000 --phones 50 --rate 50   # quick

What it does (figures in docs/performance.md):

1. A temporary SQLite database: schema, the demo data, the demo's rating activity opened
   with ``--phones`` participants (bench/live_gaps.py's ``prepare``), and a large chain:
   10 workshops of a "diagnosis" agenda over 50 gaps, their participants and
   ``--answers`` stored gap answers in all (seriousness, relevance to the three elements,
   segments), inserted in bulk.
2. ``minka serve`` in a subprocess, a facilitator logged in over HTTP.
3. The phones rate the demo's gaps at ``--rate`` answers a second for a few seconds alone
   (baseline), then while the chain's XLSX and CSV exports are downloaded one after the
   other, then the demo workshop's PDF acta. Every acknowledgement is timed.
4. For each export: time to the last byte, the size, and the server's peak resident memory
   during it (sampled from /proc every 50 ms); the acks' p50/p99/max per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import live_gaps as lg  # noqa: E402

WORKSHOPS, GAPS, QUESTIONS = 10, 50, ("seriousness", "specialization", "diversification", "global_context", "segments")


def populate(db_path: Path, answers: int) -> tuple[int, int]:
    """A chain of WORKSHOPS workshops with ``answers`` gap answers in all. Returns the chain's
    id and the demo workshop's id (for its PDF acta)."""
    import datetime as dt
    import random

    from sqlalchemy import insert
    from sqlmodel import select

    from server.db import Database, transaction
    from server.demo_data import DEMO_EMAIL
    from server.models import GapAnswer, Participant, StakeholderGroup, User, Workshop
    from server.valuechains import library
    from server.valuechains.service import do_create_chain, segments_of
    from server.workshops.service import agenda_of, do_create_workshop

    db = Database(lg.settings_for(db_path))
    rng = random.Random(14)
    per_workshop = answers // WORKSHOPS
    people = max(1, per_workshop // (GAPS * len(QUESTIONS)))
    try:
        with transaction(db.writer) as session:
            owner = session.exec(select(User).where(User.email == DEMO_EMAIL)).one()
            demo_workshop = session.exec(select(Workshop).order_by(Workshop.id)).first().id
            groups = [g.id for g in session.exec(select(StakeholderGroup))]
            chain = do_create_chain(
                session, owner, {"name": "Bench", "product": "x", "regions": "A", "segments": "S1\nS2\nS3"}
            )
            for n in range(GAPS):
                library.do_add_item(session, chain, library.GAPS, {"title": f"Gap {n}", "mechanisms": "M"})
            segments = [s.id for s in segments_of(session, chain)]
            for w in range(WORKSHOPS):
                data = {"title": f"Workshop {w}", "date": dt.date(2026, 1, 1 + w).isoformat(), "language": "es"}
                workshop = do_create_workshop(
                    session, owner, chain, {**data, "attendance": "full", "template": "diagnosis", "region": "R"}
                )
                activity = agenda_of(session, workshop)[0]
                gap_ids = [int(i) for i in activity.settings.get("items", [])] or [
                    g.id for g in library.items_of(session, chain, library.GAPS)
                ]
                session.execute(
                    insert(Participant),
                    [
                        {
                            "workshop_id": workshop.id,
                            "token_hash": secrets.token_hex(32),
                            "name": f"P{w}-{p}",
                            "organization": "Org",
                            "stakeholder_group_id": groups[p % len(groups)] if groups else None,
                            "segment_id": segments[p % len(segments)],
                            "joined_at": dt.datetime.now(dt.UTC),
                            "removed": False,
                        }
                        for p in range(people)
                    ],
                )
                ids = [p.id for p in session.exec(select(Participant).where(Participant.workshop_id == workshop.id))]
                rows, now = [], dt.datetime.now(dt.UTC)
                for p in ids:
                    for g in gap_ids:
                        for q in QUESTIONS:
                            value = (
                                None
                                if q == "segments"
                                else rng.randint(1, 5)
                                if q == "seriousness"
                                else rng.randint(0, 3)
                            )
                            segs = rng.sample(segments, rng.randint(0, 2)) if q == "segments" else []
                            rows.append(
                                {
                                    "activity_id": activity.id,
                                    "participant_id": p,
                                    "gap_id": g,
                                    "question": q,
                                    "value": value,
                                    "segments": segs,
                                    "seq": None,
                                    "updated_at": now,
                                }
                            )
                    if len(rows) >= 50_000:
                        session.execute(insert(GapAnswer), rows)
                        rows = []
                if rows:
                    session.execute(insert(GapAnswer), rows)
            return chain.id, demo_workshop
    finally:
        db.dispose()


class Facilitator:
    """A logged-in browser, as far as cookies and CSRF go."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def log_in(self) -> None:
        from server.demo_data import DEMO_EMAIL, DEMO_PASSWORD

        page = self.opener.open(f"{self.base}/login").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrf_token": token}).encode()
        request = urllib.request.Request(f"{self.base}/login", data=data, headers={"Origin": self.base})
        self.opener.open(request).read()

    def download(self, path: str) -> tuple[float, int, int]:
        """(seconds to the last byte, bytes, HTTP status)."""
        start, size = time.perf_counter(), 0
        with self.opener.open(f"{self.base}{path}", timeout=600) as answer:
            while block := answer.read(1 << 20):
                size += len(block)
            status = answer.status
        return time.perf_counter() - start, size, status


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


class Sampler:
    """Resident memory, every 50 ms, while an export runs: the server's process, and the
    largest of its children (the export worker)."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.worker_peak, self._stop = pid, 0, 0, threading.Event()
        self.worker_cpu: dict[int, list[float]] = {}  # worker pid -> [CPU seconds at start, now]

    def __enter__(self):
        self.peak = lg.rss_kib(self.pid)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, lg.rss_kib(self.pid))
            for child in children(self.pid):
                try:
                    self.worker_peak = max(self.worker_peak, lg.rss_kib(child))
                    self.worker_cpu.setdefault(child, [lg.cpu_seconds(child)] * 2)[1] = lg.cpu_seconds(child)
                except OSError:
                    pass

    @property
    def worker_cpu_seconds(self) -> float:
        """CPU time the export worker spent during the export (what it costs, whatever
        else the machine runs)."""
        return sum(end - start for start, end in self.worker_cpu.values())

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()


def phase_figures(latencies: list[float]) -> dict:
    return {
        "acks": len(latencies),
        "p50_ms": lg.ms(lg.percentile(latencies, 50)),
        "p99_ms": lg.ms(lg.percentile(latencies, 99)),
        "max_ms": lg.ms(max(latencies) if latencies else None),
    }


async def run(args, room, port: int, pid: int, chain_id: int, demo_workshop: int) -> dict:
    base = f"http://127.0.0.1:{port}"
    url, origin = f"ws://127.0.0.1:{port}/ws/p/{room.workshop_id}", base
    from server.workshops.participants import cookie_name

    stats, readers = lg.Stats(), []
    phones = [lg.Phone(i, token) for i, token in enumerate(room.tokens)]
    for phone in phones:
        await lg.connect_phone(phone, url, origin, cookie_name(room.workshop_id), room.activity_id, stats, readers)
    lg.log(f"{len(phones)} phones connected")
    facilitator = Facilitator(base)
    await asyncio.to_thread(facilitator.log_in)
    loop = asyncio.get_running_loop()
    interval = len(phones) / args.rate
    start = loop.time() + 0.5
    stats.vote_started = time.perf_counter()
    end = start + 3600  # phones vote until told to stop
    senders = [
        asyncio.create_task(lg.send_answers(p, i * interval / len(phones), interval, start, end, room, stats))
        for i, p in enumerate(phones)
    ]
    report: dict = {"phases": {}, "exports": {}}

    async def phase(name: str, work) -> None:
        before = len(stats.latencies)
        result = await work()
        report["phases"][name] = phase_figures(stats.latencies[before:])
        if result is not None:
            report["exports"][name] = result

    async def baseline():
        await asyncio.sleep(args.baseline)

    def exporting(path: str):
        async def work():
            with Sampler(pid) as memory:
                seconds, size, status = await asyncio.to_thread(facilitator.download, path)
            lg.log(
                f"{path}: {status}, {size / 2**20:.1f} MB in {seconds:.1f} s, peak RSS: server "
                f"{memory.peak / 1024:.0f} MB, export worker {memory.worker_peak / 1024:.0f} MB; "
                f"worker CPU {memory.worker_cpu_seconds:.1f} s"
            )
            return {
                "seconds": round(seconds, 2),
                "mb": round(size / 2**20, 1),
                "status": status,
                "server_peak_rss_mb": round(memory.peak / 1024),
                "worker_peak_rss_mb": round(memory.worker_peak / 1024),
                "worker_cpu_seconds": round(memory.worker_cpu_seconds, 1),
            }

        return work

    await phase("baseline (vote alone)", baseline)
    await phase("chain XLSX", exporting(f"/chains/{chain_id}/export/xlsx"))
    await phase("chain CSV", exporting(f"/chains/{chain_id}/export/csv"))
    await phase("demo workshop PDF acta", exporting(f"/workshops/{demo_workshop}/export/pdf"))
    for task in senders:
        task.cancel()
    await asyncio.sleep(1)
    for phone in phones:
        await phone.ws.close()
    for reader in readers:
        reader.cancel()
    report["votes"] = {"sent": stats.sent, "acked": stats.acked, "rejected": stats.rejected}
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--rate", type=float, default=100, help="answers a second, all phones together")
    parser.add_argument("--baseline", type=float, default=5, help="seconds of vote alone, first")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    args.server, args.quiet_server = "minka", True
    tmp = Path(tempfile.mkdtemp(prefix="minka-bench-exports-"))
    db_path = tmp / "bench.db"
    process = None
    try:
        lg.log("preparing the database")
        room = lg.prepare(db_path, args.phones)
        t0 = time.perf_counter()
        chain_id, demo_workshop = populate(db_path, args.answers)
        lg.log(f"{args.answers:,} answers stored in {time.perf_counter() - t0:.0f} s")
        port = lg.free_port()
        process, _log = lg.start_server(args, tmp, db_path, port)
        report = asyncio.run(run(args, room, port, process.pid, chain_id, demo_workshop))
        report["answers"] = args.answers
        report["machine"] = lg.machine()
        print(json.dumps(report, indent=2))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
    finally:
        if process is not None:
            lg.stop_server(process)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
