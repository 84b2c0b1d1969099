"""Hypothesis: the gap rating's export table (as the XLSX and CSV write it) says what a
recount of the raw answers says, for the room and for each group, and leaves empty every
figure resting on fewer than k answers."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from server.activities.gaps.export import results_table
from server.activities.gaps.kind import GapRating
from server.activities.gaps.tally import ActivityTally
from server.activities.tables import ExportContext

GAPS = (11, 12, 13)
GROUPS = {1: SimpleNamespace(key="public"), 2: SimpleNamespace(key="private")}

answers = st.lists(
    st.tuples(st.integers(1, 30), st.sampled_from(GAPS), st.integers(1, 5)), max_size=120, unique_by=lambda a: a[:2]
)


@settings(max_examples=150, deadline=None)
@given(answers=answers, k=st.integers(1, 6))
def test_the_exported_figures_are_a_recount_of_the_raw_answers(answers, k):
    group_of = {p: 1 + p % 2 for p, _g, _v in answers}
    tally = ActivityTally.recount(GAPS, [(p, group_of[p], g, "seriousness", v) for p, g, v in answers], [])
    kind = GapRating()
    view = SimpleNamespace(min_group_size=k, gaps=[SimpleNamespace(id=g) for g in GAPS], groups=GROUPS)
    view.panel = kind.panel(view, tally, lambda: None)
    results = kind.results(view, tally)
    ctx = ExportContext(
        session=None,
        view=view,
        tally=tally,
        results=results,
        gettext=lambda text, **params: text % params if params else text,
        pseudonym=str,
        raw_rows=list,
        label="A1",
        workshop_id=1,
        activity_id=1,
        group_names={"public": "Public", "private": "Private"},
        item_titles={g: f"Gap {g}" for g in GAPS},
    )
    table = results_table(ctx)
    names = [c.name for c in table.columns]
    rows = [dict(zip(names, row, strict=True)) for row in table.rows()]
    for group, members in (("All", None), ("Public", 1), ("Private", 2)):
        values = defaultdict(list)
        for p, g, v in answers:
            if members is None or group_of[p] == members:
                values[g].append(v)
        respondents = {p for p, _g, _v in answers if members is None or group_of[p] == members}
        mine = [r for r in rows if r["group"] == group]
        if members is not None and len(respondents) < k:
            assert mine == []  # a group under k is left out altogether
            continue
        assert [r["gap_id"] for r in mine] == list(GAPS)
        for r in mine:
            given_values = values[r["gap_id"]]
            assert r["answers"] == len(given_values)
            if len(given_values) < k:
                assert r["mean_seriousness"] is None and r["seriousness_1"] is None
            else:
                assert r["mean_seriousness"] == sum(given_values) / len(given_values)
                assert [r[f"seriousness_{v}"] for v in range(1, 6)] == [given_values.count(v) for v in range(1, 6)]
