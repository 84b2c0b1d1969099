"""Import of a full-data JSON export from the administration pages: the uploaded file is
read and checked (size, JSON, format and version, nesting, every reference: a trial
import rolled back), summed up for the admin, and kept in a staging folder under a random
token until the admin confirms; the confirmation imports it (``importer.do_import``) as a
new chain owned by the account the admin chose, and logs it. A bad file writes nothing.

Admins only: an import makes a chain for any account and may add stakeholder groups and
work areas, which are the whole installation's.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from server.errors import Invalid
from server.exports import importer
from server.exports.service import log_entry
from server.i18n import N_, Message
from server.models import User, ValueChain

MAX_BYTES = 50 * 1024 * 1024  # an upload through the browser; `minka import` takes more
MAX_DEPTH = 32  # the format nests 8 deep; settings and values add a little
KEEP_SECONDS = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def _refuse(message: str, **params) -> Invalid:
    return Invalid({"file": Message(message, **params)})


def _depth(doc) -> int:
    """How deep ``doc`` nests (lists and objects), without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def read_document(content: bytes) -> dict:
    """The uploaded bytes as an export document, or ``Invalid`` saying what is wrong."""
    if len(content) > MAX_BYTES:
        raise _refuse(N_("The file is larger than %(mb)s MB."), mb=MAX_BYTES // 2**20)
    if not content.strip():
        raise _refuse(N_("Choose a full-data JSON file exported from Minka."))
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _refuse(N_("This file is not JSON.")) from None
    except RecursionError:
        raise _refuse(N_("This file nests deeper than a Minka export does.")) from None
    if _depth(doc) > MAX_DEPTH:
        raise _refuse(N_("This file nests deeper than a Minka export does."))
    if not isinstance(doc, dict) or doc.get("format") != importer.FORMAT:
        raise _refuse(N_("This is not a Minka full-data export (JSON)."))
    if doc.get("version") not in importer.READABLE:
        raise _refuse(
            N_("This export has format version %(version)s; this installation reads versions %(readable)s."),
            version=str(doc.get("version"))[:20],
            readable=", ".join(str(v) for v in importer.READABLE),
        )
    importer.check_document(doc)
    return doc


@dataclass
class Summary:
    chain: str
    scope: str
    exported_at: str
    exported_by: str
    workshops: list[dict]  # title, date, participants, activities, answers
    library: int  # gaps and action lines
    roadmap_items: int


def summary(doc: dict) -> Summary:
    workshops = [
        {
            "title": w["title"],
            "date": w["date"],
            "participants": len(w["participants"]),
            "activities": len(w["activities"]),
            "answers": sum(len(a["answers"]) for a in w["activities"]),
        }
        for w in doc["workshops"]
    ]
    return Summary(
        chain=doc["chain"]["name"],
        scope=str(doc.get("scope", "")),
        exported_at=str(doc.get("exported_at", ""))[:25],
        exported_by=str(doc.get("exported_by", ""))[:200],
        workshops=workshops,
        library=len(doc["chain"]["gaps"]) + len(doc["chain"]["action_lines"]),
        roadmap_items=len(doc.get("kinds", {}).get("roadmap", {}).get("items", [])),
    )


def trial(session: Session, owner: User, doc: dict, registry) -> None:
    """The whole import tried in ``session``, which the caller rolls back: a reference the
    document does not hold is found now, not after the admin confirmed."""
    importer.do_import(session, owner, doc, registry)


def owners(session: Session) -> list[User]:
    return list(session.exec(select(User).where(col(User.is_active)).order_by(User.name, User.id)))


def owner_of(session: Session, raw) -> User:
    try:
        found = session.get(User, int(raw))
    except (TypeError, ValueError):
        found = None
    if found is None or not found.is_active:
        raise Invalid({"owner": Message(N_("Choose the account that will own the chain."))})
    return found


# Staging: the checked file, kept until confirmed ------------------------------------


def _staging(settings) -> Path:
    return Path(settings.data_dir) / "import-staging"


def stage(settings, admin: User, owner: User, content: bytes) -> str:
    base = _staging(settings)
    base.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in base.iterdir():
        if old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    token = secrets.token_urlsafe(16)
    folder = base / token
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps({"admin": admin.id, "owner": owner.id}))
    (folder / "export.json").write_bytes(content)
    return token


def staged(settings, admin: User, token: str) -> tuple[int, bytes] | None:
    """The owner's id and the file staged by this admin under ``token`` (else None)."""
    if not _TOKEN.match(token or ""):
        return None
    folder = _staging(settings) / token
    try:
        meta = json.loads((folder / "meta.json").read_text())
        content = (folder / "export.json").read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("admin") != admin.id:
        return None
    return meta["owner"], content


def unstage(settings, token: str) -> None:
    if _TOKEN.match(token or ""):
        shutil.rmtree(_staging(settings) / token, ignore_errors=True)


def do_import(session: Session, admin: User, owner: User, doc: dict, registry) -> ValueChain:
    """The import in the caller's transaction (all or nothing), logged (who, which chain)."""
    chain = importer.do_import(session, owner, doc, registry)
    session.add(log_entry(admin, "chain", chain.id, chain.name, "import-json"))
    return chain
