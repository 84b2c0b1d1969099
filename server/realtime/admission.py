"""How many phones a process lets in each second: the shedding of reconnect storms.

When a server restarts under a full hall, every phone comes back within seconds. Letting
them all in at once would have each one's first reads (who it is, the current screen,
its own answers) queue behind all the others': the acknowledgements of those already in
would wait for the whole hall. Instead a token bucket admits ``rate`` new phone
connections a second (up to ``burst`` at once after a quiet spell); the others are
refused at once, before anything is read, with the websocket close code 1013 ("try
again later"). The phone then waits a short random time (``shedWait`` in
static/phone/transport.js) and tries again: the hall comes in at the rate the process
serves, the refused ones costing it a handshake each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

TRY_AGAIN_LATER = 1013  # RFC 6455 section 7.4.1 (IANA registry): the server is overloaded


class Doorman:
    """A token bucket of new connections per second; ``rate`` 0 admits everyone."""

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()
        self._lock = threading.Lock()
        self.admitted = 0
        self.refused = 0

    def admit(self) -> bool:
        if not self.rate:
            self.admitted += 1
            return True
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                self.admitted += 1
                return True
            self.refused += 1
            return False
