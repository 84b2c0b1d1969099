"""Gap rating (and dot voting) as an ``ActivityType``: what the host asks of this kind.

The rules live in ``service.py`` (one answer at a time: dots, segments) and ``batch.py``
(ratings, written together by the single writer); the counting in ``tally.py`` (pure).
A rating has one entry point, ``batch.Rating``: the websocket submits one per message
(the writer batches them), a form post submits the card's ratings together.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from sqlalchemy import String, cast, select
from sqlmodel import Session

from server.activities.gaps import chain as gap_chain
from server.activities.gaps import chain_store, export, service
from server.activities.gaps import tally as gap_tally
from server.activities.gaps.batch import Card, Rating
from server.activities.gaps.spec import GAP_RATING, asked
from server.activities.gaps.tally import ELEMENTS
from server.activities.registry import ActivityType, FormPost, refusing
from server.activities.values import an_id
from server.errors import Invalid
from server.i18n import N_, Message
from server.models import DotVote, GapAnswer

# The columns of ``raw_rows``: one row per stored answer. ``question`` is "seriousness",
# one of ``tally.ELEMENTS``, "segments" or "dots"; ``value`` the level (or the dots),
# None for "segments", whose chosen segment ids are in ``segments`` ([] otherwise);
# ``seq`` the phone's sequence of the answer (None from a form without JavaScript).
ROW_COLUMNS = ("participant_id", "gap_id", "question", "value", "segments", "seq", "updated_at")


@dataclass
class GapPanel:
    """The gap activity's part of the live view (``view.panel``)."""

    results: list = field(default_factory=list)  # tally.GapResult per gap, in the activity's order
    group_results: dict = field(default_factory=dict)  # group id -> [GapResult]
    disagreement: list = field(default_factory=list)  # (gap, |public - private|), largest first
    common_ground: list = field(default_factory=list)  # (gap, lowest group's share of 4 or 5, groups)


def _ids(data: dict, *names: str) -> list[int]:
    ids = [an_id(data.get(n)) for n in names]
    if None in ids:
        raise Invalid({"__all__": Message(N_("Choose one of the options."))})
    return ids


class GapRating(ActivityType):
    key = GAP_RATING.key
    spec = GAP_RATING
    messages = ("answer", "dots")
    form_actions = ("answer", "dots")
    row_columns = ROW_COLUMNS

    def write(self, m, tallies, participant_id: int):
        if m.t == "answer":
            return Rating(tallies, participant_id, m.a, m.g, m.q, m.v, m.k, m.s)
        return lambda s: service.do_dots(s, tallies, participant_id, m.a, m.g, m.v, m.k, m.s)

    def form_post(self, action: str, tallies, participant_id: int, data: dict, segments: list[str]) -> FormPost:
        slot = an_id(data.get("gap")) or 0
        done = FormPost(slot=slot, anchor=f"gap-{slot}")
        try:
            done.write = self._form_write(action, tallies, participant_id, data, segments)
        except Invalid as exc:  # refused on the card it came from
            done.write = refusing(exc)
        return done

    @staticmethod
    def _form_write(action: str, tallies, participant_id: int, data: dict, segments: list[str]):
        activity_id, gap_id = _ids(data, "activity", "gap")
        key, seq = str(data.get("key") or ""), data.get("seq")
        if action == "dots":
            dots = data.get("dots")
            return lambda s: service.do_dots(s, tallies, participant_id, activity_id, gap_id, dots, key, seq)
        # Every question of one gap card at once: the same ``Rating`` the websocket sends,
        # written together (all or none).
        answers = [(q, data[q]) for q in ("seriousness", *ELEMENTS) if data.get(q)]
        if data.get("segments_asked"):
            answers.append(("segments", segments))
        if not answers:
            raise Invalid({"__all__": Message(N_("Choose one of the options."))})
        # One question: the phone's own key (as over the websocket); several: one key each.
        keys = [key] if len(answers) == 1 else [f"{key}:{q}" for q, _ in answers]
        ratings = [
            Rating(tallies, participant_id, activity_id, gap_id, q, v, k, seq)
            for (q, v), k in zip(answers, keys, strict=True)
        ]
        return Card(ratings)

    @staticmethod
    def asked(settings: dict) -> tuple[str, ...]:
        """The questions asked on each gap (for the templates): ``spec.asked``."""
        return asked(settings)

    def mine(self, session: Session, tallies, activity, participant_id: int) -> dict:
        mine = service.my_answers(session, participant_id, activity.id)
        return {"answers": {str(g): a for g, a in mine.items()}}

    def phone_context(self, session: Session, tallies, activity, participant_id: int, draft=None) -> dict:
        mine = service.my_answers(session, participant_id, activity.id)
        spent = sum(a.get("dots", 0) for a in mine.values())
        return {"mine": mine, "dots_left": int(activity.settings.get("dot_budget", 0)) - spent}

    def recount(self, session: Session, activity_id: int):
        return service.recount(session, activity_id)

    def panel(self, view, tally, on_change) -> GapPanel:
        least = view.min_group_size
        panel = GapPanel(results=gap_tally.results(tally.overall, [g.id for g in view.gaps], least))
        grouped = gap_tally.group_results(tally, least)
        panel.group_results = {g: r for g, r in grouped.items() if g is not None}
        panel.common_ground = gap_chain.common_ground(panel.group_results)
        by_key = {view.groups[g].key: r for g, r in panel.group_results.items() if g in view.groups}
        if "public" in by_key and "private" in by_key:
            panel.disagreement = gap_tally.disagreement(by_key["public"], by_key["private"])
        return panel

    def results(self, view, tally) -> dict:
        panel = view.panel
        return {
            "gaps": [asdict(r) for r in panel.results],
            "by_group": {
                view.groups[g].key: [asdict(r) for r in results]
                for g, results in panel.group_results.items()
                if g in view.groups
            },
            "public_private_disagreement": [[gap, diff] for gap, diff in panel.disagreement],
            "common_ground": [{"gap": g, "lowest_share": share, "groups": n} for g, share, n in panel.common_ground],
        }

    def chain_refresh(self, session: Session, workshop_id: int, activity_ids: list[int]) -> None:
        chain_store.refresh(session, workshop_id, activity_ids)

    def chain_results(self, session: Session, scope) -> dict:
        return chain_store.section(session, scope)

    def chain_history(self, session: Session, scope, item_id: int) -> dict | None:
        return chain_store.history(session, scope, item_id)

    def raw_rows(self, session: Session, activity_id: int) -> list[dict]:
        answers = session.execute(
            select(
                GapAnswer.participant_id,
                GapAnswer.gap_id,
                GapAnswer.question,
                GapAnswer.value,
                GapAnswer.segments,
                GapAnswer.seq,
                GapAnswer.updated_at,
            ).where(GapAnswer.activity_id == activity_id)
        )
        dots = session.execute(
            select(DotVote.participant_id, DotVote.gap_id, DotVote.dots, DotVote.seq, DotVote.updated_at).where(
                DotVote.activity_id == activity_id
            )
        )
        rows = [
            dict(zip(ROW_COLUMNS, (p, g, q, v, list(segs or []), s, at), strict=True))
            for p, g, q, v, segs, s, at in answers
        ]
        rows += [dict(zip(ROW_COLUMNS, (p, g, "dots", n, [], s, at), strict=True)) for p, g, n, s, at in dots]
        return sorted(rows, key=lambda r: (r["participant_id"], r["gap_id"], r["question"]))

    def iter_raw_rows(self, session: Session, activity_id: int):
        """``raw_rows`` streamed from the database, a few thousand rows at a time (an export
        of a million answers never holds them all), in the same order."""
        answers = (
            select(
                GapAnswer.participant_id,
                GapAnswer.gap_id,
                GapAnswer.question,
                GapAnswer.value,
                cast(GapAnswer.segments, String),  # as text: decoded only when not empty
                GapAnswer.seq,
                GapAnswer.updated_at,
            )
            .where(GapAnswer.activity_id == activity_id)
            .order_by(GapAnswer.participant_id, GapAnswer.gap_id, GapAnswer.question)
        )
        for p, g, q, v, segs, s, at in session.execute(answers.execution_options(yield_per=5000)):
            chosen = json.loads(segs) if segs and segs != "[]" else []
            yield dict(zip(ROW_COLUMNS, (p, g, q, v, chosen, s, at), strict=True))
        dots = (
            select(DotVote.participant_id, DotVote.gap_id, DotVote.dots, DotVote.seq, DotVote.updated_at)
            .where(DotVote.activity_id == activity_id)
            .order_by(DotVote.participant_id, DotVote.gap_id)
        )
        for p, g, n, s, at in session.execute(dots.execution_options(yield_per=5000)):
            yield dict(zip(ROW_COLUMNS, (p, g, "dots", n, [], s, at), strict=True))

    def export_tables(self, ctx) -> list:
        """Its results as the results page shows them (one row per gap and group) and its
        raw answers (``export.py``)."""
        return [export.results_table(ctx), self.raw_table(ctx)]

    def import_rows(self, session: Session, activity_id: int, rows: list[dict], ids: dict) -> None:
        export.import_rows(session, activity_id, rows, ids)
