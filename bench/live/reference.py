"""The raw reference for a broadcast: ``websockets.broadcast`` of one text to N sockets.

Run as a script it is the reference server (the ``websockets`` library's asyncio server,
no compression, nothing else in the process)::

    python bench/live/reference.py PORT SIZE

Any client's ``go SEQ`` makes it broadcast one text of SIZE characters (a results
message's shape, ``seq`` inside) to every open connection. ``measure`` starts it in a
subprocess, connects N sockets, asks ``rounds`` broadcasts one after the other and times
each: from the ``go`` to the first and to the last socket that has it. Compared with
Minka's broadcast of a tally of the same size to the same number of phones, on the same
machine in the same run (issue 15, P3: >= 0.6 of this).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import websockets

CONNECT_BATCH = 200


def text_of(seq: int, size: int) -> str:
    head = json.dumps({"t": "html", "id": "results", "seq": seq, "html": ""})
    return head[:-3] + '"' + "x" * max(0, size - len(head)) + '"}'


async def serve(port: int, size: int) -> None:
    from websockets.asyncio.server import broadcast
    from websockets.asyncio.server import serve as ws_serve

    async def handler(ws) -> None:
        async for message in ws:
            if isinstance(message, str) and message.startswith("go "):
                seq, count = (int(x) for x in message[3:].split())
                for _ in range(count - 1):  # the others first (seq 0: not timed), then the timed one
                    broadcast(server.connections, text_of(0, size))
                broadcast(server.connections, text_of(seq, size))

    async with ws_serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, max_queue=None) as server:
        print("ready", flush=True)
        await asyncio.get_running_loop().create_future()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(phones: int, size: int, rounds: int = 20, port: int = 0, messages: int = 1) -> dict:
    """Start the reference server, connect ``phones`` sockets, time ``rounds`` broadcasts
    of ``messages`` texts each (as many as a reveal sends a phone), to the last one's arrival."""
    if not port:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, __file__, str(port), str(size)], stdout=subprocess.PIPE, start_new_session=True
    )
    sockets: list = []
    readers: list[asyncio.Task] = []
    arrivals: dict[int, list] = {}  # seq -> [first, last, count]
    try:
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 30)
        if line.strip() != b"ready":
            raise RuntimeError(f"reference server did not start: {line!r}")

        async def read(ws) -> None:
            clock = time.perf_counter
            async for message in ws:
                now = clock()
                seq = int(message[message.index('"seq": ') + 7 : message.index(', "html"')])
                if not seq:
                    continue
                seen = arrivals.setdefault(seq, [now, now, 0])
                seen[1] = now
                seen[2] += 1

        async def connect() -> None:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}", compression=None, ping_interval=None, max_queue=None, open_timeout=60
            )
            sockets.append(ws)
            readers.append(asyncio.create_task(read(ws)))

        for first in range(0, phones, CONNECT_BATCH):
            await asyncio.gather(*(connect() for _ in range(min(CONNECT_BATCH, phones - first))))
        await asyncio.sleep(0.5)
        cpu_0 = cpu_seconds(process.pid)
        rounds_out = []
        for seq in range(1, rounds + 1):
            sent = time.perf_counter()
            await sockets[0].send(f"go {seq} {messages}")
            deadline = sent + 30
            while arrivals.get(seq, [0, 0, 0])[2] < len(sockets) and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            first, last, count = arrivals.get(seq, [sent, sent, 0])
            rounds_out.append({"to_first": first - sent, "to_last": last - sent, "spread": last - first, "got": count})
            await asyncio.sleep(0.2)
        cpu = cpu_seconds(process.pid) - cpu_0
    finally:
        for first in range(0, len(sockets), CONNECT_BATCH):
            await asyncio.gather(*(ws.close() for ws in sockets[first : first + CONNECT_BATCH]), return_exceptions=True)
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    complete = [r for r in rounds_out if r["got"] == len(sockets)]
    return {**summarize(rounds_out, complete, len(sockets), size, cpu), "messages_per_broadcast": messages}


def summarize(rounds_out: list[dict], complete: list[dict], sockets: int, size: int, cpu: float) -> dict:
    def median(values):
        values = sorted(values)
        return values[len(values) // 2] if values else None

    to_last = median([r["to_last"] for r in complete])
    spread = median([r["spread"] for r in complete])
    return {
        "sockets": sockets,
        "message_bytes": size,
        "broadcasts": len(rounds_out),
        "broadcasts_complete": len(complete),
        "to_first_median_ms": _ms(median([r["to_first"] for r in complete])),
        "to_last_median_ms": _ms(to_last),
        "spread_median_ms": _ms(spread),
        "deliveries_per_second": round(sockets / to_last) if to_last else None,
        "deliveries_per_second_spread": round(sockets / spread) if spread else None,
        "server_cpu_seconds": round(cpu, 2),
    }


def _ms(value):
    return None if value is None else round(value * 1000, 1)


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        uvloop.run(serve(int(sys.argv[1]), int(sys.argv[2])))
    except ImportError:
        asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2])))
