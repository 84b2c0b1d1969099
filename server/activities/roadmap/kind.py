"""Roadmap editing as an ``ActivityType``: the room co-edits the chain's roadmap live.

Every phone write (a field, a row, a commitment, a comment, a +1) is a function of the
writer's session calling the domain layer (``service``, ``social``, ``items``) with the
phone's idempotency key; its outcome (``Applied``, ``Conflict``, ``Suggested``, ``Done``)
is the acknowledgement, sent once committed. After commit the item is marked stale in the
live state (``live.RoadmapTally``) and the hub is told to send that item alone
(``Piece("item:<id>")``), so phones update it without losing what someone is typing.
"Editing this field now" is a signal (``rm_focus``), never written (``live.Presence``).
Form posts (no JavaScript) run the same steps; the console's controls and the item
history page are in ``moderation.py``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from server.activities.registry import ActivityType, FormPost, refusing
from server.activities.roadmap import chain_store, export, items, live, moderation, portable, service, social
from server.activities.roadmap.fields import ITEM_FIELDS, ROW_FIELDS
from server.activities.roadmap.outcomes import Conflict, earlier
from server.activities.roadmap.panel import ITEM_TEMPLATE, RoadmapPanel, build_panel, pieces
from server.activities.roadmap.service import AsParticipant
from server.activities.roadmap.spec import ROADMAP
from server.activities.tables import ExportContext, ExportTable
from server.activities.values import an_id
from server.db import after_commit
from server.errors import Invalid
from server.i18n import N_, Message, Nn_
from server.models import Activity, RoadmapCommitment, RoadmapRevision, RoadmapSupport
from server.outbox import notify
from server.realtime.topics import Piece, Topic

# The columns of ``raw_rows``: one row per accepted change made in the activity (its
# revisions): the item, the field (or list, with ``row_id``), the kind of change, the old
# and new values (JSON), the version it made, who (participant id, or user id for a
# facilitator) and when.
ROW_COLUMNS = ("item_id", "field", "row_id", "change", "old", "new", "version", "participant_id", "user_id", "at")

FORM_ACTIONS = ("rm_edit", "rm_row", "rm_commit", "rm_withdraw", "rm_comment", "rm_plus")


def _refuse(message: str) -> Invalid:
    return Invalid({"__all__": Message(message)})


def form_value(field: str, data: dict):
    """A field's value as a form posts it (a budget: two inputs)."""
    if field == "budget":
        return {"amount": data.get("amount", ""), "currency": data.get("currency", "")}
    return data.get("value", "")


def form_row(kind: str, data: dict) -> dict:
    return {name: data.get(name, "") for name in ROW_FIELDS.get(kind, ())}


# What a write that is done changes of its item: only its lists (and the summary's counts).
LIST_CHANGES = frozenset({"commitment", "withdrawal", "comment", "hidden", "support"})


class Roadmap(ActivityType):
    key = ROADMAP.key
    spec = ROADMAP
    messages = ("rm_edit", "rm_row", "rm_commit", "rm_withdraw", "rm_comment", "rm_plus")
    signals = ("rm_focus",)
    form_actions = FORM_ACTIONS
    controls = moderation.CONTROLS
    projector_lists_items = False
    projector_waits_for_results = False
    phone_css = True
    chain_reads_live = True
    row_columns = ROW_COLUMNS
    took_part = Nn_("%(num)s of %(total)s has taken part", "%(num)s of %(total)s have taken part")

    def __init__(self) -> None:
        self.presence = live.Presence()
        self._tallies: dict[int, live.RoadmapTally] = {}  # the latest per activity (this app)

    # Writes --------------------------------------------------------------------------

    def _work(self, activity_id, participant_id: int, call):
        """The writer's step: the domain call, then (after commit) the item read again and
        sent to the room. A repeat (``duplicate``) changes nothing and tells no one."""

        def work(session: Session):
            outcome = call(session, AsParticipant(participant_id, activity_id))
            if not outcome.duplicate:
                activity = session.get(Activity, activity_id)
                self.changed(session, activity, outcome, participant_id)
            return outcome

        return work

    def changed(self, session: Session, activity: Activity, outcome, participant_id: int | None) -> None:
        """After commit: the live state moves, the console's figures and the item go out."""
        after_commit(session, lambda: self._moved(activity.id, outcome, participant_id))
        marks = [Topic.RESULTS, Topic.COUNTS]
        if outcome.kind == "applied" and outcome.slot in ITEM_FIELDS:  # one field: only it goes out
            marks.append(Piece(f"field:{outcome.item_id}:{outcome.slot}"))
        elif (
            outcome.kind == "applied" or (outcome.kind == "done" and outcome.what in LIST_CHANGES)
        ) and outcome.item_id:
            marks.append(Piece(f"rows:{outcome.item_id}"))  # a row, commitment, comment, +1: the lists
        elif outcome.kind != "conflict" and outcome.item_id:
            marks.append(Piece(f"item:{outcome.item_id}"))
        if outcome.kind == "done" and outcome.what in ("item", "lock_activity"):
            marks.append(Topic.STAGE)
        notify(session, activity.workshop_id, *marks)

    def _moved(self, activity_id: int, outcome, participant_id) -> None:
        tally = self._tallies.get(activity_id)
        if tally is not None:
            tally.moved(outcome, participant_id)

    def write(self, m, tallies, participant_id: int):
        return self._work(m.a, participant_id, self._call(m.t, m))

    @staticmethod
    def _call(t: str, m):
        if t == "rm_edit":
            value = m.v.model_dump() if hasattr(m.v, "model_dump") else m.v
            return lambda s, who: service.edit_field(s, who, m.i, m.f, m.b, value, key=m.k)
        if t == "rm_row":
            value = m.v.model_dump(exclude_none=True) if m.v is not None else None
            if m.n is None:
                return lambda s, who: service.add_row(s, who, m.i, m.r, value, key=m.k)
            if value is None:
                return lambda s, who: service.remove_row(s, who, m.i, m.r, m.n, m.b, key=m.k)
            return lambda s, who: service.edit_row(s, who, m.i, m.r, m.n, m.b, value, key=m.k)
        if t == "rm_commit":
            return lambda s, who: social.commit(s, who, m.i, m.org, m.role, m.note, key=m.k)
        if t == "rm_withdraw":
            return lambda s, who: social.withdraw(s, who, m.c, m.note, key=m.k)
        if t == "rm_comment":
            return lambda s, who: social.comment(s, who, m.i, m.text, key=m.k)
        return lambda s, who: social.support(s, who, m.i, m.on, key=m.k)

    def form_post(self, action: str, tallies, participant_id: int, data: dict, segments: list[str]) -> FormPost:
        item = an_id(data.get("item")) or 0
        what = data.get("field") or data.get("kind") or action
        key = str(data.get("key") or "")
        posted = FormPost(slot=f"{item}.{what}~{key}", anchor=f"item-{item}")
        activity_id = an_id(data.get("activity"))
        if activity_id is None:
            posted.write = refusing(_refuse(N_("This activity does not exist.")))
            return posted
        call = self._form_call(action, data, key)
        posted.write = self._work(activity_id, participant_id, call)
        return posted

    @staticmethod
    def _form_call(action: str, data: dict, key: str):
        item = data.get("item")
        if action == "rm_edit":
            field = data.get("field", "")
            value = form_value(field, data)
            return lambda s, who: service.edit_field(s, who, item, field, data.get("base"), value, key=key)
        if action == "rm_row":
            kind, row = data.get("kind", ""), data.get("row")
            if data.get("op") == "remove":
                return lambda s, who: service.remove_row(s, who, item, kind, row, data.get("base"), key=key)
            if row:
                value = form_row(kind, data)
                return lambda s, who: service.edit_row(s, who, item, kind, row, data.get("base"), value, key=key)
            return lambda s, who: service.add_row(s, who, item, kind, form_row(kind, data), key=key)
        if action == "rm_commit":
            org, role, note = data.get("organization", ""), data.get("role", ""), data.get("note", "")
            return lambda s, who: social.commit(s, who, item, org, role, note, key=key)
        if action == "rm_withdraw":
            return lambda s, who: social.withdraw(s, who, data.get("commitment"), data.get("note", ""), key=key)
        if action == "rm_comment":
            return lambda s, who: social.comment(s, who, item, data.get("text", ""), key=key)
        on = data.get("on", "1") not in ("", "0", "off", "false")
        return lambda s, who: social.support(s, who, item, on, key=key)

    def signal(self, message, participant_id: int, name: str, mark) -> None:
        """ "Editing field f of item i now": told to the room, rate-limited, never stored."""
        if message.f and message.f not in ITEM_FIELDS and message.f not in ROW_FIELDS:
            return
        if not self.presence.allow(participant_id, blur=not message.f):
            return
        clean = " ".join(name.split())[:60]
        mark(Piece(f"focus:{message.a}:{message.i}:{message.f}:{participant_id}:{clean}"))

    # Opening -------------------------------------------------------------------------

    def opened(self, session: Session, activity, user) -> None:
        """Bring the activity's items in (its settings: ``spec.py``); again changes nothing."""
        chain_id = moderation.chain_of(session, activity)
        actor = moderation.facilitator(session, user, chain_id, activity)
        items.bring_in(session, actor, activity)
        after_commit(session, lambda: self._touch(activity.id))

    def _touch(self, activity_id: int, item_id: int | None = None) -> None:
        tally = self._tallies.get(activity_id)
        if tally is not None:
            tally.touch(item_id)

    def control(self, session: Session, user, chain_id: int, activity, control: str, data: dict) -> None:
        item_id = moderation.control(session, user, chain_id, activity, control, data)
        after_commit(session, lambda: self._touch(activity.id, item_id))
        marks = [Topic.RESULTS, Topic.COUNTS] + ([Piece(f"item:{item_id}")] if item_id else [Topic.STAGE])
        if control in ("lock_item", "unlock_item"):  # the card itself changes (its forms): drawn again whole
            marks.append(Topic.STAGE)
        notify(session, activity.workshop_id, *marks)

    def facilitator_page(self, session: Session, user, chain_id: int, activity, page: str, query: dict):
        return moderation.page(session, chain_id, activity, page, query)

    # A phone's own -------------------------------------------------------------------

    @staticmethod
    def _own(session: Session, activity, participant_id: int) -> dict:
        item_ids = items.items_of_activity(session, activity.id)
        supported = session.execute(
            select(RoadmapSupport.item_id).where(
                RoadmapSupport.participant_id == participant_id, RoadmapSupport.item_id.in_(item_ids)
            )
        ).scalars()
        commitments = session.execute(
            select(RoadmapCommitment.id).where(
                RoadmapCommitment.participant_id == participant_id, RoadmapCommitment.item_id.in_(item_ids)
            )
        ).scalars()
        return {"supported": sorted(supported), "commitments": sorted(commitments), "me": participant_id}

    def mine(self, session: Session, tallies, activity, participant_id: int) -> dict:
        return self._own(session, activity, participant_id)

    def phone_context(self, session: Session, tallies, activity, participant_id: int, draft=None) -> dict:
        return {"own": self._own(session, activity, participant_id)}

    def page_context(self, session: Session, activity, participant_id: int, query: dict) -> dict:
        """The outcome of the form just posted (``?saved=<item>.<field>~<key>``): a conflict
        is shown at its field, with the editor's own value kept."""
        context: dict = {"open_item": an_id(query.get("item"))}
        saved = str(query.get("saved") or "")
        where, _, key = saved.partition("~")
        item = where.partition(".")[0]
        if key and an_id(item) is not None:
            context["open_item"] = an_id(item)
            outcome = earlier(session, participant_id, None, key[:64])
            if isinstance(outcome, Conflict):
                context["conflict"] = outcome
        return context

    # Live state ----------------------------------------------------------------------

    def recount(self, session: Session, activity_id: int):
        tally = live.recount(session, activity_id)
        self._tallies[activity_id] = tally
        return tally

    def fresh(self, session: Session, tally) -> None:
        self._tallies[tally.activity_id] = tally
        live.fresh(session, tally)

    def panel(self, view, tally, on_change) -> RoadmapPanel:
        return build_panel(view, tally, self.presence)

    def pieces(self, view, keys: list[str]):
        return pieces(view, keys, self.presence)

    def phone_card(self, view, part: str):
        """``item-<id>``: that item's whole card (the broadcast stage has its summary)."""
        panel = view.panel
        item_id = an_id(part[5:]) if part.startswith("item-") else None
        it = panel.item(item_id) if isinstance(panel, RoadmapPanel) and item_id is not None else None
        return None if it is None else (ITEM_TEMPLATE, {"it": it})

    def results(self, view, tally) -> dict:
        panel = view.panel
        return {
            "roadmap": {
                "items": [
                    {
                        "id": it.id,
                        "values": it.values,
                        "versions": it.versions,
                        "locked": it.locked,
                        "rows": {k: [{"id": r.id, "value": r.value} for r in rows] for k, rows in it.rows.items()},
                        "commitments": [
                            {"organization": c.organization, "role": c.role, "note": c.note}
                            for c in it.active_commitments
                        ],
                        "supports": it.supports,
                    }
                    for it in panel.items
                ],
                "edits": panel.edits,
                "conflicts": panel.conflicts,
            }
        }

    def chain_results(self, session: Session, scope) -> dict | None:
        """The chain's roadmap as it stands: items by status and horizon, commitments by
        organization and by stakeholder group, items no one committed to (``chain.py``)."""
        return chain_store.section(session, scope)

    def raw_rows(self, session: Session, activity_id: int) -> list[dict]:
        rows = session.execute(
            select(
                RoadmapRevision.item_id,
                RoadmapRevision.field,
                RoadmapRevision.row_id,
                RoadmapRevision.change,
                RoadmapRevision.old,
                RoadmapRevision.new,
                RoadmapRevision.version,
                RoadmapRevision.participant_id,
                RoadmapRevision.user_id,
                RoadmapRevision.created_at,
            )
            .where(RoadmapRevision.activity_id == activity_id)
            .order_by(RoadmapRevision.id)
        )
        return [dict(zip(ROW_COLUMNS, row, strict=True)) for row in rows]

    answers_in_document = False  # the revisions are in the roadmap's section, whole

    def portable_section(self, session: Session, chain_id: int, activity_ids, known, whole: bool) -> dict | None:
        """The roadmap in the full-fidelity JSON (``portable.py``)."""
        return portable.section(session, chain_id, activity_ids, known, whole)

    def import_section(self, session: Session, chain_id: int, section: dict, ids: dict, user_id: int, phase: str):
        if phase == "before":
            portable.import_items(session, chain_id, section, ids)
        else:
            portable.import_people(session, section, ids, user_id)

    def export_tables(self, ctx: ExportContext) -> list[ExportTable]:
        """The roadmap matrix and its lists, shared across activities (``export.py``)."""
        return export.export_tables(ctx)
