"""Load test of the live path: N phones on websockets rating gaps at an aggregate rate.

    .venv/bin/python bench/live_gaps.py --phones 2000 --rate 2000 --seconds 20
    .venv/bin/python bench/live_gaps.py --phones 200 --rate 200 --seconds 5     # quick
    .venv/bin/python bench/live_gaps.py --phones 300 --rate 300 --seconds 10 --garbage 1

What it does (see bench/README.md and docs/performance.md):

1. A temporary directory with a SQLite database: schema (``server.migrate.upgrade``),
   the demo data, its "diagnosis" workshop's gap-rating activity opened and its results
   revealed (so phones get the results broadcast), and N participants made directly
   with ``do_join`` (HTTP joining is rate-limited per address: one client address could
   not join 2,000 phones).
2. The real server in a subprocess: ``minka serve`` (the default), or ``python -m
   uvicorn`` with an app factory, websocket implementation and compression of your
   choice (``--server uvicorn --app ... --ws ... --deflate``) to try a variant.
3. This process is the client (asyncio + ``websockets``): it connects the N phones in
   batches, each sends hello and waits for the answer to it (the current texts, then
   its own answers: "mine"); then, for --seconds, phones send
   answers at an aggregate --rate, evenly spread (open loop: a late send is not
   skipped), and every acknowledgement is timed. Afterwards it measures how long after
   the last acknowledgement every phone had the results fragment of the final tally; the
   expected fragment is rendered here, with the server's own renderer, from the database.
4. It prints the figures (and writes them as JSON with --json).

With ``--garbage N``, N more participants connect and, while the honest phones vote,
each sends garbage at the server's rate limit (20 messages a second): binary frames,
ids over 2**63, deep nesting, NaN and Infinity, lax values (3.5, true, "3"), frames
over the size limit, unknown types. The honest phones' figures are the ones printed;
the garbage's replies (errors, refusals, anything accepted) and dropped garbage
connections are counted apart.

Issue 15 (a hall: 5,000 phones on one process, 15,000 on three) adds, each by an option,
and ends the output with one line per target, "target | measured | met?" (live/targets.py):
``--phases K`` votes on the same connections, each with its per-second ack p99;
``--http-joins M`` phones joining through the real pages (live/http_joins.py);
``--saturate S`` the websocket path against the same server's no-database replies;
``--bursts N`` the facilitator's reveal timed on every phone, and ``--raw-rounds R`` a raw
``websockets.broadcast`` to as many sockets (live/reference.py); ``--processes K --pg URL
--redis URL`` several ``minka serve`` on PostgreSQL and Redis (live/stores.py); a console
screen's counts against the truth (live/console.py). Recovery: ``live_recovery.py``.

The client shares the machine with the server (on a 2-core box it needs a good part of
one core at 2,000 phones): its own CPU time and event-loop lag are reported next to the
server's, so that a slow client is not mistaken for a slow server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the live/ package next to this script

import websockets  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

CONNECT_BATCH = 200
TRY_AGAIN_LATER = 1013  # the close code of a server shedding connections
SECRET = "bench-" + secrets.token_urlsafe(24)
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# Setup --------------------------------------------------------------------------------


@dataclass
class Room:
    workshop_id: int
    activity_id: int
    gap_ids: list[int]
    tokens: list[str]


# Set by --pg/--redis (or by a script importing this one): the database and Redis the
# servers and the setup use instead of the SQLite file in the temporary directory.
DATABASE_URL: str | None = None
REDIS_URL: str | None = None
# More environment for the servers (e.g. raised join limits), set by main.
SERVER_ENV: dict[str, str] = {}


def database_url(db_path: Path) -> str:
    return DATABASE_URL or f"sqlite:///{db_path}"


def settings_for(db_path: Path):
    from server.config import Settings

    return Settings(database_url=database_url(db_path), redis_url=REDIS_URL, secret_key=SECRET, data_dir=db_path.parent)


def prepare(db_path: Path, phones: int) -> Room:
    """Schema, demo data, an open and revealed rating activity, N joined participants."""
    from server import migrate
    from server.db import Database, transaction
    from server.demo import load_demo
    from server.workshops import live
    from server.workshops.participants import do_join, join_choices
    from server.workshops.service import activity_items, agenda_of

    settings = settings_for(db_path)
    migrate.upgrade(settings)
    db = Database(settings)
    try:
        with transaction(db.writer) as session:
            demo = load_demo(session)
            for workshop in demo.workshops:
                rating = [
                    a
                    for a in agenda_of(session, workshop)
                    if a.kind == "gap_rating" and a.settings.get("mode") == "rating"
                ]
                if rating:
                    activity = rating[0]
                    break
            else:
                raise SystemExit("the demo has no workshop with a gap-rating activity")
            gap_ids = [g.id for g in activity_items(session, activity)]
            live.do_open(session, workshop, activity)
            live.do_reveal(session, workshop, activity, True)
            groups, segments = join_choices(session, workshop)
            tokens = []
            for i in range(phones):
                data = {"name": f"Phone {i}", "organization": "Bench"}
                if groups:
                    data["stakeholder_group_id"] = str(groups[i % len(groups)].id)
                if segments:
                    data["segment_id"] = str(segments[i % len(segments)].id)
                _, token = do_join(session, workshop, data)
                tokens.append(token)
            room = Room(workshop.id, activity.id, gap_ids, tokens)
    finally:
        db.dispose()
    return room


def expected_results(db_path: Path, workshop_id: int) -> str:
    """The phones' results message for what the database holds now, rendered by the
    server's own renderer from a fresh recount (what every phone should end with)."""
    from server.db import Database
    from server.realtime.hub import PARTICIPANTS
    from server.web import make_environment
    from server.workshops.screens import ScreenRenderer

    class NoHub:
        def online(self, _workshop_id):
            return set()

    settings = settings_for(db_path)
    db = Database(settings)
    try:
        try:
            from server.activities.live import LiveTallies as Tallies
        except ImportError:  # before the tallies moved out of the gaps package
            from server.activities.gaps.live import GapTallies as Tallies
        try:
            from server.app import make_registry
        except ImportError:  # before the activity kinds were plug-ins
            tallies = Tallies(db.reader, threading.RLock(), lambda *_: None)
            renderer = ScreenRenderer(make_environment(), db, tallies, NoHub(), settings.min_group_size)
        else:
            registry = make_registry()
            tallies = Tallies(db.reader, threading.RLock(), lambda *_: None, registry)
            renderer = ScreenRenderer(make_environment(), db, tallies, NoHub(), registry, settings.min_group_size)
        messages = renderer.render(workshop_id, frozenset({"results"}))
        # Keyed by role, or (since audiences are per language) by (role, language): the
        # bench's phones ask no language, so theirs is the only one rendered here.
        return next(
            texts for key, texts in messages.items() if key == PARTICIPANTS or getattr(key, "role", "") == PARTICIPANTS
        )["results"]
    finally:
        db.dispose()


# The server process ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    args, tmp: Path, db_path: Path, port: int, log_name: str = "server.log"
) -> tuple[subprocess.Popen, Path]:
    env = {
        **os.environ,
        "MINKA_DATABASE_URL": database_url(db_path),
        "MINKA_SECRET_KEY": SECRET,
        "MINKA_DATA_DIR": str(tmp),
        # The server runs the source next to this script, even if the venv's `minka`
        # was installed from another checkout.
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        **SERVER_ENV,
    }
    if REDIS_URL:
        env["MINKA_REDIS_URL"] = REDIS_URL
    venv_bin = Path(sys.executable).parent
    if args.server == "minka":
        command = [str(venv_bin / "minka"), "serve", "--port", str(port)]
    else:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            args.app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws",
            args.ws,
            "--ws-per-message-deflate",
            "true" if args.deflate else "false",
        ]
        if args.quiet_server:
            command += ["--log-level", "warning"]
    log_path = tmp / log_name
    out = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return process, log_path
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer /healthz within 60 s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


# The measuring of processes, in live/procs.py; kept importable from here for other scripts.
from live import client_gc, procs  # noqa: E402

Servers = procs.Servers
_listed = procs._listed
cpu_seconds = procs.cpu_seconds
cpu_times = procs.cpu_times
machine = procs.machine
machine_busy = procs.machine_busy
raise_fd_limit = procs.raise_fd_limit
rss_kib = procs.rss_kib
self_cpu = procs.self_cpu
socket_fds = procs.socket_fds
thread_cpu = procs.thread_cpu
uptime = procs.uptime

# The phones ----------------------------------------------------------------------------

RESULTS_PREFIX = '{"t": "html", "id": "results"'
ACK_PREFIX = '{"t": "ack"'


@dataclass(eq=False)
class Phone:
    index: int
    token: str
    ws: object = None
    hello: asyncio.Future | None = None  # resolved by the "mine" reply, the last answer to hello
    got_stage: bool = False
    results_text: str | None = None
    results_at: float = 0.0  # arrival of the last results message
    results_messages: int = 0
    received: int = 0  # every message and its characters (what a broadcast costs a phone)
    received_chars: int = 0
    errors: list = field(default_factory=list)


class Stats:
    def __init__(self):
        self.shed = 0  # connections the server's door turned away (1013), tried again
        self.new_phase()
        self.server_errors: dict[str, int] = {}
        self.results_messages = 0
        self.results_bytes = 0
        # Each results text (one broadcast of a tally): [first arrival, last arrival, phones].
        self.broadcasts: dict[str, list] = {}
        # Keys a closed-loop sender waits for (the no-database reference and its twin).
        self.waiters: dict[str, asyncio.Future] = {}

    def new_phase(self) -> None:
        """Counters of one vote phase (the phones' readers keep this object)."""
        self.pending: dict[str, float] = {}
        self.latencies: list[float] = []
        # Latencies by the second of the vote the rating was sent in: is the tail spread
        # over the run, or a few stalls?
        self.acks_by_second: dict[int, list[float]] = {}
        self.vote_started = 0.0
        self.sent = 0
        self.acked = 0
        self.rejected = 0
        self.unexpected_acks = 0
        self.rejections: dict[str, int] = {}
        self.send_errors = 0
        self.send_lag: list[float] = []
        self.last_ack = 0.0


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def count_ack(data: dict, now: float, stats: Stats) -> None:
    if stats.waiters:
        waiter = stats.waiters.pop(data.get("k"), None)
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(bool(data.get("ok")))
            return
    sent = stats.pending.pop(data.get("k"), None)
    if sent is None:  # a key this client is not waiting for (a second ack, say)
        stats.unexpected_acks += 1
    elif data.get("ok"):
        stats.acked += 1
        stats.last_ack = now
        stats.latencies.append(now - sent)
        stats.acks_by_second.setdefault(int(sent - stats.vote_started), []).append(now - sent)
    else:
        stats.rejected += 1
        error = str(data.get("error"))
        stats.rejections[error] = stats.rejections.get(error, 0) + 1


async def read_phone(phone: Phone, stats: Stats) -> None:
    clock = time.perf_counter
    try:
        async for message in phone.ws:
            now = clock()
            phone.received += 1
            phone.received_chars += len(message)
            if message.startswith(RESULTS_PREFIX):
                phone.results_text, phone.results_at = message, now
                phone.results_messages += 1
                stats.results_messages += 1
                stats.results_bytes += len(message)
                seen = stats.broadcasts.get(message)
                if seen is None:
                    stats.broadcasts[message] = [now, now, 1]
                else:
                    seen[1] = now
                    seen[2] += 1
                continue
            if message.startswith(ACK_PREFIX):
                count_ack(json.loads(message), now, stats)
                continue
            data = json.loads(message)  # other shapes, or a server that formats differently
            if data.get("t") == "batch":  # a tick's several texts as one message
                for part in data.get("m", []):
                    if part.get("t") == "html" and part.get("id") == "results":
                        text = json.dumps(part, ensure_ascii=False)
                        phone.results_text, phone.results_at = text, now
                        phone.results_messages += 1
                        stats.results_messages += 1
                    elif part.get("t") == "html" and part.get("id") == "stage":
                        phone.got_stage = True
                continue
            kind, element = data.get("t"), data.get("id")
            if kind == "ack":
                count_ack(data, now, stats)
            elif kind == "html" and element == "results":
                phone.results_text, phone.results_at = message, now
                phone.results_messages += 1
                stats.results_messages += 1
            elif kind == "html" and element == "stage":
                phone.got_stage = True
            elif kind == "mine":
                if phone.hello is not None and not phone.hello.done():
                    phone.hello.set_result(now)
            elif kind == "error":
                error = str(data.get("error"))
                stats.server_errors[error] = stats.server_errors.get(error, 0) + 1
    except ConnectionClosed as exc:
        phone.errors.append(f"closed: {exc}")
    except Exception as exc:
        phone.errors.append(repr(exc))
    finally:
        if phone.hello is not None and not phone.hello.done():
            phone.hello.set_exception(ConnectionError(phone.errors[-1] if phone.errors else "closed"))


async def connect_phone(
    phone: Phone, url: str, origin: str, cookie: str, activity_id: int, stats: Stats, readers: list, reader=None
) -> None:
    # A server shedding a crowd at its door closes the socket with 1013 ("try again
    # later"): the phone comes back after a jittered wait, as static/phone/transport.js
    # does (0.25 s plus a random part of a window doubling from 1 s to 4 s).
    window = 1.0
    while True:
        phone.hello = asyncio.get_running_loop().create_future()
        phone.ws = await websockets.connect(
            url,
            origin=origin,
            additional_headers={"Cookie": f"{cookie}={phone.token}"},
            open_timeout=60,
            close_timeout=10,
            ping_interval=None,
            max_size=2**22,
            max_queue=None,
        )
        task = asyncio.create_task(reader(phone) if reader else read_phone(phone, stats))
        try:
            await phone.ws.send(json.dumps({"t": "hello", "a": activity_id}))
            # The server answers hello with the current texts (stage, results), then "mine".
            # Wait for "mine": a phone that got no stage before it is counted, not waited for.
            await asyncio.wait_for(phone.hello, 60)
        except (ConnectionError, ConnectionClosed):
            if phone.ws.close_code != TRY_AGAIN_LATER or window > 64:
                raise
            await task
            if phone.hello.done() and not phone.hello.cancelled():
                phone.hello.exception()  # seen: no "exception never retrieved" at exit
            if phone.errors:
                phone.errors.pop()  # not an error: the door said "later"
            stats.shed += 1
            try:  # the turn the refusal gives (as transport.js), else a random wait
                turn = float(phone.ws.close_reason or "")
            except ValueError:
                turn = -1.0
            await asyncio.sleep(
                turn * (0.9 + 0.2 * random.random()) if 0 <= turn <= 60 else 0.25 + random.random() * window
            )
            window = min(4.0, window * 2) if window < 4.0 else window + 1
            continue
        readers.append(task)
        return


async def loop_lag(samples: list[float], stop: asyncio.Event, every: float = 0.01) -> None:
    """How late this (client) event loop wakes up: its own contribution to latencies."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        start = loop.time()
        await asyncio.sleep(every)
        samples.append(loop.time() - start - every)


async def send_answers(
    phone: Phone, slot: float, interval: float, start: float, end: float, room: Room, stats: Stats
) -> None:
    loop = asyncio.get_running_loop()
    rng = random.Random(phone.index)
    prefix = f"{phone.index:05d}-{secrets.token_hex(4)}-"
    due, count = start + slot, 0
    while due < end:
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        count += 1
        key = f"{prefix}{count}"
        message = json.dumps(
            {
                "t": "answer",
                "k": key,
                "a": room.activity_id,
                "g": rng.choice(room.gap_ids),
                "q": "seriousness",
                "v": rng.randint(1, 5),
            }
        )
        stats.send_lag.append(loop.time() - due)
        stats.pending[key] = time.perf_counter()
        stats.sent += 1
        try:
            await phone.ws.send(message)
        except ConnectionClosed:
            stats.pending.pop(key, None)
            stats.send_errors += 1
            return
        due += interval


GARBAGE_RATE = 20  # the server's limit per socket (server.workshops.ws.MESSAGES_PER_SECOND)
HUGE = 2**70


def garbage_frames(room: Room) -> list:
    """What a misbehaving participant sends: everything the server must refuse alone."""
    gap = room.gap_ids[0]

    def rating(**fields) -> str:
        message = {"t": "answer", "k": secrets.token_hex(8), "a": room.activity_id, "g": gap, "q": "seriousness"}
        return json.dumps({**message, "v": 3, **fields})

    return [
        lambda: b"\x00\x01 binary frame",
        lambda: rating(a=HUGE),
        lambda: rating(g=HUGE),
        lambda: rating(v=HUGE),
        lambda: rating(v=3.5),
        lambda: rating(v=True),
        lambda: rating(v="3"),
        lambda: rating(s=HUGE),
        lambda: rating(v=[HUGE]),
        lambda: rating(k=None),
        lambda: rating().replace('"v": 3', '"v": NaN'),
        lambda: rating().replace('"v": 3', '"v": Infinity'),
        lambda: "[" * 2000 + "]" * 2000,
        lambda: '{"t": ' * 600 + "1" + "}" * 600,
        lambda: json.dumps({"t": "dots", "k": secrets.token_hex(8), "a": room.activity_id, "g": gap, "v": 2.5}),
        lambda: json.dumps({"t": "rank", "k": secrets.token_hex(8), "a": room.activity_id, "order": [HUGE, -1]}),
        lambda: json.dumps({"t": "mine", "a": HUGE}),
        lambda: json.dumps({"t": "nothing"}),
        lambda: "not json {",
        lambda: "x" * 5000,
    ]


@dataclass
class Garbage:
    sent: int = 0
    replies: dict[str, int] = field(default_factory=dict)  # "error: ...", "refused: ...", "accepted"
    send_errors: int = 0
    closed: int = 0


async def read_garbage(phone: Phone, garbage: Garbage) -> None:
    try:
        async for message in phone.ws:
            data = json.loads(message)
            kind = data.get("t")
            if kind == "mine" and phone.hello is not None and not phone.hello.done():
                phone.hello.set_result(time.perf_counter())
            elif kind == "error":
                name = f"error: {data.get('error')}"
            elif kind == "ack":
                name = "accepted" if data.get("ok") else f"refused: {data.get('error')}"
            else:
                continue
            if kind != "mine":
                garbage.replies[name] = garbage.replies.get(name, 0) + 1
    except ConnectionClosed as exc:
        phone.errors.append(f"closed: {exc}")
        garbage.closed += 1
    finally:
        if phone.hello is not None and not phone.hello.done():
            phone.hello.set_exception(ConnectionError(phone.errors[-1] if phone.errors else "closed"))


async def send_garbage(phone: Phone, start: float, end: float, room: Room, garbage: Garbage, reconnect) -> None:
    """At the rate limit until the end of the vote. A frame over the server's 4 KB limit
    closes the connection (1009): the phone connects again, as an attacker would."""
    loop = asyncio.get_running_loop()
    rng = random.Random(-phone.index)
    frames = garbage_frames(room)
    due = start + rng.random() / GARBAGE_RATE
    while due < end:
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            await phone.ws.send(rng.choice(frames)())
        except ConnectionClosed:
            garbage.send_errors += 1
            try:
                await reconnect(phone)
            except (TimeoutError, OSError, ConnectionClosed):
                return
            continue
        garbage.sent += 1
        due += 1 / GARBAGE_RATE


def join_form(db_path: Path, workshop_id: int) -> tuple[str, dict]:
    """The workshop's join code and an attendance form for it (its first group and segment)."""
    from sqlmodel import Session

    from server.db import Database
    from server.models import Workshop
    from server.workshops.participants import join_choices

    db = Database(settings_for(db_path))
    try:
        with Session(db.reader) as session:
            workshop = session.get(Workshop, workshop_id)
            groups, segments = join_choices(session, workshop)
            form = {"organization": "Bench hall"}
            if groups:
                form["stakeholder_group_id"] = str(groups[0].id)
            if segments:
                form["segment_id"] = str(segments[0].id)
            return workshop.join_code, form
    finally:
        db.dispose()


async def http_joins(args, db_path: Path, room: Room, ports: list[int], pids: list[int]) -> dict:
    """--http-joins phones through the real join pages, --join-concurrency at once."""
    from live.http_joins import join_over_http, step_costs

    from server.workshops.participants import cookie_name

    code, form = join_form(db_path, room.workshop_id)
    target = ports if len(ports) > 1 else ports[0]
    # One phone first, untimed: the first request of a fresh server compiles its templates.
    warm = await join_over_http(target, code, 1, 1, form, cookie_name(room.workshop_id))
    log(f"{args.http_joins - 1} phones joining over HTTP, {args.join_concurrency} at once, from 127.0.0.1")
    servers, client_0 = Servers(pids), self_cpu()
    cpu_0 = servers.cpu()
    run = await join_over_http(
        target, code, args.http_joins - 1, args.join_concurrency, form, cookie_name(room.workshop_id)
    )
    server_cpu, client_cpu = servers.cpu() - cpu_0, self_cpu() - client_0
    steps = {}
    if args.join_steps:  # where a join's cost goes, one step at a time
        steps = await step_costs(
            ports[0], Servers(pids[:1]).cpu, code, form, cookie_name(room.workshop_id), args.join_steps
        )
        log(f"server CPU by step of a join (ms): { {k: v['server_cpu_ms'] for k, v in steps.items()} }")
    joined = len(run.tokens)
    run.tokens = warm.tokens + run.tokens
    for key, count in warm.refused.items():
        run.refused[key] = run.refused.get(key, 0) + count
    figures = {
        "http_tokens": run.tokens,
        "http_joins_tried": args.http_joins,
        "http_joins_done": len(run.tokens),
        "http_join_seconds": round(run.seconds, 2),
        "http_joins_per_second": round((len(run.tokens) - len(warm.tokens)) / run.seconds, 1) if run.seconds else None,
        "http_join_refused": run.refused,
        "http_join_p50_ms": ms(percentile(run.join_latencies, 50)),
        "http_join_p99_ms": ms(percentile(run.join_latencies, 99)),
        "http_join_step_p99_ms": {k: ms(percentile(v, 99)) for k, v in run.step_latencies.items()},
        # What a join costs the server whatever else runs on the machine: a core's worth of
        # joins a second is 1000 / this.
        "http_join_server_cpu_ms": round(1000 * server_cpu / joined, 1) if joined else None,
        "http_join_server_cpu_percent": round(100 * server_cpu / run.seconds, 1) if run.seconds else None,
        "http_join_client_cpu_percent": round(100 * client_cpu / run.seconds, 1) if run.seconds else None,
        "http_join_steps": steps,
        "http_join_uptime": uptime(),
    }
    log(
        f"joined {len(run.tokens)}/{args.http_joins} over HTTP in {run.seconds:.1f} s "
        f"({figures['http_joins_per_second']}/s; refused {run.refused}; server CPU "
        f"{figures['http_join_server_cpu_ms']} ms a join, {figures['http_join_server_cpu_percent']} % of a core); "
        f"{figures['http_join_uptime']}"
    )
    return figures


def facilitator_login(settings) -> str:
    from live.console import facilitator_login as login

    return login(settings)


async def run_client(args, room: Room, port, pid, db_path: Path, login: str | None = None) -> dict:
    """Connect the phones, then the vote phases, the broadcast bursts and the saturation
    phases. ``port`` and ``pid`` may be lists (several processes): phone i goes to port
    i mod K. ``login``: a facilitator's session cookie, for the console and the reveals."""
    from server.workshops.participants import cookie_name

    loop = asyncio.get_running_loop()
    # Stopped from outside while the phones run: unwind (the caller stops the server).
    loop.add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    ports, servers = _listed(port), Servers(_listed(pid))
    urls = [f"ws://127.0.0.1:{p}/ws/p/{room.workshop_id}" for p in ports]
    origins = [f"http://127.0.0.1:{p}" for p in ports]
    cookie = cookie_name(room.workshop_id)
    stats = Stats()
    honest = len(room.tokens) - args.garbage
    phones = [Phone(i, token) for i, token in enumerate(room.tokens[:honest])]
    garbage, garbage_phones = Garbage(), [Phone(honest + i, t) for i, t in enumerate(room.tokens[honest:])]
    readers: list[asyncio.Task] = []
    report: dict = {}

    def connect(phone: Phone, reader=None):
        k = phone.index % len(ports)
        return connect_phone(phone, urls[k], origins[k], cookie, room.activity_id, stats, readers, reader)

    # Connect ----------------------------------------------------------------------
    await asyncio.sleep(1.0)  # let the server settle after start-up before reading its memory
    report["server_rss_idle_kib"] = servers.rss_kib()
    sockets_idle = servers.sockets()
    log(f"server RSS idle {report['server_rss_idle_kib'] / 1024:.1f} MiB; connecting {len(phones)} phones")
    started = time.perf_counter()
    connect_failures: dict[str, int] = {}
    connected: list[Phone] = []
    for first in range(0, len(phones), CONNECT_BATCH):
        batch = phones[first : first + CONNECT_BATCH]
        outcomes = await asyncio.gather(*(connect(p) for p in batch), return_exceptions=True)
        for phone, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                name = f"{type(outcome).__name__}: {outcome}"[:120]
                connect_failures[name] = connect_failures.get(name, 0) + 1
            else:
                connected.append(phone)
    for phone in garbage_phones:
        await connect(phone, lambda p: read_garbage(p, garbage))
    report["connect_seconds"] = round(time.perf_counter() - started, 2)
    report["connect_failures"] = connect_failures
    report["connections_shed_then_retried"] = stats.shed
    await asyncio.sleep(1.0)  # hub ticks for the presence counts settle
    report["server_rss_connected_kib"] = servers.rss_kib()
    report["phones_connected"] = len(connected)
    report["server_sockets"] = held = servers.sockets() - sockets_idle
    report["phones_without_stage_at_hello"] = sum(1 for p in connected if not p.got_stage)
    grown = report["server_rss_connected_kib"] - report["server_rss_idle_kib"]
    report["server_kib_per_connection"] = round(grown / held, 1) if held > 0 else None
    log(
        f"{len(connected)} phones connected in {report['connect_seconds']} s; "
        f"server RSS {report['server_rss_connected_kib'] / 1024:.1f} MiB "
        f"(~{report['server_kib_per_connection']} KiB per connection)"
    )
    if not connected:
        return report
    console = None
    if login is not None:
        from live.console import Console

        console = Console()
        try:
            await console.connect(ports[0], room.workshop_id, login)
        except Exception as exc:  # reported, not fatal: the phones' figures still count
            report["console_error"] = repr(exc)[:200]
            console = None

    # Vote phases -----------------------------------------------------------------------
    def reconnect(phone: Phone):
        return connect(phone, lambda p: read_garbage(p, garbage))

    phases = []
    for number in range(1, args.phases + 1):
        if number > 1:
            await asyncio.sleep(args.phase_pause)
        phase = await vote_phase(args, number, connected, garbage_phones, garbage, reconnect, room, stats, servers)
        phase.update(await final_tally(args, connected, stats, db_path, room))
        phase["uptime"] = uptime()
        log(
            f"phase {number}: final tally on {phase['phones_with_final_tally']}/{len(connected)} phones; "
            f"slowest {phase['final_tally_max_ms']} ms after the last ack; {phase['uptime']}"
        )
        phases.append(phase)
    report.update(phases[0])  # the first phase's figures at the top, as before --phases
    report["phases"] = [{k: v for k, v in p.items() if k not in ("rejections", "stale_example")} for p in phases]
    report["ack_p99_worst_second_ms"] = max(
        (v for p in phases for v in p["ack_p99_by_second_ms"] if v is not None), default=None
    )
    if garbage_phones:
        await asyncio.sleep(0.5)  # the last garbage's replies
        report.update(
            garbage_phones=len(garbage_phones),
            garbage_sent=garbage.sent,
            garbage_replies=dict(sorted(garbage.replies.items(), key=lambda kv: -kv[1])),
            garbage_accepted=garbage.replies.get("accepted", 0),
            garbage_connections_dropped=garbage.closed,  # closed by the server: frames over 4 KB
        )
        log(
            f"garbage: {garbage.sent} sent by {len(garbage_phones)} phones, {report['garbage_accepted']} accepted, "
            f"{report['garbage_connections_dropped']} connections dropped"
        )

    # The console's counts against the truth ---------------------------------------------
    dropped: dict[str, int] = {}
    for phone in connected:
        if phone.errors:
            reason = phone.errors[-1][:80]
            dropped[reason] = dropped.get(reason, 0) + 1
    report["phones_dropped"] = sum(dropped.values())
    report["phones_dropped_reasons"] = dropped

    # Each part below fails alone (its error in the report): the figures before it stay.
    if console is not None:
        try:
            report.update(await console_check(console, connected, db_path, room))
            log(f"console counts {report['console_counts']} vs truth {report['console_truth']}")
        except Exception as exc:
            report["console_error"] = repr(exc)[:300]

    # One broadcast to every phone: the facilitator's reveal ---------------------------
    alive = [p for p in connected if p.ws.state.name == "OPEN"]
    if args.bursts and login is not None and alive:
        try:
            report.update(await reveal_bursts(args, ports[0], room, login, alive, stats))
            log(
                f"reveal bursts to {len(alive)} phones: to last phone median {report['burst_to_last_median_ms']} "
                f"ms, spread {report['burst_spread_median_ms']} ms "
                f"({report['burst_deliveries_per_second_spread']} deliveries/s); {uptime()}"
            )
        except Exception as exc:
            report["bursts_error"] = repr(exc)[:300]

    # Saturation: the websocket path against the same server's no-database replies ---------
    if args.saturate and alive:
        try:
            for name, valid in (("reference", False), ("answers", True)):
                report[f"saturate_{name}"] = await saturate(args, name, valid, alive, room, stats, servers)
                report[f"saturate_{name}"]["uptime"] = uptime()
                log(f"saturation, {name}: {report[f'saturate_{name}']}")
            reference = report["saturate_reference"]["replies_per_second"]
            if reference:
                ratio = report["saturate_answers"]["replies_per_second"] / reference
                report["websocket_path_ratio"] = round(ratio, 2)
        except Exception as exc:
            report["saturate_error"] = repr(exc)[:300]

    # Close ------------------------------------------------------------------------------
    if console is not None:
        await console.close()
    for first in range(0, len(connected), CONNECT_BATCH):
        await asyncio.gather(*(p.ws.close() for p in connected[first : first + CONNECT_BATCH]), return_exceptions=True)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return report


async def vote_phase(args, number, connected, garbage_phones, garbage, reconnect, room, stats, servers) -> dict:
    """One vote: --seconds at --rate, open loop; every acknowledgement timed."""
    loop = asyncio.get_running_loop()
    stats.new_phase()
    stats.broadcasts.clear()
    lag: list[float] = []
    lag_stop = asyncio.Event()
    lag_task = asyncio.create_task(loop_lag(lag, lag_stop))
    profiler = start_profiler(args, servers.pids[0]) if number == 1 else None
    interval = len(connected) / args.rate  # each phone sends once per interval
    vote_start = loop.time() + 0.2
    vote_end = vote_start + args.seconds
    cpu_server_0, cpu_client_0, threads_0 = servers.cpu(), self_cpu(), servers.threads()
    kernel_0 = servers.kernel()
    busy_0, load_0 = machine_busy(), os.getloadavg()[0]
    wall_0 = time.perf_counter()
    stats.vote_started = wall_0 + (vote_start - loop.time())
    results_0 = stats.results_messages
    log(f"phase {number}: voting for {args.seconds} s at {args.rate}/s (each phone every {interval:.2f} s)")
    senders = [
        asyncio.create_task(send_answers(p, i / args.rate, interval, vote_start, vote_end, room, stats))
        for i, p in enumerate(connected)
    ]
    senders += [
        asyncio.create_task(send_garbage(p, vote_start, vote_end, room, garbage, reconnect)) for p in garbage_phones
    ]
    await asyncio.gather(*senders)
    sent_done = time.perf_counter()
    deadline = sent_done + args.ack_timeout
    while stats.pending and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    acks_done = time.perf_counter()
    results_1 = stats.results_messages
    cpu_server_1, cpu_client_1, threads_1 = servers.cpu(), self_cpu(), servers.threads()
    kernel_1 = servers.kernel()
    busy_1, load_1 = machine_busy(), os.getloadavg()[0]
    lag_stop.set()
    await lag_task
    report: dict = {"phase": number}
    stop_profiler(profiler, report)
    elapsed = acks_done - wall_0
    complete = [b for b in stats.broadcasts.values() if b[2] >= len(connected)]
    spreads = [b[1] - b[0] for b in complete]
    spread = percentile(spreads, 50)
    report.update(
        votes_sent=stats.sent,
        votes_acknowledged=stats.acked,
        votes_rejected=stats.rejected,
        rejections=stats.rejections,
        votes_unacknowledged=len(stats.pending),
        unexpected_acks=stats.unexpected_acks,
        send_errors=stats.send_errors,
        server_error_messages=stats.server_errors,
        ack_p50_ms=ms(percentile(stats.latencies, 50)),
        ack_p90_ms=ms(percentile(stats.latencies, 90)),
        ack_p99_ms=ms(percentile(stats.latencies, 99)),
        ack_max_ms=ms(max(stats.latencies, default=None)),
        ack_p99_by_second_ms=[
            ms(percentile(stats.acks_by_second[second], 99)) for second in sorted(stats.acks_by_second)
        ],
        vote_phase_seconds=round(elapsed, 2),
        votes_per_second=round(stats.acked / elapsed, 1),
        client_send_lag_p99_ms=ms(percentile(stats.send_lag, 99)),
        client_send_lag_max_ms=ms(max(stats.send_lag, default=None)),
        client_loop_lag_p99_ms=ms(percentile(lag, 99)),
        client_loop_lag_max_ms=ms(max(lag, default=None)),
        client_gc_longest_ms=ms(client_gc.longest_since(wall_0)),
        server_cpu_seconds=round(cpu_server_1 - cpu_server_0, 2),
        server_cpu_percent_of_one_core=round(100 * (cpu_server_1 - cpu_server_0) / elapsed, 1),
        # What an acknowledged rating (with its share of the tallies' fan-out) costs the
        # server, whatever else runs on the machine.
        server_cpu_ms_per_ack=round(1000 * (cpu_server_1 - cpu_server_0) / stats.acked, 2) if stats.acked else None,
        server_cpu_kernel_seconds=round(kernel_1 - kernel_0, 2),
        server_cpu_by_thread={name: round(threads_1[name] - threads_0[name], 2) for name in threads_1},
        client_cpu_seconds=round(cpu_client_1 - cpu_client_0, 2),
        client_cpu_percent_of_one_core=round(100 * (cpu_client_1 - cpu_client_0) / elapsed, 1),
        # Anything else running on the machine meanwhile (tests, browsers) skews the figures.
        other_processes_cpu_percent_of_one_core=round(
            100 * ((busy_1 - busy_0) - (cpu_server_1 - cpu_server_0) - (cpu_client_1 - cpu_client_0)) / elapsed, 1
        ),
        load_average_1min=[round(load_0, 2), round(load_1, 2)],
        results_messages_received=stats.results_messages,
        results_per_phone_per_second=round((results_1 - results_0) / len(connected) / (acks_done - wall_0), 2),
        results_deliveries_per_second=round((results_1 - results_0) / (acks_done - wall_0)),
        results_message_bytes=(stats.results_bytes // stats.results_messages) if stats.results_messages else None,
        # A tally broadcast during the vote: from its first phone to its last.
        vote_broadcasts_to_every_phone=len(complete),
        vote_broadcast_spread_p50_ms=ms(spread),
        vote_broadcast_spread_max_ms=ms(max(spreads, default=None)),
        vote_broadcast_deliveries_per_second=round(len(connected) / spread) if spread else None,
    )
    log(
        f"phase {number}: acks {stats.acked}/{stats.sent}: p50 {report['ack_p50_ms']} ms, p99 "
        f"{report['ack_p99_ms']} ms, max {report['ack_max_ms']} ms; {report['votes_per_second']} votes/s; "
        f"p99 by second {report['ack_p99_by_second_ms']}"
    )
    return report


async def final_tally(args, connected: list[Phone], stats: Stats, db_path: Path, room: Room) -> dict:
    """How long after the last acknowledgement every phone had the final tally.

    Every vote marks the results dirty before it is acknowledged, so the first hub tick
    after the last acknowledgement renders the final tally and nothing renders after it:
    each phone's last results message is the final one. Wait until the messages stop."""
    last_ack = stats.last_ack
    quiet_since = time.perf_counter()
    while time.perf_counter() - quiet_since < 2.0 and time.perf_counter() - last_ack < args.final_timeout:
        newest = max(p.results_at for p in connected)
        quiet_since = max(newest, last_ack)
        await asyncio.sleep(0.1)
    expected = await asyncio.to_thread(expected_results, db_path, room.workshop_id)
    final = [p for p in connected if p.results_text == expected]
    stale = [p for p in connected if p.results_text != expected]
    delays = [max(0.0, p.results_at - last_ack) for p in final]
    report = dict(
        phones_with_final_tally=len(final),
        phones_without_final_tally=len(stale),
        final_tally_all_ms=ms(max(delays)) if delays and not stale else None,
        final_tally_p50_ms=ms(percentile(delays, 50)),
        final_tally_max_ms=ms(max(delays, default=None)),
        results_fragment_has_data_answers="data-answers=" in expected,
        open_sockets_client_side=sum(1 for p in connected if p.ws.state.name == "OPEN"),
        phones_with_errors=sum(1 for p in connected if p.errors),
    )
    if stale:
        sample = stale[0]
        report["stale_example"] = {
            "phone": sample.index,
            "results_messages": sample.results_messages,
            "errors": sample.errors[:3],
        }
    return report


async def console_check(console, connected: list[Phone], db_path: Path, room: Room) -> dict:
    """The console's "joined", "connected now" and "answered" against the truth: the
    participants in the database, the phones this client holds open, the participants
    with an answer in the activity (a recount from the database by the server's code)."""
    shown = await console.settle()
    truth = await asyncio.to_thread(true_counts, db_path, room.workshop_id)
    truth["connected_now"] = sum(1 for p in connected if p.ws.state.name == "OPEN")
    return {
        "console_counts": shown,
        "console_truth": truth,
        "console_exact": all(shown.get(k) == truth.get(k) for k in truth),
        "console_closed": console.closed,
    }


def true_counts(db_path: Path, workshop_id: int) -> dict:
    """Joined and answered as a fresh recount from the database renders them."""
    from live.console import counts_of

    from server.db import Database
    from server.realtime.hub import CONSOLE
    from server.web import make_environment
    from server.workshops.screens import ScreenRenderer

    class NoHub:
        def online(self, _workshop_id):
            return set()

    from server.activities.live import LiveTallies
    from server.app import make_registry

    settings = settings_for(db_path)
    db = Database(settings)
    try:
        registry = make_registry()
        tallies = LiveTallies(db.reader, threading.RLock(), lambda *_: None, registry)
        renderer = ScreenRenderer(make_environment(), db, tallies, NoHub(), registry, settings.min_group_size)
        messages = renderer.render(workshop_id, frozenset({"counts"}))
        html = next(texts for key, texts in messages.items() if key.role == CONSOLE)["counts"]
        counts = counts_of(json.loads(html)["html"])
        return {"joined": counts["joined"], "answered": counts["answered"]}
    finally:
        db.dispose()


async def reveal_bursts(args, port: int, room: Room, login: str, connected: list[Phone], stats: Stats) -> dict:
    """The facilitator hides and reveals the results, --bursts times, 1 s apart: each a
    broadcast of a results message to every phone. Timed from the POST to the first and
    to the last phone that has it."""
    from live.http_joins import Http

    from server.auth.csrf import token_for

    csrf_cookie = secrets.token_urlsafe(24)
    cookies = {"minka_session": login, "minka_csrf": csrf_cookie}
    form = {"csrf_token": token_for(SECRET, csrf_cookie)}
    http = Http(port)
    rounds = []
    try:
        await asyncio.sleep(1.0)
        for n in range(args.bursts * 2):
            control = "hide" if n % 2 == 0 else "reveal"
            before = {p.index: p.results_messages for p in connected}
            received_0 = sum(p.received for p in connected), sum(p.received_chars for p in connected)
            sent = time.perf_counter()
            path = f"/workshops/{room.workshop_id}/live/activities/{room.activity_id}/{control}"
            try:
                status, _, _ = await http.request("POST", path, cookies, form)
            except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
                http.close()  # the next control on a new connection
                status = type(exc).__name__
            answered = time.perf_counter()
            deadline = sent + 30
            while time.perf_counter() < deadline and any(p.results_messages == before[p.index] for p in connected):
                await asyncio.sleep(0.005)
            arrived = [p.results_at for p in connected if p.results_messages > before[p.index]]
            await asyncio.sleep(0.5)  # what else the control sent (stage, counts) arrives too
            messages = (sum(p.received for p in connected) - received_0[0]) / len(connected)
            chars = (sum(p.received_chars for p in connected) - received_0[1]) / len(connected)
            rounds.append(
                {
                    "control": control,
                    "status": status,
                    "post_ms": (answered - sent) * 1000,
                    "got": len(arrived),
                    "to_first": min(arrived, default=sent) - sent,
                    "to_last": max(arrived, default=sent) - sent,
                    "spread": max(arrived, default=sent) - min(arrived, default=sent),
                    "messages": messages,
                    "chars": chars,
                }
            )
            await asyncio.sleep(1.0)
    finally:
        http.close()
    complete = [r for r in rounds if r["got"] == len(connected) and r["control"] == "reveal"]
    to_last = percentile([r["to_last"] for r in complete], 50)
    spread = percentile([r["spread"] for r in complete], 50)
    return {
        "bursts": len(rounds),
        "bursts_complete": len(complete),
        "burst_phones": len(connected),
        "burst_statuses": sorted({str(r["status"]) for r in rounds}),
        "burst_to_first_median_ms": ms(percentile([r["to_first"] for r in complete], 50)),
        "burst_to_last_median_ms": ms(to_last),
        "burst_spread_median_ms": ms(spread),
        "burst_deliveries_per_second": round(len(connected) / to_last) if to_last else None,
        "burst_deliveries_per_second_spread": round(len(connected) / spread) if spread else None,
        "burst_message_bytes": len(connected[0].results_text or ""),
        # What a reveal sends each phone (its stage and its results, at least): the raw
        # reference sends as many messages of as many characters.
        "burst_messages_per_phone": round(percentile([r["messages"] for r in complete], 50) or 1),
        "burst_chars_per_phone": round(percentile([r["chars"] for r in complete], 50) or 0),
    }


async def saturate(args, name: str, valid: bool, connected: list[Phone], room: Room, stats: Stats, servers) -> dict:
    """Closed loop for --saturate seconds: each of --saturate-phones phones keeps one
    message in flight (at most 15 a second, under the server's 20). ``valid``: real
    ratings, written and acknowledged; else the same message with a level of 101, which
    the server refuses when it reads it (a keyed "ok": false, no database, no writer)."""
    phones = connected[: args.saturate_phones]
    replies, refused = 0, 0
    latencies: list[float] = []
    end = time.perf_counter() + args.saturate
    loop = asyncio.get_running_loop()

    async def run(phone: Phone) -> None:
        nonlocal replies, refused
        rng = random.Random(phone.index + 7)
        prefix = f"{name[:3]}{phone.index:05d}-{secrets.token_hex(3)}-"
        count = 0
        while time.perf_counter() < end:
            count += 1
            key = f"{prefix}{count}"
            value = rng.randint(1, 5) if valid else 101
            message = json.dumps(
                {
                    "t": "answer",
                    "k": key,
                    "a": room.activity_id,
                    "g": rng.choice(room.gap_ids),
                    "q": "seriousness",
                    "v": value,
                }
            )
            waiter = loop.create_future()
            stats.waiters[key] = waiter
            sent = time.perf_counter()
            try:
                await phone.ws.send(message)
                ok = await asyncio.wait_for(waiter, 30)
            except (ConnectionClosed, TimeoutError):
                stats.waiters.pop(key, None)
                return
            done = time.perf_counter()
            latencies.append(done - sent)
            replies += 1
            refused += not ok
            rest = 1 / 15 - (done - sent)
            if rest > 0:
                await asyncio.sleep(rest)

    cpu_0, client_0, started = servers.cpu(), self_cpu(), time.perf_counter()
    await asyncio.gather(*(run(p) for p in phones))
    elapsed = time.perf_counter() - started
    server_cpu = servers.cpu() - cpu_0
    stats.waiters.clear()
    await asyncio.sleep(1.0)
    return {
        "phones": len(phones),
        "replies": replies,
        "refused": refused,
        "replies_per_second": round(replies / elapsed, 1),
        # Each phone sends at most 15 a second: near that the client, not the server, set the rate.
        "at_client_cap": replies / elapsed >= 0.9 * 15 * len(phones),
        "latency_p50_ms": ms(percentile(latencies, 50)),
        "latency_p99_ms": ms(percentile(latencies, 99)),
        "server_cpu_percent_of_one_core": round(100 * server_cpu / elapsed, 1),
        # The server's CPU a reply: its ratio between the two phases holds on a loaded machine.
        "server_cpu_ms_per_reply": round(1000 * server_cpu / replies, 3) if replies else None,
        "client_cpu_percent_of_one_core": round(100 * (self_cpu() - client_0) / elapsed, 1),
    }


# Profiling (optional) ------------------------------------------------------------------


def start_profiler(args, pid: int):
    if not args.py_spy:
        return None
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        log("py-spy not found (pip install py-spy into the venv); not profiling")
        return None
    command = [
        exe,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(args.seconds)),
        "--rate",
        "100",
        "--format",
        "raw",
        "--threads",
        "--nonblocking",
        *(["--gil"] if args.py_spy_gil else []),
        "--output",
        args.py_spy,
    ]
    log("profiling the server with py-spy: " + " ".join(command))
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop_profiler(profiler, report: dict) -> None:
    if profiler is None:
        return
    try:
        _, err = profiler.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        profiler.terminate()
        _, err = profiler.communicate()
    report["py_spy_exit"] = profiler.returncode
    if profiler.returncode:
        report["py_spy_error"] = err.decode(errors="replace")[-500:]


# Main ----------------------------------------------------------------------------------


def print_report(report: dict) -> None:
    rows = [
        ("phones connected (client side)", "phones_connected"),
        ("sockets held by the server process", "server_sockets"),
        ("server RSS idle / connected (KiB)", None),
        ("memory per connection (KiB)", "server_kib_per_connection"),
        ("votes sent", "votes_sent"),
        ("votes acknowledged", "votes_acknowledged"),
        ("votes rejected (ok: false)", "votes_rejected"),
        ("votes never acknowledged", "votes_unacknowledged"),
        ("ack latency p50 / p99 / max (ms)", ("ack_p50_ms", "ack_p99_ms", "ack_max_ms")),
        ("ack p99 of each second of the vote (ms)", "ack_p99_by_second_ms"),
        ("acknowledged votes per second", "votes_per_second"),
        ("final tally on every phone after last ack (ms)", "final_tally_all_ms"),
        ("phones with the final tally", "phones_with_final_tally"),
        ("server CPU in vote phase (s, % of one core)", ("server_cpu_seconds", "server_cpu_percent_of_one_core")),
        ("  of which in the kernel (s)", "server_cpu_kernel_seconds"),
        ("  by thread (s)", "server_cpu_by_thread"),
        ("client CPU in vote phase (s, % of one core)", ("client_cpu_seconds", "client_cpu_percent_of_one_core")),
        ("other processes' CPU meanwhile (% of one core)", "other_processes_cpu_percent_of_one_core"),
        ("load average (1 min) at start / end of vote", "load_average_1min"),
        ("client send lag p99 / max (ms)", ("client_send_lag_p99_ms", "client_send_lag_max_ms")),
        ("client loop lag p99 / max (ms)", ("client_loop_lag_p99_ms", "client_loop_lag_max_ms")),
        ("client's longest GC pause in the vote (ms)", "client_gc_longest_ms"),
        ("results messages per phone per second in vote", "results_per_phone_per_second"),
        ("results messages received / bytes each", ("results_messages_received", "results_message_bytes")),
        ("phones that got no stage in answer to hello", "phones_without_stage_at_hello"),
        ("garbage phones / messages sent", ("garbage_phones", "garbage_sent")),
        ("garbage accepted / connections dropped", ("garbage_accepted", "garbage_connections_dropped")),
    ]
    print()
    for label, key in rows:
        if isinstance(key, tuple) and key[0].startswith("garbage") and key[0] not in report:
            continue  # no --garbage
        if key is None:
            value = f"{report.get('server_rss_idle_kib')} / {report.get('server_rss_connected_kib')}"
        elif isinstance(key, tuple):
            value = " / ".join(str(report.get(k)) for k in key)
        else:
            value = report.get(key)
        print(f"  {label:<48} {value}")
    for key in ("connect_failures", "rejections", "server_error_messages", "garbage_replies", "stale_example"):
        if report.get(key):
            print(f"  {key:<48} {report[key]}")
    print()


def print_targets(report: dict) -> None:
    from live.targets import target_lines

    print("Targets of issue 15 (target | measured | met?)")
    print(f"  uptime at the start: {report.get('uptime_start')}")
    print(f"  uptime at the end:   {report.get('uptime_end')}")
    for line in target_lines(report):
        print("  " + line)
    print()


def main() -> int:
    client_gc.tune()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument("--rate", type=float, default=200, help="answers per second, all phones together")
    parser.add_argument("--seconds", type=float, default=5, help="how long phones send answers")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument(
        "--server",
        choices=("uvicorn", "minka"),
        default="minka",
        help="minka: `minka serve` as shipped (default); uvicorn: python -m uvicorn with --app/--ws/--deflate below",
    )
    parser.add_argument(
        "--app", default="server.app:create_app", help="app factory for --server uvicorn (to try a variant)"
    )
    parser.add_argument("--ws", default="websockets-sansio", help="uvicorn --ws implementation (--server uvicorn)")
    parser.add_argument("--deflate", action="store_true", help="allow permessage-deflate (--server uvicorn)")
    parser.add_argument("--quiet-server", action="store_true", help="uvicorn --log-level warning")
    parser.add_argument("--ack-timeout", type=float, default=30, help="seconds to wait for the last acks")
    parser.add_argument("--final-timeout", type=float, default=30, help="seconds to wait for the final tally")
    parser.add_argument("--py-spy", metavar="PATH", help="record the server's stacks during the vote (raw format)")
    parser.add_argument(
        "--py-spy-all",
        dest="py_spy_gil",
        action="store_false",
        help="with --py-spy: sample every running thread, not only the one holding the GIL",
    )
    parser.add_argument(
        "--garbage",
        type=int,
        default=0,
        metavar="N",
        help=f"N more participants send malformed, overflowing and lax messages at {GARBAGE_RATE}/s each",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server log)")
    hall = parser.add_argument_group("issue 15: a hall")
    hall.add_argument("--phases", type=int, default=1, help="vote phases on the same connections (default 1)")
    hall.add_argument("--phase-pause", type=float, default=3, help="seconds between two vote phases")
    hall.add_argument(
        "--http-joins",
        type=int,
        default=0,
        metavar="M",
        help="M of the phones join over HTTP through the real pages (the others are made directly)",
    )
    hall.add_argument("--join-concurrency", type=int, default=200, help="phones joining at once (--http-joins)")
    hall.add_argument(
        "--join-steps",
        type=int,
        default=0,
        metavar="P",
        help="with --http-joins: then P more phones join step by step, the server's CPU for each step",
    )
    hall.add_argument(
        "--shipped-join-limits",
        action="store_true",
        help="keep the server's per-address join limits (by default the bench raises them for its own server)",
    )
    hall.add_argument("--bursts", type=int, default=5, help="facilitator's hide+reveal pairs timed on every phone")
    hall.add_argument(
        "--saturate",
        type=float,
        default=0,
        metavar="S",
        help="S seconds each of the no-database "
        "reference and of real answers, closed loop (websocket path vs no-database rate)",
    )
    hall.add_argument("--saturate-phones", type=int, default=1000, help="phones in the closed loop (--saturate)")
    hall.add_argument("--raw-rounds", type=int, default=20, help="raw websockets.broadcast rounds (0: none)")
    hall.add_argument("--processes", type=int, default=1, help="K `minka serve` processes (needs --pg and --redis)")
    hall.add_argument("--pg", metavar="URL", help="PostgreSQL URL (its public schema is dropped and made again!)")
    hall.add_argument("--redis", metavar="URL", help="Redis URL (the db is flushed before and after!)")
    args = parser.parse_args()
    if args.processes > 1 and not (args.pg and args.redis):
        parser.error("--processes above 1 needs --pg and --redis")
    if args.processes > 1 and args.server != "minka":
        parser.error("--processes needs --server minka")
    if not 0 <= args.http_joins <= args.phones or args.phases < 1:
        parser.error("--http-joins must be between 0 and --phones; --phases at least 1")
    if args.phones < 1 or args.rate <= 0 or args.seconds <= 0 or args.garbage < 0:
        parser.error("--phones, --rate and --seconds must be positive")
    if args.rate / args.phones > 15:
        parser.error("more than 15 answers per phone per second: the server allows 20 messages a second per socket")

    # Stopped from outside (SIGTERM): still stop the server and remove the directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    fd_limit = raise_fd_limit()
    if fd_limit < args.phones + 100:
        log(f"warning: only {fd_limit} file descriptors for {args.phones} phones")
    tmp = Path(tempfile.mkdtemp(prefix="minka-live-gaps-"))
    db_path = tmp / "bench.db"
    report: dict = {
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "phones": args.phones,
        "garbage": args.garbage,
        "rate": args.rate,
        "seconds": args.seconds,
        "server": args.server,
        **machine(),
    }
    global DATABASE_URL, REDIS_URL
    DATABASE_URL, REDIS_URL = args.pg, args.redis
    if args.http_joins and not args.shipped_join_limits:
        # One client address stands for a hall behind one NAT: the bench's own server
        # lets it in (the shipped limits: --shipped-join-limits).
        SERVER_ENV.update(MINKA_JOINS_PER_MINUTE="1000000", MINKA_PARTICIPANTS_PER_ADDRESS="1000000")
    report["server_env"] = dict(SERVER_ENV)
    report["database"] = "postgresql" if args.pg else "sqlite"
    report["redis"] = bool(args.redis)
    report["processes"] = args.processes
    report["uptime_start"] = uptime()
    log(report["uptime_start"])
    processes: list[subprocess.Popen] = []
    logs: list[Path] = []
    try:
        if args.pg:
            from live.stores import reset_database

            reset_database(args.pg)
        if args.redis:
            from live.stores import reset_redis

            reset_redis(args.redis)
        started = time.perf_counter()
        direct = args.phones - args.http_joins
        room = prepare(db_path, direct + args.garbage)
        log(
            f"database ready in {time.perf_counter() - started:.1f} s: workshop {room.workshop_id}, "
            f"activity {room.activity_id}, {len(room.gap_ids)} gaps, {len(room.tokens)} participants"
        )
        ports = [free_port() for _ in range(args.processes)]
        for n, port in enumerate(ports):
            name = "server.log" if args.processes == 1 else f"server-{n + 1}.log"
            process, server_log = start_server(args, tmp, db_path, port, name)
            processes.append(process)
            logs.append(server_log)
            log(f"server up (pid {process.pid}, port {port})")
        report["server_pid"] = processes[0].pid
        report["server_pids"] = [p.pid for p in processes]
        report["server_command"] = " ".join(processes[0].args)
        try:
            import uvloop
        except ImportError:
            uvloop = None
        run = uvloop.run if uvloop is not None else asyncio.run
        report["client_loop"] = "uvloop" if uvloop is not None else "asyncio"
        if args.http_joins:
            report.update(run(http_joins(args, db_path, room, ports, [p.pid for p in processes])))
            honest = room.tokens[:direct] + report.pop("http_tokens")
            room.tokens = honest + room.tokens[direct:]
        login = facilitator_login(settings_for(db_path))
        client = run_client(
            args, room, ports if args.processes > 1 else ports[0], [p.pid for p in processes], db_path, login
        )
        try:
            report.update(run(client))
        except asyncio.CancelledError:
            raise SystemExit("stopped (SIGTERM)") from None
        report["uptime_end"] = uptime()
        warnings = [
            line
            for server_log in logs
            for line in server_log.read_text(errors="replace").splitlines()
            if "Warning" in line or "ERROR" in line or "Traceback" in line
        ]
        report["server_log_warnings"] = warnings[:10]
        for process in processes:
            stop_server(process)
        sockets = report.get("burst_phones") or report.get("phones_connected")
        if args.raw_rounds and sockets:
            from live.reference import measure

            count = report.get("burst_messages_per_phone") or 1
            chars = report.get("burst_chars_per_phone") or report.get("results_message_bytes") or 1000
            size = max(100, round(chars / count))
            log(f"raw websockets.broadcast reference: {sockets} sockets, {count} messages of {size} characters")
            report["raw_broadcast"] = run(measure(sockets, size, args.raw_rounds, messages=count))
            report["raw_broadcast"]["uptime"] = uptime()
            log(f"raw reference: {report['raw_broadcast']}")
    finally:
        for process in processes:
            stop_server(process)
        if "server_log_warnings" not in report:  # the client failed: what did the servers say?
            for server_log in logs:
                tail = server_log.read_text(errors="replace").splitlines()[-15:]
                log(f"{server_log.name}, last lines:\n  " + "\n  ".join(tail))
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            if args.pg:
                from live.stores import reset_database

                reset_database(args.pg)
            if args.redis:
                from live.stores import reset_redis

                reset_redis(args.redis)
    print_report(report)
    print_targets(report)
    if report.get("server_log_warnings"):
        print("server log:", *report["server_log_warnings"], sep="\n  ")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
