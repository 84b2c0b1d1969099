"""Who is connected now, across every process that serves an installation.

One process knows only its own websockets. With Redis, each process keeps, per workshop,
the set of its participants with an open phone in a key of its own, with a time to live:

    minka:presence:<db>:<workshop>:<process>   SET of participant ids   (TTL ``ttl``)
    minka:presence:<db>:<workshop>             ZSET process -> last heartbeat (unix time)

"Connected now" is the union of the sets of the processes whose heartbeat is younger
than ``ttl``. A process writes its set again whenever its phones of that workshop change
(at the hub's next tick, before it renders and before it tells the other processes to
render their counts), and renews every set every ``ttl / 3`` seconds. A process that
dies (killed, its machine gone) stops renewing: within ``ttl`` its sets expire and the
next heartbeat of any live process notices it is gone, removes it and has the counts of
that workshop rendered afresh everywhere. A participant with phones on two processes
is counted once (the union).

Without Redis the hub counts its own connections (:meth:`Hub.online`): one process is
the whole installation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import redis

log = logging.getLogger("minka.hub")

PREFIX = "minka:presence"


class RedisPresence:
    def __init__(self, client: redis.Redis, db: int, origin: str, *, ttl: float = 10.0):
        self.redis = client
        self.origin = origin
        self.ttl = ttl
        self.prefix = f"{PREFIX}:{db}"
        self._mine: dict[int, frozenset[int]] = {}  # what this process last wrote, per workshop
        self._beat_at = 0.0

    def _members(self, workshop_id: int) -> str:
        return f"{self.prefix}:{workshop_id}"

    def _set(self, workshop_id: int, origin: str) -> str:
        return f"{self.prefix}:{workshop_id}:{origin}"

    def publish_own(self, workshop_id: int, participants: Iterable[int]) -> bool:
        """Write this process's phones of a workshop (when they changed). Returns whether
        they changed: the other processes then render their counts again."""
        ids = frozenset(participants)
        if self._mine.get(workshop_id, frozenset()) == ids:
            return False
        key, now = self._set(workshop_id, self.origin), time.time()
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(key)
        if ids:
            pipe.sadd(key, *ids)
            pipe.expire(key, max(1, round(self.ttl)))
            pipe.zadd(self._members(workshop_id), {self.origin: now})
        else:
            pipe.zrem(self._members(workshop_id), self.origin)
        pipe.execute()
        if ids:
            self._mine[workshop_id] = ids
        else:
            self._mine.pop(workshop_id, None)
        return True

    def online(self, workshop_id: int) -> set[int]:
        """Participants with a phone open on any live process."""
        alive = self.redis.zrangebyscore(self._members(workshop_id), time.time() - self.ttl, "+inf")
        if not alive:
            return set()
        keys = [self._set(workshop_id, origin.decode()) for origin in alive]
        return {int(member) for member in self.redis.sunion(keys)}

    def heartbeat(self, on_gone: Callable[[int], None], *, force: bool = False) -> None:
        """Every ``ttl / 3`` seconds: write this process's sets again (whole: Redis may
        have lost them, restarted or emptied), and drop the processes that stopped renewing
        theirs (``on_gone(workshop_id)`` for each workshop they had phones in: its counts
        are stale everywhere)."""
        now = time.time()
        if not force and now - self._beat_at < self.ttl / 3:
            return
        self._beat_at = now
        pipe = self.redis.pipeline(transaction=True)
        for workshop_id, ids in self._mine.items():
            key = self._set(workshop_id, self.origin)
            pipe.delete(key)
            pipe.sadd(key, *ids)
            pipe.expire(key, max(1, round(self.ttl)))
            pipe.zadd(self._members(workshop_id), {self.origin: now})
        pipe.execute()
        for key in self.redis.scan_iter(match=f"{self.prefix}:*", count=500, _type="zset"):
            workshop_id = int(key.decode().rsplit(":", 1)[1])
            gone = self.redis.zrangebyscore(key, "-inf", f"({now - self.ttl}")
            if gone and self.redis.zrem(key, *gone):
                self.redis.delete(*(self._set(workshop_id, origin.decode()) for origin in gone))
                on_gone(workshop_id)

    def leave(self) -> list[int]:
        """This process stops (a clean shutdown): its phones are gone at once. Returns
        the workshops they were in (their counts are to be rendered again elsewhere)."""
        workshops = list(self._mine)
        pipe = self.redis.pipeline(transaction=False)
        for workshop_id in workshops:
            pipe.delete(self._set(workshop_id, self.origin))
            pipe.zrem(self._members(workshop_id), self.origin)
        try:
            pipe.execute()
        except redis.RedisError:
            log.exception("redis presence")
        self._mine.clear()
        return workshops
