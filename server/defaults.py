"""The method's facts (``server/data/method.json``) and the default reference lists.

``method.json`` holds, in Spanish and English, what the cluster / smart-specialization
method names: stakeholder groups of the quadruple helix, work areas, gaps, action lines,
value chains with their segments. A fresh installation gets the stakeholder groups and
work areas, the roadmap's phases and funding sources from it; the demo and the method
templates draw on the rest.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel, select

from server.models import FundingSource, RoadmapPhase, StakeholderGroup, WorkArea

METHOD_FILE = Path(__file__).parent / "data" / "method.json"


@cache
def method() -> dict[str, Any]:
    """The method's facts, read once. Treat the result as read-only."""
    return json.loads(METHOD_FILE.read_text(encoding="utf-8"))


REFERENCE_LISTS: tuple[tuple[str, type[SQLModel]], ...] = (
    ("stakeholder_groups", StakeholderGroup),
    ("work_areas", WorkArea),
    ("roadmap.phases", RoadmapPhase),
    ("roadmap.funding_sources", FundingSource),
)


def _entries(name: str) -> list[dict]:
    """A list of method.json by its dotted name ("roadmap.phases")."""
    found: Any = method()
    for part in name.split("."):
        found = found[part]
    return found


def ensure_reference_lists(session: Session, *, fill_missing: bool = False) -> Counter[str]:
    """Create the method's stakeholder groups, work areas, roadmap phases and funding
    sources; returns what was created.

    By default a list is filled only when its table is empty, so that entries an admin
    deleted do not come back at the next start. With ``fill_missing`` (the demo), any
    entry whose key is missing is added. Flushes; the caller commits.
    """
    created: Counter[str] = Counter()
    for name, model in REFERENCE_LISTS:
        rows = list(session.exec(select(model)))
        if rows and not fill_missing:
            continue
        keys = {row.key for row in rows}
        position = max((row.position for row in rows), default=-1) + 1
        for entry in _entries(name):
            if entry["key"] in keys:
                continue
            session.add(model(key=entry["key"], name_es=entry["es"], name_en=entry["en"], position=position))
            position += 1
            created[name] += 1
    session.flush()
    return created
