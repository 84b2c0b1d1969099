"""The messages a phone sends on its websocket, read strictly before anything acts on them.

Every text frame is read by ``parse``: at most ``MAX_MESSAGE`` characters, JSON with at
most ``MAX_BRACKETS`` opening brackets (so no deep nesting reaches the JSON parser), no
``NaN`` or ``Infinity``, and then one of the models below, chosen by its ``"t"``, with
strict types (an integer is a JSON integer: not ``3.5``, not ``true``, not ``"3"``), ids
within the database's integers, and no field the model does not name. Anything else is
``Unreadable`` (with the idempotency key when one can be read, so the phone can be told
which of its answers was refused). The shapes are listed in docs/architecture.md.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from server.activities.values import MAX_BIGINT, MAX_ID
from server.realtime.topics import Sent

MAX_MESSAGE = 4096
# A phone's message opens two brackets at most ({ and one list): a message with more is
# refused before it is parsed, whatever its nesting.
MAX_BRACKETS = 16
MAX_LIST = 200  # lines in a ranking, segments of a chain

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Seq = Annotated[int, Field(ge=1, le=MAX_BIGINT)]  # the phone's own order of its answers
Key = Annotated[str, Field(pattern=r"^[!-~]{8,64}$")]  # printable ASCII, as the phone makes them
Question = Annotated[str, Field(pattern=r"^[a-z_]{1,20}$")]


class _Message(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Hello(_Message):
    """A phone (re)connected: it gets the current texts and its own answers in ``a``; not
    the stage if ``v`` is the version it already shows (``topics.version_of``)."""

    t: Literal["hello"]
    a: Id | None = None
    v: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")] | None = None


class Mine(_Message):
    """The phone's own answers in activity ``a``."""

    t: Literal["mine"]
    a: Id


class Answer(_Message):
    """An answer to question ``q`` about gap ``g``: a level, or a list of segment ids."""

    t: Literal["answer"]
    k: Key
    a: Id
    g: Id
    q: Question
    v: Annotated[int, Field(ge=0, le=100)] | Annotated[list[Id], Field(max_length=MAX_LIST)]
    s: Seq | None = None


class Dots(_Message):
    """``v`` dots on gap ``g``."""

    t: Literal["dots"]
    k: Key
    a: Id
    g: Id
    v: Annotated[int, Field(ge=0, le=1000)]
    s: Seq | None = None


class Rank(_Message):
    """A ballot: action-line ids, most important first."""

    t: Literal["rank"]
    k: Key
    a: Id
    order: Annotated[list[Id], Field(max_length=MAX_LIST)]
    s: Seq | None = None


class Pair(_Message):
    """Which of lines ``x`` and ``y`` comes first (``c``: "a", "b" or "tie")."""

    t: Literal["pair"]
    k: Key
    a: Id
    x: Id
    y: Id
    c: Literal["a", "b", "tie"]
    s: Seq | None = None


# The roadmap (activities/roadmap): field names, row kinds and roles are checked by the
# service (a translated message); here only their shape. Texts are bounded by the frame.
Name = Annotated[str, Field(pattern=r"^[a-z_]{1,20}$")]
Version = Annotated[int, Field(ge=0, le=2**31 - 1)]
Text = Annotated[str, Field(max_length=MAX_MESSAGE)]


class Budget(_Message):
    amount: Text | Annotated[int, Field(ge=-(2**53), le=2**53)] | None = None
    currency: Text | None = None


class Row(_Message):
    """A partner, milestone or indicator, as its kind has it (the others left out)."""

    organization: Text | None = None
    text: Text | None = None
    date: Text | None = None
    name: Text | None = None
    baseline: Text | None = None
    target: Text | None = None
    unit: Text | None = None


class RoadmapEdit(_Message):
    """Field ``f`` of item ``i`` set to ``v``, from the version ``b`` the editor saw."""

    t: Literal["rm_edit"]
    k: Key
    a: Id
    i: Id
    f: Name
    b: Version
    v: Text | bool | Annotated[int, Field(ge=-(2**31), le=2**31)] | Budget | None = None
    s: Seq | None = None  # the phone's order: sent by its transport, not used (edits carry versions)


class RoadmapRow(_Message):
    """A row of list ``r`` of item ``i``: added (no ``n``), changed or removed (``v`` null)
    from its version ``b``."""

    t: Literal["rm_row"]
    k: Key
    a: Id
    i: Id
    r: Name
    n: Id | None = None
    b: Version = 0
    v: Row | None = None
    s: Seq | None = None  # the phone's order: sent by its transport, not used (edits carry versions)


class RoadmapCommit(_Message):
    """An organization (empty: the participant's own) commits to item ``i`` as ``role``."""

    t: Literal["rm_commit"]
    k: Key
    a: Id
    i: Id
    org: Text = ""
    role: Name
    note: Text = ""
    s: Seq | None = None  # the phone's order: sent by its transport, not used (edits carry versions)


class RoadmapWithdraw(_Message):
    """The participant withdraws their commitment ``c``."""

    t: Literal["rm_withdraw"]
    k: Key
    a: Id
    c: Id
    note: Text = ""
    s: Seq | None = None  # the phone's order: sent by its transport, not used (edits carry versions)


class RoadmapComment(_Message):
    t: Literal["rm_comment"]
    k: Key
    a: Id
    i: Id
    text: Text
    s: Seq | None = None  # the phone's order: sent by its transport, not used (edits carry versions)


class RoadmapSupport(_Message):
    """A +1 on item ``i`` (``on``), or taking it back."""

    t: Literal["rm_plus"]
    k: Key
    a: Id
    i: Id
    on: bool
    s: Seq | None = None  # the phone's order: sent by its transport, not used (edits carry versions)


class RoadmapFocus(_Message):
    """ "I am editing field ``f`` of item ``i`` now" (``f`` empty: no longer). Written
    nowhere; shown to the room for a few seconds."""

    t: Literal["rm_focus"]
    a: Id
    i: Id
    f: Annotated[str, Field(pattern=r"^[a-z_]{0,20}$")]


ROADMAP_WRITES = (RoadmapEdit, RoadmapRow, RoadmapCommit, RoadmapWithdraw, RoadmapComment, RoadmapSupport)
Message = (
    Hello
    | Mine
    | Answer
    | Dots
    | Rank
    | Pair
    | RoadmapEdit
    | RoadmapRow
    | RoadmapCommit
    | RoadmapWithdraw
    | RoadmapComment
    | RoadmapSupport
    | RoadmapFocus
)
WRITES = (Answer, Dots, Rank, Pair, *ROADMAP_WRITES)
SIGNALS = (RoadmapFocus,)
_WRITE_TYPES = tuple(m.model_fields["t"].annotation.__args__[0] for m in WRITES)  # a tuple: "t" may be unhashable
_MESSAGE = TypeAdapter(Annotated[Message, Field(discriminator="t")])
_KEY = TypeAdapter(Key)


class Unreadable(Exception):
    """Not a message a phone sends; ``key`` is its idempotency key if it had a good one."""

    def __init__(self, key: str | None = None):
        super().__init__(key)
        self.key = key


class KeepAlive(Exception):
    """The phone's keep-alive (``{}``): nothing to do."""


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a phone sends")


def load(raw: str | bytes | None):
    """The JSON value of a text frame, or Unreadable."""
    if not isinstance(raw, str) or len(raw) > MAX_MESSAGE:
        raise Unreadable()
    if raw.count("[") + raw.count("{") > MAX_BRACKETS:
        raise Unreadable()
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise Unreadable() from None


def parse(raw: str | bytes | None) -> Message:
    """The message in a frame; KeepAlive for ``{}``; Unreadable for anything else."""
    data = load(raw)
    if data == {}:
        raise KeepAlive()
    try:
        return _MESSAGE.validate_python(data)
    except ValidationError:
        raise Unreadable(_key_of(data)) from None


def _key_of(data) -> str | None:
    """The idempotency key of a write that failed its checks, if it is a good one."""
    if not isinstance(data, dict) or data.get("t") not in _WRITE_TYPES:
        return None
    try:
        return _KEY.validate_python(data.get("k"), strict=True)
    except ValidationError:
        return None


# What the server sends a phone (besides the hub's ``html`` and ``removed``: realtime/topics.py).
_ACK, _ERROR, _MINE = Sent.ACK.value, Sent.ERROR.value, Sent.MINE.value


def acknowledged(key: str, told: dict) -> str:
    """``{"t": "ack", "k", "ok": true, ...}``: the write with key ``key`` is committed;
    ``told`` is what its kind says was stored (``ActivityType.ack_json``)."""
    return json.dumps({"t": _ACK, "k": key, "ok": True, **told})


def refused(key: str, error: str) -> str:
    """``{"t": "ack", "k", "ok": false, "error"}``: the write was not saved."""
    return json.dumps({"t": _ACK, "k": key, "ok": False, "error": error}, ensure_ascii=False)


def error(text: str) -> str:
    """``{"t": "error", "error"}``: a message that could not be read or was one too many."""
    return json.dumps({"t": _ERROR, "error": text}, ensure_ascii=False)


def mine(activity_id: int, fields: dict) -> str:
    """``{"t": "mine", "a", ...}``: the phone's own answers (``ActivityType.mine``)."""
    return json.dumps({"t": _MINE, "a": activity_id, **fields})
