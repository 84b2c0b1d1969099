"""What the hub carries, typed: the audiences of a workshop, the topics a write marks
dirty, and the few messages the hub writes itself. Their text forms (in Redis, in the
phones' JSON) are made and read here only. Imports nothing else of ``server``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class Audience(StrEnum):
    """Who a connection is: every phone of a workshop, the projector, the console."""

    PARTICIPANTS = "participants"
    PROJECTOR = "projector"
    CONSOLE = "console"


class AudienceKey(NamedTuple):
    """Whom one rendering serves: a role in one language. Every connection of a workshop
    with the same key gets the same bytes; a workshop is rendered once per key in use."""

    role: str  # an Audience
    language: str  # a locale code ("es", "en")


class Topic(StrEnum):
    """A part of a workshop's live screens that a change makes stale."""

    STAGE = "stage"  # which activity is open and its cards (and the agenda)
    RESULTS = "results"  # the figures
    # The results were shown or hidden on phones: rendered as RESULTS (the stage does not
    # change: a reveal sends each phone its results, ~2 KB, not its ~35 KB stage again),
    # and handed to phones at once, not held back as live results are.
    REVEAL = "reveal"
    COUNTS = "counts"  # who joined, who answered
    ROSTER = "roster"  # the console's list of participants (a join, a removal)


@dataclass(frozen=True)
class Removed:
    """A participant was removed: their phones are told and closed (not a rendered topic)."""

    participant_id: int

    PREFIX = "removed:"

    def __str__(self) -> str:
        return f"{self.PREFIX}{self.participant_id}"


@dataclass(frozen=True)
class Piece:
    """A piece of the open activity that changed on its own (a roadmap item, who is editing
    a field): the kind renders it alone (``ActivityType.pieces``) instead of the whole
    stage, so a phone keeps what its person is typing. ``key`` is the kind's (no "\\n")."""

    key: str

    PREFIX = "piece:"

    def __str__(self) -> str:
        return f"{self.PREFIX}{self.key}"


Mark = Topic | Removed | Piece  # what ``Hub.mark_dirty`` takes
ALL_TOPICS = frozenset(Topic)


def mark_text(mark: Mark) -> str:
    """A dirty mark as sent to the other processes (Redis)."""
    return str(mark)


def parse_mark(text: str) -> Mark:
    """A dirty mark from another process; ValueError when it is none."""
    if text.startswith(Removed.PREFIX):
        return Removed(int(text[len(Removed.PREFIX) :]))
    if text.startswith(Piece.PREFIX):
        return Piece(text[len(Piece.PREFIX) :])
    return Topic(text)


# The messages the hub and the screens send (the phone's own messages and its
# acknowledgements: workshops/messages.py).


class Sent(StrEnum):
    """The ``t`` of a message the server sends on a websocket."""

    HTML = "html"  # {"t": "html", "id": element id, "html": fragment}: replace that element
    BATCH = "batch"  # {"t": "batch", "m": [message, ...]}: several of the above, in order
    REMOVED = "removed"  # this phone's participant was removed
    ACK = "ack"
    ERROR = "error"
    MINE = "mine"


REMOVED_MESSAGE = json.dumps({"t": Sent.REMOVED.value})


def html_message(element_id: str, html: str, *, versioned: bool = False) -> str:
    """Replace that element with ``html``. ``versioned``: the message ends with ``"v"``, a
    digest of ``html``, which a phone names in its next hello (``version_of``)."""
    message = {"t": Sent.HTML.value, "id": element_id, "html": html}
    if versioned:
        message["v"] = hashlib.blake2b(html.encode(), digest_size=8).hexdigest()
    return json.dumps(message, ensure_ascii=False)


_VERSION = re.compile(r'"v": "([0-9a-f]{16})"}$')


def version_of(text: str) -> str | None:
    """The ``"v"`` of a versioned html message's text (read from its end), else None."""
    found = _VERSION.search(text, max(0, len(text) - 30))
    return found.group(1) if found else None


def batch_message(texts: list[str]) -> str:
    """Several messages (each a JSON object's text) as one, to be handled in order: one
    send instead of many. Joined, not parsed again."""
    return '{"t": "batch", "m": [' + ", ".join(texts) + "]}"


def unbatch(text: str) -> list[str]:
    """The messages a sent text carries (itself, or each of a batch's), as texts."""
    if not text.startswith('{"t": "batch"'):
        return [text]
    return [json.dumps(m, ensure_ascii=False) for m in json.loads(text)["m"]]
