"""The hub: live connections per workshop, and coalesced broadcasts.

Writes never push to phones themselves. They mark a workshop's topics dirty (after
commit, from any thread); the hub's ticker thread, a few times a second (at once when
the facilitator moves the room: ``URGENT``), renders each dirty workshop once per audience and topic and hands the same text to every connection
of that audience, in the event loop that owns it. An audience is a role (phones,
projector, console) in one language (:class:`AudienceKey`): each screen gets everything
live in its own language, and only the audiences someone is connected in are rendered
(usually one or two languages, so a tick costs at most twice the renders of one). Each connection has its own sender
task and keeps only the latest text per topic, so a slow phone delays no one and never
builds a backlog.

With Redis, the dirty marks of each tick are published so that every process renders
for its own connections, and who is connected is shared (``presence.py``: "connected
now" counts every process's phones); without it, the hub is local to the process.

Screens (console, projector) are checked again while they stay open: a connection made
with a ``recheck`` is asked whether it may still watch when its user's access changed
(:meth:`Hub.recheck_user`: logout, unshare, deactivation; published to every process
like the dirty marks) and every ``recheck_interval`` seconds (an expired login), and is
closed when it may not.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import anyio

from server.realtime.connection import DEFAULT_LANGUAGE, Connection
from server.realtime.phones import Phones
from server.realtime.topics import ALL_TOPICS, REMOVED_MESSAGE, Audience, AudienceKey, Removed, Topic, batch_message
from server.realtime.wire import text_frame

__all__ = ["CONSOLE", "DELIVERY_SLICE", "PARTICIPANTS", "PROJECTOR", "Connection", "Hub"]

log = logging.getLogger("minka.hub")

PARTICIPANTS = Audience.PARTICIPANTS
PROJECTOR = Audience.PROJECTOR
CONSOLE = Audience.CONSOLE
# Connections handed a broadcast per turn of the event loop (see ``Hub._deliver``).
DELIVERY_SLICE = 100
# Marks that do not wait for the next tick: the facilitator moved the room (a new stage, a
# reveal), and a hall is waiting to see it. At most one early tick per URGENT_GAP seconds.
URGENT = frozenset({Topic.STAGE, Topic.REVEAL})
URGENT_GAP = 0.05

# renderer(workshop_id, topics, audiences) -> {audience: {topic: text}}, for exactly the
# audiences asked (those with connections); called from a thread.
Renderer = Callable[[int, frozenset[str], frozenset[AudienceKey]], dict[AudienceKey, dict[str, str]]]
Texts = dict[AudienceKey, dict[str, str]]


class Hub:
    def __init__(
        self,
        renderer: Renderer | None = None,
        *,
        interval: float = 0.25,
        phone_interval: float = 0.5,
        recheck_interval: float = 60.0,
        backend=None,
    ):
        self.renderer = renderer
        self.interval = interval
        # Every screen's access is checked again this often (0: never), e.g. expired logins.
        self.recheck_interval = recheck_interval
        self._rechecked_at = time.monotonic()
        self._recheck_users: set[int] = set()  # users whose access changed, until the next tick
        # Phones get live results at most this often (screens every tick): half the
        # fan-out of a large room, and less mobile data, for a delay nobody notices.
        self.phone_interval = phone_interval
        self._phone_results_at: dict[int, float] = {}
        self.backend = backend
        # Connected phones, counted here and shared across processes (Redis).
        self.phones = Phones(getattr(backend, "presence", None))
        self.listeners: list[Callable[[int, frozenset[str], bool], None]] = []
        self.renders = 0
        self._connections: dict[int, dict[AudienceKey, set[Connection]]] = defaultdict(lambda: defaultdict(set))
        self._dirty: dict[int, set[str]] = defaultdict(set)
        self._unpublished: dict[int, set[str]] = defaultdict(set)
        # The last texts sent per workshop, audience (role and language) and topic: what a
        # (re)connecting screen gets at once, without rendering anything for it.
        self._last: dict[int, Texts] = {}
        # Per workshop, the audiences whose remembered texts cover every topic.
        self._complete: dict[int, set[AudienceKey]] = {}
        # The full renders in progress for a connecting screen, per workshop and audience.
        self._rendering: dict[tuple[int, AudienceKey], concurrent.futures.Future] = {}
        self._lock = threading.RLock()
        self._flushing = threading.Lock()  # held while a tick renders and delivers
        self._stop = threading.Event()
        self._wake = threading.Event()  # an URGENT mark: tick now
        self._thread: threading.Thread | None = None
        self._users = 0

    # Lifecycle (counted: each app lifespan starts and stops it once) -------------------

    def start(self) -> None:
        self._users += 1
        if self._thread is None:
            self._stop.clear()
            if self.backend is not None:
                self.backend.start(self._remote_dirty, self._recheck)
            self._thread = threading.Thread(target=self._tick_forever, name="minka-hub", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._users -= 1
        if self._users <= 0 and self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout=10)
            self._thread = None
            if self.backend is not None:
                self.backend.stop()

    # Connections --------------------------------------------------------------------

    def attach(self, conn: Connection) -> None:
        conn.start()
        with self._lock:
            self._connections[conn.workshop_id][conn.key].add(conn)
        if conn.audience == PARTICIPANTS:
            self.phones.came(conn.workshop_id, conn.participant_id)
            self._mark(conn.workshop_id, ("counts",))

    async def detach(self, conn: Connection) -> None:
        with self._lock:
            audiences = self._connections.get(conn.workshop_id)
            if audiences is not None and conn in audiences.get(conn.key, ()):
                audiences[conn.key].discard(conn)
                if conn.audience == PARTICIPANTS:
                    self.phones.left(conn.workshop_id, conn.participant_id)
                if not audiences[conn.key]:  # nobody in this role and language: forget it
                    del audiences[conn.key]
                    self._last.get(conn.workshop_id, {}).pop(conn.key, None)
                    self._complete.get(conn.workshop_id, set()).discard(conn.key)
                if not audiences:  # nobody watches: forget what was sent
                    del self._connections[conn.workshop_id]
                    self._last.pop(conn.workshop_id, None)
                    self._complete.pop(conn.workshop_id, None)
        await conn.stop()
        if conn.audience == PARTICIPANTS:
            self._mark(conn.workshop_id, ("counts",))

    def online(self, workshop_id: int) -> set[int]:
        """Participants with at least one open phone (on any process, with Redis)."""
        return self.phones.online(workshop_id)

    def _conns(self, workshop_id: int) -> dict[AudienceKey, list[Connection]]:
        with self._lock:
            audiences = self._connections.get(workshop_id, {})
            return {key: list(conns) for key, conns in audiences.items() if conns}

    # Dirty marks ---------------------------------------------------------------------

    def mark_dirty(self, workshop_id: int, *topics: str) -> None:
        """Safe from any thread; cheap (the work happens at the next tick)."""
        self._mark(workshop_id, topics)
        if self.backend is not None:
            with self._lock:
                self._unpublished[workshop_id].update(topics)
        for listener in self.listeners:
            listener(workshop_id, frozenset(topics), True)

    def _remote_dirty(self, workshop_id: int, topics: tuple[str, ...]) -> None:
        self._mark(workshop_id, topics)
        for listener in self.listeners:
            listener(workshop_id, frozenset(topics), False)

    def _mark(self, workshop_id: int, topics) -> None:
        with self._lock:
            self._dirty[workshop_id].update(topics)
        if not URGENT.isdisjoint(topics):
            self._wake.set()

    # Screens' access ------------------------------------------------------------------

    def recheck_user(self, user_id: int) -> None:
        """This user's access changed (logout, unshare, deactivation): check their open
        screens again, in every process, at the next tick. Safe from any thread."""
        with self._lock:
            self._recheck_users.add(user_id)

    def _recheck(self, user_ids) -> None:
        """Have each screen of these users (``None``: every screen) check its access in its
        own event loop; those that may no longer watch are closed."""
        with self._lock:
            conns = [
                conn
                for audiences in self._connections.values()
                for key, members in audiences.items()
                if key.role != PARTICIPANTS
                for conn in members
                if conn.recheck is not None and (user_ids is None or conn.user_id in user_ids)
            ]
        for conn in conns:
            loop = conn.loop
            if loop is None or loop.is_closed():
                continue
            check = conn.verify()
            try:
                asyncio.run_coroutine_threadsafe(check, loop)
            except RuntimeError:  # that loop closed meanwhile: the check never runs
                check.close()

    # Broadcasting ---------------------------------------------------------------------

    def _tick_forever(self) -> None:
        while True:
            flushed = time.monotonic()
            if self._wake.wait(self.interval):  # woken early: not more often than URGENT_GAP
                self._stop.wait(max(0.0, URGENT_GAP - (time.monotonic() - flushed)))
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                with self._flushing:
                    self.flush()
                if self.recheck_interval and time.monotonic() - self._rechecked_at >= self.recheck_interval:
                    self._rechecked_at = time.monotonic()
                    self._recheck(None)
            except Exception:
                log.exception("broadcast failed")

    @contextlib.contextmanager
    def paused(self):
        """No tick renders meanwhile (its read transactions would hold table locks)."""
        with self._flushing:
            yield

    def flush(self) -> None:
        """Render each dirty workshop once per audience (role and language) in use and
        topic; hand the texts out."""
        with self._lock:
            dirty, self._dirty = self._dirty, defaultdict(set)
            unpublished, self._unpublished = self._unpublished, defaultdict(set)
            recheck_users, self._recheck_users = self._recheck_users, set()
        # Before anything is rendered or published: every process then counts these phones.
        for workshop_id in self.phones.share(lambda workshop_id: self.mark_dirty(workshop_id, "counts")):
            unpublished[workshop_id].add("counts")
        if self.backend is not None:
            for workshop_id, topics in unpublished.items():
                self.backend.publish(workshop_id, topics)
            if recheck_users:
                self.backend.publish_recheck(recheck_users)
        if recheck_users:
            self._recheck(recheck_users)
        for workshop_id, topics in dirty.items():
            self._drop_removed(workshop_id, topics)
            audiences = self._conns(workshop_id)
            if not audiences or self.renderer is None:
                with self._lock:
                    self._last.pop(workshop_id, None)  # stale now; rendered afresh on connect
                    self._complete.pop(workshop_id, None)
                continue
            rendered = self.renderer(workshop_id, frozenset(topics), frozenset(audiences))
            messages = self._hold_phone_results(workshop_id, topics, rendered)
            self.renders += 1
            self._remember(workshop_id, messages)
            self._deliver(audiences, messages, self.renders)

    def _hold_phone_results(self, workshop_id: int, topics: set[str], messages: Texts) -> Texts:
        """Keep back the phones' results until ``phone_interval`` has passed (a new stage,
        or a reveal, goes at once); what is held is rendered afresh next tick. The
        phones of every language are held or sent together."""
        phones = [key for key, texts in messages.items() if key.role == PARTICIPANTS and Topic.RESULTS in texts]
        if not phones or Topic.STAGE in topics or Topic.REVEAL in topics:
            return messages
        now = time.monotonic()
        if now - self._phone_results_at.get(workshop_id, 0.0) >= self.phone_interval:
            self._phone_results_at[workshop_id] = now
            return messages
        self._mark(workshop_id, (Topic.RESULTS,))
        held = dict(messages)
        for key in phones:
            held[key] = {t: text for t, text in messages[key].items() if t != Topic.RESULTS}
        return held

    @staticmethod
    def _deliver(audiences: dict[AudienceKey, list[Connection]], messages: Texts, tick: int) -> None:
        """Hand each audience's texts (the same objects for all its connections) out."""
        by_loop: dict[asyncio.AbstractEventLoop, list] = defaultdict(list)  # (connection, texts, batch)
        for key, conns in audiences.items():
            if not messages.get(key):
                continue
            # Encoded once for the whole audience (connections that write frames themselves).
            texts = {topic: (text, text_frame(text)) for topic, text in messages[key].items()}
            batch = text_frame(batch_message([text for text, _ in texts.values()])) if len(texts) > 1 else None
            for conn in conns:
                if conn.loop is not None and not conn.closed:
                    by_loop[conn.loop].append((conn, texts, batch))

        for loop, pairs in by_loop.items():

            def push_slice(pairs=pairs, start=0, loop=loop) -> None:
                # A slice at a time: between two slices the loop reads sockets and sends
                # what is ready (acknowledgements), so a broadcast to a large room never
                # holds a vote back for long.
                for conn, texts, batch in pairs[start : start + DELIVERY_SLICE]:
                    conn.push_all(texts, tick, batch)
                if start + DELIVERY_SLICE < len(pairs):
                    loop.call_soon(push_slice, pairs, start + DELIVERY_SLICE, loop)

            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(push_slice)

    def _remember(self, workshop_id: int, messages: Texts, *, complete: bool = False) -> None:
        """Keep the latest texts per audience. A partial render (only the counts, say)
        updates a complete set; it never stands in for one, or a connecting phone would
        get no stage. Only audiences with connections are kept (one whose last screen
        closed meanwhile would otherwise hand stale texts to the next)."""
        with self._lock:
            connected = self._connections.get(workshop_id)
            if not connected:
                return
            last = self._last.setdefault(workshop_id, {})
            done = self._complete.setdefault(workshop_id, set())
            for key, by_topic in messages.items():
                if complete and key in connected:
                    last[key] = dict(by_topic)
                    done.add(key)
                elif key in done:
                    last[key].update(by_topic)

    async def current(self, workshop_id: int, audience: str, language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
        """The latest texts of every topic for this role in this language (rendered in full
        for that audience alone if none yet)."""
        key = AudienceKey(audience, language)
        with self._lock:
            complete = key in self._complete.get(workshop_id, ())
            last = self._last.get(workshop_id, {}).get(key) if complete else None
            rendering = self._rendering.get((workshop_id, key)) if last is None else None
            first = last is None and rendering is None and self.renderer is not None
            if first:  # this caller renders; those coming meanwhile wait for its texts
                rendering = self._rendering[(workshop_id, key)] = concurrent.futures.Future()
        if first:
            try:
                messages = await anyio.to_thread.run_sync(self.renderer, workshop_id, ALL_TOPICS, frozenset({key}))
                self._remember(workshop_id, messages, complete=True)
                # A tick that rendered results meanwhile was not remembered for this audience
                # (not complete yet), and may reach the phone before these: the next tick
                # renders them again, so that the last word is the newest.
                self._mark(workshop_id, (Topic.RESULTS,))
                rendering.set_result(messages.get(key, {}))
            except BaseException as exc:
                rendering.set_exception(exc)
                raise
            finally:
                with self._lock:
                    self._rendering.pop((workshop_id, key), None)
        if rendering is not None:
            # A hall reconnecting at once (a restart): one render for all, not one each.
            last = await asyncio.wrap_future(rendering)
            with self._lock:  # what ticks delivered since that render, if remembered
                if key in self._complete.get(workshop_id, ()):
                    last = self._last[workshop_id][key]
        return dict(last or {})

    def forget_all(self) -> None:
        """Drop every remembered text and dirty mark (tests, after emptying the database)."""
        with self._lock:
            self._last.clear()
            self._complete.clear()
            self._dirty.clear()
            self._unpublished.clear()

    def _drop_removed(self, workshop_id: int, topics: set[str]) -> None:
        """Tell removed participants' phones, and close their connections."""
        marks = {t for t in topics if isinstance(t, Removed)}
        topics -= marks
        removed = {mark.participant_id for mark in marks}
        if not removed:
            return
        conns = [
            c
            for key, members in self._conns(workshop_id).items()
            if key.role == PARTICIPANTS
            for c in members
            if c.participant_id in removed
        ]

        def close_all() -> None:
            for conn in conns:
                conn.closed_by_server = True
                conn.queue(REMOVED_MESSAGE)

        for loop in {c.loop for c in conns if c.loop is not None}:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(close_all)
