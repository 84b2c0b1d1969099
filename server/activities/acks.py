"""What a phone is told of a committed write: the same over the websocket and HTTP."""

from __future__ import annotations


def ack_json(ack) -> dict:
    """What a phone is told of a committed write (the same over the websocket): each kind's
    acknowledgement says what it stored (``told()``). A write older than the stored answer
    (by the phone's sequence) is told so, with the stored answer and its sequence: the
    phone shows what is stored."""
    told = ack.told()
    if ack.superseded:
        told.update(superseded=True, s=ack.seq)
    return told
