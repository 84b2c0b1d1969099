"""No figure rests on fewer than k answers (issue #9): random rooms, with random group sizes
and random answers, through the JSON API and every live view (console, projector, phones).

The answers behind each figure are counted here, from the generated answers, not by the
tally; k is the installation's minimum or the workshop's, whichever is higher.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from itertools import combinations

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from server.activities.gaps.tally import ELEMENTS
from server.activities.kinds import KINDS as ACTIVITY_KINDS
from server.models import (
    ActivityStatus,
    DotVote,
    GapAnswer,
    PairwiseAnswer,
    Participant,
    RankingBallot,
    Segment,
    StakeholderGroup,
    Workshop,
)
from server.realtime.hub import CONSOLE, PARTICIPANTS, PROJECTOR
from server.workshops.service import activity_items, agenda_of, available_items, do_add_activity
from tests import factories

INSTALLATION = 2  # the installation's minimum in these tests; workshops raise it at random
GROUPS = ("public", "private", "academia", None)
LINES = 4


@pytest.fixture
def chain(db, users):
    factories.reference_lists(db)
    db.add(StakeholderGroup(key="academia", name_es="Academia", name_en="Academia", position=2))
    db.commit()
    return factories.chain(db, users.a, gaps=3, action_lines=LINES)


KINDS = ["rating", "dots", "ranking", "top_k", "pairwise"]


@st.composite
def rooms(draw, kind):
    people = draw(st.integers(0, 16))
    groups = draw(st.lists(st.sampled_from(GROUPS), min_size=people, max_size=people))
    answers = []
    for _ in range(people):
        if kind == "rating":
            answers.append(
                [
                    {
                        "seriousness": draw(st.none() | st.integers(1, 5)),
                        **{e: draw(st.none() | st.integers(0, 3)) for e in ELEMENTS},
                        "segments": draw(st.none() | st.frozensets(st.integers(0, 2))),
                    }
                    for _gap in range(3)
                ]
            )
        elif kind == "dots":
            answers.append([draw(st.sampled_from([0, 0, 1, 2, 3])) for _gap in range(3)])
        elif kind == "pairwise":
            pairs = draw(st.lists(st.sampled_from(list(combinations(range(LINES), 2))), unique=True, max_size=4))
            answers.append([(a, b, draw(st.sampled_from(["a", "b", "tie"]))) for a, b in pairs])
        else:
            order = draw(st.permutations(range(LINES)))
            answers.append(tuple(order[: draw(st.integers(0, 2 if kind == "top_k" else LINES))]))
    return kind, draw(st.none() | st.integers(2, 6)), groups, answers


def _build(app, db, users, chain, room):
    """The room in the database: a workshop, its one activity (open, revealed), participants
    and their answers written as rows."""
    kind, workshop_k, groups, answers = room
    workshop = factories.workshop(db, users.a, chain, template="", title="Sala")
    workshop.min_group_size = workshop_k
    mode = {"rating": "rating", "dots": "dots"}.get(kind, "full" if kind == "ranking" else kind)
    data = {"kind": "ranking" if kind in ("ranking", "top_k", "pairwise") else "gap_rating", "title": "A"}
    data.update({"mode": mode, "k": "2", "ask_segments": "on", **{f"ask_{e}": "on" for e in ELEMENTS}})
    data.update({"dot_budget": "10", "dot_max_per_item": "3"})
    library = chain_items(db, chain, data["kind"])
    activity = do_add_activity(db, chain, workshop, data, [str(i) for i in library])
    activity.status, activity.revealed = ActivityStatus.open, True
    workshop.current_activity_id = activity.id
    db.add_all([workshop, activity])
    db.commit()
    items = [i.id for i in activity_items(db, activity)]
    segments = [s.id for s in db.exec(select(Segment).where(Segment.value_chain_id == chain.id))]
    group_ids = {g.key: g.id for g in db.exec(select(StakeholderGroup))}
    people = []
    for group, answer in zip(groups, answers, strict=True):
        p = Participant(
            workshop_id=workshop.id, token_hash=secrets.token_hex(32), stakeholder_group_id=group_ids.get(group)
        )
        db.add(p)
        db.flush()
        people.append((p.id, group))
        for row in _rows(kind, activity.id, p.id, items, segments, answer):
            db.add(row)
    db.commit()
    k = max(INSTALLATION, workshop_k or 0)
    return workshop, activity, items, segments, k


def chain_items(db, chain, kind):
    return [i.id for i in available_items(db, chain, ACTIVITY_KINDS[kind])]


def _rows(kind, activity_id, participant_id, items, segments, answer):
    base = {"activity_id": activity_id, "participant_id": participant_id}
    if kind == "rating":
        for gap, questions in zip(items, answer, strict=True):
            for question, value in questions.items():
                if value is None:
                    continue
                if question == "segments":
                    yield GapAnswer(**base, gap_id=gap, question=question, segments=[segments[s] for s in value])
                else:
                    yield GapAnswer(**base, gap_id=gap, question=question, value=value)
    elif kind == "dots":
        for gap, dots in zip(items, answer, strict=True):
            if dots:
                yield DotVote(**base, gap_id=gap, dots=dots)
    elif kind == "pairwise":
        for a, b, choice in answer:
            yield PairwiseAnswer(**base, item_a=items[a], item_b=items[b], choice=choice)
    elif answer:
        yield RankingBallot(**base, ranking=[items[i] for i in answer])


# --- the answers behind each figure, counted from the generated room ----------------------------


def _behind(room, items, group=...):
    """For one audience slice (the room, or one group): figure -> number of answers behind it."""
    kind, _, groups, answers = room
    chosen = [a for g, a in zip(groups, answers, strict=True) if group is ... or g == group]
    n = Counter()
    for answer in chosen:
        if kind == "rating":
            for gap, questions in zip(items, answer, strict=True):
                for question, value in questions.items():
                    n[gap, question] += value is not None
        elif kind == "dots":
            for gap, dots in zip(items, answer, strict=True):
                n[gap, "dots"] += dots > 0
        elif kind == "pairwise":
            for line in {i for a, b, _ in answer for i in (a, b)}:
                n[items[line], "compared"] += 1
        else:
            n["ballots"] += bool(answer)
    n["respondents"] = sum(bool(a) and any(_given(a)) for a in chosen)
    return n


def _given(answer):
    if isinstance(answer, tuple):
        return [True]
    if answer and isinstance(answer[0], dict):
        return [v is not None for questions in answer for v in questions.values()]
    return [bool(x) for x in answer]


# --- the checks ---------------------------------------------------------------------------------


def _check_gaps_json(gaps, n, k, dots):
    for r in gaps:
        gap = r["gap"]
        assert r["answers"] == n[gap, "seriousness"]
        shown = n[gap, "seriousness"] >= k
        assert (r["mean"] is not None) == shown and (r["distribution"] is not None) == shown
        for e in ELEMENTS:
            assert r["relevance_answers"][e] == n[gap, e]
            assert (r["relevance"][e] is not None) == (n[gap, e] >= k)
        assert (r["segments"] is not None) == (n[gap, "segments"] >= k)
        if dots:
            assert (r["dots"] is not None) == (n[gap, "dots"] >= k)
            assert (r["dot_share"] is not None) == (n[gap, "dots"] >= k)
        else:
            assert r["dots"] is None and r["dot_share"] is None


def _check_json(data, room, items, k, names):
    kind = room[0]
    assert data["min_group_size"] == k
    room_n = _behind(room, items)
    groups_shown = {key for key in GROUPS if key and _behind(room, items, key)["respondents"] >= k}
    if kind in ("rating", "dots"):
        _check_gaps_json(data["gaps"], room_n, k, kind == "dots")
        assert set(data["by_group"]) == groups_shown
        for key, results in data["by_group"].items():
            _check_gaps_json(results, _behind(room, items, key), k, kind == "dots")
        return
    ranking = data["ranking"]
    if kind == "pairwise":
        compared = {i: room_n[i, "compared"] for i in items}
        shown = [p["item"] for p in ranking["methods"].get("bradley_terry", {"placements": []})["placements"]]
        assert sorted(shown) == sorted(i for i in items if compared[i] >= k)
        hidden = [i for i in items if compared[i] < k] if any(compared.values()) else []
        assert sorted(ranking["bradley_terry_hidden"]) == sorted(hidden)
        return
    enough = room_n["ballots"] >= k
    assert set(ranking["methods"]) == ({"schulze", "borda", "mean_rank", "top_k"} if enough else set())
    assert (ranking["kendall_w"] is not None) <= enough
    assert bool(ranking["stability_top_k"]) == enough
    assert set(ranking["by_group"]) == {key for key in GROUPS if key and _behind(room, items, key)["ballots"] >= k}


def _html(messages, audience, element):
    (texts,) = [texts for key, texts in messages.items() if key.role == audience]  # one language
    return BeautifulSoup(json.loads(texts[element])["html"], "html.parser")


def _check_views(messages, room, items, k, titles):
    kind = room[0]
    console = _html(messages, CONSOLE, "results")
    screen = _html(messages, PROJECTOR, "screen")
    phone = _html(messages, PARTICIPANTS, "results")
    n = _behind(room, items)
    if kind in ("rating", "dots"):
        key = "seriousness" if kind == "rating" else "dots"
        expected = {titles[g] for g in items if n[g, key] >= k}
        assert {li.select_one(".bar-label").get_text() for li in screen.select("ol.bars li")} == expected
        figure = "meter" if kind == "rating" else "progress"
        on_phone = {
            li.select_one(".item-text").get_text() for li in phone.select("ol.ranked li") if li.select_one(figure)
        }
        assert on_phone == expected
        for row in console.select("table.results tbody tr"):
            gap = _gap(titles, row)
            cells = row.select("td")
            shown = n[gap, key] >= k
            if kind == "rating":
                assert bool(cells[1].select_one("meter")) == shown
                assert all(c.get_text(strip=True).isdigit() for c in cells[2:]) == shown
            else:
                assert cells[0].get_text(strip=True).isdigit() == shown
        for table in console.select("table.matrix"):
            for row in table.select("tbody tr"):
                gap = _gap(titles, row)
                for e, cell in zip(ELEMENTS, row.select("td"), strict=False):
                    if "segments" in table["class"]:
                        assert "%" not in cell.get_text() or n[gap, "segments"] >= k
                    else:
                        assert ("level-" in " ".join(cell["class"])) == (n[gap, e] >= k)
        for table in console.select("table.groups"):
            names = [th.get_text(strip=True) for th in table.select("thead th")[1:]]
            for row in table.select("tbody tr"):
                gap = _gap(titles, row)
                for name, cell in zip(names, row.select("td"), strict=True):
                    group = GROUP_OF_NAME[name]
                    assert _behind(room, items, group)["respondents"] >= k
                    has_figure = any(ch.isdigit() for ch in cell.get_text())
                    assert has_figure <= (_behind(room, items, group)[gap, key] >= k)
        return
    if kind == "pairwise":
        expected = [titles[i] for i in items if n[i, "compared"] >= k]
        for view, selector in (
            (console, "ol.ranking-result[data-method=bradley_terry]"),
            (screen, "ol.ranking-screen"),
            (phone, "ol.ranked"),
        ):
            found = [li.select_one(".item-text, .bar-label").get_text() for li in view.select(f"{selector} li")]
            assert sorted(found) == sorted(expected)
        return
    enough = n["ballots"] >= k
    assert bool(console.select("ol.ranking-result")) == enough
    assert bool(console.select(".agreement")) <= enough
    assert bool(console.select(".stability")) <= enough
    assert bool(screen.select("ol.ranking-screen")) == enough
    assert bool(phone.select("ol.ranked")) == enough
    for th in console.select("details.by-group thead th")[1:]:
        assert _behind(room, items, GROUP_OF_NAME[th.get_text(strip=True)])["ballots"] >= k


GROUP_OF_NAME = {"Sector público": "public", "Sector privado": "private", "Academia": "academia"}


def _gap(titles, row):
    title = row.select_one("th").get_text(strip=True)
    return next(g for g, t in titles.items() if t == title)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_figure_rests_on_fewer_than_k_answers(app, db, users, client_a, chain, min_answers, kind, data):
    min_answers(INSTALLATION)
    room = data.draw(rooms(kind))
    workshop, activity, items, _segments, k = _build(app, db, users, chain, room)
    titles = {i.id: i.title for i in activity_items(db, activity)}
    data = client_a.get(f"/api/workshops/{workshop.id}/activities/{activity.id}/results").json()
    _check_json(data, room, items, k, titles)
    messages = app.state.hub.renderer.render(workshop.id, frozenset({"stage", "results", "counts"}))
    _check_views(messages, room, items, k, titles)
    db.expire_all()
    assert db.get(Workshop, workshop.id).min_group_size == room[1]


# --- the workshop's own minimum -----------------------------------------------------------------


def _workshop_form(client, url, **fields):
    data = {
        "title": "Taller",
        "date": "2026-12-03",
        "language": "es",
        "attendance": "full",
        "template": "",
        "csrf_token": client.csrf,
        **fields,
    }
    return client.post(url, data=data, headers={"Accept-Language": "en"}, follow_redirects=False)


def test_a_workshop_may_raise_the_minimum_never_lower_it(app, client_a, users, db):
    """The installation says 5 (the default): a workshop may ask for 7, not for 3; empty keeps
    the installation's. Bad input is refused with a message and changes nothing."""
    assert app.state.settings.min_group_size == 5
    chain = factories.chain(db, users.a)
    new = f"/chains/{chain.id}/workshops/new"
    assert 'name="min_group_size"' in client_a.get(new).text
    for bad in ("3", "0", "-1", "abc", "101"):
        refused = _workshop_form(client_a, new, min_group_size=bad)
        assert refused.status_code == 422, bad
        assert "Enter a whole number from 5 to 100" in refused.text
    assert db.exec(select(Workshop)).all() == []
    assert _workshop_form(client_a, new, min_group_size="7").status_code == 303
    workshop = db.exec(select(Workshop)).one()
    assert workshop.min_group_size == 7
    edit = f"/workshops/{workshop.id}/edit"
    assert 'value="7"' in client_a.get(edit).text
    assert _workshop_form(client_a, edit, min_group_size="4").status_code == 422
    assert _workshop_form(client_a, edit, min_group_size=" ").status_code == 303
    db.expire_all()
    assert db.get(Workshop, workshop.id).min_group_size is None


def test_the_results_use_the_higher_of_the_two_minimums(app, client_a, users, db, chain):
    workshop = factories.workshop(db, users.a, chain, template="diagnosis")
    (activity,) = agenda_of(db, workshop)
    url = f"/api/workshops/{workshop.id}/activities/{activity.id}/results"
    assert client_a.get(url).json()["min_group_size"] == 5
    workshop.min_group_size = 8
    db.add(workshop)
    db.commit()
    assert client_a.get(url).json()["min_group_size"] == 8
    workshop.min_group_size = 2  # set behind the form's back: still never below the installation's
    db.add(workshop)
    db.commit()
    assert client_a.get(url).json()["min_group_size"] == 5
