"""Fixed-window rate limits, kept in memory (one process) or in Redis (several).

``hit`` counts an attempt and says whether it is allowed; ``spent`` reads a count without
adding to it, to refuse a request before doing what it asks (see the wrong join codes).
The Redis limiter talks to the network: ``blocking`` tells async callers to call it from
a thread, so that the event loop never waits on it.
"""

from __future__ import annotations

import threading
import time


def _window_start(window: int) -> tuple[int, int]:
    now = int(time.time())
    return now, now - now % window


class MemoryRateLimiter:
    blocking = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, int], tuple[int, int]] = {}

    def hit(self, key: str, limit: int, window: int = 60) -> int:
        """Count one attempt. Returns 0 when allowed, else seconds until the next window."""
        now, start = _window_start(window)
        with self._lock:
            if len(self._hits) > 100_000:
                self._hits = {k: v for k, v in self._hits.items() if v[0] + k[1] > now}
            window_start, count = self._hits.get((key, window), (start, 0))
            if window_start != start:
                window_start, count = start, 0
            count += 1
            self._hits[(key, window)] = (window_start, count)
        return 0 if count <= limit else max(1, window - (now - start))

    def spent(self, key: str, limit: int, window: int = 60) -> int:
        """0 while fewer than ``limit`` attempts were counted in this window, else the
        seconds until the next window. Counts nothing."""
        now, start = _window_start(window)
        with self._lock:
            window_start, count = self._hits.get((key, window), (start, 0))
        return 0 if window_start != start or count < limit else max(1, window - (now - start))

    def reset(self, key: str, window: int = 60) -> None:
        with self._lock:
            self._hits.pop((key, window), None)


class RedisRateLimiter:
    blocking = True

    def __init__(self, client) -> None:
        self._redis = client

    @staticmethod
    def _name(key: str, window: int, start: int) -> str:
        return f"minka:rl:{key}:{window}:{start}"

    def hit(self, key: str, limit: int, window: int = 60) -> int:
        now, start = _window_start(window)
        name = self._name(key, window, start)
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window + 1)
        count = pipe.execute()[0]
        return 0 if count <= limit else max(1, window - (now - start))

    def spent(self, key: str, limit: int, window: int = 60) -> int:
        now, start = _window_start(window)
        count = int(self._redis.get(self._name(key, window, start)) or 0)
        return 0 if count < limit else max(1, window - (now - start))

    def reset(self, key: str, window: int = 60) -> None:
        _now, start = _window_start(window)
        self._redis.delete(self._name(key, window, start))
