"""Exports are built in a worker process of their own, never in the server's.

Building a workbook of a million answers is seconds of pure Python: in the server's
process it would hold the interpreter's lock away from the event loop and the single
writer, and votes would wait for their acknowledgement. So a request hands the job (what
to export, for whom: ids, not objects) to one long-lived worker process (spawned on the
first export, reused after; one export at a time, the next ones queue), which opens the
database itself, writes the file in a temporary folder and answers with its path; the
request then streams the file and deletes it. The worker reads only; the access check
and the log are the request's.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

NICENESS = 10
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_child_state: dict = {}


@dataclass(frozen=True)
class Job:
    settings: object  # server.config.Settings
    secret: str
    registry: object  # the app's activity registry (plain objects: it pickles)
    product: str
    whole_chain: bool
    subject_id: int  # the chain's or the workshop's id
    user_id: int
    locale: str
    names: bool
    made_at: dt.datetime
    folder: str | None = None  # a job's folder (``jobs.py``): the file goes there, with its progress


def _start_worker(parent: int) -> None:
    """In the worker: a lower CPU priority than the server's (on a busy machine the event
    loop and the single writer go first, the export takes what is left), and an end with the
    server (a server killed outright leaves no worker behind)."""
    try:
        os.nice(NICENESS)
    except OSError:  # not allowed here: the export still runs, at the server's priority
        pass

    def watch():
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="minka-export-watch", daemon=True).start()


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(os.getpid(),),
            )
        return _pool


def submit(job: Job):
    """The ``service.Built`` file of ``job``, made in the worker process (waits for it)."""
    global _pool
    try:
        return _executor().submit(run, job).result()
    except BrokenProcessPool:
        with _pool_lock:
            _pool = None  # the worker died (memory?): the next export starts a new one
        raise


def _forget_broken(pool) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None  # the worker died (memory?): the next export starts a new one


def start(job: Job):
    """The future of ``job``'s ``service.Built`` (made in the worker process; waits not)."""
    pool = _executor()
    try:
        future = pool.submit(run, job)
    except BrokenProcessPool:
        _forget_broken(pool)
        pool = _executor()
        future = pool.submit(run, job)

    def forget_if_broken(done) -> None:
        if isinstance(done.exception(), BrokenProcessPool):
            _forget_broken(pool)

    future.add_done_callback(forget_if_broken)
    return future


def shutdown() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


def _state(job: Job):
    """The worker's database and templates, made once per installation's settings."""
    from server.db import Database
    from server.web import make_environment

    key = job.settings.database_url
    if key not in _child_state:
        _child_state[key] = SimpleNamespace(
            db=Database(job.settings), settings=job.settings, templates=make_environment()
        )
    state = _child_state[key]
    return SimpleNamespace(
        db=state.db, settings=job.settings, templates=state.templates, secret=job.secret, registry=job.registry
    )


def run(job: Job):
    """In the worker: the scope read afresh, the file built (no access check: the request
    made it before handing the job over)."""
    from sqlmodel import Session

    from server.exports.gather import Scope
    from server.exports.service import build_here
    from server.models import User, ValueChain, Workshop
    from server.workshops.service import workshops_of

    state = _state(job)
    with Session(state.db.reader, expire_on_commit=False) as session:
        user = session.get(User, job.user_id)
        if job.whole_chain:
            chain = session.get(ValueChain, job.subject_id)
            workshops = sorted(workshops_of(session, chain), key=lambda w: (w.date, w.id))
        else:
            workshop = session.get(Workshop, job.subject_id)
            chain, workshops = session.get(ValueChain, workshop.value_chain_id), [workshop]
        scope = Scope(chain, workshops, user, job.locale, job.whole_chain, job.made_at, job.names)
        if job.folder is None:
            return build_here(session, state, scope, job.product)
        from server.exports.jobs import Progress

        folder = Path(job.folder)
        return build_here(session, state, scope, job.product, folder=folder, progress=Progress(folder))
