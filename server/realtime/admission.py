"""How many phones a process lets in each second: the shedding of reconnect storms.

When a server restarts under a full hall, every phone comes back within seconds. Letting
them all in at once would have each one's first reads (who it is, the current screen,
its own answers) queue behind all the others': the acknowledgements of those already in
would wait for the whole hall. Instead a token bucket admits ``rate`` new phone
connections a second (up to ``burst`` at once after a quiet spell); the others are
refused at once, before anything is read, with the websocket close code 1013 ("try
again later"). So are the newcomers while ``in_flight`` phones already let in have not
yet been served their first screen: the door opens as fast as the process serves, never
faster than ``rate``. Before being refused, a phone waits in line (up to ``line`` of
them, ``line_wait`` seconds each): its handshake is held, unanswered, and the phones in
line are let in one after another, first come first served, as those in the doorway are
served. A hall that reconnects at once after a restart so comes in at the pace the process
serves it, each phone with one handshake; turning most of it away cost a handshake per
refusal and per return, and the turns, given all at once before the process had served
anyone, were too slow or too fast. Only a phone that finds the line full or waits its
longest is refused. The refusal's reason says when to come back (:meth:`Doorman.wait`:
the refused phones are given turns one after another, at the pace the process has
been serving phones, so a hall comes in as fast as it is served, in few attempts; each refusal costs
the process a handshake, as much as a fifth of serving a phone). The phone waits that
long, give or take a tenth, and tries again (``shedWait`` in static/phone/transport.js,
which draws a wait of its own when the reason carries none). The door stands in front of the
application (:class:`PhoneDoor`): a refusal goes through none of its middleware or routing.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import threading
import time
from collections.abc import Callable

TRY_AGAIN_LATER = 1013  # RFC 6455 section 7.4.1 (IANA registry): the server is overloaded
TICKET = "minka.door_ticket"  # the scope key of an admitted phone's ticket
MAX_WAIT = 60.0  # seconds: the latest turn a refused phone is given
PACE_WINDOW = 2.0  # seconds of phones served the pace of turns is taken from
PACE_AHEAD = 1.5  # turns come this much faster than phones were served: the door stays busy as it speeds up
LINE_RECHECK = 0.05  # seconds: how often a line no release has moved is looked at again


class Doorman:
    """A token bucket of new connections per second (``rate`` 0: no limit), and at most
    ``in_flight`` phones let in but not yet served their first screen (0: no limit).

    The second bound adapts to the server's speed: when it falls behind (a busy vote, a
    loaded machine), its door stays shut until those in the doorway are served, whatever
    the rate allows. A phone leaves the doorway when :meth:`release` is called with its
    ticket (its hello answered, or its socket closed), or after ``timeout`` seconds (one
    that never says hello cannot hold the door).

    Refused by :meth:`admit`, a phone may :meth:`join_line` (at most ``line`` of them; 0:
    no line): its future gets a ticket when the door next has room, in the order they came,
    or it gives up after ``line_wait`` seconds (:meth:`leave_line`). The line is served on
    the event loop: :meth:`release` and :meth:`join_line` are called there."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        in_flight: int = 0,
        timeout: float = 5.0,
        line: int = 0,
        line_wait: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self.in_flight, self.timeout = in_flight, timeout
        self.line, self.line_wait = line, line_wait
        self._line: collections.deque[asyncio.Future] = collections.deque()
        self._recheck: asyncio.TimerHandle | None = None
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()
        self._lock = threading.Lock()
        self._doorway: collections.OrderedDict[int, float] = collections.OrderedDict()  # ticket -> when let in
        self._tickets = itertools.count(1)
        self._next_turn = 0.0  # when the last refused phone was told to come back
        self._served: collections.deque[float] = collections.deque()  # when phones left the doorway
        self.admitted = 0  # phones let in (from the line too)
        self.lined = 0  # phones let in from the line
        self.refused = 0  # phones told to come back (each given a turn: :meth:`wait`)

    def admit(self) -> int | None:
        """A ticket (to :meth:`release` once served), or None: not now (the line, if
        any, goes first: a newcomer does not pass those waiting)."""
        with self._lock:
            return None if self._line else self._let_in()

    def _let_in(self) -> int | None:
        """A ticket if the doorway and the rate allow one now (the lock held)."""
        now = self._clock()
        if self.in_flight:
            doorway = self._doorway  # in the order they came in: the oldest first
            while doorway and now - doorway[next(iter(doorway))] > self.timeout:
                doorway.popitem(last=False)
            if len(doorway) >= self.in_flight:
                return None
        if self.rate:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return None
            self._tokens -= 1
        ticket = next(self._tickets)
        if self.in_flight:
            self._doorway[ticket] = now
        self.admitted += 1
        return ticket

    def join_line(self) -> asyncio.Future | None:
        """A place in line: a future that gets a ticket when this phone's turn comes; None
        when the line is full (or there is none). On the event loop."""
        with self._lock:
            if len(self._line) >= self.line:
                return None
            place = asyncio.get_running_loop().create_future()
            self._line.append(place)
        self._serve_line()
        return place

    def leave_line(self, place: asyncio.Future) -> int | None:
        """Out of line (waited too long, or gone): the ticket it was just given, if any."""
        with self._lock:
            try:
                self._line.remove(place)
            except ValueError:
                pass
        if place.done() and not place.cancelled():
            return place.result()
        place.cancel()
        return None

    def _serve_line(self) -> None:
        """Let in the first in line while the door has room; while some still wait, look
        again in a moment: a release moves the line at once, but the rate's tokens and the
        doorway's expired tickets come back with no call."""
        with self._lock:
            while self._line:
                if self._line[0].done():  # cancelled: gone
                    self._line.popleft()
                    continue
                ticket = self._let_in()
                if ticket is None:
                    break
                self.lined += 1
                self._line.popleft().set_result(ticket)
            if self._line and self._recheck is None:
                self._recheck = self._line[0].get_loop().call_later(LINE_RECHECK, self._look_again)

    def _look_again(self) -> None:
        self._recheck = None
        self._serve_line()

    def wait(self) -> float:
        """Seconds a phone just refused should wait: the next free turn, at most
        ``MAX_WAIT`` away. Turns are given at the pace phones are let in: the rate, or,
        with a doorway, if fewer, as many a second as were served in the last
        ``PACE_WINDOW`` seconds, ``PACE_AHEAD`` times over, but at least ``in_flight`` / 4
        and a quarter of the rate (the door is rarely slower, and at first nobody has been
        served: turns given then at the pace of the few served would keep the door idle)."""
        with self._lock:
            self.refused += 1
            now = self._clock()
            pace = self.rate or float("inf")
            if self.in_flight:
                while self._served and self._served[0] < now - PACE_WINDOW:
                    self._served.popleft()
                served = len(self._served) / PACE_WINDOW
                pace = min(pace, max(self.in_flight / 4, self.rate / 4, served * PACE_AHEAD))
            # After the phones still in line (each 1 / pace): they go first.
            self._next_turn = max(self._next_turn, now + len(self._line) / pace)
            self._next_turn = min(max(self._next_turn, now) + 1 / pace, now + MAX_WAIT)
            return self._next_turn - now

    def release(self, ticket: int | None) -> None:
        """That phone has been served (or is gone); safe to call more than once."""
        if ticket is not None:
            with self._lock:
                if self._doorway.pop(ticket, None) is not None:
                    now = self._clock()
                    self._served.append(now)
                    while self._served[0] < now - PACE_WINDOW:  # only the window is kept
                        self._served.popleft()
            if self._line:
                self._serve_line()


class PhoneDoor:
    """The door as ASGI middleware, in front of the application: the sockets under
    ``prefix`` (the phones') are admitted or refused here (close code 1013), before the
    application's middleware, routing and handler run: in a reconnect storm, most
    handshakes are refusals, and there they cost the process the handshake alone (the
    routing and middleware had doubled it). An admitted phone's ticket is in the scope
    (``TICKET``), for the handler to release once the phone is served; it is released in
    any case when the socket ends. The doorman is the application's (``app.state.doorman``),
    read at each connection. ``endpoint(scope, receive, send)``, when given, serves an
    admitted socket itself, past the application's middleware and routing (it returns
    False for a path it leaves to them)."""

    def __init__(self, app, prefix: str, endpoint=None):
        self.app, self.prefix, self.endpoint = app, prefix, endpoint

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        door: Doorman = scope["app"].state.doorman
        ticket = door.admit()
        if ticket is None and (place := door.join_line()) is not None:  # a reconnect storm: wait in line
            try:
                ticket = await asyncio.wait_for(asyncio.shield(place), door.line_wait)
            except TimeoutError:
                ticket = door.leave_line(place)
            except BaseException:  # the server stopping
                door.release(door.leave_line(place))
                raise
        if ticket is None:  # the line full, or waited too long: come back in a moment
            await receive()  # the handshake ("websocket.connect")
            await send({"type": "websocket.accept"})
            reason = f"{door.wait():.2f}"  # seconds: its turn (transport.js reads it)
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER, "reason": reason})
            return
        scope[TICKET] = ticket
        try:
            if self.endpoint is None or not await self.endpoint(scope, receive, send):
                await self.app(scope, receive, send)
        finally:
            door.release(ticket)
