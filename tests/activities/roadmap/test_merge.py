"""The roadmap's merge rules (``merge.py``, pure): examples, then properties over random
sequences of edits, conflicts and restores."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from server.activities.roadmap import merge
from server.activities.roadmap.merge import Applied, Conflict, Edit, Slot

SLOTS = ("title", "budget", "phase", "milestone:1", "milestone:2", "partner:7")
VALUES = st.one_of(st.none(), st.text(max_size=3), st.integers(0, 3))


def test_an_edit_from_the_current_version_applies_and_makes_a_revision():
    item = {"title": Slot("Old", 2, "ana")}
    state, outcome = merge.apply(item, Edit("title", 2, "New", "luis"))
    assert isinstance(outcome, Applied) and outcome.changed
    assert outcome.revision == merge.Revision("title", "Old", "New", 3, merge.EDIT, "luis")
    assert state["title"] == Slot("New", 3, "luis")


def test_a_stale_edit_is_a_conflict_that_keeps_the_editors_text():
    item = {"title": Slot("Theirs", 3, "ana")}
    state, outcome = merge.apply(item, Edit("title", 2, "Mine", "luis"))
    assert outcome == Conflict("title", "Mine", "Theirs", 3, "ana")
    assert state == item
    # keep mine: the same text, from the version now
    state, again = merge.apply(state, outcome.keep_mine("luis"))
    assert isinstance(again, Applied) and state["title"] == Slot("Mine", 4, "luis")


def test_an_edit_that_changes_nothing_moves_no_version():
    item = {"title": Slot("Same", 1)}
    state, outcome = merge.apply(item, Edit("title", 1, "Same"))
    assert isinstance(outcome, Applied) and not outcome.changed
    assert state == item


def test_rows_are_added_edited_removed_and_restored():
    state, added = merge.apply({}, Edit("milestone:1", 0, {"text": "Plan"}))
    assert added.revision.change == merge.ADD
    state, removed = merge.apply(state, Edit("milestone:1", 1, None))
    assert removed.revision.change == merge.REMOVE and merge.values(state) == {}
    revisions = merge.numbered([added.revision, removed.revision])
    state, restored = merge.apply(state, merge.restore(state, revisions[0]))
    assert restored.revision.change == merge.RESTORE and restored.revision.restored_from == 1
    assert merge.values(state) == {"milestone:1": {"text": "Plan"}}


def test_two_rows_added_at_once_are_both_kept():
    state, outcomes = merge.apply_all(
        {}, [Edit("milestone:1", 0, {"text": "a"}), Edit("milestone:2", 0, {"text": "b"})]
    )
    assert all(isinstance(o, Applied) for o in outcomes)
    assert merge.values(state) == {"milestone:1": {"text": "a"}, "milestone:2": {"text": "b"}}


# Properties ------------------------------------------------------------------------

items = st.dictionaries(st.sampled_from(SLOTS), st.builds(Slot, VALUES, st.integers(0, 5)), max_size=len(SLOTS))


@st.composite
def fresh_edits(draw, item):
    """Edits of distinct slots, each from the slot's current version."""
    slots = draw(st.lists(st.sampled_from(SLOTS), unique=True, min_size=2, max_size=len(SLOTS)))
    return [Edit(s, item.get(s, merge.ABSENT).version, draw(VALUES), n) for n, s in enumerate(slots)]


@given(st.data())
def test_edits_to_disjoint_slots_commute_and_are_all_kept(data):
    item = data.draw(items)
    edits = data.draw(fresh_edits(item))
    order = data.draw(st.permutations(edits))
    forward, outcomes = merge.apply_all(item, edits)
    shuffled, _ = merge.apply_all(item, order)
    assert forward == shuffled
    assert all(isinstance(o, Applied) for o in outcomes)
    for edit in edits:
        assert forward.get(edit.slot, merge.ABSENT).value == edit.value


@given(items, st.sampled_from(SLOTS), st.integers(0, 6), VALUES)
def test_a_stale_edit_is_a_conflict_exactly_when_the_version_moved(item, slot, base, value):
    state, outcome = merge.apply(item, Edit(slot, base, value))
    moved = item.get(slot, merge.ABSENT).version != base
    assert isinstance(outcome, Conflict) == moved
    if moved:
        assert state == item and outcome.yours == value and outcome.current == item.get(slot, merge.ABSENT).value


# A random session: each step an edit from the version the editor last saw (possibly
# stale), a "keep mine" after a conflict, or a restore of an earlier revision.
steps = st.lists(
    st.tuples(st.sampled_from(("edit", "stale", "restore")), st.sampled_from(SLOTS), VALUES, st.integers(0, 50)),
    max_size=40,
)


def _run(step_list):
    state: dict[str, Slot] = {}
    history: list[merge.Revision] = []
    accepted: list[object] = []
    for action, slot, value, pick in step_list:
        current = state.get(slot, merge.ABSENT)
        if action == "restore":
            if not history:
                continue
            edit = merge.restore(state, history[pick % len(history)], "facilitator")
        elif action == "stale":
            edit = Edit(slot, max(current.version - 1 - pick % 2, 0), value, "late")
        else:
            edit = Edit(slot, current.version, value, "phone")
        state, outcome = merge.apply(state, edit)
        if isinstance(outcome, Conflict):
            state, outcome = merge.apply(state, outcome.keep_mine("late"))
        assert isinstance(outcome, Applied)
        assert state.get(outcome.edit.slot, merge.ABSENT).value == outcome.edit.value
        if outcome.revision is not None:
            history = merge.numbered([*history, outcome.revision])
            accepted.append(history[-1])
    return state, history, accepted


@settings(max_examples=200)
@given(steps)
def test_no_sequence_of_edits_conflicts_and_restores_loses_an_accepted_value(step_list):
    state, history, accepted = _run(step_list)
    # every change accepted along the way is in the final history, as it was made,
    # and the history is one unbroken chain per slot that rebuilds the item
    assert all(history[r.id - 1] == r for r in accepted)
    assert merge.check_history(history) == []
    assert merge.replay(history) == state


@settings(max_examples=200)
@given(steps, st.integers(0, 100))
def test_restoring_a_revision_then_reapplying_the_later_ones_gives_the_same_item(step_list, pick):
    state, history, _ = _run(step_list)
    if not history:
        return
    r = pick % len(history)
    restored, outcome = merge.apply(state, merge.restore(state, history[r], "facilitator"))
    assert isinstance(outcome, Applied)
    assert restored[history[r].slot].value == history[r].new
    again = restored
    for later in history[r + 1 :]:
        again, redo = merge.apply(again, Edit(later.slot, again.get(later.slot, merge.ABSENT).version, later.new))
        assert isinstance(redo, Applied)
    assert merge.values(again) == merge.values(state)
