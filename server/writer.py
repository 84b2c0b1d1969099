"""The single writer: live writes are queued and committed in batches.

Every write a phone sends (a rating, dots) is a function of a session. The writer's
thread takes what is queued, runs each function in its own savepoint inside one
transaction, commits, and only then resolves each caller's future — so a vote is
acknowledged after it is committed, and one bad vote never spoils the others in its
batch: writes written together (``run_batch``) that fail together are written again one
by one, each in its own savepoint, and a batch whose transaction fails is written again
one write per transaction. One transaction per batch instead of per vote is what lets
one SQLite file keep up with a large room.

After the commit, the callbacks the functions queued with ``server.db.after_commit`` run
(live tally updates, dirty marks for the hub), still holding ``lock``: whoever takes
the lock sees every committed write with its callbacks done.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from server.db import transaction

log = logging.getLogger("minka.writer")

MAX_BATCH = 500
# When a second write is already waiting as the writer wakes up, the room is busy: the
# writer gathers for this long more before writing, so that one transaction (and one
# read of each activity, receipts and earlier answers) serves many votes. A lone write
# goes at once.
GATHER = 0.005
# And while the room stays busy, batches start at most this often: one batch's fixed cost
# (a transaction, the activity's checks, the reads of earlier answers, the commit) is
# then shared by a hundred votes at 5,000 a second instead of by a dozen, which is what
# lets one process keep up. A vote waits at most this long more for its acknowledgement.
PACE = 0.02
_STOP = object()


class Outcome:
    """What one write came to: a value or an error (a light stand-in for a future)."""

    __slots__ = ("_done", "error", "value")

    def __init__(self) -> None:
        self._done, self.value, self.error = False, None, None

    def set_result(self, value) -> None:
        self._done, self.value = True, value

    def set_exception(self, error: BaseException) -> None:
        self._done, self.error = True, error

    def done(self) -> bool:
        return self._done

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value


def _failed(error: BaseException) -> Outcome:
    outcome = Outcome()
    outcome.set_exception(error)
    return outcome


def _in_savepoint(session: Session, work: Callable[[Session], Any]) -> Outcome:
    """Run ``work`` in a savepoint: what it wrote and the callbacks it queued are undone
    when it raises."""
    outcome = Outcome()
    callbacks = len(session.info.get("after_commit", []))
    try:
        with session.begin_nested():
            outcome.set_result(work(session))
    except Exception as exc:
        del session.info.get("after_commit", [])[callbacks:]
        outcome.set_exception(exc)
    return outcome


def _settle(pairs: list[tuple[asyncio.Future, Outcome]]) -> None:
    """In the callers' event loop: hand every outcome of a batch to its waiting caller."""
    for future, outcome in pairs:
        if future.cancelled():
            continue
        if outcome.error is not None:
            future.set_exception(outcome.error)
        else:
            future.set_result(outcome.value)


class _GroupFailed(Exception):
    """Writes batched together were refused by the database: their transaction is lost."""

    def __init__(self, count: int, error: BaseException):
        super().__init__(count, error)
        self.count, self.error = count, error


class Writer:
    def __init__(self, engine, info: dict | None = None, *, gather: float = GATHER, pace: float = PACE):
        self.engine = engine
        # Kept across batches: what every batch's session is given (the hub), and the
        # gaps of activities that have run (see ``gaps.service.activity_info``).
        self.info = {"activity_items": {}, **(info or {})}
        self.gather = gather
        self.pace = pace
        # Run once in the writer's thread when it starts (building hot statements).
        self.warmups: list[Callable[[Session], None]] = []
        self.lock = threading.RLock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._users = 0
        self.batches = 0
        self.writes = 0

    def start(self) -> None:
        """Start the writer thread (counted: each app lifespan starts and stops it once)."""
        self._users += 1
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="minka-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._users -= 1
        if self._users <= 0 and self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=10)
            self._thread = None

    async def submit(self, work: Callable[[Session], Any]) -> Any:
        """Run ``work(session)`` in the next batch: its result once committed, or its error."""
        if self._thread is None:  # not started (a script): write at once, in a thread
            return await asyncio.to_thread(lambda: self._write([work])[0].result())
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((work, loop, future))
        return await future

    def _take(self, batch: list) -> bool:
        """Add what is queued to ``batch``; False once asked to stop."""
        while len(batch) < MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return True
            if item is _STOP:
                self._queue.put(_STOP)
                return False
            batch.append(item)
        return True

    def _warm(self) -> None:
        for warm in self.warmups:
            try:
                with self.lock, transaction(self.engine, self.info) as session:
                    warm(session)
            except Exception:  # only slower without it
                log.exception("warming up the writer failed")

    def _run(self) -> None:
        self._warm()
        started = 0.0  # when the last batch began
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            if self._take(batch) and len(batch) > 1 and self.gather > 0:
                # Busy: gather a little, and more if the last batch began only just now.
                time.sleep(max(self.gather, min(self.pace, started + self.pace - time.monotonic())))
                self._take(batch)
            started = time.monotonic()
            outcomes = self._write_apart([work for work, _, _ in batch])
            by_loop: dict[asyncio.AbstractEventLoop, list] = defaultdict(list)
            for (_, loop, future), outcome in zip(batch, outcomes, strict=True):
                by_loop[loop].append((future, outcome))
            for loop, pairs in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_settle, pairs)
                except RuntimeError:  # that loop has closed: nobody waits any more
                    pass

    def _write_apart(self, works: list[Callable[[Session], Any]]) -> list[Outcome]:
        """``_write``; should the transaction itself fail (nothing of the batch holds), each
        write again in a transaction of its own, so that only what fails alone fails."""
        try:
            try:
                return self._write(works)
            except _GroupFailed as failed:  # rolled back: again, with every write on its own
                log.warning("%s writes failed together (%r); writing them one by one", failed.count, failed.error)
                return self._write(works, together=False)
        except Exception as exc:
            log.exception("batch of %s writes failed", len(works))
            if len(works) == 1:
                return [_failed(exc)]
        outcomes = []
        for work in works:
            try:
                outcomes.extend(self._write([work]))
            except Exception as exc:
                outcomes.append(_failed(exc))
        return outcomes

    def _write(self, works: list[Callable[[Session], Any]], together: bool = True) -> list[Outcome]:
        """One transaction for the batch. Works that can go together (``batchable``, with a
        ``run_batch`` of their type, like ratings) are written together first (``together``);
        should the database refuse that, the transaction is given up (``_GroupFailed``) and
        the caller writes the batch again with every write on its own. Each other work runs
        in its own savepoint, so one failure spoils nothing else. (No savepoint around a
        group: two more database calls per batch, each of which gives Python's lock away,
        cost the busiest path more than the rare retry.)"""
        outcomes: list[Outcome | None] = [None] * len(works)
        with self.lock, transaction(self.engine, self.info) as session:
            groups: dict[type, list[int]] = {}
            for n, work in enumerate(works):
                if together and getattr(work, "batchable", False):
                    groups.setdefault(type(work), []).append(n)
            for kind, indexes in groups.items():
                try:
                    written = kind.run_batch(session, [works[n] for n in indexes])
                except Exception as exc:
                    raise _GroupFailed(len(indexes), exc) from exc
                for n, outcome in zip(indexes, written, strict=True):
                    outcomes[n] = outcome
            for n, work in enumerate(works):
                if outcomes[n] is None:
                    outcomes[n] = _in_savepoint(session, work)
        self.batches += 1
        self.writes += len(works)
        return outcomes
