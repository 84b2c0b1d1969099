"""Action-line ranking (full, top k, pairwise) as an ``ActivityType``.

The rules live in ``service.py``, the counting in ``tally.py``, ``methods.py`` and
``pairwise.py`` (pure), the methods' names in ``explain.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from server.activities.chain_rules import common_ground as rules_common_ground
from server.activities.ranking import chain_store, export, service
from server.activities.ranking.chain import TOP
from server.activities.ranking.explain import METHODS
from server.activities.ranking.spec import RANKING
from server.activities.ranking.tally import live_results, stability, too_few_answers
from server.activities.registry import ActivityType, FormPost, refusing
from server.activities.values import an_id
from server.errors import Invalid
from server.i18n import N_, Message
from server.models import ActivityStatus, PairwiseAnswer, RankingBallot

# The columns of ``raw_rows``: one row per stored answer. ``answer`` is "ballot" (then
# ``ranking`` lists action-line ids, most important first) or "pair" (then ``item_a`` <
# ``item_b`` and ``choice`` is "a", "b" or "tie"); the other fields are None; ``seq`` is the
# phone's sequence (None from a form without JavaScript).
ROW_COLUMNS = ("participant_id", "answer", "ranking", "item_a", "item_b", "choice", "seq", "updated_at")
BORDA_PARTIAL_RULE = "With n lines, place p earns n - p points; lines left out share the points of the places left."
SAVED = "ranking"  # the slot of the "Saved" mark on the phone page


@dataclass
class RankingPanel:
    """The ranking activity's part of the live view (``view.panel``)."""

    ranking: dict = field(default_factory=dict)  # method -> list[Placement]
    headline: str = "schulze"
    agreement: float | None = None
    stability: dict = field(default_factory=dict)  # item -> share of resamples in the top k
    k: int = 3
    group_ranks: dict = field(default_factory=dict)  # group id -> {item: mean rank}
    rank_gaps: list = field(default_factory=list)  # (item, |public - private| mean rank), largest first
    hidden_lines: list = field(default_factory=list)  # lines left out of Bradley–Terry: too few answers
    common_ground: list = field(default_factory=list)  # (line, lowest group's share in the first three, groups)


def common_ground(tally, least: int) -> list[tuple[int, float, int]]:
    """The lines that at least half of every stakeholder group's ballots (groups with at
    least ``least`` ballots) put in their first three (docs/methods.md, "Common ground")."""
    ballots: dict = {}
    tops: dict = {}
    for participant, ballot in tally.ballots.items():
        group = tally.group_of.get(participant)
        ballots[group] = ballots.get(group, 0) + 1
        for item in ballot[:TOP]:
            tops[(group, item)] = tops.get((group, item), 0) + 1
    shares = {
        g: {i: tops.get((g, i), 0) / n for i in tally.items} for g, n in ballots.items() if g is not None and n >= least
    }
    return rules_common_ground(shares)


def _activity_id(data: dict) -> int:
    activity_id = an_id(data.get("activity"))
    if activity_id is None:
        raise Invalid({"__all__": Message(N_("Choose one of the options."))})
    return activity_id


def _posted_order(data: dict) -> list[str]:
    return [i.strip() for i in data.get("order", "").split(",") if i.strip()]  # checked by do_rank


class Ranking(ActivityType):
    key = RANKING.key
    spec = RANKING
    messages = ("rank", "pair")
    form_actions = ("rank", "pair")
    row_columns = ROW_COLUMNS
    headlines = tuple(METHODS)

    def write(self, m, tallies, participant_id: int):
        if m.t == "rank":
            return lambda s: service.do_rank(s, tallies, participant_id, m.a, m.order, m.k, m.s)
        return lambda s: service.do_pair(s, tallies, participant_id, m.a, m.x, m.y, m.c, m.k, m.s)

    def draft(self, action: str, data: dict):
        """Without JavaScript, the ranking's arrow buttons post here too and get the page
        back with the changed (not yet saved) order."""
        op = data.get("op", "save")
        if action != "rank" or op == "save":
            return None
        order = [i for i in map(an_id, _posted_order(data)) if i is not None]
        return service.apply_draft_op(order, op)

    def form_post(self, action: str, tallies, participant_id: int, data: dict, segments: list[str]) -> FormPost:
        try:
            activity_id = _activity_id(data)
        except Invalid as exc:
            return FormPost(write=refusing(exc), slot=SAVED)
        seq = data.get("seq")
        if action == "rank":
            posted, key = _posted_order(data), str(data.get("key") or "")
            write = lambda s: service.do_rank(s, tallies, participant_id, activity_id, posted, key, seq)  # noqa: E731
        else:
            a, b, choice = data.get("a"), data.get("b"), data.get("choice", "")
            key = f"{data.get('key') or ''}-{a}-{b}"
            write = lambda s: service.do_pair(s, tallies, participant_id, activity_id, a, b, choice, key, seq)  # noqa: E731
        return FormPost(write=write, slot=SAVED)

    def next_message(self, m) -> bool:
        """After a pairwise answer the phone gets its next two lines (``mine``)."""
        return m.t == "pair"

    def mine(self, session: Session, tallies, activity, participant_id: int) -> dict:
        if activity.settings.get("mode") == "pairwise":
            tally = tallies.get(activity.id, activity.workshop_id)
            pair = service.next_pair_for(session, tally, participant_id, activity.id)
            return {"pair": list(pair) if pair else None}
        return {"ranking": service.my_ballot(session, participant_id, activity.id)}

    def phone_context(self, session: Session, tallies, activity, participant_id: int, draft=None) -> dict:
        context = {
            "ballot": draft if draft is not None else service.my_ballot(session, participant_id, activity.id),
            "draft": draft is not None,
        }
        if activity.settings.get("mode") == "pairwise":
            tally = tallies.get(activity.id, activity.workshop_id)
            context["pair"] = service.next_pair_for(session, tally, participant_id, activity.id)
            context["answered"] = context["pair"] is None  # every useful pair compared
        return context

    def recount(self, session: Session, activity_id: int):
        return service.recount(session, activity_id)

    def panel(self, view, tally, on_change) -> RankingPanel:
        """Every method, agreement, groups, stability."""
        activity, least = view.activity, view.min_group_size
        settings = activity.settings
        panel = RankingPanel(ranking=live_results(tally, least), hidden_lines=too_few_answers(tally, least))
        panel.headline = settings.get("headline") or (
            "bradley_terry" if settings.get("mode") == "pairwise" else "schulze"
        )
        if panel.headline not in panel.ranking and panel.ranking:
            panel.headline = next(iter(panel.ranking))
        panel.agreement = tally.kendall_w(least)
        panel.k = tally.k  # the activity's k, at most the number of lines
        panel.stability = stability(
            tally, panel.k, closed=activity.status == ActivityStatus.closed, on_ready=on_change, min_answers=least
        )
        for group, sums in tally.group_sums.items():
            if group is not None and sums.ballots >= least:
                panel.group_ranks[group] = tally.mean_ranks(group)
        panel.common_ground = common_ground(tally, least)
        by_key = {view.groups[g].key: ranks for g, ranks in panel.group_ranks.items() if g in view.groups}
        if "public" in by_key and "private" in by_key:
            diffs = [(i, abs(by_key["public"][i] - by_key["private"][i])) for i in tally.items]
            panel.rank_gaps = sorted(diffs, key=lambda d: -d[1])
        return panel

    def results(self, view, tally) -> dict:
        panel = view.panel
        # computed once per set of ballots; nothing below the minimum
        robust = stability(tally, panel.k, closed=True, min_answers=view.min_group_size)
        return {
            "ranking": {
                "headline": panel.headline,
                "methods": {
                    name: {
                        "label": METHODS[name][0],
                        "explanation": METHODS[name][1],
                        "placements": [asdict(p) for p in placements],
                    }
                    for name, placements in panel.ranking.items()
                },
                "kendall_w": panel.agreement,
                "bradley_terry_hidden": panel.hidden_lines,
                "k": panel.k,
                "stability_top_k": {str(item): share for item, share in robust.items()},
                "borda_partial_rule": BORDA_PARTIAL_RULE,
                "by_group": {
                    view.groups[g].key: {str(item): rank for item, rank in ranks.items()}
                    for g, ranks in panel.group_ranks.items()
                    if g in view.groups
                },
                "public_private_gaps": [[item, diff] for item, diff in panel.rank_gaps],
                "common_ground": [
                    {"item": i, "lowest_share": share, "groups": n} for i, share, n in panel.common_ground
                ],
            }
        }

    def chain_refresh(self, session: Session, workshop_id: int, activity_ids: list[int]) -> None:
        chain_store.refresh(session, workshop_id, activity_ids)

    def chain_results(self, session: Session, scope) -> dict:
        return chain_store.section(session, scope)

    def chain_history(self, session: Session, scope, item_id: int) -> dict | None:
        return chain_store.history(session, scope, item_id)

    def raw_rows(self, session: Session, activity_id: int) -> list[dict]:
        ballots = session.execute(
            select(RankingBallot.participant_id, RankingBallot.ranking, RankingBallot.seq, RankingBallot.updated_at)
            .where(RankingBallot.activity_id == activity_id)
            .order_by(RankingBallot.participant_id)
        )
        pairs = session.execute(
            select(
                PairwiseAnswer.participant_id,
                PairwiseAnswer.item_a,
                PairwiseAnswer.item_b,
                PairwiseAnswer.choice,
                PairwiseAnswer.seq,
                PairwiseAnswer.updated_at,
            )
            .where(PairwiseAnswer.activity_id == activity_id)
            .order_by(PairwiseAnswer.participant_id, PairwiseAnswer.item_a, PairwiseAnswer.item_b)
        )
        rows = [
            dict(zip(ROW_COLUMNS, (p, "ballot", list(r), None, None, None, s, at), strict=True))
            for p, r, s, at in ballots
        ]
        rows += [dict(zip(ROW_COLUMNS, (p, "pair", None, a, b, c, s, at), strict=True)) for p, a, b, c, s, at in pairs]
        return rows

    def export_tables(self, ctx) -> list:
        """Its results as shown, the shared "Action lines" table (every method side by
        side) and its raw answers (``export.py``)."""
        return [export.results_table(ctx), export.action_lines_table(ctx), self.raw_table(ctx)]

    def import_rows(self, session: Session, activity_id: int, rows: list[dict], ids: dict) -> None:
        export.import_rows(session, activity_id, rows, ids)
