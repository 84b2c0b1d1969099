"""Phones joining the way a hall does: over HTTP, through the real pages, all at once.

Each phone is a fresh cookie jar and runs the flow a browser runs:

1. ``GET /`` (the home page: sets the ``minka_csrf`` cookie, the form carries its token),
2. ``POST /join`` with the code typed in (a 303 to ``/join/CODE``),
3. ``GET /join/CODE`` (the attendance form),
4. ``POST /join/CODE`` with name, organization, group and segment (a 303 to ``/p/W``,
   setting the participant's cookie),
5. ``GET /p/W`` (the participant's page; the websocket is opened afterwards).

``concurrency`` phones run the flow at once, each worker on its own keep-alive
connection, all from 127.0.0.1: one address, as a hall behind one NAT. The server's
per-address limits (``MINKA_JOINS_PER_MINUTE``, ``MINKA_PARTICIPANTS_PER_ADDRESS``) apply:
a refused step (429) is counted and that phone does not join.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

CSRF_FIELD = re.compile(rb'name="csrf_token" value="([^"]+)"')
STEPS = ("GET /", "POST /join", "GET /join/CODE", "POST /join/CODE", "GET /p/W")


class Http:
    """One keep-alive HTTP/1.1 connection: a request, its status, headers and body."""

    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, cookies: dict, body: dict | None = None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        data = urlencode(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Length: {len(data)}\r\n"
        if body is not None:
            head += "Content-Type: application/x-www-form-urlencoded\r\n"
            head += f"Origin: http://127.0.0.1:{self.port}\r\n"
        if cookies:
            head += "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()) + "\r\n"
        self.writer.write(head.encode() + b"\r\n" + data)
        status_line = await self.reader.readline()
        if not status_line:
            self.close()
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, close, location = 0, False, None
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and "close" in value.lower():
                close = True
            elif name == "location":
                location = urlsplit(value).path
            elif name == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, cookie = pair.partition("=")
                cookies[key.strip()] = cookie.strip()
        payload = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, location, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class JoinRun:
    tokens: list[str] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # "step: status" -> phones
    step_latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    join_latencies: list[float] = field(default_factory=list)  # the whole flow, per phone
    seconds: float = 0.0


async def join_phone(http: Http, n: int, code: str, form_base: dict, cookie_name: str, run: JoinRun) -> None:
    cookies: dict[str, str] = {}
    started = time.perf_counter()

    async def step(name: str, method: str, path: str, body=None, expect=200):
        t0 = time.perf_counter()
        status, location, payload = await http.request(method, path, cookies, body)
        run.step_latencies[name].append(time.perf_counter() - t0)
        if status != expect:
            key = f"{name}: {status}"
            run.refused[key] = run.refused.get(key, 0) + 1
            return None
        return location, payload

    got = await step("GET /", "GET", "/")
    if got is None:
        return
    match = CSRF_FIELD.search(got[1])
    if match is None:
        run.refused["GET /: no csrf_token"] = run.refused.get("GET /: no csrf_token", 0) + 1
        return
    token = match.group(1).decode()
    got = await step("POST /join", "POST", "/join", {"code": code, "csrf_token": token}, expect=303)
    if got is None:
        return
    join_path = got[0]
    if await step("GET /join/CODE", "GET", join_path) is None:
        return
    form = {**form_base, "name": f"Hall phone {n}", "csrf_token": token}
    got = await step("POST /join/CODE", "POST", join_path, form, expect=303)
    if got is None or cookie_name not in cookies:
        return
    if await step("GET /p/W", "GET", got[0]) is None:
        return
    run.tokens.append(cookies[cookie_name])
    run.join_latencies.append(time.perf_counter() - started)


async def join_over_http(
    port: int | list[int], code: str, count: int, concurrency: int, form_base: dict, cookie_name: str
) -> JoinRun:
    """``count`` phones through the join flow, ``concurrency`` at once (spread over the
    ports of several processes when ``port`` is a list)."""
    ports = port if isinstance(port, list) else [port]
    run = JoinRun()
    numbers = iter(range(count))

    async def worker(k: int) -> None:
        http = Http(ports[k % len(ports)])
        try:
            for n in numbers:
                try:
                    await join_phone(http, n, code, form_base, cookie_name, run)
                except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
                    http.close()
                    key = f"connection: {type(exc).__name__}"
                    run.refused[key] = run.refused.get(key, 0) + 1
        finally:
            http.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(min(concurrency, count))))
    run.seconds = time.perf_counter() - started
    return run


async def step_costs(port: int, server_cpu, code: str, form_base: dict, cookie_name: str, phones: int = 60) -> dict:
    """The server's CPU for each step of the join, in waves: ``phones`` phones do step 1,
    then all do step 2, and so on (10 connections), each wave timed apart with
    ``server_cpu()`` (the server's CPU seconds so far). Where a join's cost goes."""
    https = [Http(port) for _ in range(10)]
    jars: list[dict] = [{} for _ in range(phones)]
    tokens: list[str] = [""] * phones
    paths: list[str | None] = [None] * phones
    pages: list[str | None] = [None] * phones

    async def home(http, i):
        _, _, body = await http.request("GET", "/", jars[i])
        match = CSRF_FIELD.search(body)
        tokens[i] = match.group(1).decode() if match else ""

    async def code_typed(http, i):
        paths[i] = (await http.request("POST", "/join", jars[i], {"code": code, "csrf_token": tokens[i]}))[1]

    async def join_page(http, i):
        await http.request("GET", paths[i] or f"/join/{code}", jars[i])

    async def attendance(http, i):
        form = {**form_base, "name": f"Step phone {i}", "csrf_token": tokens[i]}
        pages[i] = (await http.request("POST", paths[i] or f"/join/{code}", jars[i], form))[1]

    async def own_page(http, i):
        if pages[i]:
            await http.request("GET", pages[i], jars[i])

    async def health(http, _i):
        await http.request("GET", "/healthz", {})

    costs = {}
    try:
        for name, step in zip(
            (*STEPS, "GET /healthz (reference)"),
            (home, code_typed, join_page, attendance, own_page, health),
            strict=True,
        ):

            async def wave(k: int, step=step) -> None:
                for i in range(k, phones, len(https)):
                    await step(https[k], i)

            cpu_0, started = server_cpu(), time.perf_counter()
            await asyncio.gather(*(wave(k) for k in range(len(https))))
            costs[name] = {
                "server_cpu_ms": round(1000 * (server_cpu() - cpu_0) / phones, 1),
                "wall_ms": round(1000 * (time.perf_counter() - started) / phones, 1),
            }
    finally:
        for http in https:
            http.close()
    return costs
