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


def writer_for(product: str) -> Callable:
    """The function that writes ``product``: ``write(session, state, scope, path, tmp)``."""
    from server.exports import pdf, portable
    from server.exports.csvzip import write_csv_zip
    from server.exports.opendata import write_open_data
    from server.exports.xlsx import write_xlsx

    def tabular(write):
        def run(session, state, scope, path, tmp):
            write(gather(session, state, scope), path, tmp)

        return run

    return {
        "xlsx": tabular(lambda export, path, tmp: write_xlsx(export, path, tmpdir=tmp)),
        "csv": tabular(lambda export, path, tmp: write_csv_zip(export, path)),
        "opendata": tabular(
            lambda export, path, tmp: write_open_data(export, path, Translator(export.scope.locale).gettext)
        ),
        "json": lambda session, state, scope, path, tmp: portable.write_json(session, state, scope, path),
        "pdf": pdf.write_pdf,
    }[product]


def build(session: Session, state, scope: Scope, product_key: str) -> Built:
    """The export written to a temporary file by the export worker process (``worker.py``;
    the caller streams it, then
    ``discard``s it."""
    from server.exports import pdf, worker

    if product_key == "pdf" and not pdf.available():
        raise pdf.PdfUnavailable()
    job = worker.Job(
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
    )
    return worker.submit(job)


def build_here(session: Session, state, scope: Scope, product_key: str) -> Built:
    """The export written to a temporary file, in this process."""
    product = PRODUCTS[product_key]
    folder = Path(tempfile.mkdtemp(prefix="minka-export-"))
    try:
        path = folder / ("export" + product.suffix)
        writer_for(product_key)(session, state, scope, path, folder)
        return Built(folder, path, file_name(scope, product), product.media_type, _sha256(path))
    except BaseException:
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
