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

The client shares the machine with the server (on a 2-core box it needs a good part of
one core at 2,000 phones): its own CPU time and event-loop lag are reported next to the
server's, so that a slow client is not mistaken for a slow server.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import resource
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

import websockets  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

CONNECT_BATCH = 200
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


def settings_for(db_path: Path):
    from server.config import Settings

    return Settings(database_url=f"sqlite:///{db_path}", secret_key=SECRET, data_dir=db_path.parent)


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


def start_server(args, tmp: Path, db_path: Path, port: int) -> tuple[subprocess.Popen, Path]:
    env = {
        **os.environ,
        "MINKA_DATABASE_URL": f"sqlite:///{db_path}",
        "MINKA_SECRET_KEY": SECRET,
        "MINKA_DATA_DIR": str(tmp),
        # The server runs the source next to this script, even if the venv's `minka`
        # was installed from another checkout.
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
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
    log_path = tmp / "server.log"
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


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_times(pid: int) -> tuple[float, float]:
    """utime and stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK  # fields 14 and 15 of stat(5)


def cpu_seconds(pid: int) -> float:
    return sum(cpu_times(pid))


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of the main thread (uvicorn's event loop) and of all other threads
    (the writer, the hub's ticker, the to_thread pool) together."""
    out = {"event loop (main thread)": 0.0, "other threads": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = "event loop (main thread)" if task.name == str(pid) else "other threads"
        out[name] += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def socket_fds(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd).startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float:
    """CPU seconds spent by the whole machine (every core, every process) so far."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


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
    errors: list = field(default_factory=list)


class Stats:
    def __init__(self):
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
        self.server_errors: dict[str, int] = {}
        self.results_messages = 0
        self.results_bytes = 0


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def count_ack(data: dict, now: float, stats: Stats) -> None:
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
            if message.startswith(RESULTS_PREFIX):
                phone.results_text, phone.results_at = message, now
                phone.results_messages += 1
                stats.results_messages += 1
                stats.results_bytes += len(message)
                continue
            if message.startswith(ACK_PREFIX):
                count_ack(json.loads(message), now, stats)
                continue
            data = json.loads(message)  # other shapes, or a server that formats differently
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
    readers.append(asyncio.create_task(reader(phone) if reader else read_phone(phone, stats)))
    await phone.ws.send(json.dumps({"t": "hello", "a": activity_id}))
    # The server answers hello with the current texts (stage, results), then "mine". Wait
    # for "mine": a phone that got no stage before it is counted, not waited for forever.
    await asyncio.wait_for(phone.hello, 60)


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


async def run_client(args, room: Room, port: int, pid: int, db_path: Path) -> dict:
    from server.workshops.participants import cookie_name

    loop = asyncio.get_running_loop()
    # Stopped from outside while the phones run: unwind (the caller stops the server).
    loop.add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    url = f"ws://127.0.0.1:{port}/ws/p/{room.workshop_id}"
    origin = f"http://127.0.0.1:{port}"
    cookie = cookie_name(room.workshop_id)
    stats = Stats()
    honest = len(room.tokens) - args.garbage
    phones = [Phone(i, token) for i, token in enumerate(room.tokens[:honest])]
    garbage, garbage_phones = Garbage(), [Phone(honest + i, t) for i, t in enumerate(room.tokens[honest:])]
    readers: list[asyncio.Task] = []
    report: dict = {}

    # Connect ----------------------------------------------------------------------
    await asyncio.sleep(1.0)  # let the server settle after start-up before reading its memory
    report["server_rss_idle_kib"] = rss_kib(pid)
    sockets_idle = socket_fds(pid)
    log(f"server RSS idle {report['server_rss_idle_kib'] / 1024:.1f} MiB; connecting {len(phones)} phones")
    started = time.perf_counter()
    connect_failures: dict[str, int] = {}
    connected: list[Phone] = []
    for first in range(0, len(phones), CONNECT_BATCH):
        batch = phones[first : first + CONNECT_BATCH]
        outcomes = await asyncio.gather(
            *(connect_phone(p, url, origin, cookie, room.activity_id, stats, readers) for p in batch),
            return_exceptions=True,
        )
        for phone, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                name = f"{type(outcome).__name__}: {outcome}"[:120]
                connect_failures[name] = connect_failures.get(name, 0) + 1
            else:
                connected.append(phone)
    for phone in garbage_phones:
        await connect_phone(
            phone, url, origin, cookie, room.activity_id, stats, readers, lambda p: read_garbage(p, garbage)
        )
    report["connect_seconds"] = round(time.perf_counter() - started, 2)
    report["connect_failures"] = connect_failures
    await asyncio.sleep(1.0)  # hub ticks for the presence counts settle
    report["server_rss_connected_kib"] = rss_kib(pid)
    report["phones_connected"] = len(connected)
    report["server_sockets"] = held = socket_fds(pid) - sockets_idle
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

    # Vote -------------------------------------------------------------------------
    lag: list[float] = []
    lag_stop = asyncio.Event()
    lag_task = asyncio.create_task(loop_lag(lag, lag_stop))
    profiler = start_profiler(args, pid)
    interval = len(connected) / args.rate  # each phone sends once per interval
    vote_start = loop.time() + 0.2
    vote_end = vote_start + args.seconds
    cpu_server_0, cpu_client_0, threads_0 = cpu_seconds(pid), self_cpu(), thread_cpu(pid)
    kernel_0 = cpu_times(pid)[1]
    busy_0, load_0 = machine_busy(), os.getloadavg()[0]
    wall_0 = time.perf_counter()
    stats.vote_started = wall_0 + (vote_start - loop.time())
    results_0 = stats.results_messages
    log(f"voting for {args.seconds} s at {args.rate}/s (each phone every {interval:.2f} s)")
    senders = [
        asyncio.create_task(send_answers(p, i / args.rate, interval, vote_start, vote_end, room, stats))
        for i, p in enumerate(connected)
    ]

    def reconnect(phone: Phone):
        return connect_phone(
            phone, url, origin, cookie, room.activity_id, stats, readers, lambda p: read_garbage(p, garbage)
        )

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
    cpu_server_1, cpu_client_1, threads_1 = cpu_seconds(pid), self_cpu(), thread_cpu(pid)
    kernel_1 = cpu_times(pid)[1]
    busy_1, load_1 = machine_busy(), os.getloadavg()[0]
    lag_stop.set()
    await lag_task
    stop_profiler(profiler, report)
    elapsed = acks_done - wall_0
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
        server_cpu_seconds=round(cpu_server_1 - cpu_server_0, 2),
        server_cpu_percent_of_one_core=round(100 * (cpu_server_1 - cpu_server_0) / elapsed, 1),
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
        results_message_bytes=(stats.results_bytes // stats.results_messages) if stats.results_messages else None,
    )
    log(
        f"acks {stats.acked}/{stats.sent}: p50 {report['ack_p50_ms']} ms, p99 {report['ack_p99_ms']} ms, "
        f"max {report['ack_max_ms']} ms; {report['votes_per_second']} votes/s"
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

    # Final tally ----------------------------------------------------------------------
    # Every vote marks the results dirty before it is acknowledged, so the first hub tick
    # after the last acknowledgement renders the final tally and nothing renders after it:
    # each phone's last results message is the final one. Wait until the messages stop.
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
    report.update(
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
    log(
        f"final tally on {len(final)}/{len(connected)} phones; slowest {report['final_tally_max_ms']} ms "
        f"after the last ack"
    )

    # Close ------------------------------------------------------------------------------
    for first in range(0, len(connected), CONNECT_BATCH):
        await asyncio.gather(*(p.ws.close() for p in connected[first : first + CONNECT_BATCH]), return_exceptions=True)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return report


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


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def machine() -> dict:
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "python": platform.python_version(),
        "websockets": websockets.__version__,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


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


def main() -> int:
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
    args = parser.parse_args()
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
    process = None
    report: dict = {
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "phones": args.phones,
        "garbage": args.garbage,
        "rate": args.rate,
        "seconds": args.seconds,
        "server": args.server,
        **machine(),
    }
    try:
        started = time.perf_counter()
        room = prepare(db_path, args.phones + args.garbage)
        log(
            f"database ready in {time.perf_counter() - started:.1f} s: workshop {room.workshop_id}, "
            f"activity {room.activity_id}, {len(room.gap_ids)} gaps, {len(room.tokens)} participants"
        )
        port = free_port()
        process, server_log = start_server(args, tmp, db_path, port)
        report["server_pid"] = process.pid
        report["server_command"] = " ".join(process.args)
        log(f"server up (pid {process.pid}, port {port})")
        try:
            import uvloop
        except ImportError:
            uvloop = None
        client = run_client(args, room, port, process.pid, db_path)
        try:
            report.update(uvloop.run(client) if uvloop is not None else asyncio.run(client))
        except asyncio.CancelledError:
            raise SystemExit("stopped (SIGTERM)") from None
        report["client_loop"] = "uvloop" if uvloop is not None else "asyncio"
        warnings = [
            line
            for line in server_log.read_text(errors="replace").splitlines()
            if "Warning" in line or "ERROR" in line or "Traceback" in line
        ]
        report["server_log_warnings"] = warnings[:10]
    finally:
        if process is not None:
            stop_server(process)
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print_report(report)
    if report.get("server_log_warnings"):
        print("server log:", *report["server_log_warnings"], sep="\n  ")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
