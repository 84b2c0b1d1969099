"""Export jobs: a download started from a workshop's or a chain's page, built by the export
worker process (``worker.py``) while the page shows its progress, then handed out.

A job is a folder of its own under ``<data_dir>/export-jobs/<id>/`` (so every server
process of the installation sees it): ``job.json`` (whose it is: the user, the workshop
or chain, the product; written once), ``status.json`` (its state, rewritten whole, by
the worker while it writes and by the server when the worker is done), and the file.
A job id is random (128 bits) but it is no capability: the routes check the facilitator's
access to the workshop or chain *and* that the job is theirs, of that workshop or chain
(``find``). Folders older than ``KEEP`` are deleted when the next job starts (``sweep``).

States: ``queued`` (waiting for the worker: one export at a time), ``running`` (with
the table being written, its place among the tables and the rows written so far),
``done`` (the file's name and SHA-256), ``failed`` (nothing to hand out; the page says so).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

KEEP = dt.timedelta(hours=1)  # a finished job's file is kept this long (a second download)
STALE = dt.timedelta(minutes=30)  # a job not heard of for this long died with its server
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


@dataclass
class JobStatus:
    id: str
    user_id: int
    what: str  # "workshop" or "chain"
    subject_id: int
    product: str
    filename: str
    media_type: str
    created_at: str
    state: str = QUEUED
    table: str = ""  # the table being written (its title)
    table_number: int = 0
    tables: int = 0
    rows: int = 0  # rows written so far (of every table)
    sha256: str = ""

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)


FILE = "export.out"  # the file, in the job's folder


def root(settings) -> Path:
    return Path(settings.data_dir) / "export-jobs"


def folder_of(settings, job_id: str) -> Path | None:
    if not _ID.match(job_id or ""):
        return None
    return root(settings) / job_id


def _write(path: Path, data: dict) -> None:
    """Written whole and renamed into place: a reader never sees half of it."""
    tmp = path.with_suffix(f".{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def write_status(folder: Path, **status) -> None:
    try:
        _write(folder / "status.json", status)
    except FileNotFoundError:  # swept meanwhile: nobody waits for it any more
        pass


def create(settings, *, user_id: int, what: str, subject_id: int, product: str, filename: str, media_type: str):
    """A new job's folder (queued); returns its id and folder."""
    sweep(settings)
    job_id = secrets.token_urlsafe(16)
    folder = root(settings) / job_id
    folder.mkdir(parents=True)
    meta = {
        "id": job_id,
        "user_id": user_id,
        "what": what,
        "subject_id": subject_id,
        "product": product,
        "filename": filename,
        "media_type": media_type,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    _write(folder / "job.json", meta)
    write_status(folder, state=QUEUED)
    return job_id, folder


def read(settings, job_id: str) -> JobStatus | None:
    folder = folder_of(settings, job_id)
    if folder is None:
        return None
    try:
        meta = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        status_path = folder / "status.json"
        status = json.loads(status_path.read_text(encoding="utf-8"))
        heard = dt.datetime.fromtimestamp(status_path.stat().st_mtime, dt.UTC)
    except (OSError, ValueError):
        return None
    job = JobStatus(**meta)
    for key in ("state", "table", "table_number", "tables", "rows", "sha256"):
        if key in status:
            setattr(job, key, status[key])
    if not job.finished and dt.datetime.now(dt.UTC) - heard > STALE:
        job.state = FAILED
    return job


def find(settings, job_id: str, user, what: str, subject_id: int) -> JobStatus | None:
    """The job, if it is this user's and of this workshop or chain (the caller checked the
    user's access to it); else None (the route answers 404, as for no such job)."""
    job = read(settings, job_id)
    if job is None or job.user_id != user.id or job.what != what or job.subject_id != subject_id:
        return None
    return job


def file_path(settings, job: JobStatus) -> Path:
    return root(settings) / job.id / FILE


def wait(settings, job_id: str, seconds: float) -> JobStatus | None:
    """The job once finished, or as it is after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        job = read(settings, job_id)
        if job is None or job.finished or time.monotonic() >= deadline:
            return job
        time.sleep(0.05)


def sweep(settings, keep: dt.timedelta = KEEP) -> int:
    """Delete the folders of jobs older than ``keep``; returns how many."""
    base = root(settings)
    if not base.is_dir():
        return 0
    cutoff = time.time() - keep.total_seconds()
    gone = 0
    for folder in base.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                gone += 1
        except OSError:
            continue
    return gone


class Progress:
    """In the worker: how far the export is, told through ``status.json`` at most every
    half second (and at each new table)."""

    EVERY = 0.5

    def __init__(self, folder: Path):
        self.folder = folder
        self.table, self.table_number, self.tables, self.rows = "", 0, 0, 0
        self._told = 0.0

    def _tell(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._told >= self.EVERY:
            self._told = now
            write_status(
                self.folder,
                state=RUNNING,
                table=self.table,
                table_number=self.table_number,
                tables=self.tables,
                rows=self.rows,
            )

    def start(self, tables: int = 0) -> None:
        self.tables = tables
        self._tell(force=True)

    def next_table(self, title: str) -> None:
        self.table, self.table_number = title, self.table_number + 1
        self._tell(force=True)

    def counted(self, rows):
        """``rows`` (an iterable), each one counted as it is written."""
        for row in rows:
            self.rows += 1
            if not self.rows % 1000:
                self._tell()
            yield row


def wrap_tables(export, progress: Progress) -> None:
    """Every table of a gathered export counted as it is written (any tabular writer)."""
    progress.start(len(export.tables))
    for table in export.tables:

        def rows(table=table, read=table.rows):
            progress.next_table(table.title)
            return progress.counted(read())

        table.rows = rows


def finished(folder: Path, future) -> None:
    """In the server, when the worker is done with a job: its final state."""
    try:
        built = future.result()
    except BaseException:
        log.exception("export job %s failed", folder.name)
        write_status(folder, state=FAILED)
        return
    write_status(folder, state=DONE, sha256=built.sha256)
