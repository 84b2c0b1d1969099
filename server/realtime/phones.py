"""The phones connected now: counted on this process as they come and go, and shared with
the other processes through Redis when there is one (``presence.py``).

A render asks "who is connected now" for the console's counts, in a room of thousands:
the answer is kept up to date at each connection and disconnection instead of walking
every connection. The workshops where phones came or went since the last tick are
written to Redis at the hub's next tick, before anything is rendered or published, so
that every process then counts them.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable

log = logging.getLogger("minka.hub")


class Phones:
    """Per workshop, each participant's number of open phone connections to this process.
    ``presence`` (a ``RedisPresence``, or None: this process is the whole installation)
    holds every process's."""

    def __init__(self, presence=None):
        self.presence = presence
        self._lock = threading.Lock()
        self._open: dict[int, dict[int, int]] = defaultdict(dict)
        self._changed: set[int] = set()  # workshops whose phones came or went since the last share

    def came(self, workshop_id: int, participant_id: int | None) -> None:
        with self._lock:
            self._changed.add(workshop_id)
            if participant_id is not None:
                phones = self._open[workshop_id]
                phones[participant_id] = phones.get(participant_id, 0) + 1

    def left(self, workshop_id: int, participant_id: int | None) -> None:
        with self._lock:
            self._changed.add(workshop_id)
            phones = self._open.get(workshop_id, {})
            if participant_id in phones:
                phones[participant_id] -= 1
                if not phones[participant_id]:
                    del phones[participant_id]
                if not phones:
                    del self._open[workshop_id]

    def here(self, workshop_id: int) -> set[int]:
        """Participants with at least one open phone on this process."""
        with self._lock:
            return set(self._open.get(workshop_id, ()))

    def online(self, workshop_id: int) -> set[int]:
        """Participants with at least one open phone: on any process (with Redis), else
        on this one."""
        if self.presence is not None:
            try:
                return self.presence.online(workshop_id)
            except Exception:  # Redis unreachable: this process's own, rather than nothing
                log.exception("redis presence")
        return self.here(workshop_id)

    def share(self, counts_stale: Callable[[int], None]) -> set[int]:
        """With Redis: write this process's phones of the workshops where some came or went,
        and renew the heartbeat now and then (``counts_stale(workshop_id)`` for a workshop
        a dead process's phones dropped out of). Returns the workshops whose counts the
        other processes should render again. Without Redis: nothing to share."""
        with self._lock:
            changed, self._changed = self._changed, set()
        if self.presence is None:
            return set()
        try:
            written = {w for w in changed if self.presence.publish_own(w, self.here(w))}
            self.presence.heartbeat(counts_stale)
            return written
        except Exception:
            log.exception("redis presence")
            with self._lock:  # written again at the next tick
                self._changed.update(changed)
            return set()
