"""How an activity kind describes itself to the agenda: which library items it draws
(gaps or action lines), its settings with their defaults, and how to validate them.
Each kind declares its own ``ActivityKind`` in its package. Pure: no I/O, no framework.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from server.i18n import N_, Message

GAPS = "gaps"
ACTION_LINES = "action-lines"


@dataclass(frozen=True)
class Choice:
    key: str
    label: str  # msgid


@dataclass(frozen=True)
class Setting:
    key: str
    label: str  # msgid
    type: str  # "bool", "int" or "choice"
    default: object
    choices: tuple[Choice, ...] = ()
    minimum: int = 0
    maximum: int = 0
    hint: str = ""
    # Settings side by side with the same ``group`` (a msgid) show under it as one legend.
    group: str = ""


@dataclass(frozen=True)
class ActivityKind:
    key: str
    label: str  # msgid
    description: str  # msgid
    library: str  # GAPS or ACTION_LINES
    settings: tuple[Setting, ...] = field(default_factory=tuple)
    # The kind's own rule across settings: check(clean, errors), run when each one is valid.
    check: Callable[[dict, dict], None] | None = None
    live: bool = False  # whether it can run live (open, close, next step) yet
    # What settings stored by an older version mean today: upgrade(stored) -> settings.
    upgrade: Callable[[dict], dict] | None = None
    # Whether the agenda may leave its library items unchosen: items_needed(clean settings,
    # the kinds already on the workshop's agenda) -> "" when none are needed, else the
    # message (a msgid) saying why some are. None: at least one item, always.
    items_needed: Callable[[dict, frozenset[str]], str] | None = None
    items_hint: str = ""  # a msgid shown under the library items on the agenda's form

    def defaults(self) -> dict:
        return {s.key: s.default for s in self.settings}

    def stored(self, settings: dict) -> dict:
        """An activity's stored settings as this kind reads them now: its defaults, then
        what was stored (upgraded when an older version stored it another way)."""
        return {**self.defaults(), **(self.upgrade(settings) if self.upgrade else settings)}

    def check_settings(self, data: dict, errors: dict) -> dict:
        """Settings from a form (missing checkboxes are False); messages go in ``errors``."""
        clean: dict = {}
        for s in self.settings:
            raw = data.get(s.key)
            if s.type == "bool":
                clean[s.key] = raw not in (None, "", "0", "false", "off")
            elif s.type == "choice":
                value = str(raw or s.default)
                if value not in {c.key for c in s.choices}:
                    errors[s.key] = Message(N_("Choose one of the options."))
                clean[s.key] = value
            else:
                try:
                    value = int(str(raw).strip()) if raw not in (None, "") else int(s.default)
                except ValueError:
                    errors[s.key] = Message(N_("Enter a whole number."))
                    continue
                if not s.minimum <= value <= s.maximum:
                    errors[s.key] = Message(N_("Enter a number from %(min)s to %(max)s."), min=s.minimum, max=s.maximum)
                clean[s.key] = value
        if self.check is not None and not errors:
            self.check(clean, errors)
        return clean
