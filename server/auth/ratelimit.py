"""Fixed-window rate limits, kept in memory (one process) or in Redis (several)."""

from __future__ import annotations

import threading
import time


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, limit: int, window: int = 60) -> int:
        """Count one attempt. Returns 0 when allowed, else seconds until the next window."""
        now = int(time.time())
        start = now - now % window
        with self._lock:
            if len(self._hits) > 100_000:
                self._hits = {k: v for k, v in self._hits.items() if v[0] >= start}
            window_start, count = self._hits.get(key, (start, 0))
            if window_start != start:
                window_start, count = start, 0
            count += 1
            self._hits[key] = (window_start, count)
        return 0 if count <= limit else window - (now - start)

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)


class RedisRateLimiter:
    def __init__(self, client) -> None:
        self._redis = client

    def hit(self, key: str, limit: int, window: int = 60) -> int:
        now = int(time.time())
        start = now - now % window
        name = f"minka:rl:{key}:{start}"
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window + 1)
        count = pipe.execute()[0]
        return 0 if count <= limit else window - (now - start)

    def reset(self, key: str) -> None:
        now = int(time.time())
        self._redis.delete(f"minka:rl:{key}:{now - now % 60}")
