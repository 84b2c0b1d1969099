"""Load test of the live roadmap: N phones connected, E of them editing the items.

    .venv/bin/python bench/roadmap.py                       # 500 phones, 100 editing 20 items, 50 edits/s, 20 s
    .venv/bin/python bench/roadmap.py --phones 100 --editors 40 --seconds 5     # quick

What it does (the server and its helpers are those of bench/live_gaps.py):

1. A temporary SQLite database: the schema, an account, a value chain with --items action
   lines, a workshop whose roadmap activity takes them all (one item per line), opened as
   from the console (its items brought in), N participants joined directly (``do_join``)
   and a login session for the projector.
2. The real server in a subprocess (``minka serve``).
3. This process is the client: N phones connect to ``/ws/p/<workshop>``, each sends hello
   and waits for its "mine"; the projector connects to ``/ws/screen/<workshop>/projector``.
   Then, for --seconds, the editors send ``rm_edit`` at an aggregate --rate, evenly spread
   (open loop). Each editor owns one slot, so that no edit conflicts: a text field (title,
   description, lead organization, funding source) of one item, from the version its last
   acknowledgement gave it; editors past the items' text fields add milestones instead
   (``rm_row``; a new row never conflicts). Every value carries a marker ``Z<slot>x<n>Z``.
4. Measured: each edit's acknowledgement time (send -> ack), overall and per second of
   the run (the first second included); and for each edit and each receiver (every
   phone, the editor's own included, and the projector), the time from the edit's
   acknowledgement to the first message that receiver got showing that value or a later
   one of the same slot (a later edit of a slot replaces the earlier value). The
   projector's timeline shows titles and leads only: it is measured on those.

Targets (issue 12): acknowledgement p99 < 100 ms; every phone and the projector show each
edit < 500 ms after its acknowledgement. The client shares the machine with the server;
its own CPU time is printed beside the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import websockets  # noqa: E402
from live_gaps import (  # noqa: E402
    CONNECT_BATCH,
    cpu_seconds,
    free_port,
    log,
    machine,
    machine_busy,
    ms,
    percentile,
    raise_fd_limit,
    rss_kib,
    self_cpu,
    settings_for,
    start_server,
    stop_server,
)

TEXT_FIELDS = ("title", "lead_organization", "description", "funding_source")
ON_PROJECTOR = ("title", "lead_organization")  # what the projector's timeline shows of an item
MARK = re.compile(r"Z(\d+)x(\d+)Z")
PASSWORD = "bench-password-1234"


@dataclass
class Room:
    workshop_id: int
    activity_id: int
    item_ids: list[int]
    tokens: list[str]
    session_token: str


def prepare(db_path: Path, phones: int, items: int) -> Room:
    from server import migrate
    from server.app import make_registry
    from server.auth.service import do_create_user, do_login
    from server.db import Database, transaction
    from server.defaults import ensure_reference_lists
    from server.valuechains import library
    from server.valuechains.service import do_create_chain
    from server.workshops import live
    from server.workshops.participants import do_join, join_choices
    from server.workshops.service import do_add_activity, do_create_workshop

    settings = settings_for(db_path)
    migrate.upgrade(settings)
    db = Database(settings)
    roadmap = make_registry()["roadmap"]
    try:
        with transaction(db.writer) as session:
            ensure_reference_lists(session)
            user = do_create_user(session, {"name": "Bench", "email": "bench@example.org", "password": PASSWORD})
            chain = do_create_chain(
                session, user, {"name": "Café", "product": "café", "regions": "Cusco", "segments": "Productores"}
            )
            lines = [
                library.do_add_item(session, chain, library.ACTION_LINES, {"title": f"Línea {n + 1}"}).id
                for n in range(items)
            ]
            workshop = do_create_workshop(
                session,
                user,
                chain,
                {"title": "Hoja de ruta", "date": "2026-12-01", "language": "es", "attendance": "name"},
            )
            activity = do_add_activity(
                session,
                chain,
                workshop,
                {"kind": "roadmap", "title": "Hoja de ruta", "bring": "lines", "lines_from": "chosen", "top": "5"},
                [str(i) for i in lines],
            )
            live.do_open(session, workshop, activity, lambda a: roadmap.opened(session, a, user))
            from server.activities.roadmap.items import items_of_activity

            item_ids = items_of_activity(session, activity.id)
            groups, segments = join_choices(session, workshop)
            tokens = []
            for i in range(phones):
                data = {"name": f"Phone {i}", "organization": "Bench"}
                if groups:
                    data["stakeholder_group_id"] = str(groups[i % len(groups)].id)
                if segments:
                    data["segment_id"] = str(segments[i % len(segments)].id)
                tokens.append(do_join(session, workshop, data)[1])
            _user, session_token = do_login(session, "bench@example.org", PASSWORD, days=1)
            return Room(workshop.id, activity.id, item_ids, tokens, session_token)
    finally:
        db.dispose()


# The client ----------------------------------------------------------------------------


@dataclass
class Slot:
    """What one editor edits: a field of an item, or milestones added to it."""

    index: int
    item_id: int
    field: str  # a text field, or "milestone"
    version: int = 0
    sent: int = 0


@dataclass
class Stats:
    pending: dict = field(default_factory=dict)  # key -> (sent at, slot, n)
    acks: list = field(default_factory=list)
    acks_by_second: dict = field(default_factory=dict)
    ack_at: dict = field(default_factory=dict)  # (slot, n) -> ack time
    refused: dict = field(default_factory=dict)
    conflicts: int = 0
    turned_away: int = 0  # connection attempts shed at the door (1013) and made again
    started: float = 0.0
    sent: int = 0
    bytes_in: int = 0
    messages_in: int = 0
    batches: int = 0  # messages carrying several (a tick's changes to one phone)
    by_id: dict = field(default_factory=dict)  # what the phones receive: element id -> [messages, bytes]


@dataclass(eq=False)
class Receiver:
    name: str
    ws: object = None
    hello: asyncio.Future | None = None
    shown: dict = field(default_factory=dict)  # slot -> the highest n seen
    seen_at: dict = field(default_factory=dict)  # (slot, n) -> first arrival
    errors: list = field(default_factory=list)


async def read(receiver: Receiver, stats: Stats, slots: list[Slot]) -> None:
    clock = time.perf_counter
    try:
        async for message in receiver.ws:
            now = clock()
            stats.messages_in += 1
            stats.bytes_in += len(message)
            if message.startswith(('{"t": "html", "id": "', '{"t": "batch"')):
                count_elements(message, stats)
            if message.startswith('{"t": "ack"'):
                on_ack(json.loads(message), now, stats, slots)
                continue
            if message.startswith('{"t": "mine"'):
                if receiver.hello is not None and not receiver.hello.done():
                    receiver.hello.set_result(now)
                continue
            if "Z" not in message:
                continue
            for slot_text, n_text in MARK.findall(message):
                slot, n = int(slot_text), int(n_text)
                before = receiver.shown.get(slot, 0)
                if n > before:
                    for k in range(before + 1, n + 1):  # a later value shows the earlier ones were applied
                        receiver.seen_at[(slot, k)] = now
                    receiver.shown[slot] = n
    except websockets.ConnectionClosed as exc:
        receiver.errors.append(f"closed: {exc}")
    except Exception as exc:
        receiver.errors.append(repr(exc))
    finally:
        if receiver.hello is not None and not receiver.hello.done():
            receiver.hello.set_exception(ConnectionError(receiver.errors[-1] if receiver.errors else "closed"))


HTML_START = re.compile(r'\{"t": "html", "id": "([^"]+)"')


def count_elements(message: str, stats: Stats) -> None:
    """Messages and bytes received per element (a batch's parts each counted, sized from
    one part's start to the next's)."""
    if message.startswith('{"t": "batch"'):
        stats.batches += 1
    found = list(HTML_START.finditer(message))
    for n, match in enumerate(found):
        end = found[n + 1].start() if n + 1 < len(found) else len(message)
        element = match.group(1)
        if element.startswith(("rm-item-", "rm-ed-")):
            element = element[: element.rindex("-") + 1] + "N"
        counted = stats.by_id.setdefault(element, [0, 0])
        counted[0] += 1
        counted[1] += end - match.start()


def on_ack(data: dict, now: float, stats: Stats, slots: list[Slot]) -> None:
    pending = stats.pending.pop(data.get("k"), None)
    if pending is None:
        return
    sent, slot, n = pending
    if not data.get("ok"):
        error = str(data.get("error"))
        stats.refused[error] = stats.refused.get(error, 0) + 1
        return
    if data.get("conflict"):
        stats.conflicts += 1
        slots[slot].version = data.get("version", slots[slot].version)
        return
    stats.acks.append(now - sent)
    stats.acks_by_second.setdefault(int(sent - stats.started), []).append(now - sent)
    stats.ack_at[(slot, n)] = now
    if slots[slot].field != "milestone":
        slots[slot].version = data.get("version", slots[slot].version)


async def connect(receiver: Receiver, url: str, headers: dict, origin: str, stats, slots, readers, hello=None):
    """Connect as a phone does: turned away at the door (1013, the server's shed of a
    connection storm), try again after a jittered wait that doubles from 0.5 s to 4 s
    (``static/phone/transport.js``)."""
    wait = 0.5
    for _attempt in range(20):
        try:
            await _connect_once(receiver, url, headers, origin, stats, slots, readers, hello)
            receiver.errors.clear()
            return
        except (TimeoutError, OSError, websockets.exceptions.WebSocketException):
            if receiver.ws is not None:
                await receiver.ws.close()
            stats.turned_away += 1
            await asyncio.sleep(wait * (0.5 + random.random()))
            wait = min(wait * 2, 4.0)
    raise ConnectionError(f"{receiver.name}: turned away 20 times")


async def _connect_once(receiver: Receiver, url: str, headers: dict, origin: str, stats, slots, readers, hello):
    receiver.ws = await websockets.connect(
        url,
        origin=origin,
        additional_headers=headers,
        open_timeout=60,
        ping_interval=None,
        max_size=2**22,
        max_queue=None,
    )
    if hello is not None:
        receiver.hello = asyncio.get_running_loop().create_future()
    readers.append(asyncio.create_task(read(receiver, stats, slots)))
    if hello is not None:
        await receiver.ws.send(json.dumps(hello))
        await asyncio.wait_for(receiver.hello, 60)


def edit_message(activity_id: int, slot: Slot, n: int, key: str) -> dict:
    mark = f"Z{slot.index}x{n}Z"
    if slot.field == "milestone":
        return {
            "t": "rm_row",
            "k": key,
            "a": activity_id,
            "i": slot.item_id,
            "r": "milestone",
            "v": {"text": f"Hito {mark}"},
        }
    value = {"title": f"Ítem {mark}", "lead_organization": f"Coop {mark}"}.get(slot.field, f"Texto {mark}")
    return {
        "t": "rm_edit",
        "k": key,
        "a": activity_id,
        "i": slot.item_id,
        "f": slot.field,
        "b": slot.version,
        "v": value,
    }


async def run_client(args, room: Room, port: int, pid: int) -> dict:
    from server.auth.deps import SESSION_COOKIE
    from server.workshops.participants import cookie_name

    origin = f"http://127.0.0.1:{port}"
    cookie = cookie_name(room.workshop_id)
    stats = Stats()
    slots: list[Slot] = []
    for e in range(args.editors):
        item = room.item_ids[e % len(room.item_ids)]
        f = e // len(room.item_ids)
        slots.append(Slot(e, item, TEXT_FIELDS[f] if f < len(TEXT_FIELDS) else "milestone"))
    phones = [Receiver(f"phone {i}") for i in range(len(room.tokens))]
    projector = Receiver("projector")
    readers: list[asyncio.Task] = []
    report: dict = {}

    started = time.perf_counter()
    for first in range(0, len(phones), CONNECT_BATCH):
        batch = phones[first : first + CONNECT_BATCH]
        await asyncio.gather(
            *(
                connect(
                    p,
                    f"ws://127.0.0.1:{port}/ws/p/{room.workshop_id}",
                    {"Cookie": f"{cookie}={room.tokens[p_i + first]}"},
                    origin,
                    stats,
                    slots,
                    readers,
                    {"t": "hello", "a": room.activity_id},
                )
                for p_i, p in enumerate(batch)
            )
        )
    await connect(
        projector,
        f"ws://127.0.0.1:{port}/ws/screen/{room.workshop_id}/projector",
        {"Cookie": f"{SESSION_COOKIE}={room.session_token}"},
        origin,
        stats,
        slots,
        readers,
    )
    report["connect_seconds"] = round(time.perf_counter() - started, 2)
    report["phones_connected"] = sum(1 for p in phones if not p.errors)
    report["turned_away_and_retried"] = stats.turned_away
    report["server_rss_connected_mib"] = round(rss_kib(pid) / 1024, 1)
    log(f"{report['phones_connected']} phones and the projector connected in {report['connect_seconds']} s")
    await asyncio.sleep(1.0)

    # Edit ---------------------------------------------------------------------------
    cpu_server, cpu_client, busy = cpu_seconds(pid), self_cpu(), machine_busy()
    total = int(args.rate * args.seconds)
    stats.started = time.perf_counter()
    editors = phones[: args.editors]
    for n in range(total):
        due = stats.started + n / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        e = n % args.editors
        slot = slots[e]
        slot.sent += 1
        key = f"bench-{e:03d}-{slot.sent:05d}"
        stats.pending[key] = (time.perf_counter(), e, slot.sent)
        await editors[e].ws.send(json.dumps(edit_message(room.activity_id, slot, slot.sent, key)))
        stats.sent += 1
    send_seconds = time.perf_counter() - stats.started
    await asyncio.sleep(args.settle)
    report["edit_seconds"] = round(send_seconds, 2)
    report["server_cpu_seconds"] = round(cpu_seconds(pid) - cpu_server, 1)
    report["client_cpu_seconds"] = round(self_cpu() - cpu_client, 1)
    report["machine_busy_cores"] = round((machine_busy() - busy) / (time.perf_counter() - stats.started), 2)

    # Figures ------------------------------------------------------------------------
    report["edits_sent"] = stats.sent
    report["edits_applied"] = len(stats.acks)
    report["conflicts"] = stats.conflicts
    report["refused"] = stats.refused
    report["unanswered"] = len(stats.pending)
    report["ack_ms"] = {p: ms(percentile(stats.acks, q)) for p, q in (("p50", 50), ("p95", 95), ("p99", 99))}
    report["ack_ms"]["max"] = ms(max(stats.acks)) if stats.acks else None
    report["ack_p99_ms_per_second"] = {s: ms(percentile(v, 99)) for s, v in sorted(stats.acks_by_second.items())}

    def delivery(receivers: list[Receiver], fields: tuple[str, ...] | None) -> dict:
        delays, missing, late_at = [], 0, {}
        for (slot, n), acked in stats.ack_at.items():
            if fields is not None and slots[slot].field not in fields:
                continue
            for r in receivers:
                seen = r.seen_at.get((slot, n))
                if seen is None:
                    missing += 1
                else:
                    delays.append(max(0.0, seen - acked))
                    if seen - acked >= 0.5:  # which second of the run the late ones were acknowledged in
                        second = int(acked - stats.started)
                        late_at[second] = late_at.get(second, 0) + 1
        over = sum(1 for d in delays if d >= 0.5)
        return {
            "over_500_ms_by_second_acked": dict(sorted(late_at.items())),
            "deliveries": len(delays),
            "never_shown": missing,
            "over_500_ms": over,
            "p50_ms": ms(percentile(delays, 50)),
            "p99_ms": ms(percentile(delays, 99)),
            "max_ms": ms(max(delays)) if delays else None,
        }

    report["phones_show_edit"] = delivery(phones, None)
    report["projector_shows_edit"] = delivery([projector], ON_PROJECTOR)
    report["client_messages_in"] = stats.messages_in
    report["client_batches_in"] = stats.batches
    report["client_mib_in"] = round(stats.bytes_in / 2**20, 1)
    report["received_by_element"] = {
        k: {"messages": n, "kib_each": round(b / n / 1024, 1)} for k, (n, b) in sorted(stats.by_id.items())
    }
    report["receiver_errors"] = sum(len(p.errors) for p in [*phones, projector])
    for first in range(0, len(phones), CONNECT_BATCH):
        await asyncio.gather(
            *(p.ws.close() for p in phones[first : first + CONNECT_BATCH] if p.ws), return_exceptions=True
        )
    await projector.ws.close()
    for task in readers:
        task.cancel()
    return report


def verdict(report: dict) -> list[str]:
    lines = []
    p99 = report["ack_ms"]["p99"]
    lines.append(
        f"edit acknowledgement p99 {p99} ms: {'OK' if p99 is not None and p99 < 100 else 'OVER'} (target < 100 ms)"
    )
    for name in ("phones_show_edit", "projector_shows_edit"):
        d = report[name]
        ok = d["never_shown"] == 0 and d["max_ms"] is not None and d["max_ms"] < 500
        lines.append(
            f"{name.replace('_', ' ')}: max {d['max_ms']} ms, p99 {d['p99_ms']} ms, {d['over_500_ms']} of "
            f"{d['deliveries']} over 500 ms, {d['never_shown']} never shown: {'OK' if ok else 'OVER'} (target < 500 ms)"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=500)
    parser.add_argument("--editors", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--rate", type=float, default=50.0, help="edits per second, all editors together")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait for the last deliveries")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--server", default="minka")  # start_server's choice (bench/live_gaps.py)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (server.log)")
    args = parser.parse_args()
    if args.editors > args.phones:
        parser.error("--editors cannot exceed --phones")
    raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="minka-bench-roadmap-"))
    db_path = tmp / "bench.sqlite"
    log(f"preparing {args.phones} phones, {args.items} items in {tmp}")
    room = prepare(db_path, args.phones, args.items)
    port = free_port()
    process, log_path = start_server(args, tmp, db_path, port)
    try:
        report = asyncio.run(run_client(args, room, port, process.pid))
    finally:
        stop_server(process)
    report = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, **report}
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=1, ensure_ascii=False))
    for line in verdict(report):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        log(f"kept {tmp} ({log_path.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
