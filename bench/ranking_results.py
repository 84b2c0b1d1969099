"""How long the results of a ranking take with a large room: 5,000 ballots over 40 lines.

    .venv/bin/python bench/ranking_results.py [--ballots 5000] [--items 40] [--seed 1]

Prints the time to build the live tally ballot by ballot, the time of one live results
computation (what each broadcast costs: Schulze, Borda, mean rank, top-k share, Kendall's
W), the time of the full results (adding the bootstrap stability, 200 resamples, done once
the activity closes or for the JSON endpoint), the time of each method on the raw ballots,
and the Bradley–Terry fit of the pairwise mode on as many "which first?" answers as ballots
(the pairs drawn from the same ballots), with its number of Newton steps.
"""

from __future__ import annotations

import argparse
import random
import time

from server.activities.ranking import methods, pairwise
from server.activities.ranking.tally import RankingTally, live_results, stability


def ballots(n_ballots: int, items: list[int], seed: int) -> list[tuple[int, ...]]:
    """Ballots with a shared tendency (lines have a hidden appeal) and a quarter partial."""
    rng = random.Random(seed)
    appeal = {i: rng.gauss(0, 1) for i in items}
    out = []
    for _ in range(n_ballots):
        order = sorted(items, key=lambda i: appeal[i] + rng.gauss(0, 1.5))
        if rng.random() < 0.25:
            order = order[: rng.randint(1, len(items) - 1)]
        out.append(tuple(order))
    return out


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<44} {(time.perf_counter() - start) * 1000:9.1f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=5000)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    items = list(range(1, args.items + 1))
    data = ballots(args.ballots, items, args.seed)
    print(f"{args.ballots} ballots over {args.items} lines")

    def build():
        tally = RankingTally(items, 5)
        for participant, ballot in enumerate(data):
            tally.apply_ballot(participant, participant % 4, None, ballot)
        return tally

    tally = timed("live tally, ballot by ballot (all ballots)", build)
    per = timed("one ballot changed (moves the tally)", lambda: tally.apply_ballot(0, 0, data[0], data[1]))
    del per
    timed("live results (each broadcast)", lambda: (live_results(tally), tally.kendall_w()))
    timed("full results (+ stability, 200 resamples)", lambda: (live_results(tally), stability(tally, 5, closed=True)))
    timed("  schulze on raw ballots", lambda: methods.schulze(items, data))
    timed("  borda on raw ballots", lambda: methods.borda(items, data))
    timed("  kendall_w on raw ballots", lambda: methods.kendall_w(items, data))
    rng = random.Random(args.seed)
    wins = []
    for ballot in data:  # one answer per ballot: two of its lines, the earlier one wins
        if len(ballot) >= 2:
            first, second = sorted(rng.sample(range(len(ballot)), 2))
            wins.append((ballot[first], ballot[second]))
    steps, solve = [], pairwise._solve
    pairwise._solve = lambda a, b: steps.append(1) or solve(a, b)  # count the Newton steps
    timed(f"bradley-terry fit, {len(wins)} pairwise answers", lambda: pairwise.bradley_terry(items, wins))
    pairwise._solve = solve
    print(f"  ({len(steps)} Newton steps)")


if __name__ == "__main__":
    main()
