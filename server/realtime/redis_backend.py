"""Redis pub/sub for the hub: every process hears every other process's dirty marks, and
which users' screens must check their access again.

Pub/sub channels are shared by every database of a Redis server, so the channel is named
after the database number of ``MINKA_REDIS_URL``: two installations (or test runs) on one
server with their own database numbers never hear each other's marks (workshop 1 of one
is not workshop 1 of the other: a removal there would close phones here)."""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid

import redis

from server.realtime.presence import RedisPresence
from server.realtime.topics import mark_text, parse_mark

log = logging.getLogger("minka.hub")
CHANNEL = "minka:dirty"  # followed by ":<database number>"


class RedisBackend:
    def __init__(self, url: str):
        self.url = url
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._redis = redis.Redis.from_url(url)
        db = self._redis.connection_pool.connection_kwargs.get("db", 0)
        self.channel = f"{CHANNEL}:{db}"
        # Who is connected to each process (see presence.py), under the same database number.
        self.presence = RedisPresence(self._redis, db, self.origin)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_remote, on_recheck=None) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._listen, args=(pubsub, on_remote, on_recheck), name="minka-redis", daemon=True
        )
        self._thread.start()

    def _listen(self, pubsub, on_remote, on_recheck) -> None:
        while not self._stop.is_set():
            try:
                message = pubsub.get_message(timeout=0.5)
                if message is None:
                    continue
                data = json.loads(message["data"])
                if data.get("o") == self.origin:
                    continue
                if "r" in data:
                    if on_recheck is not None:
                        on_recheck({int(u) for u in data["r"]})
                else:
                    on_remote(int(data["w"]), tuple(parse_mark(t) for t in data["t"]))
            except Exception:
                log.exception("redis listener")
                self._stop.wait(1)
        pubsub.close()

    def publish(self, workshop_id: int, topics) -> None:
        payload = json.dumps({"w": workshop_id, "t": sorted(map(mark_text, topics)), "o": self.origin})
        try:
            self._redis.publish(self.channel, payload)
        except redis.RedisError:
            log.exception("redis publish")

    def publish_recheck(self, user_ids) -> None:
        """Every other process checks these users' screens again."""
        payload = json.dumps({"r": sorted(user_ids), "o": self.origin})
        try:
            self._redis.publish(self.channel, payload)
        except redis.RedisError:
            log.exception("redis publish")

    def stop(self) -> None:
        for workshop_id in self.presence.leave():  # the others count without this process's phones
            self.publish(workshop_id, ("counts",))
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
