"""What the live screens show, rendered once per audience for the hub to hand out.

Audiences: participants' phones (the stage: which activity is open and its cards,
without anyone's own answers; the results once revealed), the projector (one screen),
and the facilitator's console (counts, results, the agenda's live state, the list of
participants), each in every language someone watches it in: the workshop is read
once, then rendered per language with that language's translator (workshop content,
such as gap titles, stays as written). Each phone asks for its own answers separately
(``mine``), so the broadcast bytes are the same for everyone of an audience.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import Environment
from sqlmodel import Session, select

from server.activities.registry import ActivityType, Registry
from server.errors import NotFound
from server.i18n import Translator
from server.models import ActivityStatus, Gap, Segment, StakeholderGroup, Workshop
from server.realtime.hub import CONSOLE, PARTICIPANTS, PROJECTOR
from server.realtime.topics import Audience, AudienceKey, Piece, Topic, html_message
from server.web import compact_html
from server.workshops import codes
from server.workshops.live import current_activity, joined_count, participants_of
from server.workshops.service import activity_items, agenda_of
from server.workshops.service import min_group_size as workshop_min_group_size

MIN_GROUP_SIZE = 5


@dataclass
class LiveView:
    """Everything a live template may show of a workshop at one moment. What only one
    kind shows is in ``panel``, built by that kind (``ActivityType.panel``)."""

    workshop: Workshop
    activity: object | None = None
    kind: ActivityType | None = None  # the activity's kind, None when it cannot run live
    panel: object | None = None
    gaps: list[Gap] = field(default_factory=list)  # the activity's items (gaps or action lines)
    segments: list[Segment] = field(default_factory=list)
    groups: dict = field(default_factory=dict)
    joined: int = 0
    online: int = 0
    answered: int = 0
    agenda: list = field(default_factory=list)
    spaced_code: str = ""
    min_group_size: int = MIN_GROUP_SIZE
    people: list = field(default_factory=list)  # the participants, for the console (when asked)

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
    session: Session,
    workshop: Workshop,
    tallies,
    registry: Registry,
    online: int,
    min_group_size: int = MIN_GROUP_SIZE,
    activity=None,
) -> LiveView:
    """What the live screens show now; ``activity`` instead of the current one (results).

    ``min_group_size`` is the installation's; the workshop may raise it. No figure resting on
    fewer answers is put in the view (the kinds' panels leave it out)."""
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
    view.activity, view.kind = activity, registry.get(activity.kind)
    view.gaps = activity_items(session, activity)
    if view.kind is not None:
        tally = tallies.get(activity.id, workshop.id)
        view.kind.fresh(session, tally)
        view.panel = view.kind.panel(view, tally, lambda: tallies.mark_dirty(workshop.id, Topic.RESULTS))
        view.answered = tally.respondents()
    return view


def results_view(session: Session, state, workshop: Workshop, activity) -> LiveView:
    """One activity's results (its results page and the JSON API), from the app's ``state``
    (tallies, registry, settings). A kind that does not run live has none: NotFound."""
    if activity.kind not in state.registry:
        raise NotFound()
    return live_view(
        session, workshop, state.tallies, state.registry, 0, state.settings.min_group_size, activity=activity
    )


class ScreenRenderer:
    """Renders the hub's messages for one workshop (called at most a few times a second)."""

    def __init__(
        self,
        env: Environment,
        db,
        tallies,
        hub,
        registry: Registry,
        min_group_size: int = MIN_GROUP_SIZE,
        join_base=lambda: "",
    ):
        self.env = env
        self.registry = registry
        self.join_base = join_base
        self.min_group_size = min_group_size
        self.db = db
        self.tallies = tallies
        self.hub = hub

    def __call__(
        self, workshop_id: int, topics: frozenset[str], audiences: frozenset[AudienceKey] | None = None
    ) -> dict[AudienceKey, dict[str, str]]:
        return self.render(workshop_id, topics, audiences)

    def render(
        self, workshop_id: int, topics: frozenset[str], audiences: frozenset[AudienceKey] | None = None
    ) -> dict[AudienceKey, dict[str, str]]:
        """The texts of ``topics`` for each of ``audiences`` (default: every role, in the
        workshop's language). The workshop is read once for all of them."""
        if Topic.REVEAL in topics:
            topics = topics | {Topic.RESULTS}
        phones_only = audiences is not None and all(key.role == PARTICIPANTS for key in audiences)
        if phones_only and not any(t in (Topic.STAGE, Topic.RESULTS) or isinstance(t, Piece) for t in topics):
            # Only phones watch, and they show no counts nor roster: nothing to render (each
            # phone that connects or leaves marks the counts dirty).
            return {}
        with Session(self.db.reader) as session:
            workshop = session.get(Workshop, workshop_id)
            if workshop is None:
                return {}
            if audiences is None:
                audiences = frozenset(AudienceKey(role, workshop.language) for role in Audience)
            online = len(self.hub.online(workshop_id))
            view = live_view(session, workshop, self.tallies, self.registry, online, self.min_group_size)
            if Topic.ROSTER in topics and any(key.role == CONSOLE for key in audiences):
                view.people = participants_of(session, workshop)
        out: dict[AudienceKey, dict[str, str]] = {}
        for language in sorted({key.language for key in audiences}):
            roles = {key.role for key in audiences if key.language == language}
            for role, texts in self.render_language(view, topics, Translator(language), roles).items():
                out[AudienceKey(role, language)] = texts
        return out

    def render_language(self, view: LiveView, topics: frozenset[str], t: Translator, roles) -> dict[str, dict]:
        """One language's texts, for the roles watching in it."""
        out: dict[str, dict[str, str]] = {role: {} for role in roles}
        if PARTICIPANTS in roles:
            if Topic.STAGE in topics:
                # Versioned: a phone that reconnects with this very stage is not sent it again
                # (ws.py, hello), ~35 KB of mobile data saved at each reconnection.
                stage = render_fragment(self.env, "participant/_stage.html", view, t)
                out[PARTICIPANTS][Topic.STAGE] = html_message("stage", stage, versioned=True)
            if Topic.STAGE in topics or Topic.RESULTS in topics:
                revealed = view.activity is not None and view.activity.revealed
                out[PARTICIPANTS][Topic.RESULTS] = (
                    self.html("results", "participant/_results.html", view, t)
                    if revealed
                    else html_message("results", "")
                )
        if CONSOLE in roles:
            if Topic.STAGE in topics or Topic.RESULTS in topics:
                out[CONSOLE][Topic.RESULTS] = self.html("console-results", "live/_results.html", view, t)
            if Topic.STAGE in topics or Topic.COUNTS in topics:
                out[CONSOLE][Topic.COUNTS] = self.html("counts", "live/_counts.html", view, t)
            if Topic.STAGE in topics:
                out[CONSOLE]["agenda"] = self.html("live-agenda", "live/_agenda.html", view, t)
            if Topic.ROSTER in topics:
                out[CONSOLE][Topic.ROSTER] = self.html("people", "live/_people.html", view, t)
        pieces = sorted(m.key for m in topics if isinstance(m, Piece))
        if pieces and view.kind is not None:  # parts of the open activity, each alone
            for role, rendered in view.kind.pieces(view, pieces).items():
                if role not in roles:
                    continue
                for topic, (element_id, template, extra) in rendered.items():
                    html = render_fragment(self.env, template, view, t, **extra)
                    out[role][topic] = html_message(element_id, html)
        if PROJECTOR in roles:
            screen = render_fragment(self.env, "live/_screen.html", view, t, join_base=self.join_base())
            out[PROJECTOR]["screen"] = html_message("screen", screen)
        return out

    def html(self, element_id: str, template: str, view: LiveView, t: Translator) -> str:
        return html_message(element_id, render_fragment(self.env, template, view, t))


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
