"""What a phone is told of a committed write: the same over the websocket and HTTP."""

from __future__ import annotations

from server.activities.ranking.service import PairAck, RankAck


def ack_json(ack) -> dict:
    """What a phone is told of a committed write (the same over the websocket). A write
    older than the stored answer (by the phone's sequence) is told so, with the stored
    answer and its sequence: the phone shows what is stored."""
    if isinstance(ack, RankAck):
        told = {"order": ack.ranking}
    elif isinstance(ack, PairAck):
        told = {"pair": list(ack.pair), "choice": ack.choice}
    else:
        told = {"g": ack.gap_id, "q": ack.question, "v": ack.value, "left": ack.dots_left}
    if ack.superseded:
        told.update(superseded=True, s=ack.seq)
    return told
