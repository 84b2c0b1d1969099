"""The roadmap's use cases on a real database: edits, conflicts, rows, revisions and
restores, idempotency, commitments, comments, +1, suggestions, bringing items in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from server.activities.roadmap import items as roadmap_items
from server.activities.roadmap import reading, social, suggestions
from server.activities.roadmap import service as roadmap
from server.activities.roadmap.outcomes import Applied, Conflict, Done, Suggested
from server.errors import Invalid
from server.models import (
    ActionLine,
    RoadmapItem,
    RoadmapItemActionLine,
    RoadmapReceipt,
    RoadmapRevision,
)


def _view(world, item_id):
    return world.run(lambda s: reading.item_view(s, item_id))


def _revisions(world) -> int:
    return world.run(lambda s: s.execute(select(func.count()).select_from(RoadmapRevision)).scalar_one())


def test_bring_in_makes_one_item_per_action_line_in_the_rankings_order_and_again_changes_nothing(world, db):
    lines = list(db.exec(select(ActionLine.id).where(ActionLine.value_chain_id == world.chain_id)).scalars())
    assert len(world.items) == 4
    linked = dict(db.exec(select(RoadmapItemActionLine.item_id, RoadmapItemActionLine.action_line_id)).all())
    assert [linked[i] for i in world.items] == sorted(lines)
    titles = [_view(world, i).values["title"] for i in world.items]
    assert titles == ["Línea 1", "Línea 2", "Línea 3", "Línea 4"]
    again = world.run(
        lambda s: roadmap_items.bring_in(s, world.facilitator(s), s.get(roadmap_items.Activity, world.activity_id))
    )
    assert again == world.items
    assert db.exec(select(func.count()).select_from(RoadmapItem)).scalar_one() == 4


def test_an_edit_applies_moves_the_version_and_is_a_revision_naming_who_and_where(world):
    item = world.items[0]
    out = world.run(lambda s: roadmap.edit_field(s, world.phone(0), item, "title", 0, "Centro de acopio", "k-0000001"))
    assert isinstance(out, Applied) and out.version == 1 and out.changed
    view = _view(world, item)
    assert view.values["title"] == "Centro de acopio" and view.versions["title"] == 1
    last = world.run(lambda s: reading.history(s, item))[-1]
    assert (last.field, last.old, last.new, last.change) == ("title", "Línea 1", "Centro de acopio", "edit")
    assert (last.participant_id, last.author, last.activity_id, last.workshop_id) == (
        world.participants[0],
        "Ana",
        world.activity_id,
        world.workshop_id,
    )
    assert world.run(lambda s: reading.workshops_of_item(s, item)) == [world.workshop_id]


def test_a_stale_edit_is_a_conflict_with_the_current_value_who_and_the_editors_text(world):
    item = world.items[0]
    world.run(lambda s: roadmap.edit_field(s, world.phone(0), item, "title", 0, "Ana's", "k-0000001"))
    out = world.run(lambda s: roadmap.edit_field(s, world.phone(1), item, "title", 0, "Luis's", "k-0000002"))
    assert isinstance(out, Conflict)
    assert (out.yours, out.current, out.version, out.by.name) == ("Luis's", "Ana's", 1, "Ana")
    assert out.by.participant_id == world.participants[0]
    assert _view(world, item).values["title"] == "Ana's"
    # keep mine, now from the current version
    kept = world.run(
        lambda s: roadmap.edit_field(s, world.phone(1), item, "title", out.version, out.yours, "k-0000003")
    )
    assert isinstance(kept, Applied) and _view(world, item).values["title"] == "Luis's"


def test_edits_to_different_fields_from_the_same_view_are_all_kept(world):
    item = world.items[1]
    edits = [
        ("title", "Plan"),
        ("budget", {"amount": "15000,5", "currency": "pen"}),
        ("horizon", "short"),
        ("phase", "governance"),
        ("pilot", True),
        ("status", "agreed"),
        ("progress", 40),
        ("lead_organization", "Gobierno Regional"),
        ("funding_source", "Procompite"),
        ("description", "Un centro"),
    ]
    for n, (field, value) in enumerate(edits):
        out = world.run(
            lambda s, f=field, v=value, n=n: roadmap.edit_field(s, world.phone(n % 3), item, f, 0, v, f"key-{n:05}")
        )
        assert isinstance(out, Applied), field
    view = _view(world, item)
    assert view.values["budget"] == {"amount": "15000.50", "currency": "PEN"}
    assert view.values["pilot"] is True and view.values["progress"] == 40 and view.values["phase"] == "governance"
    assert set(view.versions.values()) == {1}
    stored = world.run(lambda s: s.get(RoadmapItem, item).budget_amount)
    assert stored == Decimal("15000.50")


def test_an_edit_to_the_same_value_changes_nothing(world):
    item = world.items[0]
    before = _revisions(world)
    out = world.run(lambda s: roadmap.edit_field(s, world.phone(0), item, "title", 0, "Línea 1", "k-0000001"))
    assert isinstance(out, Applied) and not out.changed and out.version == 0
    assert _revisions(world) == before


def test_rows_two_milestones_at_once_edit_remove_and_restore(world):
    item = world.items[0]
    a = world.run(
        lambda s: roadmap.add_row(
            s, world.phone(0), item, "milestone", {"text": "Estudio", "date": "2027-03-31"}, "k-0000001"
        )
    )
    b = world.run(lambda s: roadmap.add_row(s, world.phone(1), item, "milestone", {"text": "Piloto"}, "k-0000002"))
    assert isinstance(a, Applied) and isinstance(b, Applied) and a.slot != b.slot
    row_a = int(a.slot.split(":")[1])
    edited = world.run(
        lambda s: roadmap.edit_row(
            s, world.phone(2), item, "milestone", row_a, 1, {"text": "Estudio final", "date": ""}, "k-0000003"
        )
    )
    assert isinstance(edited, Applied) and edited.version == 2
    stale = world.run(lambda s: roadmap.remove_row(s, world.phone(1), item, "milestone", row_a, 1, "k-0000004"))
    assert isinstance(stale, Conflict) and stale.current == {"text": "Estudio final", "date": None}
    removed = world.run(lambda s: roadmap.remove_row(s, world.phone(1), item, "milestone", row_a, 2, "k-0000005"))
    assert isinstance(removed, Applied) and removed.value is None
    assert [r.value["text"] for r in _view(world, item).rows["milestone"]] == ["Piloto"]
    added_revision = world.run(lambda s: reading.history(s, item))[1]
    assert added_revision.change == "add"
    restored = world.run(lambda s: roadmap.restore(s, world.facilitator(s), added_revision.id))
    assert isinstance(restored, Applied)
    assert sorted(r.value["text"] for r in _view(world, item).rows["milestone"]) == ["Estudio", "Piloto"]
    indicator = {"name": "Socios", "baseline": "0", "target": "120", "unit": "productores"}
    assert isinstance(
        world.run(lambda s: roadmap.add_row(s, world.phone(0), item, "indicator", indicator, "k-0000006")), Applied
    )
    assert (
        world.run(
            lambda s: roadmap.add_row(s, world.phone(0), item, "partner", {"organization": "UNSAAC"}, "k-0000007")
        ).version
        == 1
    )
    assert _view(world, item).rows["indicator"][0].value == indicator


def test_restore_is_a_new_revision_and_replaying_the_history_gives_the_item(world):
    item = world.items[0]
    for n, title in enumerate(["Uno", "Dos", "Tres"]):
        world.run(lambda s, n=n, t=title: roadmap.edit_field(s, world.phone(0), item, "title", n, t, f"key-{n:05}"))
    history = world.run(lambda s: reading.history(s, item))
    first_edit = next(r for r in history if r.new == "Uno")
    out = world.run(lambda s: roadmap.restore(s, world.facilitator(s), first_edit.id))
    assert isinstance(out, Applied) and out.value == "Uno" and out.version == 4
    history = world.run(lambda s: reading.history(s, item))
    assert history[-1].change == "restore" and history[-1].restored_from == first_edit.id
    assert history[-1].old == "Tres" and history[-1].user_id == world.user.id
    from server.activities.roadmap import merge

    edits = [r.as_merge() for r in history if r.field == "title"]
    assert merge.check_history(edits, {"title": merge.Slot("Línea 1", 0)}) == []
    with pytest.raises(Invalid) as refused:
        world.run(lambda s: roadmap.restore(s, world.phone(0), first_edit.id, "k-0000009"))
    assert "facilitator" in str(refused.value.errors["__all__"].msgid)


def test_a_repeated_key_answers_the_first_outcome_and_changes_nothing(world):
    item = world.items[0]
    first = world.run(lambda s: roadmap.edit_field(s, world.phone(0), item, "title", 0, "Uno", "same-key-1"))
    again = world.run(lambda s: roadmap.edit_field(s, world.phone(0), item, "title", 0, "Uno", "same-key-1"))
    assert again.duplicate and again.revision_id == first.revision_id and again.version == 1
    world.run(lambda s: roadmap.edit_field(s, world.phone(1), item, "title", 1, "Dos", "other-key-1"))
    lost = world.run(lambda s: roadmap.edit_field(s, world.phone(0), item, "title", 1, "Tres", "same-key-2"))
    assert isinstance(lost, Conflict)
    world.set_settings(locked=True)  # and even after the activity is locked or closed
    repeat = world.run(lambda s: roadmap.edit_field(s, world.phone(0), item, "title", 1, "Tres", "same-key-2"))
    assert isinstance(repeat, Conflict) and repeat.duplicate and repeat.current == "Dos"
    assert _view(world, item).values["title"] == "Dos"


ITEM = object()  # the first item


@pytest.mark.parametrize(
    ("who", "item", "field", "value", "where"),
    [
        (0, 999999, "title", "x", "__all__"),  # unknown item
        (0, "abc", "title", "x", "__all__"),
        (0, ITEM, "colour", "x", "__all__"),  # unknown field
        (0, ITEM, "title", "x" * 301, "title"),
        (0, ITEM, "title", "   ", "title"),
        (0, ITEM, "title", "a\x00b", "title"),
        (0, ITEM, "title", 12, "title"),
        (0, ITEM, "budget", {"amount": "-5", "currency": "PEN"}, "budget"),
        (0, ITEM, "budget", {"amount": "mil", "currency": "PEN"}, "budget"),
        (0, ITEM, "budget", {"amount": 1.5, "currency": "PEN"}, "budget"),
        (0, ITEM, "budget", {"amount": "1" * 16, "currency": "PEN"}, "budget"),
        (0, ITEM, "budget", {"amount": "1000000000000", "currency": "PEN"}, "budget"),
        (0, ITEM, "budget", {"amount": "10.555", "currency": "PEN"}, "budget"),
        (0, ITEM, "budget", {"amount": "10", "currency": "XYZ"}, "budget"),
        (0, ITEM, "budget", "10 soles", "budget"),
        (0, ITEM, "horizon", "soon", "horizon"),
        (0, ITEM, "phase", "harvest", "phase"),
        (0, ITEM, "status", "finished", "status"),
        (0, ITEM, "status", None, "status"),
        (0, ITEM, "progress", 101, "progress"),
        (0, ITEM, "progress", -1, "progress"),
        (0, ITEM, "progress", "50.5", "progress"),
        (0, ITEM, "progress", True, "progress"),
        (0, ITEM, "pilot", "maybe", "pilot"),
        ("stranger", ITEM, "title", "x", "__all__"),  # a participant of another workshop
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(world, who, item, field, value, where):
    item = world.items[0] if item is ITEM else item
    phone = roadmap.AsParticipant(world.stranger, world.activity_id) if who == "stranger" else world.phone(who)
    before = (_view(world, world.items[0]), _revisions(world))
    with pytest.raises(Invalid) as refused:
        world.run(lambda s: roadmap.edit_field(s, phone, item, field, 0, value, "bad-key-01"))
    assert where in refused.value.errors
    assert (_view(world, world.items[0]), _revisions(world)) == before
    assert world.run(lambda s: s.execute(select(func.count()).select_from(RoadmapReceipt)).scalar_one()) == 0


def test_a_locked_item_refuses_participants_but_not_commitments(world):
    item = world.items[0]
    out = world.run(lambda s: roadmap.set_locked(s, world.facilitator(s), item, True))
    assert isinstance(out, Done)
    with pytest.raises(Invalid):
        world.run(lambda s: roadmap.edit_field(s, world.phone(0), item, "title", 0, "x", "k-0000001"))
    with pytest.raises(Invalid):
        world.run(lambda s: roadmap.add_row(s, world.phone(0), item, "partner", {"organization": "x"}, "k-0000002"))
    done = world.run(lambda s: social.commit(s, world.phone(0), item, "", "lead", key="k-0000003"))
    assert done.value == {"organization": "Cooperativa Valle", "role": "lead"}
    # the facilitator still edits it
    assert isinstance(
        world.run(lambda s: roadmap.edit_field(s, world.facilitator(s), item, "title", 0, "Fijo")), Applied
    )
    assert _view(world, item).locked


def test_a_locked_or_closed_activity_refuses_participants(world):
    world.set_settings(locked=True)
    with pytest.raises(Invalid):
        world.run(lambda s: roadmap.edit_field(s, world.phone(0), world.items[0], "title", 0, "x", "k-0000001"))
    with pytest.raises(Invalid):
        world.run(lambda s: social.comment(s, world.phone(0), world.items[0], "hola", "k-0000002"))


def test_commitments_are_kept_as_made_and_withdrawing_is_its_own_record(world):
    item = world.items[0]
    made = world.run(
        lambda s: social.commit(s, world.phone(0), item, "Cooperativa Valle", "funder", "S/ 5000", key="k-0000001")
    )
    with pytest.raises(Invalid):  # unknown role
        world.run(lambda s: social.commit(s, world.phone(0), item, "X", "sponsor", key="k-0000002"))
    with pytest.raises(Invalid):  # someone else's commitment
        world.run(lambda s: social.withdraw(s, world.phone(1), made.id, key="k-0000003"))
    world.run(lambda s: social.withdraw(s, world.phone(0), made.id, "cambio de planes", key="k-0000004"))
    behalf = world.run(
        lambda s: social.commit(
            s, world.facilitator(s), item, "Municipalidad", "partner", on_behalf_of=world.participants[1]
        )
    )
    with pytest.raises(Invalid):  # on behalf of someone of another workshop
        world.run(lambda s: social.commit(s, world.facilitator(s), item, "ONG", "other", on_behalf_of=world.stranger))
    view = _view(world, item)
    first, second = view.commitments
    assert (first.organization, first.role, first.note, first.withdrawn_note) == (
        "Cooperativa Valle",
        "funder",
        "S/ 5000",
        "cambio de planes",
    )
    assert first.withdrawn_at is not None
    assert second.id == behalf.id and second.user_id == world.user.id and second.participant_id == world.participants[1]
    assert [c.organization for c in view.active_commitments] == ["Municipalidad"]


def test_comments_can_be_hidden_and_plus_ones_count_once(world):
    item = world.items[0]
    said = world.run(lambda s: social.comment(s, world.phone(0), item, "¿Quién financia?", "k-0000001"))
    with pytest.raises(Invalid):
        world.run(lambda s: social.comment(s, world.phone(0), item, "x" * 1001, "k-0000002"))
    world.run(lambda s: social.hide_comment(s, world.facilitator(s), said.id))
    with pytest.raises(Invalid):
        world.run(lambda s: social.hide_comment(s, world.phone(1), said.id, key="k-0000003"))
    assert _view(world, item).comments == []
    hidden = world.run(lambda s: reading.item_view(s, item, hidden_comments=True)).comments
    assert hidden[0].hidden
    for n in range(3):
        out = world.run(lambda s, n=n: social.support(s, world.phone(n % 2), item, True, f"plus-{n:04}"))
    assert out.value == {"on": True, "count": 2}
    off = world.run(lambda s: social.support(s, world.phone(1), item, False, "plus-off-1"))
    assert off.value["count"] == 1
    assert world.run(lambda s: reading.item_view(s, item, participant_id=world.participants[0])).supported


def test_suggestions_wait_for_the_facilitator(world):
    world.set_settings(edit_mode="suggest")
    item = world.items[0]
    out = world.run(lambda s: roadmap.edit_field(s, world.phone(0), item, "title", 0, "Sugerido", "k-0000001"))
    assert isinstance(out, Suggested) and _view(world, item).values["title"] == "Línea 1"
    row = world.run(lambda s: roadmap.add_row(s, world.phone(1), item, "milestone", {"text": "Hito"}, "k-0000002"))
    assert isinstance(row, Suggested)
    with pytest.raises(Invalid):
        world.run(lambda s: roadmap_items.create_item(s, world.phone(0), {"title": "Nuevo"}, key="k-0000003"))
    accepted = world.run(lambda s: suggestions.accept(s, world.facilitator(s), out.suggestion_id))
    assert isinstance(accepted, Applied)
    last = world.run(lambda s: reading.history(s, item))[-1]
    assert (last.participant_id, last.user_id, last.author) == (world.participants[0], world.user.id, "Ana")
    assert isinstance(world.run(lambda s: suggestions.accept(s, world.facilitator(s), row.suggestion_id)), Applied)
    assert [r.value["text"] for r in _view(world, item).rows["milestone"]] == ["Hito"]
    with pytest.raises(Invalid):  # already decided
        world.run(lambda s: suggestions.reject(s, world.facilitator(s), out.suggestion_id))


def test_items_are_created_new_or_from_an_action_line_and_brought_into_the_activity(world, db):
    new = world.run(
        lambda s: roadmap_items.create_item(s, world.phone(0), {"title": "Feria", "horizon": "medium"}, key="k-0000001")
    )
    assert new.id not in world.items
    assert world.run(lambda s: roadmap_items.items_of_activity(s, world.activity_id))[-1] == new.id
    line = db.exec(select(ActionLine).where(ActionLine.value_chain_id == world.chain_id)).scalars().first()
    made = world.run(lambda s: roadmap_items.create_item(s, world.facilitator(s), {}, action_line_id=line.id))
    view = _view(world, made.id)
    assert view.values["title"] == line.title and view.action_lines == [line.id]
    with pytest.raises(Invalid) as refused:
        world.run(
            lambda s: roadmap_items.create_item(s, world.phone(0), {"title": "", "progress": 300}, key="k-0000002")
        )
    assert set(refused.value.errors) == {"title", "progress"}
    history = world.run(lambda s: reading.history(s, new.id))
    assert history[0].change == "create" and history[0].new["horizon"] == "medium"
