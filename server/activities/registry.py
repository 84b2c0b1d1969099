"""The contract every activity kind implements, and the registry the host dispatches through.

An activity kind (gap rating, ranking, ...) is a package under ``server/activities/`` with
one class implementing ``ActivityType``; ``server/app.py`` registers one instance of each
(``registry.register(GapRating())``) and keeps the registry on ``app.state.registry``. The
host (the websocket endpoint, the participant form routes, the live screens, the results
API, the live tallies) looks a kind up here, by an activity's ``kind``, by the ``t`` of a
phone's message or by the path of a form post, and never branches on a kind's name.
Adding a kind is described in docs/architecture.md ("Adding an activity kind").

This module holds no kind and imports none: it is the host's only door to the kinds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from server.activities.acks import ack_json
from server.activities.settings import ActivityKind
from server.activities.tables import DATETIME, INTEGER, STRING, Column, ExportContext, ExportTable, flatten, plain_value

# A database session (sqlmodel's), as the kinds get it: the registry itself touches no
# database and imports none (import-linter checks it).
Session = Any

# What the single writer runs: ``work(session)``, returning an acknowledgement (or a
# list of them for a form that writes several answers at once).
Work = Callable[[Session], Any]


@dataclass
class FormPost:
    """What a phone's form post (no JavaScript, or the fetch fallback) asks for.

    ``write`` is run by the single writer (it may raise ``Invalid``). ``slot`` is where
    the page shows the "Saved" mark or an error (``?saved=<slot>``, ``errors[<slot>]``),
    ``anchor`` the element the page scrolls to after saving."""

    write: Work | None = None
    slot: int | str = 0
    anchor: str | None = None


def refusing(error: Exception) -> Work:
    """A write that only refuses (a form that names nothing): the page still knows the
    form's ``slot``, to show the refusal on the right card."""

    def work(_session):
        raise error

    return work


class ActivityType(ABC):
    """One kind of live activity. Each method gets what it needs; none keeps state
    between calls (the live tallies live in ``activities.live.LiveTallies``)."""

    #: The activity's ``kind`` column (``Activity.kind``), and the folder of its
    #: templates: ``templates/activities/<key>/``.
    key: ClassVar[str]
    #: Its description for the agenda: label, library, settings with their validation
    #: (pure: ``activities.kinds.ActivityKind``).
    spec: ClassVar[ActivityKind]
    #: The ``t`` of the phone's websocket messages that write an answer of this kind
    #: (schema: ``workshops/messages.py``).
    messages: ClassVar[tuple[str, ...]] = ()
    #: The form posts of the phone page: ``/p/{workshop_id}/<action>``.
    form_actions: ClassVar[tuple[str, ...]] = ()
    #: The methods of its results the facilitator may show first (``settings["headline"]``).
    headlines: ClassVar[tuple[str, ...]] = ()
    #: The ``t`` of the phone's websocket messages that write nothing (a roadmap's "I am
    #: editing this field"): ``signal`` handles them, never the writer.
    signals: ClassVar[tuple[str, ...]] = ()
    #: While results are hidden the projector lists the activity's items under its prompt;
    #: a kind whose ``_prompt.html`` shows them itself (the roadmap's timeline) says False.
    projector_lists_items: ClassVar[bool] = True
    #: While results are hidden the projector says they will appear when the facilitator
    #: shows them; a kind whose projector shows the work itself (the roadmap) says False.
    projector_waits_for_results: ClassVar[bool] = True
    #: The kind's phone page needs its own stylesheet, ``static/phone/<key>.css``.
    phone_css: ClassVar[bool] = False
    # How the projector and the console say how many took part: (singular, plural) msgids
    # with %(num)s and %(total)s (a kind marks its own with ``i18n.Nn_``). A vote by default
    # (these msgids are extracted from templates/live/_screen.html).
    took_part: ClassVar[tuple[str, str]] = ("%(num)s of %(total)s has voted", "%(num)s of %(total)s have voted")
    #: The console's own controls of this kind: ``POST .../live/activities/{id}/kind/<control>``.
    controls: ClassVar[tuple[str, ...]] = ()
    #: Its part of a chain's results is read from the live rows at each view (the
    #: roadmap: the chain's items and commitments as they stand), not from summaries
    #: counted when activities close: the host keeps it for no later view.
    chain_reads_live: ClassVar[bool] = False

    def __reduce__(self):
        """Pickled (the registry goes to the export worker) as its class alone: a kind's
        in-memory helpers (the roadmap's presence) belong to the process that made them."""
        return (type(self), ())

    # Settings ------------------------------------------------------------------------

    def check_settings(self, data: dict, errors: dict) -> dict:
        """The settings from a form, validated (messages go in ``errors``)."""
        return self.spec.check_settings(data, errors)

    # Writes --------------------------------------------------------------------------

    @abstractmethod
    def write(self, message, tallies, participant_id: int) -> Work:
        """What the writer runs for a phone's websocket message (one of ``messages``).
        On the hot path: no database read, nothing built but the work itself."""

    def draft(self, action: str, data: dict) -> Any:
        """A form post that only changes the phone's unsaved state (no write): the state
        the page is shown again with (``phone_context(draft=...)``), else None."""
        return None

    def next_message(self, message) -> bool:
        """Whether the phone gets its ``mine`` again after this write is acknowledged."""
        return False

    @abstractmethod
    def form_post(self, action: str, tallies, participant_id: int, data: dict, segments: list[str]) -> FormPost:
        """What a form post to ``action`` (one of ``form_actions``) asks for; the same
        service step as ``write``. Raises ``Invalid`` for a form that names nothing."""

    def ack_json(self, ack) -> dict:
        """What a phone is told of a committed write (websocket and HTTP alike): the
        kind's acknowledgement says what it stored (``ack.told()``); a write older than the
        stored answer (by the phone's sequence) is told so, with the stored answer and its
        sequence."""
        return ack_json(ack)

    def signal(self, message, participant_id: int, name: str, mark: Callable[..., None]) -> None:
        """A phone's message of ``signals``: nothing is written; ``mark(*marks)`` marks the
        workshop's topics (or ``Piece``\\ s) dirty for the hub."""
        return None

    def opened(self, session: Session, activity, user) -> None:
        """The facilitator ``user`` opened the activity (in the request's transaction): a
        kind that works on items brings them in here."""
        return None

    def control(self, session: Session, user, chain_id: int, activity, control: str, data: dict) -> None:
        """One of ``controls``, from the console (the route authorized the workshop and
        checked CSRF). Raises ``Invalid`` (shown on the console), ``NotFound``."""
        raise NotImplementedError

    def facilitator_page(self, session: Session, user, chain_id: int, activity, page: str, query: dict):
        """A page of the kind for the facilitator (``GET .../activities/{id}/kind/<page>``):
        ``(template, context)``, or None (404)."""
        return None

    # A phone's own answers -----------------------------------------------------------

    @abstractmethod
    def mine(self, session: Session, tallies, activity, participant_id: int) -> dict:
        """The fields of the websocket's ``{"t": "mine", "a": ...}`` for this participant."""

    @abstractmethod
    def phone_context(self, session: Session, tallies, activity, participant_id: int, draft=None) -> dict:
        """What the phone page's template (``template("phone")``) needs of this
        participant beyond the broadcast view: their answers, a draft. ``answered``
        true says nothing is left for them to answer (the page may then reload itself
        without JavaScript, as while waiting)."""

    def page_context(self, session: Session, activity, participant_id: int, query: dict) -> dict:
        """More of the phone page's context, from its query (``?saved=``, ``?item=``): a
        roadmap shows the outcome of the form just posted (a conflict) there."""
        return {}

    # Tallies -------------------------------------------------------------------------

    @abstractmethod
    def recount(self, session: Session, activity_id: int) -> Any:
        """The live tally counted afresh from the stored rows. A tally has
        ``respondents()`` and ``snapshot()``; committed writes move it."""

    def fresh(self, session: Session, tally) -> None:
        """Bring the tally up to date before a view is built from it (``live_view``): a
        kind whose tally keeps rows read from the database (the roadmap's items) reads again
        those its committed writes marked stale. Most tallies are moved by the writes."""
        return None

    # Views ---------------------------------------------------------------------------

    def phone_card(self, view, part: str) -> tuple[str, dict] | None:
        """A part of the phone's card fetched on its own (``GET /p/<workshop>/card/<part>``),
        when the broadcast stage carries only its summary: the template and its extra
        context (the host adds ``view`` and the participant's ``phone_context``), or None."""
        return None

    def pieces(self, view, keys: list[str]) -> dict[str, dict[str, tuple[str, str, dict]]]:
        """The ``Piece`` marks of this tick, rendered: ``{audience: {topic: (element id,
        template, extra context)}}``; the host renders each template with ``view``."""
        return {}

    @abstractmethod
    def panel(self, view, tally, on_change: Callable[[], None]) -> Any:
        """The kind's part of the live view (``view.panel``), for its templates: figures
        from the tally, none resting on fewer than ``view.min_group_size`` answers.
        ``on_change`` marks the results dirty (a figure computed in the background)."""

    def template(self, audience: str) -> str:
        """The kind's template for ``phone``, ``screen`` (projector), ``console``
        (facilitator's results) or ``results`` (phones' results, once revealed)."""
        return f"activities/{self.key}/_{audience}.html"

    # Results -------------------------------------------------------------------------

    @abstractmethod
    def results(self, view, tally) -> dict:
        """The activity's results as one plain data structure (JSON types only): the only
        source of the JSON API (and of exports, and of results across workshops). The
        host adds the activity, workshop, items and respondents around it."""

    @abstractmethod
    def raw_rows(self, session: Session, activity_id: int) -> list[dict]:
        """One dict per stored answer, for exports; the columns are the kind's
        ``ROW_COLUMNS`` (documented on the kind), in that order."""

    # Results across the workshops of a chain ----------------------------------------
    # A kind without them keeps these defaults: its part of the chain's results page is
    # left out (``chain_results`` None). See docs/methods.md, "Results across a chain".

    def chain_refresh(self, session: Session, workshop_id: int, activity_ids: list[int]) -> None:
        """Count this workshop's closed activities of the kind (``activity_ids``, in the
        order they closed) into the kind's summary, replacing what it kept. The host calls
        it when the workshop's closed activities changed (one closed, one reopened, a
        participant removed); the summary of no activity is none."""
        return None

    def chain_results(self, session: Session, scope) -> dict | None:
        """The kind's part of a chain's results for ``scope`` (``chain_rules.ChainScope``:
        the workshops in the view, each with its minimum, and the cut), as plain JSON data,
        read from the summaries; None: the kind has none. Rendered by
        ``template("chain")`` (and ``template("chain_compare")`` for two side by side)."""
        return None

    def chain_history(self, session: Session, scope, item_id: int) -> dict | None:
        """One library item's figures workshop by workshop (``scope``'s date order), plain
        JSON data (rendered by ``template("chain_history")``); None: not an item of this
        kind in this chain."""
        return None

    # Exports -------------------------------------------------------------------------

    #: The kind's ``ROW_COLUMNS``: the columns of its raw answers in the exports.
    row_columns: ClassVar[tuple[str, ...]] = ()

    def iter_raw_rows(self, session: Session, activity_id: int) -> Iterable[dict]:
        """The stored answers one at a time (``raw_rows``' rows); a kind that may store
        many answers streams them from the database instead of building a list."""
        return iter(self.raw_rows(session, activity_id))

    def export_tables(self, ctx: ExportContext) -> list[ExportTable]:
        """The tables of one activity in the exports (XLSX sheets, CSV files, open-data
        resources): by default its results as shown (``results``, one row per figure) and
        its raw answers (``raw_rows``, participants as pseudonyms). A kind overrides it
        to lay its results out as a reader expects, and may add tables (``key``s shared
        across activities make one table, e.g. every ranking's "action_lines")."""
        _ = ctx.gettext
        results = ExportTable(
            key=f"activity_{ctx.activity_id}",
            title=ctx.label,
            description=_("Results of %(activity)s, one row per figure.", activity=ctx.label),
            columns=(
                Column("figure", STRING, _("Where the figure sits in the results (JSON path).")),
                Column("value", STRING, _("The figure; empty when it rests on too few answers.")),
            ),
            rows=lambda: ((path, None if value is None else str(value)) for path, value in flatten(ctx.results)),
            open_data=True,
        )
        return [results, self.raw_table(ctx)]

    def import_rows(self, session: Session, activity_id: int, rows: list[dict], ids: dict) -> None:
        """Store ``raw_rows``' rows of an activity exported from another installation
        (the full-fidelity JSON). ``ids`` maps that installation's ids to this one's:
        ``ids["participant"]``, ``ids["gap"]``, ``ids["action_line"]``, ``ids["segment"]``
        (old id -> new id). A kind that cannot import its answers refuses the import."""
        raise ValueError(f"answers of {self.key} cannot be imported")

    #: Whether the full-fidelity JSON carries each activity's ``raw_rows`` as its
    #: "answers". A kind whose data lives with the chain (the roadmap) says False and
    #: carries it whole in ``portable_section`` instead.
    answers_in_document: ClassVar[bool] = True

    def portable_section(
        self, session: Session, chain_id: int, activity_ids: list[int], known: dict[str, set], whole: bool
    ) -> dict | None:
        """The kind's data kept with the chain, in the full-fidelity JSON as
        ``kinds.<key>``: of the whole chain (``whole``) or of the exported workshop's
        activities ``activity_ids``. ``known`` holds the participant, activity and workshop
        ids the document carries (others are named as null). None: nothing to carry."""
        return None

    def import_section(self, session: Session, chain_id: int, section: dict, ids: dict, user_id: int, phase: str):
        """Store ``portable_section``'s data in a new chain: ``phase`` "before" the workshops
        are imported (what activities reference) and "after" them (what names participants
        and activities: ``ids["participant"]``, ``ids["activity"]``, ``ids["workshop"]``).
        Ids the document does not hold raise KeyError (the import is refused)."""
        raise ValueError(f"data of {self.key} cannot be imported")

    def raw_table(self, ctx: ExportContext) -> ExportTable:
        """The raw answers of this activity: one row per stored answer (shared by every
        activity of the kind), the participant as a pseudonymous id."""
        _ = ctx.gettext
        names = [c for c in self.row_columns if c != "participant_id"]

        def kind_of(name: str) -> str:
            if name == "updated_at":
                return DATETIME
            return INTEGER if name.endswith("_id") or name == "seq" else STRING

        columns = (
            Column("workshop_id", INTEGER, _("The workshop.")),
            Column("activity_id", INTEGER, _("The activity of the workshop's agenda.")),
            Column("participant", STRING, _("The participant, as a pseudonymous id (the same in every table).")),
            *(
                Column(n, kind_of(n), _("Stored answer field %(name)s (see docs/architecture.md).", name=n))
                for n in names
            ),
        )

        def rows():
            for row in ctx.raw_rows():
                yield (
                    ctx.workshop_id,
                    ctx.activity_id,
                    ctx.pseudonym(row["participant_id"]),
                    *(plain_value(row.get(n)) for n in names),
                )

        return ExportTable(
            key=f"raw_{self.key}",
            title=_("Raw answers – %(kind)s", kind=_(self.spec.label))[:31],
            description=_(
                "One row per stored answer of the activities of this kind (%(kind)s).", kind=_(self.spec.label)
            ),
            columns=columns,
            rows=rows,
        )


@dataclass
class Registry:
    """The activity kinds of this app, by key, by phone message and by form post."""

    _kinds: dict[str, ActivityType] = field(default_factory=dict)
    _by_message: dict[str, ActivityType] = field(default_factory=dict)
    _by_form: dict[str, ActivityType] = field(default_factory=dict)

    def register(self, kind: ActivityType) -> ActivityType:
        sent = (*kind.messages, *kind.signals)
        for name, table in ((kind.key, self._kinds), *((m, self._by_message) for m in sent)):
            if name in table:
                raise ValueError(f"{name!r} is registered twice")
        for action in kind.form_actions:
            if action in self._by_form:
                raise ValueError(f"form action {action!r} is registered twice")
        self._kinds[kind.key] = kind
        self._by_message.update(dict.fromkeys(sent, kind))
        self._by_form.update(dict.fromkeys(kind.form_actions, kind))
        return kind

    def get(self, key: str) -> ActivityType | None:
        """The kind of an activity (its ``kind`` column), or None when it cannot run live."""
        return self._kinds.get(key)

    def __getitem__(self, key: str) -> ActivityType:
        return self._kinds[key]

    def __contains__(self, key: object) -> bool:
        return key in self._kinds

    def __iter__(self):
        return iter(self._kinds.values())

    def for_message(self, t: str) -> ActivityType:
        """The kind that writes (or, for its ``signals``, handles) a phone message of type ``t``."""
        return self._by_message[t]

    def for_form(self, action: str) -> ActivityType | None:
        """The kind that answers a form post to ``/p/{workshop_id}/<action>``."""
        return self._by_form.get(action)
