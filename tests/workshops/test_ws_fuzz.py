"""Whatever a participant sends (issue 8, "Must show"): arbitrary JSON of any type, depth and
size up to the limit, binary frames and raw text at the participant websocket, arbitrary
form fields at the participant routes. The server never answers 500, never drops the
sender nor a well-behaved phone connected meanwhile (whose votes are still acknowledged),
and stores nothing invalid."""

from __future__ import annotations

import itertools
import json
from contextlib import contextmanager

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from server.activities.gaps.service import RANGES
from server.models import (
    DotVote,
    GapAnswer,
    PairwiseAnswer,
    Participant,
    RankingBallot,
    Receipt,
    RoadmapComment,
    RoadmapCommitment,
    RoadmapReceipt,
    RoadmapRevision,
    RoadmapSupport,
)
from server.workshops import ws as ws_module
from server.workshops.messages import MAX_MESSAGE
from tests.live_helpers import csrf_of, join, room
from tests.workshops.test_ws import Reader, send

EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
HUGE = [2**63, 2**63 - 1, 2**70, -(2**63) - 1, 10**40]
TEXT = st.text(max_size=40)  # lone surrogates included: json.dumps escapes them
PRINTABLE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)  # what a client can send as text

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(HUGE)
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT
)
any_json = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=6) | st.dictionaries(TEXT, inner, max_size=6), max_leaves=40
)


ROADMAP_TYPES = ["rm_edit", "rm_row", "rm_commit", "rm_withdraw", "rm_comment", "rm_plus", "rm_focus"]


def message_like(r) -> st.SearchStrategy:
    """Messages shaped like a phone's, with fields good, bad, missing or extra."""
    ids = st.sampled_from([r.activity_id, *r.gap_ids, *r.segment_ids]) | st.integers(-3, 10) | any_json
    fields = {
        "t": st.sampled_from(["hello", "mine", "answer", "dots", "rank", "pair", "ack", "html", "", *ROADMAP_TYPES])
        | any_json,
        "k": st.sampled_from(["good-key-0001", "short", "x" * 65]) | st.text(min_size=8, max_size=64) | any_json,
        "a": st.just(r.activity_id) | ids,
        "g": st.sampled_from(r.gap_ids) | ids,
        "q": st.sampled_from([*RANGES, "segments", "dots"]) | TEXT,
        "v": st.integers(-1, 6) | st.lists(ids, max_size=4) | any_json,
        "s": st.integers(1, 2**53) | any_json,
        "order": st.lists(ids, max_size=5) | any_json,
        "x": ids,
        "y": ids,
        "c": st.sampled_from(["a", "b", "tie"]) | any_json,
        # The roadmap's messages (rm_*): item, field or list, version, row, organization...
        "i": ids,
        "f": st.sampled_from(["title", "budget", "progress", "horizon", "nope", ""]) | any_json,
        "b": st.integers(-1, 3) | any_json,
        "r": st.sampled_from(["partner", "milestone", "indicator", "x"]) | any_json,
        "n": ids,
        "org": TEXT | any_json,
        "role": st.sampled_from(["lead", "partner", "funder", "other", "boss"]) | any_json,
        "note": TEXT | any_json,
        "text": TEXT | any_json,
        "on": st.booleans() | any_json,
        "extra": any_json,
    }
    return st.fixed_dictionaries({"t": fields.pop("t")}, optional=fields)


def frames(r) -> st.SearchStrategy:
    nested = st.integers(1, MAX_MESSAGE // 2).map(lambda n: "[" * n + "]" * n)
    objects = st.integers(1, MAX_MESSAGE // 8).map(lambda n: '{"t":' * n + "1" + "}" * n)
    return (
        any_json.map(json.dumps)
        | message_like(r).map(json.dumps)
        | PRINTABLE
        | st.binary(max_size=200)
        | nested
        | objects
        | st.sampled_from(["NaN", "Infinity", "-Infinity", '{"t": "answer", "v": NaN}', "{}", "[]", ""])
    )


class Honest:
    """A well-behaved phone: each of its votes must still be acknowledged."""

    def __init__(self, ws, r, participant_id: int):
        self.ws, self.reader, self.r, self.count = ws, Reader(ws), r, itertools.count()
        self.id, self.voted = participant_id, {}

    def votes(self) -> None:
        n = next(self.count)
        gap, value = self.r.gap_ids[n % len(self.r.gap_ids)], 1 + n % 5
        send(self.ws, t="answer", k=f"honest-{n:06d}", a=self.r.activity_id, g=gap, q="seriousness", v=value, s=n + 1)
        ack = self.reader.until(
            lambda m: m["t"] in ("ack", "closed") and m.get("k", f"honest-{n:06d}") == f"honest-{n:06d}"
        )
        assert ack["t"] == "ack" and ack["ok"] is True, ack
        self.voted[gap] = value


def still_connected(ws, reader: Reader, activity_id: int) -> None:
    send(ws, t="mine", a=activity_id)
    assert reader.until(lambda m: m["t"] in ("mine", "closed"))["t"] == "mine"


@contextmanager
def attacker_and_phone(app, db, users, monkeypatch):
    """A room, a participant's client to attack with, and an honest phone on its websocket."""
    monkeypatch.setattr(ws_module, "MESSAGES_PER_SECOND", 10**6)  # both send faster than a phone may
    r = room(app, db, users.a)
    with TestClient(app) as attacker, TestClient(app) as phone:
        join(attacker, r, name="Eve")
        join(phone, r, group="private", name="Ana")
        honest_id = db.exec(select(Participant.id).where(Participant.name == "Ana")).one()
        with phone.websocket_connect(f"/ws/p/{r.workshop_id}") as good:
            yield r, attacker, Honest(good, r, honest_id)


def _a_closed_test_loop(rec) -> bool:
    """asyncio's note, when the garbage collector meets it, that a connection's sender was
    still waiting as an earlier test's client closed its event loop: a test client's loop
    ends, a server's does not; it says nothing of the requests under test."""
    return rec.name == "asyncio" and rec.getMessage().startswith("Task was destroyed but it is pending")


def assert_nothing_logged(caplog) -> None:
    errors = [rec for rec in caplog.records if rec.levelname in ("ERROR", "CRITICAL") and not _a_closed_test_loop(rec)]
    assert not errors, caplog.text[-2000:]


def assert_nothing_invalid_stored(db, r, honest: Honest) -> None:
    db.expunge_all()
    participants = {p.id for p in db.exec(select(Participant).where(Participant.workshop_id == r.workshop_id))}
    for a in db.exec(select(GapAnswer)):
        assert a.participant_id in participants and a.activity_id == r.activity_id and a.gap_id in r.gap_ids, a
        if a.question == "segments":
            assert a.value is None and set(a.segments) <= set(r.segment_ids) and len(set(a.segments)) == len(a.segments)
        else:
            low, high = RANGES[a.question]
            assert type(a.value) is int and low <= a.value <= high and a.segments == [], a
        assert a.seq is None or 1 <= a.seq < 2**63
    # The room runs a rating activity: no dots, ballots or pairs can be stored.
    assert db.exec(select(DotVote)).all() == []
    assert db.exec(select(RankingBallot)).all() == []
    assert db.exec(select(PairwiseAnswer)).all() == []
    # Nor anything of a roadmap (its messages and forms name an activity of another kind).
    for model in (RoadmapRevision, RoadmapCommitment, RoadmapComment, RoadmapSupport, RoadmapReceipt):
        assert db.exec(select(model)).all() == [], model
    for receipt in db.exec(select(Receipt)):
        assert 8 <= len(receipt.key) <= 64 and receipt.key.isascii() and receipt.key.isprintable()
    mine = {
        a.gap_id: a.value
        for a in db.exec(
            select(GapAnswer).where(GapAnswer.participant_id == honest.id, GapAnswer.question == "seriousness")
        )
    }
    assert mine == honest.voted  # every acknowledged vote of the honest phone is stored


def test_arbitrary_frames_at_the_participant_websocket(app, db, users, monkeypatch, caplog):
    with attacker_and_phone(app, db, users, monkeypatch) as (r, attacker, honest):
        with attacker.websocket_connect(f"/ws/p/{r.workshop_id}") as bad:
            bad_reader = Reader(bad)

            @EXAMPLES
            @given(frame=frames(r))
            def throw(frame):
                if isinstance(frame, bytes):
                    bad.send_bytes(frame)
                else:
                    bad.send_text(frame)
                still_connected(bad, bad_reader, r.activity_id)
                honest.votes()

            throw()
            still_connected(bad, bad_reader, r.activity_id)
    assert_nothing_invalid_stored(db, r, honest)
    assert_nothing_logged(caplog)


FORM_FIELDS = [
    "activity",
    "gap",
    "key",
    *RANGES,
    "segments_asked",
    "dots",
    "order",
    "op",
    "a",
    "b",
    "choice",
    "seq",
    # The roadmap's forms
    "item",
    "field",
    "value",
    "base",
    "kind",
    "row",
    "amount",
    "currency",
    "organization",
    "role",
    "note",
    "text",
    "on",
    "commitment",
]


FORM_ROUTES = ["rm_edit", "rm_row", "rm_commit", "rm_withdraw", "rm_comment", "rm_plus"]


def form_value(r) -> st.SearchStrategy:
    ids = [r.activity_id, *r.gap_ids, *r.segment_ids]
    return (
        PRINTABLE
        | st.integers().map(str)
        | st.sampled_from([*map(str, HUGE), "3.5", "2.9", "true", "", " 3 ", "٣", "1e3", "-1", "0", "NaN"])
        | st.sampled_from(ids).map(str)
        | st.lists(st.sampled_from(ids).map(str) | PRINTABLE, max_size=4).map(",".join)
        | st.sampled_from(["up:", "down:", "in:", "out:", "save"]).flatmap(lambda op: PRINTABLE.map(op.__add__))
    )


def test_arbitrary_form_fields_at_the_participant_routes(app, db, users, monkeypatch, caplog):
    with attacker_and_phone(app, db, users, monkeypatch) as (r, attacker, honest):
        token = csrf_of(attacker.get(f"/p/{r.workshop_id}").text)

        @EXAMPLES
        @given(
            route=st.sampled_from(["answer", "dots", "rank", "pair", *FORM_ROUTES]),
            fields=st.dictionaries(st.sampled_from(FORM_FIELDS), form_value(r), max_size=8),
            segments=st.lists(form_value(r), max_size=3),
            activity=st.just(str(r.activity_id)) | form_value(r),
            as_json=st.booleans(),
        )
        def post(route, fields, segments, activity, as_json):
            data = {"activity": activity, **fields, "segments": segments, "csrf_token": token}
            headers = {"Accept": "application/json"} if as_json else {}
            response = attacker.post(f"/p/{r.workshop_id}/{route}", data=data, headers=headers, follow_redirects=False)
            assert response.status_code in (200, 303, 403, 404, 422, 429), (response.status_code, data)
            if response.headers.get("content-type", "").startswith("application/json"):
                assert isinstance(response.json()["ok"], bool)
            honest.votes()

        post()
    assert_nothing_invalid_stored(db, r, honest)
    assert_nothing_logged(caplog)
