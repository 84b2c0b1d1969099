"""A facilitator's console screen on its websocket: what it says about the room.

The console is pushed a ``counts`` fragment (templates/live/_counts.html): joined,
connected now and (with an activity open) answered, in ``<dd>`` elements in that order.
``Console`` keeps the last one; ``counts_of`` reads the numbers out of it. The bench
compares them with the truth (the phones it holds open; the answers in the database).
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import websockets

DD = re.compile(r"<dd>\s*([\d.,\s\u202f\u00a0]+?)\s*</dd>")


def counts_of(html: str) -> dict[str, int | None]:
    numbers = [int(re.sub(r"\D", "", n)) for n in DD.findall(html)]
    names = ("joined", "connected_now", "answered")
    return {name: (numbers[i] if i < len(numbers) else None) for i, name in enumerate(names)}


class Console:
    """One console websocket (``/ws/screen/W/console``) with a facilitator's login."""

    def __init__(self):
        self.ws = None
        self.counts_html: str | None = None
        self.counts_at = 0.0
        self.messages = 0
        self.closed: str | None = None
        self._reader: asyncio.Task | None = None

    async def connect(self, port: int, workshop_id: int, session_cookie: str) -> None:
        self.ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws/screen/{workshop_id}/console",
            origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": f"minka_session={session_cookie}"},
            open_timeout=60,
            ping_interval=None,
            max_size=2**24,
            max_queue=None,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                self.messages += 1
                if '"id": "counts"' in message[:80]:
                    self.counts_html = json.loads(message)["html"]
                    self.counts_at = time.perf_counter()
                elif message.startswith('{"t": "batch"'):  # a tick's several texts as one
                    for part in json.loads(message)["m"]:
                        if part.get("id") == "counts":
                            self.counts_html = part["html"]
                            self.counts_at = time.perf_counter()
        except websockets.ConnectionClosed as exc:
            self.closed = str(exc)

    def counts(self) -> dict[str, int | None]:
        return counts_of(self.counts_html or "")

    async def settle(self, quiet: float = 1.5, timeout: float = 15) -> dict[str, int | None]:
        """The counts once no new counts came for ``quiet`` seconds."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and time.perf_counter() - self.counts_at < quiet:
            await asyncio.sleep(0.1)
        return self.counts()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)


def facilitator_login(settings) -> str:
    """A login session for the demo facilitator (who owns the demo workshops): its cookie."""
    from server.auth.service import do_login
    from server.db import Database, transaction
    from server.demo_data import DEMO_EMAIL, DEMO_PASSWORD

    db = Database(settings)
    try:
        with transaction(db.writer) as session:
            _user, token = do_login(session, DEMO_EMAIL, DEMO_PASSWORD, days=1, user_agent="bench")
        return token
    finally:
        db.dispose()
