"""How many phones a process lets in each second: the shedding of reconnect storms.

When a server restarts under a full hall, every phone comes back within seconds. Letting
them all in at once would have each one's first reads (who it is, the current screen,
its own answers) queue behind all the others': the acknowledgements of those already in
would wait for the whole hall. Instead a token bucket admits ``rate`` new phone
connections a second (up to ``burst`` at once after a quiet spell); the others are
refused at once, before anything is read, with the websocket close code 1013 ("try
again later"). So are the newcomers while ``in_flight`` phones already let in have not
yet been served their first screen: the door opens as fast as the process serves, never
faster than ``rate``. The phone then waits a short random time (``shedWait`` in
static/phone/transport.js) and tries again: the hall comes in at the rate the process
serves, the refused ones costing it a handshake each.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

TRY_AGAIN_LATER = 1013  # RFC 6455 section 7.4.1 (IANA registry): the server is overloaded


class Doorman:
    """A token bucket of new connections per second (``rate`` 0: no limit), and at most
    ``in_flight`` phones let in but not yet served their first screen (0: no limit).

    The second bound adapts to the server's speed: when it falls behind (a busy vote, a
    loaded machine), its door stays shut until those in the doorway are served, whatever
    the rate allows. A phone leaves the doorway when :meth:`release` is called with its
    ticket (its hello answered, or its socket closed), or after ``timeout`` seconds (one
    that never says hello cannot hold the door)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        in_flight: int = 0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self.in_flight, self.timeout = in_flight, timeout
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()
        self._lock = threading.Lock()
        self._doorway: dict[int, float] = {}  # ticket -> when it was let in
        self._tickets = itertools.count(1)
        self.admitted = 0
        self.refused = 0

    def admit(self) -> int | None:
        """A ticket (to :meth:`release` once served), or None: refused."""
        with self._lock:
            now = self._clock()
            if self.in_flight:
                for ticket in [t for t, at in self._doorway.items() if now - at > self.timeout]:
                    del self._doorway[ticket]
                if len(self._doorway) >= self.in_flight:
                    self.refused += 1
                    return None
            if self.rate:
                self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
                self._at = now
                if self._tokens < 1:
                    self.refused += 1
                    return None
                self._tokens -= 1
            ticket = next(self._tickets)
            if self.in_flight:
                self._doorway[ticket] = now
            self.admitted += 1
            return ticket

    def release(self, ticket: int | None) -> None:
        """That phone has been served (or is gone); safe to call more than once."""
        if ticket is not None:
            with self._lock:
                self._doorway.pop(ticket, None)
