"""Recovery after a kill: N phones voting, the server killed (SIGKILL) mid-vote and started
again at once, as a supervisor would (systemd, Docker's restart policy).

    .venv/bin/python bench/live_recovery.py --phones 2000 --rate 500
    .venv/bin/python bench/live_recovery.py --phones 200 --rate 100 --before 3 --after 3   # quick

The setup is live_gaps.py's (SQLite in a temporary directory, the demo's rating activity
open, N participants joined; ``minka serve`` in a subprocess). Each phone is a client
that behaves as static/phone/transport.js: every answer has a key and the phone's
sequence ("s") and stays pending until acknowledged; on reconnection the phone says
hello and sends its pending answers again; a socket that could not be opened is tried
again after ``backoff`` (0.5 s doubling to a cap of 4 s, jittered over its upper half),
one the server turned away (close code 1013) after ``shed_wait`` (the turn the refusal gives, else 0.25 s plus a random
part of a window doubling from 1 s to 4 s). While a phone is offline its new answers
wait (the page would post them as forms; here they are resent on reconnection).

Measured: seconds from the kill (and from the restart) until /healthz answers; until
every phone is connected again and resynchronized (has the current stage on its new
socket); ack latencies by second around the kill; the refusals (1013). Then, votes
stopped and every pending answer acknowledged, the database is audited: no acknowledged
answer lost (each acknowledged key has its receipt), no duplicate (one row per slot),
the stored answer of each slot is the phone's last acknowledged one (by its sequence),
and every phone ends with the final tally (rendered from the database).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import live_gaps as lg
import websockets
from websockets.exceptions import ConnectionClosed

TRY_AGAIN_LATER = 1013


def backoff(n: int) -> float:
    top = min(4.0, 0.5 * 2 ** min(n, 30))
    return top / 2 + random.random() * top / 2


def shed_wait(n: int, reason: str | None = None) -> float:
    """transport.js's shedWait: the turn the refusal gives, give or take a tenth; else a
    random wait in a window doubling from 1 s to 4 s."""
    try:
        turn = float(reason or "")
    except ValueError:
        turn = -1.0
    if 0 <= turn <= 60:
        return turn * (0.9 + 0.2 * random.random())
    top = min(4.0, 1.0 * 2 ** min(n, 30))
    return 0.25 + random.random() * (top - 0.25)


class Phone:
    def __init__(self, index: int, token: str):
        self.index, self.token = index, token
        self.ws = None
        self.pending: dict[str, tuple[dict, float]] = {}  # key -> (message, first sent)
        self.acked: dict[tuple[int, str], tuple[int, int]] = {}  # slot -> (seq, value) held
        self.acked_keys: list[str] = []
        self.seq = 0
        self.synced_at = 0.0  # the current stage arrived on the current socket (or was current)
        self.stage_v = None  # the version of the stage it shows, named in its hello (transport.js)
        self.results = ""
        self.refused = 0
        self.connects = 0


class Run:
    def __init__(self, args, room: lg.Room, port: int):
        self.args, self.room, self.port = args, room, port
        self.url = f"ws://127.0.0.1:{port}/ws/p/{room.workshop_id}"
        self.origin = f"http://127.0.0.1:{port}"
        from server.workshops.participants import cookie_name

        self.cookie = cookie_name(room.workshop_id)
        self.phones = [Phone(i, t) for i, t in enumerate(room.tokens)]
        self.latencies: list[tuple[float, float]] = []  # (first sent, latency)
        self.stopping = False
        self.unexpected = 0
        self.refusals: dict[str, int] = {}  # errors and refused answers (none expected)
        self.sent = self.send_errors = 0
        self.events: list[tuple[float, str]] = []  # (when, "open" | "refused" | "failed"), for the timeline
        self.turns: list[tuple[float, float]] = []  # (when refused, the turn given in seconds)

    async def keep_connected(self, phone: Phone) -> None:
        tries = sheds = 0
        while not self.stopping:
            try:
                ws = await websockets.connect(
                    self.url,
                    origin=self.origin,
                    additional_headers={"Cookie": f"{self.cookie}={phone.token}"},
                    open_timeout=20,
                    ping_interval=None,
                    max_size=2**22,
                    max_queue=None,
                )
            except (OSError, TimeoutError, websockets.InvalidHandshake):
                self.events.append((time.perf_counter(), "failed"))
                await asyncio.sleep(backoff(tries))
                tries += 1
                continue
            tries = 0
            self.events.append((time.perf_counter(), "open"))
            phone.ws, phone.synced_at = ws, 0.0
            phone.connects += 1
            code = None
            try:
                hello = {"t": "hello", "a": self.room.activity_id}
                await ws.send(json.dumps(hello | ({"v": phone.stage_v} if phone.stage_v else {})))
                for message, _ in list(phone.pending.values()):
                    await ws.send(json.dumps(message))
                async for text in ws:
                    sheds = 0
                    self.received(phone, text)
            except ConnectionClosed:
                pass
            finally:
                phone.ws = None
                code, reason = ws.close_code, ws.close_reason
            if code == TRY_AGAIN_LATER:
                phone.refused += 1
                now = time.perf_counter()
                self.events.append((now, "refused"))
                try:
                    self.turns.append((now, float(reason)))
                except ValueError:
                    pass
                await asyncio.sleep(shed_wait(sheds, reason))
                sheds += 1
            else:
                await asyncio.sleep(backoff(tries))
                tries += 1

    def received(self, phone: Phone, text: str) -> None:
        now = time.perf_counter()
        if text.startswith(lg.RESULTS_PREFIX):
            phone.results = text
            return
        data = json.loads(text)
        if data.get("t") == "html" and data.get("id") == "stage":
            phone.stage_v = data.get("v")
            phone.synced_at = phone.synced_at or now
        elif data.get("t") == "mine" and not phone.synced_at:  # the hello's answer: its stage was current
            phone.synced_at = now
        elif data.get("t") == "error":
            self.refusals[data.get("error")] = self.refusals.get(data.get("error"), 0) + 1
        elif data.get("t") == "ack":
            sent = phone.pending.pop(data.get("k"), None)
            if sent is None:
                self.unexpected += 1
                return
            message, first = sent
            if not data.get("ok"):
                self.refusals[data.get("error")] = self.refusals.get(data.get("error"), 0) + 1
                return
            self.latencies.append((first, now - first))
            phone.acked_keys.append(message["k"])
            slot = (message["g"], message["q"])
            held = (data["s"], data["v"]) if data.get("superseded") else (message["s"], message["v"])
            if held[0] >= phone.acked.get(slot, (0, 0))[0]:
                phone.acked[slot] = held

    async def vote(self, until: float) -> None:
        """Answers at --rate, round robin over the phones (open loop)."""
        loop, rng, n = asyncio.get_running_loop(), random.Random(1), 0
        interval, due = 1 / self.args.rate, loop.time()
        while loop.time() < until:
            await asyncio.sleep(max(0.0, due - loop.time()))
            phone = self.phones[n % len(self.phones)]
            n, due = n + 1, due + interval
            phone.seq += 1
            key = f"bench-{phone.index:05d}-{phone.seq:06d}"  # 8 to 64 printable characters
            message = {"t": "answer", "k": key, "a": self.room.activity_id, "g": rng.choice(self.room.gap_ids)}
            message.update(q="seriousness", v=rng.randint(1, 5), s=phone.seq)
            phone.pending[key] = (message, time.perf_counter())
            self.sent += 1
            if phone.ws is not None:
                try:
                    await phone.ws.send(json.dumps(message))
                except Exception:  # closed meanwhile: resent on reconnection
                    self.send_errors += 1


def timeline(r: Run, killed: float, up: float) -> dict:
    """Each second from the kill: sockets opened (each a handshake the server took: 1013
    refusals included), refused, failed to connect (the server down), phones resynchronized
    in it, and the latest turn a refusal gave then (seconds from being refused)."""
    end = max([p.synced_at for p in r.phones] + [up]) - killed
    seconds: dict[int, dict] = {s: {} for s in range(int(end) + 1)}
    for at, kind in r.events:
        if 0 <= (s := int(at - killed)) <= end:
            seconds[s][kind] = seconds[s].get(kind, 0) + 1
    for p in r.phones:
        if p.synced_at > up and (s := int(p.synced_at - killed)) in seconds:
            seconds[s]["resynced"] = seconds[s].get("resynced", 0) + 1
    for at, turn in r.turns:
        if (s := int(at - killed)) in seconds:
            seconds[s]["latest_turn_s"] = max(seconds[s].get("latest_turn_s", 0.0), round(turn, 1))
    return seconds


def serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def start(tmp: Path, db_path: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "MINKA_DATABASE_URL": f"sqlite:///{db_path}", "MINKA_SECRET_KEY": lg.SECRET}
    env.update(MINKA_DATA_DIR=str(tmp), PYTHONPATH=str(lg.ROOT))
    log = open(tmp / "server.log", "ab")  # noqa: SIM115 - closed with the process
    command = [str(Path(sys.executable).parent / "minka"), "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=lg.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return process


async def run(args, tmp: Path, db_path: Path, room: lg.Room) -> dict:
    port = lg.free_port()
    server = start(tmp, db_path, port)
    report: dict = {"phones": args.phones, "rate": args.rate}
    try:
        while not serving(port):
            await asyncio.sleep(0.2)
        r = Run(args, room, port)
        tasks = [asyncio.create_task(r.keep_connected(p)) for p in r.phones]
        t0 = time.perf_counter()
        while not all(p.synced_at for p in r.phones):
            await asyncio.sleep(0.2)
        lg.log(f"{args.phones} phones in {time.perf_counter() - t0:.1f} s; voting {args.before} s, then the kill")
        loop = asyncio.get_running_loop()
        voting = asyncio.create_task(r.vote(loop.time() + args.before + args.after + args.max_down))
        await asyncio.sleep(args.before)
        killed = time.perf_counter()
        server.send_signal(signal.SIGKILL)
        server.wait()
        server = start(tmp, db_path, port)
        restarted = time.perf_counter()
        while not serving(port):
            await asyncio.sleep(0.05)
        up = time.perf_counter()
        server_cpu, client_cpu = lg.cpu_seconds(server.pid), lg.self_cpu()
        report["serving_after_kill_s"] = round(up - killed, 2)
        report["serving_after_restart_s"] = round(up - restarted, 2)
        lg.log(f"serving again {up - killed:.2f} s after the kill")
        deadline = up + args.settle
        while time.perf_counter() < deadline and not all(p.synced_at > up for p in r.phones):
            await asyncio.sleep(0.05)
        synced = [p.synced_at for p in r.phones if p.synced_at > up]
        # Who had the CPU while the phones came back: the server, or this client (its
        # phones' reconnection loops and handshakes run here, on the same cores).
        report["server_cpu_s_while_reconnecting"] = round(lg.cpu_seconds(server.pid) - server_cpu, 2)
        report["client_cpu_s_while_reconnecting"] = round(lg.self_cpu() - client_cpu, 2)
        report["wall_s_while_reconnecting"] = round(time.perf_counter() - up, 2)
        report["resynced"] = len(synced)
        report["all_resynced_after_kill_s"] = round(max(synced) - killed, 2) if synced else None
        report["all_resynced_after_serving_s"] = round(max(synced) - up, 2) if synced else None
        lg.log(f"{len(synced)} of {args.phones} phones resynchronized")
        await asyncio.sleep(max(0.0, args.after - (time.perf_counter() - up)))
        voting.cancel()
        t1 = time.perf_counter()
        while time.perf_counter() - t1 < args.settle and any(p.pending for p in r.phones):
            await asyncio.sleep(0.1)
        report["pending_at_end"] = sum(len(p.pending) for p in r.phones)
        await asyncio.sleep(2.0)  # the last tally's broadcast (phones get results every 0.5 s)
        expected = lg.expected_results(db_path, room.workshop_id)
        report["phones_without_final_tally"] = sum(p.results != expected for p in r.phones)
        report["refused_1013"] = sum(p.refused for p in r.phones)
        report["sent"], report["send_errors"] = r.sent, r.send_errors
        report["acked"] = len(r.latencies)
        report["unexpected_acks"] = r.unexpected
        report["refusals"] = r.refusals
        report["ack_ms_by_second_from_kill"] = {
            s: {"n": len(v), "p50": lg.ms(lg.percentile(v, 50)), "p99": lg.ms(lg.percentile(v, 99))}
            for s in range(-int(args.before), int(args.after + args.max_down) + 1)
            if (v := [lat for first, lat in r.latencies if int(first - killed + 100) - 100 == s])
        }
        report["timeline_from_kill"] = timeline(r, killed, up)
        r.stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for phone in r.phones:
            if phone.ws is not None:
                await phone.ws.close()
        report.update(audit(db_path, room, r.phones))
    finally:
        lg.stop_server(server)
    return report


def audit(db_path: Path, room: lg.Room, phones: list[Phone]) -> dict:
    db = sqlite3.connect(db_path)
    ids = dict(db.execute("SELECT name, id FROM participant WHERE workshop_id = ?", (room.workshop_id,)))
    receipts = set(db.execute("SELECT participant_id, key FROM receipt"))
    rows: dict[tuple, list] = {}
    query = "SELECT participant_id, gap_id, question, value, seq FROM gap_answer WHERE activity_id = ?"
    for pid, gap, question, value, seq in db.execute(query, (room.activity_id,)):
        rows.setdefault((pid, gap, question), []).append((seq, value))
    db.close()
    lost = mismatched = 0
    for phone in phones:
        pid = ids[f"Phone {phone.index}"]
        lost += sum((pid, key) not in receipts for key in phone.acked_keys)
        for (gap, question), held in phone.acked.items():
            mismatched += rows.get((pid, gap, question), [None])[0] != held
    return {
        "acked_lost": lost,
        "duplicate_rows": sum(len(v) - 1 for v in rows.values()),
        "slots_not_last_acked": mismatched,
        "slots_checked": sum(len(p.acked) for p in phones),
    }


def targets(report: dict, load: str) -> list[str]:
    def line(name, figure, ok):
        return f"{'PASS' if ok else 'FAIL'}  {name:<52} {figure}   (load {load})"

    synced, n = report["resynced"], report["phones"]
    after = report["all_resynced_after_kill_s"]
    return [
        line("serving again < 5 s (after the kill)", f"{report['serving_after_kill_s']} s", report["serving_after_kill_s"] < 5),
        line("every phone resynchronized < 10 s (after the kill)", f"{after} s, {synced}/{n} phones", synced == n and after is not None and after < 10),
        line("0 acknowledged answers lost", report["acked_lost"], report["acked_lost"] == 0),
        line("0 duplicates", report["duplicate_rows"], report["duplicate_rows"] == 0),
        line("stored == last acknowledged, every slot", f"{report['slots_not_last_acked']} of {report['slots_checked']} differ", report["slots_not_last_acked"] == 0),
        line("every phone has the final tally", f"{n - report['phones_without_final_tally']}/{n}", report["phones_without_final_tally"] == 0),
    ]  # fmt: skip


def main() -> None:
    lg.client_gc.tune()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=500, help="answers a second, all phones together")
    parser.add_argument("--before", type=float, default=5, help="seconds of vote before the kill")
    parser.add_argument("--after", type=float, default=5, help="seconds of vote after serving again")
    parser.add_argument("--max-down", type=float, default=20, help="seconds the vote may run while down")
    parser.add_argument("--settle", type=float, default=60, help="seconds to wait for phones and acks")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the database and the server log")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="minka-recovery-"))
    db_path = tmp / "bench.sqlite"
    lg.log(f"preparing {args.phones} participants in {tmp}")
    try:
        room = lg.prepare(db_path, args.phones)
        report = asyncio.run(run(args, tmp, db_path, room))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    load = Path("/proc/loadavg").read_text().split()[0]
    report["loadavg_1min"] = load
    print(json.dumps(report, indent=1), file=sys.stderr)
    print("\n".join(targets(report, load)))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
