"""What the live screens show, rendered once per audience for the hub to hand out.

Audiences: participants' phones (the stage: which activity is open and its cards,
without anyone's own answers; the results once revealed), the projector (one screen),
and the facilitator's console (counts, results, the agenda's live state). Each phone
asks for its own answers separately (``mine``), so the broadcast bytes are the same for
everyone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from jinja2 import Environment
from sqlmodel import Session, select

from server.activities.gaps import tally as gap_tally
from server.activities.kinds import KINDS
from server.i18n import Translator
from server.models import ActivityStatus, Gap, Segment, StakeholderGroup, Workshop
from server.realtime.hub import CONSOLE, PARTICIPANTS, PROJECTOR
from server.web import compact_html
from server.workshops import codes
from server.workshops.live import current_activity, joined_count
from server.workshops.service import activity_items, agenda_of
from server.workshops.service import min_group_size as workshop_min_group_size

MIN_GROUP_SIZE = 5


@dataclass
class LiveView:
    """Everything a live template may show of a workshop at one moment."""

    workshop: Workshop
    activity: object | None = None
    kind: object | None = None
    gaps: list[Gap] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    groups: dict = field(default_factory=dict)
    results: list = field(default_factory=list)
    group_results: dict = field(default_factory=dict)
    disagreement: list = field(default_factory=list)
    joined: int = 0
    online: int = 0
    answered: int = 0
    agenda: list = field(default_factory=list)
    # Ranking activities
    ranking: dict = field(default_factory=dict)  # method -> list[Placement]
    headline: str = "schulze"
    agreement: float | None = None
    stability: dict = field(default_factory=dict)  # item -> share of resamples in the top k
    k: int = 3
    group_ranks: dict = field(default_factory=dict)  # group id -> {item: mean rank}
    rank_gaps: list = field(default_factory=list)  # (item, |public - private| mean rank), largest first
    hidden_lines: list = field(default_factory=list)  # lines left out of Bradley–Terry: too few answers
    spaced_code: str = ""
    min_group_size: int = MIN_GROUP_SIZE

    @property
    def gap_title(self) -> dict[int, str]:
        """Titles of the activity's items (gaps or action lines) by id."""
        return {g.id: g.title for g in self.gaps}

    item_title = gap_title

    @property
    def timer_ends(self) -> str:
        a = self.activity
        if a is None or a.timer_ends_at is None or a.status != ActivityStatus.open:
            return ""
        ends = a.timer_ends_at
        return ends.isoformat() if ends.tzinfo else ends.isoformat() + "+00:00"


def live_view(
    session: Session, workshop: Workshop, tallies, online: int, min_group_size: int = MIN_GROUP_SIZE, activity=None
) -> LiveView:
    """What the live screens show now; ``activity`` instead of the current one (results).

    ``min_group_size`` is the installation's; the workshop may raise it. No figure resting on
    fewer answers is put in the view (the tallies' result functions leave it out)."""
    view = LiveView(
        workshop=workshop,
        spaced_code=codes.spaced(workshop.join_code or ""),
        min_group_size=workshop_min_group_size(workshop, min_group_size),
    )
    view.joined = joined_count(session, workshop.id)
    view.online = online
    view.agenda = agenda_of(session, workshop)
    activity = activity or current_activity(session, workshop)
    view.segments = list(
        session.exec(
            select(Segment).where(Segment.value_chain_id == workshop.value_chain_id).order_by(Segment.position)
        )
    )
    view.groups = {g.id: g for g in session.exec(select(StakeholderGroup))}
    if activity is None:
        return view
    view.activity, view.kind = activity, KINDS.get(activity.kind)
    view.gaps = activity_items(session, activity)
    if activity.kind == "ranking":
        ranking_view(view, tallies.get(activity.id, workshop.id), lambda: tallies.mark_dirty(workshop.id, "results"))
    elif activity.kind == "gap_rating":
        tally = tallies.get(activity.id, workshop.id)
        order = [g.id for g in view.gaps]
        view.results = gap_tally.results(tally.overall, order, view.min_group_size)
        view.answered = tally.respondents()
        grouped = gap_tally.group_results(tally, view.min_group_size)
        view.group_results = {g: r for g, r in grouped.items() if g is not None}
        by_key = {view.groups[g].key: r for g, r in view.group_results.items() if g in view.groups}
        if "public" in by_key and "private" in by_key:
            view.disagreement = gap_tally.disagreement(by_key["public"], by_key["private"])
    return view


def ranking_view(view: LiveView, tally, on_stability=None) -> None:
    """Fill in a ranking activity's results: every method, agreement, groups, stability."""
    from server.activities.ranking.tally import live_results, stability, too_few_answers

    settings, least = view.activity.settings, view.min_group_size
    view.ranking = live_results(tally, least)
    view.hidden_lines = too_few_answers(tally, least)
    view.headline = settings.get("headline") or ("bradley_terry" if settings.get("mode") == "pairwise" else "schulze")
    if view.headline not in view.ranking and view.ranking:
        view.headline = next(iter(view.ranking))
    view.answered = tally.respondents()
    view.agreement = tally.kendall_w(least)
    view.k = tally.k  # the activity's k, at most the number of lines
    view.stability = stability(
        tally, view.k, closed=view.activity.status == ActivityStatus.closed, on_ready=on_stability, min_answers=least
    )
    for group, sums in tally.group_sums.items():
        if group is not None and sums.ballots >= least:
            view.group_ranks[group] = tally.mean_ranks(group)
    by_key = {view.groups[g].key: ranks for g, ranks in view.group_ranks.items() if g in view.groups}
    if "public" in by_key and "private" in by_key:
        diffs = [(i, abs(by_key["public"][i] - by_key["private"][i])) for i in tally.items]
        view.rank_gaps = sorted(diffs, key=lambda d: -d[1])


class ScreenRenderer:
    """Renders the hub's messages for one workshop (called at most a few times a second)."""

    def __init__(self, env: Environment, db, tallies, hub, min_group_size: int = MIN_GROUP_SIZE, join_base=lambda: ""):
        self.env = env
        self.join_base = join_base
        self.min_group_size = min_group_size
        self.db = db
        self.tallies = tallies
        self.hub = hub

    def __call__(self, workshop_id: int, topics: frozenset[str]) -> dict[str, dict[str, str]]:
        return self.render(workshop_id, topics)

    def render(self, workshop_id: int, topics: frozenset[str]) -> dict[str, dict[str, str]]:
        with Session(self.db.reader) as session:
            workshop = session.get(Workshop, workshop_id)
            if workshop is None:
                return {}
            view = live_view(session, workshop, self.tallies, len(self.hub.online(workshop_id)), self.min_group_size)
        t = Translator(workshop.language)
        out: dict[str, dict[str, str]] = {PARTICIPANTS: {}, PROJECTOR: {}, CONSOLE: {}}
        if "stage" in topics:
            out[PARTICIPANTS]["stage"] = self.html("stage", "participant/_stage.html", view, t)
        if topics & {"stage", "results"}:
            revealed = view.activity is not None and view.activity.revealed
            out[PARTICIPANTS]["results"] = (
                self.html("results", "participant/_results.html", view, t) if revealed else html_message("results", "")
            )
            out[CONSOLE]["results"] = self.html("console-results", "live/_results.html", view, t)
        if topics & {"stage", "counts"}:
            out[CONSOLE]["counts"] = self.html("counts", "live/_counts.html", view, t)
        if "stage" in topics:
            out[CONSOLE]["agenda"] = self.html("live-agenda", "live/_agenda.html", view, t)
        screen = render_fragment(self.env, "live/_screen.html", view, t, join_base=self.join_base())
        out[PROJECTOR]["screen"] = html_message("screen", screen)
        return out

    def html(self, element_id: str, template: str, view: LiveView, t: Translator) -> str:
        return html_message(element_id, render_fragment(self.env, template, view, t))


def html_message(element_id: str, html: str) -> str:
    return json.dumps({"t": "html", "id": element_id, "html": html}, ensure_ascii=False)


def render_fragment(env: Environment, template: str, view: LiveView, t: Translator, **extra) -> str:
    return compact_html(
        env.get_template(template).render(
            view=view,
            t=t,
            _=t.gettext,
            gettext=t.gettext,
            ngettext=t.ngettext,
            msg=t.message,
            locale=t.locale,
            **extra,
        )
    )
