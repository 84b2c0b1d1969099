"""The merge rules of the co-edited roadmap. Pure: no I/O, no framework, no database.

An item is a set of **slots**, each a value with its version: one slot per scalar field
(``"title"``, ``"budget"``, ...) and one per list row (``"milestone:12"``: the kind of row
and its id). A row that does not exist (not yet added, or removed) has the value ``None``.

* An **edit** names a slot, the version its editor started from (``base``) and the new
  value. It applies exactly when the slot's version is still ``base``; it then makes a
  **revision** (old value, new value, the slot's next version). Otherwise it is a
  **conflict**, which carries the current value, its version and who made it, and the
  editor's own value, so that nothing the editor wrote is lost: they keep theirs
  (``Conflict.keep_mine``: the same value from the current version), take the current
  one, or edit from it.
* An edit that leaves the value as it is applies without a revision (nothing changed;
  the version does not move, so it makes no one else's edit a conflict).
* Edits to different slots never touch each other: they commute.
* Adding a row is an edit of a slot no one has seen (version 0); two rows added at once
  are two slots. Removing a row sets its value to ``None`` (the row is kept, so a restore
  can bring it back).
* **Restoring** a revision is a new revision that sets its slot to the value that
  revision made (from the slot's current version): history is only ever appended to.
* ``replay`` rebuilds an item from its revisions; ``check_history`` says whether a list of
  revisions is one unbroken chain per slot (each one's old value is the previous one's
  new value, versions counting up by one).

The database enforces the same rule with one conditional UPDATE per edit
(``service.py``); this module is the rule itself, and what the property tests check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

ROW_KINDS = ("partner", "milestone", "indicator")

# What a change of a slot is called in the revisions.
CREATE, EDIT, ADD, REMOVE, RESTORE = "create", "edit", "add", "remove", "restore"


@dataclass(frozen=True)
class Slot:
    """A slot's value, its version, and who made that version (an opaque label)."""

    value: Any = None
    version: int = 0
    by: Any = None


ABSENT = Slot()

Item = Mapping[str, Slot]


def row_slot(kind: str, row_id: int) -> str:
    return f"{kind}:{row_id}"


def parse_slot(slot: str) -> tuple[str, int | None]:
    """``"milestone:12"`` -> ``("milestone", 12)``; ``"title"`` -> ``("title", None)``."""
    name, _, row = slot.partition(":")
    return name, (int(row) if row else None)


def is_row(slot: str) -> bool:
    return parse_slot(slot)[1] is not None


@dataclass(frozen=True)
class Edit:
    slot: str
    base: int  # the version the editor saw (0: a row not yet added)
    value: Any  # JSON; None removes a row
    by: Any = None
    restores: int | None = None  # the revision this edit restores


@dataclass(frozen=True)
class Revision:
    slot: str
    old: Any
    new: Any
    version: int  # the slot's version after this change
    change: str
    by: Any = None
    restored_from: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class Applied:
    edit: Edit
    revision: Revision | None  # None: the value was already that (nothing changed)

    @property
    def changed(self) -> bool:
        return self.revision is not None


@dataclass(frozen=True)
class Conflict:
    """The slot moved since the editor saw it: nothing was written."""

    slot: str
    yours: Any  # what the editor wrote, kept for them
    current: Any  # the value now
    version: int  # the version now
    by: Any = None  # who made the current version

    def keep_mine(self, by: Any = None) -> Edit:
        """The editor keeps their value, now knowing the current one."""
        return Edit(self.slot, self.version, self.yours, by)

    def edit_from_current(self, value: Any, by: Any = None) -> Edit:
        return Edit(self.slot, self.version, value, by)


def kind_of_change(slot: str, old: Any, new: Any, restores: int | None = None) -> str:
    if restores is not None:
        return RESTORE
    if is_row(slot):
        if old is None:
            return ADD
        if new is None:
            return REMOVE
    return EDIT


def decide(item: Item, edit: Edit) -> Applied | Conflict:
    """Whether ``edit`` applies to ``item`` as it is (and the revision it makes)."""
    current = item.get(edit.slot, ABSENT)
    if current.version != edit.base:
        return Conflict(edit.slot, edit.value, current.value, current.version, current.by)
    if current.value == edit.value:
        return Applied(edit, None)
    revision = Revision(
        slot=edit.slot,
        old=current.value,
        new=edit.value,
        version=current.version + 1,
        change=kind_of_change(edit.slot, current.value, edit.value, edit.restores),
        by=edit.by,
        restored_from=edit.restores,
    )
    return Applied(edit, revision)


def apply_revision(item: Item, revision: Revision) -> dict[str, Slot]:
    """The item with ``revision`` applied (replaying history: no version check)."""
    out = dict(item)
    out[revision.slot] = Slot(revision.new, revision.version, revision.by)
    return out


def apply(item: Item, edit: Edit) -> tuple[dict[str, Slot], Applied | Conflict]:
    """The item after ``edit`` (unchanged for a conflict or a no-op), and the outcome."""
    outcome = decide(item, edit)
    if isinstance(outcome, Applied) and outcome.revision is not None:
        return apply_revision(item, outcome.revision), outcome
    return dict(item), outcome


def apply_all(item: Item, edits: Iterable[Edit]) -> tuple[dict[str, Slot], list[Applied | Conflict]]:
    outcomes = []
    state = dict(item)
    for edit in edits:
        state, outcome = apply(state, edit)
        outcomes.append(outcome)
    return state, outcomes


def restore(item: Item, revision: Revision, by: Any = None) -> Edit:
    """The edit that restores ``revision``: its slot set back to the value it made, from
    the slot's current version (a new revision; nothing is rewritten)."""
    current = item.get(revision.slot, ABSENT)
    return Edit(revision.slot, current.version, revision.new, by, restores=revision.id)


def replay(revisions: Iterable[Revision], initial: Item | None = None) -> dict[str, Slot]:
    """The item its revisions make, in order, from ``initial`` (nothing by default)."""
    state = dict(initial or {})
    for revision in revisions:
        state = apply_revision(state, revision)
    return state


def values(item: Item) -> dict[str, Any]:
    """The item's values alone (versions left out), without removed rows."""
    return {slot: s.value for slot, s in item.items() if not (s.value is None and is_row(slot))}


def check_history(revisions: Iterable[Revision], initial: Item | None = None) -> list[str]:
    """What breaks the chain of each slot's revisions (empty when none): every revision's
    old value is the value before it, and its version is one more."""
    state = dict(initial or {})
    problems = []
    for n, revision in enumerate(revisions):
        before = state.get(revision.slot, ABSENT)
        if revision.old != before.value:
            problems.append(f"revision {n} of {revision.slot}: old value is not the value before it")
        if revision.version != before.version + 1:
            problems.append(f"revision {n} of {revision.slot}: version {revision.version} after {before.version}")
        state = apply_revision(state, revision)
    return problems


def numbered(revisions: Iterable[Revision], start: int = 1) -> list[Revision]:
    """The revisions with ids ``start``, ``start + 1``, ... (as the database would give)."""
    return [replace(r, id=start + n) for n, r in enumerate(revisions)]
