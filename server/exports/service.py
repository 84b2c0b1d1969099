"""Exports as use cases: who may export what (``access_*``), building the file in a
temporary folder (``build``), and the log of every export (``do_log``).

An export is built in the request's worker thread (facilitator routes are synchronous:
FastAPI runs them off the event loop) on the request's read session, written to a
temporary file and streamed from there; the single writer and the live tallies are never
waited for, so votes keep being acknowledged meanwhile.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from server.db import transaction
from server.exports.gather import Scope, gather, scope_of_chain, scope_of_workshop
from server.i18n import Translator
from server.models import ExportLog, User
from server.valuechains.service import access_chain
from server.workshops.service import access_workshop

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Product:
    key: str
    suffix: str  # of the file name
    media_type: str


PRODUCTS: dict[str, Product] = {
    p.key: p
    for p in (
        Product("xlsx", ".xlsx", XLSX),
        Product("csv", "-csv.zip", "application/zip"),
        Product("opendata", "-open-data.zip", "application/zip"),
        Product("json", ".json", "application/json"),
        Product("pdf", ".pdf", "application/pdf"),
    )
}


@dataclass
class Built:
    folder: Path
    path: Path
    filename: str
    media_type: str
    sha256: str

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def workshop_scope(session: Session, user: User, workshop_id: int) -> Scope:
    """A workshop's export, if the user may see its chain (else NotFound)."""
    workshop, chain = access_workshop(session, user, workshop_id)
    return scope_of_workshop(session, workshop, chain, user)


def chain_scope(session: Session, user: User, chain_id: int, locale: str) -> Scope:
    """A chain's export (all its workshops), if the user may see it (else NotFound)."""
    return scope_of_chain(session, access_chain(session, user, chain_id), user, locale)


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "export"


def file_name(scope: Scope, product: Product) -> str:
    if scope.whole_chain:
        base = f"minka-{slug(scope.chain.name)}"
    else:
        w = scope.workshops[0]
        base = f"minka-{slug(w.title)}-{w.date.isoformat()}"
    return base + product.suffix


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def writer_for(product: str, progress=None) -> Callable:
    """The function that writes ``product``: ``write(session, state, scope, path, tmp)``;
    ``progress`` (``jobs.Progress``) is told of each table and row written."""
    from server.exports import jobs, pdf, portable
    from server.exports.csvzip import write_csv_zip
    from server.exports.opendata import write_open_data
    from server.exports.xlsx import write_xlsx

    def tabular(write):
        def run(session, state, scope, path, tmp):
            export = gather(session, state, scope)
            if progress is not None:
                jobs.wrap_tables(export, progress)
            write(export, path, tmp)

        return run

    def whole(write):
        def run(session, state, scope, path, tmp):
            if progress is not None:
                progress.start()
            write(session, state, scope, path, tmp)

        return run

    return {
        "xlsx": tabular(lambda export, path, tmp: write_xlsx(export, path, tmpdir=tmp)),
        "csv": tabular(lambda export, path, tmp: write_csv_zip(export, path)),
        "opendata": tabular(
            lambda export, path, tmp: write_open_data(export, path, Translator(export.scope.locale).gettext)
        ),
        "json": lambda session, state, scope, path, tmp: portable.write_json(session, state, scope, path, progress),
        "pdf": whole(pdf.write_pdf),
    }[product]


def job_of(state, scope: Scope, product_key: str, folder: Path | None = None):
    """What the export worker process needs to build ``product_key`` of ``scope``."""
    from server.exports import worker

    return worker.Job(
        settings=state.settings,
        secret=state.secret,
        registry=state.registry,
        product=product_key,
        whole_chain=scope.whole_chain,
        subject_id=scope.subject_id,
        user_id=scope.user.id,
        locale=scope.locale,
        names=scope.names,
        made_at=scope.made_at,
        folder=str(folder) if folder is not None else None,
    )


def build(session: Session, state, scope: Scope, product_key: str) -> Built:
    """The export written to a temporary file by the export worker process (``worker.py``;
    the caller streams it, then ``discard``s it)."""
    from server.exports import pdf, worker

    if product_key == "pdf" and not pdf.available():
        raise pdf.PdfUnavailable()
    return worker.submit(job_of(state, scope, product_key))


def start_job(state, scope: Scope, product_key: str) -> str:
    """An export job (``jobs.py``) handed to the worker process; returns its id at once."""
    from server.exports import jobs, pdf, worker

    if product_key == "pdf" and not pdf.available():
        raise pdf.PdfUnavailable()
    product = PRODUCTS[product_key]
    job_id, folder = jobs.create(
        state.settings,
        user_id=scope.user.id,
        what=scope.what,
        subject_id=scope.subject_id,
        product=product_key,
        filename=file_name(scope, product),
        media_type=product.media_type,
    )
    future = worker.start(job_of(state, scope, product_key, folder))
    future.add_done_callback(lambda done: jobs.finished(folder, done))
    return job_id


def build_here(
    session: Session, state, scope: Scope, product_key: str, folder: Path | None = None, progress=None
) -> Built:
    """The export written to a file, in this process: in a new temporary folder, or in
    ``folder`` (an export job's, kept when it fails: the job's sweep deletes it)."""
    from server.exports.jobs import FILE

    product = PRODUCTS[product_key]
    own = folder is None
    folder = Path(tempfile.mkdtemp(prefix="minka-export-")) if own else folder
    try:
        path = folder / ("export" + product.suffix if own else FILE)
        writer_for(product_key, progress)(session, state, scope, path, folder)
        return Built(folder, path, file_name(scope, product), product.media_type, _sha256(path))
    except BaseException:
        if own:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def log_entry(user: User, scope: str, subject_id: int, subject: str, product: str, sha256: str = "") -> ExportLog:
    return ExportLog(
        user_id=user.id,
        user_name=user.name,
        user_email=user.email,
        scope=scope,
        subject_id=subject_id,
        subject=subject[:300],
        product=product,
        sha256=sha256,
    )


def do_log(engine, user: User, scope: Scope, product: str, sha256: str = "") -> None:
    """Log an export (who, what, when) in a transaction of its own, a few milliseconds
    (an export is read on a read session)."""
    subject = scope.chain.name if scope.whole_chain else scope.workshops[0].title
    with transaction(engine) as session:
        session.add(log_entry(user, scope.what, scope.subject_id, subject, product, sha256))


def export_log(session: Session, limit: int = 500) -> list[ExportLog]:
    query = select(ExportLog).order_by(col(ExportLog.created_at).desc(), col(ExportLog.id).desc()).limit(limit)
    return list(session.exec(query))
