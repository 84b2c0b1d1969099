"""The bench client's own garbage collector: a client holding thousands of websockets
pauses as the server does for its full collections (1–2 s each at 15,000 sockets,
measured), and every acknowledgement it reads late then counts against the server. It
collects as seldom as ``minka serve`` does (server/cli.py), and its pauses are recorded
and reported with the vote, beside the client's loop lag."""

from __future__ import annotations

import gc
import time

PAUSES: list[tuple[float, float]] = []  # (perf_counter at the start, seconds)
_started = [0.0]


def tune() -> None:
    gc.set_threshold(100_000, 50, 1_000)
    if _timed not in gc.callbacks:
        gc.callbacks.append(_timed)


def _timed(phase: str, _info: dict) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
    else:
        PAUSES.append((_started[0], time.perf_counter() - _started[0]))


def longest_since(t0: float) -> float:
    """The client's longest collection that started at or after ``t0`` (seconds)."""
    return max((seconds for start, seconds in PAUSES if start >= t0), default=0.0)
