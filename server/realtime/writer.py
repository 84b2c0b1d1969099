"""The single writer: live writes are queued and committed in batches.

Every write a phone sends (a rating, dots) is a function of a session. The writer's
thread takes what is queued, runs each function in its own savepoint inside one
transaction, commits, and only then resolves each caller's future — so a vote is
acknowledged after it is committed, and one bad vote never spoils the others in its
batch. One transaction per batch instead of per vote is what lets one SQLite file keep
up with a large room.

After the commit, the callbacks the functions queued with ``server.db.after_commit`` run
(live tally updates, dirty marks for the hub), still holding ``lock``: whoever takes
the lock sees every committed write with its callbacks done.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from server.db import transaction

log = logging.getLogger("minka.writer")

MAX_BATCH = 500
_STOP = object()


class Writer:
    def __init__(self, engine, info: dict | None = None):
        self.engine = engine
        self.info = info or {}
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
        future: concurrent.futures.Future = concurrent.futures.Future()
        if self._thread is None:  # not started (a script): write at once, in a thread
            return await asyncio.to_thread(lambda: self._write([work])[0].result())
        self._queue.put((work, future))
        return await asyncio.wrap_future(future)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            works = [work for work, _ in batch]
            try:
                outcomes = self._write(works)
            except Exception as exc:  # the commit itself failed: nothing of the batch holds
                log.exception("batch of %s writes failed", len(batch))
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if outcome.exception() is not None:
                    future.set_exception(outcome.exception())
                else:
                    future.set_result(outcome.result())

    def _write(self, works: list[Callable[[Session], Any]]) -> list[concurrent.futures.Future]:
        """One transaction for the batch. Works that can go together (``batchable``, with a
        ``run_batch`` of their type, like ratings) are written together first; each other
        work runs in its own savepoint, so one failure spoils nothing else."""
        outcomes: list[concurrent.futures.Future | None] = [None] * len(works)
        with self.lock, transaction(self.engine, self.info) as session:
            groups: dict[type, list[int]] = {}
            for n, work in enumerate(works):
                if getattr(work, "batchable", False):
                    groups.setdefault(type(work), []).append(n)
            for kind, indexes in groups.items():
                for n, outcome in zip(indexes, kind.run_batch(session, [works[n] for n in indexes]), strict=True):
                    outcomes[n] = outcome
            for n, work in enumerate(works):
                if outcomes[n] is not None:
                    continue
                outcome: concurrent.futures.Future = concurrent.futures.Future()
                callbacks = len(session.info.get("after_commit", []))
                try:
                    with session.begin_nested():
                        outcome.set_result(work(session))
                except Exception as exc:
                    del session.info.get("after_commit", [])[callbacks:]
                    outcome.set_exception(exc)
                outcomes[n] = outcome
        self.batches += 1
        self.writes += len(works)
        return outcomes
