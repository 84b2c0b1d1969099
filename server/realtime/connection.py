"""One websocket as the hub sees it: who it is (workshop, role, language, participant or
facilitator) and how its messages leave.

When the server lets frames be written straight to the socket (``server.realtime.wire``),
a message goes out at once, from whatever code queues or pushes it, with no task switch:
a broadcast's frame is encoded once for every phone, and a tick's several texts for an
audience go as one message (``batch_message``), one frame instead of one per piece.
Otherwise, and whenever the socket cannot take more now (its buffer is full) or
something is still waiting, messages wait in the connection's sender task, which keeps
only the latest text per topic and sends what waits in order, as one message, so a slow
phone delays no one and never builds a backlog."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from server.realtime.topics import AudienceKey, batch_message
from server.realtime.wire import RawSocket, text_frame

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
        raw: RawSocket | None = None,
    ):
        self.send = send
        self.raw = raw
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
        # Made with the sender task (below): with frames written straight to the socket
        # most connections never need them, and a room of thousands feels each KiB.
        self._queue: deque[str] | tuple = ()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._sending = False  # the sender task is inside an awaited send
        self.closed = False
        self.closed_by_server = False

    def _idle(self) -> bool:
        """Nothing waits to go before a new message (it may be written at once)."""
        return not (self._queue or self._latest or self._sending or self.closed_by_server)

    def push(self, topic: str, text: str, tick: int, frame: bytes | None = None) -> None:
        """Replace whatever this topic had waiting: only the latest state matters. A text
        from an older tick than one already pushed is dropped (a large room's hand-out
        takes several turns of the loop, and the next tick's may overtake it). ``frame``:
        the text already encoded (one encoding for a whole audience)."""
        if tick < self._ticks.get(topic, 0) or self.closed:
            return
        self._ticks[topic] = tick
        if self.raw is not None and self._idle() and self.raw.write(frame or text_frame(text)):
            return
        # Moved to the end: what waits goes out in the order it was pushed (a whole roadmap
        # item pushed after one of its fields must not be undone by the older field).
        self._latest.pop(topic, None)
        self._latest[topic] = text
        self._kick()

    def push_all(self, texts: dict[str, tuple[str, bytes]], tick: int, batch: bytes | None = None) -> None:
        """A tick's texts for this connection's audience (each with its frame; ``batch``:
        all of them as one message's frame, when there are several). Written at once as
        one frame when nothing waits and none is older than what was pushed already."""
        if (
            self.raw is not None
            and self._idle()
            and not self.closed
            and all(tick >= self._ticks.get(topic, 0) for topic in texts)
        ):
            frame = batch if len(texts) > 1 else next(iter(texts.values()))[1]
            if frame is not None and self.raw.write(frame):
                for topic in texts:
                    self._ticks[topic] = tick
                return
        for topic, (text, frame) in texts.items():
            self.push(topic, text, tick, frame)

    def queue(self, text: str) -> None:
        """Messages that must all arrive, in order (acknowledgements, own answers)."""
        if self.closed:
            return
        if self.raw is not None and self._idle() and self.raw.write(text_frame(text)):
            return
        if not isinstance(self._queue, deque):
            self._queue = deque()
        self._queue.append(text)
        self._kick()

    def end(self) -> None:
        """Close from the server, after what is queued (in the connection's own loop)."""
        self.closed_by_server = True
        self._kick()

    def _kick(self) -> None:
        """Wake the sender task, made at its first use: with frames written straight to
        the socket most connections never need one (memory, in a room of thousands)."""
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._task is None and self.loop is not None and not self.closed:
            self._task = self.loop.create_task(self._run())

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
        if self.raw is None:
            self._wake = asyncio.Event()
            self._task = self.loop.create_task(self._run())

    async def stop(self) -> None:
        self.closed = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None and self._task is not asyncio.current_task():
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                self._sending = True
                while self._queue and not self.closed:
                    await self.send(self._queue[0])
                    self._queue.popleft()
                if self.closed_by_server:
                    self.closed = True
                    if self.close is not None:
                        await self.close()
                    return
                while self._latest and not self.closed:
                    latest, self._latest = self._latest, {}
                    texts = list(latest.values())
                    await self.send(texts[0] if len(texts) == 1 else batch_message(texts))
                self._sending = False
        except Exception:  # the socket went away; its receive loop notices and detaches
            self.closed = True
