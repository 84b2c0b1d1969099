"""The roadmap activity's part of the live view (``view.panel``) and its pieces: one item
(``Piece("item:<id>")``, its card on phones), one field of an item (``Piece("field:<id>:
<field>")``, an edit of that field alone), an item's lists (``Piece("rows:<id>")``: a row,
commitment, comment or +1), who is editing an item's fields
(``Piece("focus:...")``, on phones and the console). The message formats: docs/roadmap.md."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.activities.roadmap import live
from server.activities.roadmap.fields import (
    CURRENCIES,
    FIELD_LABELS,
    HORIZON_LABELS,
    ITEM_FIELDS,
    ROLE_LABELS,
    ROLES,
    STATUS_LABELS,
    STATUSES,
)
from server.activities.roadmap.reading import ItemView

ITEM_TEMPLATE = "activities/roadmap/_item.html"
EDITING_TEMPLATE = "activities/roadmap/_editing.html"
EDITORS_TEMPLATE = "activities/roadmap/_editors.html"
COMMON_CURRENCIES = ("PEN", "USD", "EUR")


@dataclass
class RoadmapPanel:
    items: list[ItemView] = field(default_factory=list)
    phases: list[tuple[str, str, str]] = field(default_factory=list)
    funding: list[tuple[str, str]] = field(default_factory=list)
    suggestions: dict = field(default_factory=dict)  # item -> [SuggestionView]
    editing: dict = field(default_factory=dict)  # item -> field -> [Editing]
    edits: int = 0
    conflicts: int = 0
    locked: bool = False
    suggest: bool = False
    horizons: dict = field(default_factory=lambda: HORIZON_LABELS)
    statuses: tuple = STATUSES
    status_labels: dict = field(default_factory=lambda: STATUS_LABELS)
    roles: tuple = ROLES
    role_labels: dict = field(default_factory=lambda: ROLE_LABELS)
    field_labels: dict = field(default_factory=lambda: FIELD_LABELS)
    currencies: tuple = COMMON_CURRENCIES
    all_currencies: frozenset = CURRENCIES

    def item(self, item_id: int) -> ItemView | None:
        return next((it for it in self.items if it.id == item_id), None)

    def phase_names(self, locale: str) -> dict[str, str]:
        return {key: (en if locale == "en" else es) for key, es, en in self.phases}


def build_panel(view, tally: live.RoadmapTally, presence: live.Presence) -> RoadmapPanel:
    settings = view.activity.settings or {}
    with tally.lock:
        views = [tally.views[i] for i in tally.item_ids if i in tally.views]
        suggestions = {k: list(v) for k, v in tally.suggestions.items()}
    return RoadmapPanel(
        items=views,
        phases=list(tally.phases),
        funding=list(tally.funding),
        suggestions=suggestions,
        editing=presence.editing(view.workshop.id),
        edits=tally.edits,
        conflicts=tally.conflicts,
        locked=bool(settings.get("locked")),
        suggest=settings.get("edit_mode") == "suggest",
    )


def _focus(key: str):
    """``focus:<activity>:<item>:<field>:<participant>:<name>`` read, or None."""
    parts = key.split(":", 5)
    if len(parts) != 6 or not (parts[1].isdigit() and parts[2].isdigit() and parts[4].isdigit()):
        return None
    return int(parts[1]), int(parts[2]), parts[3], int(parts[4]), parts[5]


def pieces(view, keys: list[str], presence: live.Presence) -> dict:
    panel = view.panel
    if not isinstance(panel, RoadmapPanel) or view.activity is None:
        return {}
    known = {it.id for it in panel.items}
    changed, editing, fields, rows = set(), set(), set(), set()
    for key in keys:
        if key.startswith("item:") and key[5:].isdigit():
            changed.add(int(key[5:]))
        elif key.startswith("rows:") and key[5:].isdigit():
            rows.add(int(key[5:]))
        elif key.startswith("field:"):
            item, _, field_name = key[6:].partition(":")
            if item.isdigit() and field_name in ITEM_FIELDS:
                fields.add((int(item), field_name))
        elif key.startswith("focus:"):
            found = _focus(key)
            if found and found[0] == view.activity.id and found[1] in known:
                _a, item, field_name, participant, name = found
                editing |= presence.note(view.workshop.id, item, field_name, participant, name)
    if editing:
        panel.editing = presence.editing(view.workshop.id)
    phones: dict = {}
    for item_id in sorted(changed & known):
        # The patch: what a phone's script merges (a tenth of the card), to every phone at
        # every change; a phone draws the whole card from the stage.
        phones[f"piece:item:{item_id}"] = (
            f"rm-item-{item_id}",
            ITEM_TEMPLATE,
            {"it": panel.item(item_id), "patch": True},
        )
    for item_id in sorted((rows & known) - changed):  # the summary and the lists, no field
        phones[f"piece:rows:{item_id}"] = (
            f"rm-item-{item_id}",
            ITEM_TEMPLATE,
            {"it": panel.item(item_id), "patch": True, "lists_only": True},
        )
    for item_id, field_name in sorted(fields):
        if item_id in known and item_id not in changed:  # the whole item, if it goes, has it
            # The summary and that one field (value, version, suggestions): a sixth of the
            # item's patch. One topic per field, so that a phone's waiting text of one field
            # is never replaced by another field's.
            phones[f"piece:field:{item_id}:{field_name}"] = (
                f"rm-item-{item_id}",
                ITEM_TEMPLATE,
                {"it": panel.item(item_id), "patch": True, "only": field_name},
            )
    for item_id in sorted(editing & known):
        phones[f"piece:ed:{item_id}"] = (
            f"rm-ed-{item_id}",
            EDITING_TEMPLATE,
            {"it": panel.item(item_id), "who": panel.editing.get(item_id, {})},
        )
    out = {"participants": phones}
    if editing:
        out["console"] = {"piece:editors": ("rm-editors", EDITORS_TEMPLATE, {})}
    return out
