"""What a phone is told of a committed write: the same over the websocket and HTTP."""

from __future__ import annotations

from server.activities.ranking.service import PairAck, RankAck


def ack_json(ack) -> dict:
    """What a phone is told of a committed write (the same over the websocket)."""
    if isinstance(ack, RankAck):
        return {"order": ack.ranking}
    if isinstance(ack, PairAck):
        return {"pair": list(ack.pair), "choice": ack.choice}
    return {"g": ack.gap_id, "q": ack.question, "v": ack.value, "left": ack.dots_left}
