"""The roadmap page's helpers without a database: the grid by horizon and phase, the
filters, what may be restored, values in words, the new-item form."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.activities.roadmap.fields import HORIZONS, ITEM_FIELDS, STATUSES
from server.activities.roadmap.reading import ItemView, RevisionView
from server.i18n import Translator
from server.valuechains import roadmap_pages as pages

PHASES = ["assessment", "governance", "strategic_plan"]


def _view(n: int, horizon=None, phase=None, status="proposed") -> ItemView:
    values = dict.fromkeys(ITEM_FIELDS)
    values.update(title=f"Item {n}", horizon=horizon, phase=phase, status=status, progress=0)
    return ItemView(n, 1, values, dict.fromkeys(ITEM_FIELDS, 0), False, n)


@given(
    st.lists(st.tuples(st.sampled_from([*HORIZONS, None]), st.sampled_from([*PHASES, None, "retired"])), max_size=30)
)
def test_every_item_is_in_exactly_one_cell_in_the_roadmaps_order(placed):
    views = [_view(n, h, p) for n, (h, p) in enumerate(placed)]
    grid = pages.by_horizon(views, PHASES)
    cells = [cell for row in grid for cell in row]
    shown = [v.id for cell in cells for v in cell.items]
    assert sorted(shown) == [v.id for v in views]
    for cell in cells:
        assert [v.id for v in cell.items] == sorted(v.id for v in cell.items)
        for v in cell.items:
            assert cell.horizon == (v.values["horizon"] if v.values["horizon"] in HORIZONS else None)
            assert cell.phase == (v.values["phase"] if v.values["phase"] in PHASES else None)
    if views:
        assert [row[0].horizon for row in grid][:3] == list(HORIZONS)  # the three horizons always show
    else:
        assert grid == []


def test_filters_keep_known_values_only_and_match_none():
    f = pages.clean_filters({"status": "done", "horizon": "none", "phase": "<script>"}, PHASES)
    assert (f.status, f.horizon, f.phase) == ("done", "none", None)
    assert f.matches(_view(1, None, "governance", "done")) and not f.matches(_view(2, "short", None, "done"))
    assert not pages.clean_filters({}, PHASES).active
    assert all(pages.clean_filters({"status": s}, PHASES).status == s for s in STATUSES)


def _rev(n, field, change, old, new, row_id=None) -> RevisionView:
    return RevisionView(
        n, 1, field, row_id, change, old, new, 1, "Ana", None, None, None, None, None, "2026-01-01T00:00:00"
    )


def test_only_earlier_values_of_fields_and_rows_may_be_restored():
    history = [
        _rev(1, "item", "create", None, {"title": "A"}),
        _rev(2, "title", "edit", "A", "B"),
        _rev(3, "title", "edit", "B", "C"),
        _rev(4, "milestone", "add", None, {"text": "x", "date": None}, row_id=7),
        _rev(5, "gap", "link", None, True, row_id=3),
        _rev(6, "locked", "lock", False, True),
        _rev(7, "status", "edit", "proposed", "agreed"),
        _rev(8, "status", "restore", "agreed", "proposed"),
        _rev(9, "status", "edit", "proposed", "agreed"),
    ]
    # 2: the title before C; 7 made "agreed", which the status holds again (9): nothing to restore.
    assert pages.restorable(history) == {2, 8}


def test_values_in_words():
    es, en = Translator("es"), Translator("en")
    names = {"assessment": "Diagnóstico de competitividad"}
    assert pages.display(en, "budget", {"amount": "15000.50", "currency": "PEN"}, names) == "15,000.50 PEN"
    assert pages.display(es, "budget", {"amount": "15000.50", "currency": "PEN"}, names) == "15.000,50 PEN"
    assert pages.display(es, "phase", "assessment", names) == "Diagnóstico de competitividad"
    assert pages.display(es, "phase", "gone", names) == "gone"
    assert pages.display(en, "horizon", "long", names) == "Long term"
    assert pages.display(en, "pilot", False, names) == "No"
    assert pages.display(en, "progress", 40, names) == "40 %"
    assert pages.display(en, "title", None, names) == pages.NO_VALUE
    indicator = {"name": "Socios", "baseline": "0", "target": "120", "unit": "socios"}
    assert pages.display(en, "indicator", indicator, names) == "Socios · 0 → 120 · socios"
    assert pages.display(en, "milestone", {"text": "Local", "date": "2027-03-31"}, names) == "Local (March 31, 2027)"


def test_the_new_item_form_sends_only_what_was_filled_in():
    raw = pages.new_item_raw({"title": "", "description": "", "amount": "10", "currency": "", "status": "agreed"})
    assert raw == {"budget": {"amount": "10", "currency": ""}, "status": "agreed"}
    assert pages.field_value("budget", {"amount": "1", "currency": "USD"}) == {"amount": "1", "currency": "USD"}
    assert pages.form_value("pilot", True) == {"value": "yes"}
    assert pages.form_value("budget", None) == {"amount": "", "currency": ""}
