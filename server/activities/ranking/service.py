"""Use cases of the ranking activity: a ballot per participant (full, or top k), or
"which first?" answers in the pairwise mode.

Like the gap activity, these run in the single writer's batches, carry the phone's
idempotency key, and move the live tally after commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from server.activities.ranking.pairwise import next_pair
from server.activities.ranking.spec import RANKING
from server.activities.ranking.tally import RankingTally
from server.activities.receipts import check_key, check_sequence, refuse, seen, take
from server.activities.values import an_id, superseded
from server.db import after_commit
from server.i18n import N_
from server.models import (
    Activity,
    ActivityItem,
    ActivityStatus,
    PairwiseAnswer,
    Participant,
    RankingBallot,
    utcnow,
)
from server.statements import upsert

CHOICES = ("a", "b", "tie")


@dataclass
class RankAck:
    ranking: list[int]
    duplicate: bool = False
    superseded: bool = False  # a newer ballot (by the phone's sequence) is stored: ``ranking`` is that one
    seq: int | None = None

    def told(self) -> dict:
        return {"order": self.ranking}


@dataclass
class PairAck:
    pair: tuple[int, int]
    choice: str
    duplicate: bool = False
    superseded: bool = False
    seq: int | None = None

    def told(self) -> dict:
        return {"pair": list(self.pair), "choice": self.choice}


@dataclass
class RankingInfo:
    activity: Activity
    items: list[int]

    @property
    def mode(self) -> str:
        return self.activity.settings.get("mode", "full")

    @property
    def k(self) -> int:
        """The most lines a ballot may list."""
        return int(self.activity.settings.get("k", 3)) if self.mode == "top_k" else len(self.items)

    @property
    def top_k(self) -> int:
        """The k of "share in the top k" and of stability, in every mode (at most the lines)."""
        return min(int(self.activity.settings.get("k", 3)), len(self.items))


def ranking_info(session: Session, activity_id: int) -> RankingInfo:
    cache = session.info.setdefault("ranking_info", {})
    if activity_id not in cache:
        activity = session.get(Activity, activity_id) if an_id(activity_id) is not None else None
        if activity is None or activity.kind != RANKING.key:
            raise refuse(N_("This activity does not exist."))
        items = list(
            session.execute(
                select(ActivityItem.action_line_id)
                .where(ActivityItem.activity_id == activity_id)
                .order_by(ActivityItem.position)
            ).scalars()
        )
        cache[activity_id] = RankingInfo(activity, items)
    return cache[activity_id]


def check_ballot(info: RankingInfo, raw) -> tuple[int, ...]:
    """A valid ranking of the activity's lines: known lines, each once, at most k of them."""
    if info.mode == "pairwise":
        raise refuse(N_("This activity asks which of two lines comes first."))
    ballot = tuple(an_id(i) for i in raw) if isinstance(raw, list | tuple) else (None,)
    if None in ballot:
        raise refuse(N_("Rank the lines of this activity."))
    if not ballot:
        raise refuse(N_("Put at least one line in your ranking."))
    if len(set(ballot)) != len(ballot):
        raise refuse(N_("Each line can appear only once in your ranking."))
    if not set(ballot) <= set(info.items):
        raise refuse(N_("Rank the lines of this activity."))
    if len(ballot) > info.k:
        raise refuse(N_("Pick at most %(k)s lines."), k=info.k)
    return ballot


def _check(session: Session, participant_id: int, info: RankingInfo) -> Participant:
    participant = session.get(Participant, participant_id, with_for_update=True)
    if participant is None or participant.removed or participant.workshop_id != info.activity.workshop_id:
        raise refuse(N_("You are no longer part of this workshop."))
    if info.activity.status != ActivityStatus.open:
        raise refuse(N_("This activity is closed; your answer was not saved."))
    return participant


def do_rank(session: Session, tallies, participant_id: int, activity_id: int, raw, key: str, seq=None) -> RankAck:
    """Save a participant's ranking (it replaces their previous one, unless that one is
    newer by the phone's sequence)."""
    key = check_key(key)
    seq = check_sequence(seq)
    if seen(session, participant_id, key):
        return RankAck(list(raw or []), duplicate=True)
    info = ranking_info(session, activity_id)
    participant = _check(session, participant_id, info)
    ballot = check_ballot(info, raw)
    if not take(session, participant_id, key):
        return RankAck(list(ballot), duplicate=True)
    where = (RankingBallot.participant_id == participant_id, RankingBallot.activity_id == activity_id)
    stored = session.execute(select(RankingBallot.ranking, RankingBallot.seq).where(*where)).first()
    if stored is not None and superseded(stored.seq, seq):
        return RankAck(list(stored.ranking), superseded=True, seq=stored.seq)
    previous = stored.ranking if stored is not None else None
    upsert(
        session,
        RankingBallot,
        {
            "participant_id": participant_id,
            "activity_id": activity_id,
            "ranking": list(ballot),
            "seq": seq,
            "updated_at": utcnow(),
        },
        keys=["participant_id", "activity_id"],
        update=["ranking", "seq", "updated_at"],
    )
    old = tuple(previous) if previous else None
    group, workshop_id = participant.stakeholder_group_id, info.activity.workshop_id
    after_commit(
        session,
        lambda: tallies.apply(workshop_id, activity_id, lambda t: t.apply_ballot(participant_id, group, old, ballot)),
    )
    return RankAck(list(ballot))


def do_pair(
    session: Session, tallies, participant_id: int, activity_id: int, a, b, choice: str, key: str, seq=None
) -> PairAck:
    """Save one "which first?" answer of the pairwise mode."""
    key = check_key(key)
    seq = check_sequence(seq)
    if seen(session, participant_id, key):
        return PairAck((0, 0), choice, duplicate=True)
    info = ranking_info(session, activity_id)
    _check(session, participant_id, info)
    if info.mode != "pairwise":
        raise refuse(N_("This activity asks for a ranking."))
    first, second = an_id(a), an_id(b)
    if first is None or second is None:
        raise refuse(N_("Rank the lines of this activity."))
    if first == second or not {first, second} <= set(info.items) or choice not in CHOICES:
        raise refuse(N_("Rank the lines of this activity."))
    if first > second:  # stored in order; the choice follows the items
        first, second = second, first
        choice = {"a": "b", "b": "a"}.get(choice, choice)
    if not take(session, participant_id, key):
        return PairAck((first, second), choice, duplicate=True)
    where = (
        PairwiseAnswer.participant_id == participant_id,
        PairwiseAnswer.activity_id == activity_id,
        PairwiseAnswer.item_a == first,
        PairwiseAnswer.item_b == second,
    )
    stored = session.execute(select(PairwiseAnswer.choice, PairwiseAnswer.seq).where(*where)).first()
    if stored is not None and superseded(stored.seq, seq):
        return PairAck((first, second), stored.choice, superseded=True, seq=stored.seq)
    previous = stored.choice if stored is not None else None
    upsert(
        session,
        PairwiseAnswer,
        {
            "participant_id": participant_id,
            "activity_id": activity_id,
            "item_a": first,
            "item_b": second,
            "choice": choice,
            "seq": seq,
            "updated_at": utcnow(),
        },
        keys=["participant_id", "activity_id", "item_a", "item_b"],
        update=["choice", "seq", "updated_at"],
    )
    old = (first, second, previous) if previous else None
    new = (first, second, choice)
    workshop_id = info.activity.workshop_id
    after_commit(
        session, lambda: tallies.apply(workshop_id, activity_id, lambda t: t.apply_pair(participant_id, old, new))
    )
    return PairAck((first, second), choice)


def apply_draft_op(order: list[int], op: str) -> list[int]:
    """The draft order after one button of the ranking form (up, down, out or in), for
    phones without JavaScript: nothing is saved until they press Save."""
    action, _, raw = op.partition(":")
    item = an_id(raw)
    if item is None:
        return order
    order = list(order)
    if action == "in" and item not in order:
        order.append(item)
    elif item in order:
        i = order.index(item)
        if action == "out":
            order.pop(i)
        elif action in ("up", "down"):
            j = max(0, min(len(order) - 1, i + (-1 if action == "up" else 1)))
            order[i], order[j] = order[j], order[i]
    return order


# Reading ---------------------------------------------------------------------------


def my_ballot(session: Session, participant_id: int, activity_id: int) -> list[int]:
    found = session.execute(
        select(RankingBallot.ranking).where(
            RankingBallot.participant_id == participant_id, RankingBallot.activity_id == activity_id
        )
    ).scalar_one_or_none()
    return list(found or [])


def my_pairs(session: Session, participant_id: int, activity_id: int) -> list[tuple[int, int, str]]:
    rows = session.execute(
        select(PairwiseAnswer.item_a, PairwiseAnswer.item_b, PairwiseAnswer.choice).where(
            PairwiseAnswer.participant_id == participant_id, PairwiseAnswer.activity_id == activity_id
        )
    )
    return [tuple(r) for r in rows]


def next_pair_for(
    session: Session, tally: RankingTally, participant_id: int, activity_id: int
) -> tuple[int, int] | None:
    """The next two lines to show this participant in the pairwise mode (from the room's
    Bradley–Terry fit, made once per change of the answers)."""
    info = ranking_info(session, activity_id)
    asked = {frozenset((a, b)) for a, b, _ in my_pairs(session, participant_id, activity_id)}
    return next_pair(info.items, (), (), asked, fitted=tally.bradley_terry())


def recount(session: Session, activity_id: int) -> RankingTally:
    """The tally counted afresh from the stored answers, read in a fixed order (by participant)
    so that it is the same on every database and after every restart."""
    info = ranking_info(session, activity_id)
    group_of = dict(
        session.execute(
            select(Participant.id, Participant.stakeholder_group_id).where(
                Participant.workshop_id == info.activity.workshop_id
            )
        ).all()
    )
    ballots = [
        (p, group_of.get(p), tuple(ranking))
        for p, ranking in session.execute(
            select(RankingBallot.participant_id, RankingBallot.ranking)
            .where(RankingBallot.activity_id == activity_id)
            .order_by(RankingBallot.participant_id)
        )
    ]
    pairs = [
        (p, (a, b, c))
        for p, a, b, c in session.execute(
            select(PairwiseAnswer.participant_id, PairwiseAnswer.item_a, PairwiseAnswer.item_b, PairwiseAnswer.choice)
            .where(PairwiseAnswer.activity_id == activity_id)
            .order_by(PairwiseAnswer.participant_id, PairwiseAnswer.item_a, PairwiseAnswer.item_b)
        )
    ]
    return RankingTally.recount(info.items, info.top_k, ballots, pairs)
