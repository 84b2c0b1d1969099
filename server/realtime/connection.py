"""One websocket as the hub sees it: who it is (workshop, role, language, participant or
facilitator) and its own sender task, which keeps only the latest text per topic and
sends whatever is waiting as one message (``batch_message``): one frame per connection
and tick, however many pieces changed, instead of one per piece."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from server.realtime.topics import AudienceKey, batch_message

log = logging.getLogger("minka.hub")

# Language of a connection made without one (the installation's usual default).
DEFAULT_LANGUAGE = "es"


class Connection:
    """One websocket, owned by the event loop it was opened in."""

    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        workshop_id: int,
        audience: str,
        participant_id: int | None = None,
        close: Callable[[], Awaitable[None]] | None = None,
        *,
        user_id: int | None = None,
        recheck: Callable[[], Awaitable[bool]] | None = None,
        language: str = DEFAULT_LANGUAGE,
    ):
        self.send = send
        self.close = close
        self.workshop_id = workshop_id
        self.audience = audience  # the role
        self.language = language  # the screen's own, as its pages are shown
        self.key = AudienceKey(audience, language)
        self.participant_id = participant_id
        # A facilitator's screen: whose it is, and how to ask whether it may still watch.
        self.user_id = user_id
        self.recheck = recheck
        self.loop: asyncio.AbstractEventLoop | None = None
        self._latest: dict[str, str] = {}
        self._ticks: dict[str, int] = {}
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.closed = False
        self.closed_by_server = False

    def push(self, topic: str, text: str, tick: int) -> None:
        """Replace whatever this topic had waiting: only the latest state matters. A text
        from an older tick than one already pushed is dropped (a large room's hand-out
        takes several turns of the loop, and the next tick's may overtake it)."""
        if tick < self._ticks.get(topic, 0):
            return
        self._ticks[topic] = tick
        # Moved to the end: what waits goes out in the order it was pushed (a whole roadmap
        # item pushed after one of its fields must not be undone by the older field).
        self._latest.pop(topic, None)
        self._latest[topic] = text
        self._wake.set()

    def push_all(self, texts: dict[str, str], tick: int) -> None:
        """``push`` each of a tick's texts."""
        for topic, text in texts.items():
            self.push(topic, text, tick)

    def queue(self, text: str) -> None:
        """Messages that must all arrive, in order (acknowledgements, own answers)."""
        self._queue.append(text)
        self._wake.set()

    def end(self) -> None:
        """Close from the server, after what is queued (in the connection's own loop)."""
        self.closed_by_server = True
        self._wake.set()

    async def verify(self) -> None:
        """Ask again whether this screen may stay; close it when not, or when the check
        fails (the screen reconnects, and is checked again at connect)."""
        if self.recheck is None or self.closed:
            return
        try:
            allowed = await self.recheck()
        except Exception:
            log.exception("screen access check failed")
            allowed = False
        if not allowed:
            self.end()

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._task = self.loop.create_task(self._run())

    async def stop(self) -> None:
        self.closed = True
        self._wake.set()
        if self._task is not None and self._task is not asyncio.current_task():
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                while self._queue and not self.closed:
                    await self.send(self._queue.popleft())
                if self.closed_by_server:
                    self.closed = True
                    if self.close is not None:
                        await self.close()
                    return
                if self._latest and not self.closed:
                    latest, self._latest = self._latest, {}
                    texts = list(latest.values())
                    await self.send(texts[0] if len(texts) == 1 else batch_message(texts))
        except Exception:  # the socket went away; its receive loop notices and detaches
            self.closed = True
