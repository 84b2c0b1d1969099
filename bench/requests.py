"""Load test of the plain HTTP paths of a hall: joining, and answers posted as forms.

    .venv/bin/python bench/requests.py                       # joins at 50, posts at 50 and 200
    .venv/bin/python bench/requests.py --seconds 5 --joins 500

Phones whose websocket is blocked, or that run without JavaScript, answer by form post;
a hall joins all at once. This measures, against one ``minka serve`` on SQLite (the
database and server are made as in ``live_gaps.py``):

1. **Reference**: the same server's rate for a POST that needs no database (the answer
   form posted without its CSRF token: parsed, refused, the error page rendered), at
   each concurrency.
2. **Joins** at concurrency 50: each a new phone (CSRF cookie, attendance form,
   ``POST /join/CODE``, a 303 with the participant's cookie). Target: >= 200 joins/s.
3. **Form posts** at concurrency 50 and 200: ``POST /p/W/answer`` with a rating, from
   distinct participants (the server allows each 20 posts a second), every answer
   committed before its 303. Target: >= 0.7 of the reference rate.
4. Throughout, ``/healthz`` every 50 ms from a process of its own: its worst and p99
   latency per phase (target < 100 ms).

The client is asyncio with raw HTTP/1.1 keep-alive connections (a full HTTP library
would need more CPU than the server on a 2-core machine). The join limits are raised for
the run (one client address stands for a hall behind one NAT).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import queue
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from live_gaps import SECRET, free_port, log, percentile, prepare, raise_fd_limit, start_server, stop_server


class Connection:
    """One keep-alive HTTP/1.1 connection: send a request, read status and body."""

    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict, body: bytes = b"") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and "close" in value.lower():
                close = True
        if length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def probe_process(port: int, stop, samples) -> None:
    """/healthz every 50 ms from a process of its own (the client's busy event loop would
    otherwise add its own lag to the figure): (time, latency in ms) into ``samples``."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        start = time.perf_counter()
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        took = (time.perf_counter() - start) * 1000
        samples.put((time.time(), took if response.status == 200 else float("inf")))
        time.sleep(0.05)


class Probe:
    """The health probe's process, and its samples sorted into the phases."""

    def __init__(self, port: int):
        self.port = port
        self._stop, self._samples = multiprocessing.Event(), multiprocessing.Queue()
        self._process = multiprocessing.Process(target=probe_process, args=(port, self._stop, self._samples))
        self._process.start()
        self._mark = time.time()

    def take(self) -> list[float]:
        """The latencies since the last call."""
        now, taken = time.time(), []
        while True:
            try:
                when, took = self._samples.get(timeout=0.2)
            except queue.Empty:
                break
            if self._mark <= when <= now:
                taken.append(took)
            if when > now:
                break
        self._mark = now
        return taken

    def stop(self) -> None:
        self._stop.set()
        self._process.join(timeout=70)


def form_headers(cookies: dict[str, str]) -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
    }


async def phase(name: str, concurrency: int, jobs, probe: Probe, seconds: float | None = None) -> dict:
    """Run ``jobs`` (an iterator of (method, path, headers, body, expected status)) with
    ``concurrency`` connections, for ``seconds`` or until the jobs run out."""
    port = probe.port
    latencies, bad = [], 0
    deadline = time.perf_counter() + seconds if seconds else None
    iterator = iter(jobs)

    async def worker() -> None:
        nonlocal bad
        connection = Connection(port)
        try:
            while deadline is None or time.perf_counter() < deadline:
                try:
                    method, path, headers, body, expected = next(iterator)
                except StopIteration:
                    return
                start = time.perf_counter()
                try:
                    status = await connection.request(method, path, headers, body)
                except (ConnectionError, asyncio.IncompleteReadError):
                    connection.close()
                    status = 0
                latencies.append((time.perf_counter() - start) * 1000)
                if status != expected:
                    bad += 1
        finally:
            connection.close()

    probe.take()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    health = probe.take()
    return {
        "phase": name,
        "concurrency": concurrency,
        "requests": len(latencies),
        "unexpected": bad,
        "per_second": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "healthz_median_ms": percentile(health, 50),
        "healthz_worst_ms": max(health) if health else None,
        "healthz_p99_ms": percentile(health, 99),
    }


def answer_jobs(room, code_key: str, csrf_pair: tuple[str, str], with_csrf: bool):
    """Endless answer posts, round-robin over the participants, each with a fresh key."""
    cookie, token = csrf_pair
    n = 0
    while True:
        i = n % len(room.tokens)
        gap = room.gap_ids[(n // len(room.tokens)) % len(room.gap_ids)]
        form = {"activity": room.activity_id, "gap": gap, "seriousness": 1 + n % 5, "key": f"{code_key}-{n:09d}"}
        if with_csrf:
            form["csrf_token"] = token
        cookies = {"minka_csrf": cookie, f"minka_p{room.workshop_id}": room.tokens[i]}
        yield (
            "POST",
            f"/p/{room.workshop_id}/answer",
            form_headers(cookies),
            urlencode(form).encode(),
            (303 if with_csrf else 403),
        )
        n += 1


def join_jobs(code: str, count: int, form_base: dict):
    from server.auth.csrf import token_for

    for n in range(count):
        cookie = secrets.token_urlsafe(24)
        form = {**form_base, "name": f"Joiner {n}", "csrf_token": token_for(SECRET, cookie)}
        yield "POST", f"/join/{code}", form_headers({"minka_csrf": cookie}), urlencode(form).encode(), 303


async def run(args, room, code: str, join_form: dict, port: int) -> list[dict]:
    from server.auth.csrf import token_for

    probe = Probe(port)
    cookie = secrets.token_urlsafe(24)
    csrf_pair = (cookie, token_for(SECRET, cookie))
    results = []
    try:
        results.append(await phase("joins", 50, join_jobs(code, args.joins, join_form), probe))
        for concurrency in (50, 200):
            reference = answer_jobs(room, f"ref{concurrency}", csrf_pair, with_csrf=False)
            results.append(await phase("no-database POST", concurrency, reference, probe, args.seconds))
            posts = answer_jobs(room, f"post{concurrency}", csrf_pair, with_csrf=True)
            results.append(await phase("form posts", concurrency, posts, probe, args.seconds))
    finally:
        probe.stop()
    return results


def report(results: list[dict]) -> None:
    print(
        f"{'phase':<18}{'conc.':>6}{'requests':>10}{'unexpected':>11}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'healthz worst':>15}{'healthz p99':>13}"
    )
    for r in results:
        print(
            f"{r['phase']:<18}{r['concurrency']:>6}{r['requests']:>10}{r['unexpected']:>11}{r['per_second']:>9.0f}"
            f"{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['healthz_worst_ms']:>15.1f}{r['healthz_p99_ms']:>13.1f}"
        )
    joins = results[0]
    print(f"\njoins/s at concurrency 50: {joins['per_second']:.0f} (target >= 200)")
    for concurrency in (50, 200):
        ref = next(r for r in results if r["phase"] == "no-database POST" and r["concurrency"] == concurrency)
        post = next(r for r in results if r["phase"] == "form posts" and r["concurrency"] == concurrency)
        print(
            f"form posts at concurrency {concurrency}: {post['per_second']:.0f}/s = "
            f"{post['per_second'] / ref['per_second']:.2f} of the no-database POST rate (target >= 0.7)"
        )
    worst = max(r["healthz_worst_ms"] for r in results if r["phase"] != "no-database POST")
    reference = max(r["healthz_worst_ms"] for r in results if r["phase"] == "no-database POST")
    print(f"/healthz worst latency while phones join and post: {worst:.1f} ms (target < 100 ms)")
    print(
        f"/healthz worst latency during the reference POSTs: {reference:.1f} ms (they never leave the event "
        "loop: a measuring aid, not a path phones take)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each form-post phase")
    parser.add_argument("--joins", type=int, default=2000, help="phones joining at concurrency 50")
    parser.add_argument("--participants", type=int, default=2000, help="participants posting answers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    raise_fd_limit()
    # One client address stands for a hall behind one NAT.
    os.environ.update(
        MINKA_JOINS_PER_MINUTE="1000000",
        MINKA_PARTICIPANTS_PER_ADDRESS="1000000",
    )
    tmp = Path(tempfile.mkdtemp(prefix="minka-requests-"))
    db_path = tmp / "bench.db"
    process = None
    try:
        room = prepare(db_path, args.participants)
        code, join_form = join_details(db_path, room.workshop_id)
        port = free_port()
        process, _log = start_server(SimpleNamespace(server="minka"), tmp, db_path, port)
        log(f"server up (pid {process.pid}, port {port}); {len(room.tokens)} participants, code {code}")
        results = asyncio.run(run(args, room, code, join_form, port))
    finally:
        if process is not None:
            stop_server(process)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    report(results)
    return 0


def join_details(db_path: Path, workshop_id: int) -> tuple[str, dict]:
    """The workshop's join code and a valid attendance form for it."""
    from live_gaps import settings_for

    from server.db import Database
    from server.models import Workshop
    from server.workshops.participants import join_choices

    db = Database(settings_for(db_path))
    try:
        from sqlmodel import Session

        with Session(db.reader) as session:
            workshop = session.get(Workshop, workshop_id)
            groups, segments = join_choices(session, workshop)
            form = {"organization": "Bench"}
            if groups:
                form["stakeholder_group_id"] = str(groups[0].id)
            if segments:
                form["segment_id"] = str(segments[0].id)
            return workshop.join_code, form
    finally:
        db.dispose()


if __name__ == "__main__":
    sys.exit(main())
