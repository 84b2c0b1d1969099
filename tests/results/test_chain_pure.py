"""The chain's results from pure functions: every figure is a recount of the answers, a
cut is the answers of the matching participants, nothing rests on fewer than k, and the
two action-line aggregations agree when there is one workshop."""

from __future__ import annotations

from collections import Counter, defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from server.activities.chain_rules import Cut, mean_ci, shown_parts
from server.activities.gaps import chain as gap_chain
from server.activities.gaps.tally import ELEMENTS, LEVELS
from server.activities.ranking import chain as rank_chain
from server.activities.ranking import methods

GAPS = (11, 12, 13)
SEGMENTS = (1, 2, 3)
GROUPS = (None, 7, 8, 9)
WORKSHOPS = (100, 200, 300)

# --- complementary suppression -------------------------------------------------------


def test_a_small_part_is_held_back_with_the_next_smallest():
    assert shown_parts({1: 10, 2: 6, 3: 2}, 5) == {1}  # 3 alone (2) would be 10+6 subtracted from 18
    assert shown_parts({1: 10, 2: 6, 3: 5}, 5) == {1, 2, 3}
    assert shown_parts({1: 10, 2: 6, 3: 0}, 5) == {1, 2}
    assert shown_parts({1: 4, 2: 3}, 5) == set()
    assert shown_parts({1: 9, 2: 3, 3: 3}, 5) == {1}  # hidden 6 >= 5


@given(st.dictionaries(st.integers(0, 6), st.integers(0, 30), max_size=7), st.integers(1, 8))
def test_what_is_held_back_is_none_or_at_least_k(counts, k):
    shown = shown_parts(counts, k)
    hidden = sum(n for p, n in counts.items() if p not in shown)
    assert all(counts[p] >= k for p in shown)
    # with nothing shown there is nothing to subtract (the workshop's total enters only from k)
    assert not shown or hidden == 0 or hidden >= k


def test_mean_and_interval():
    mean, half = mean_ci([0, 0, 2, 0, 2])  # 3, 3, 5, 5
    assert mean == 4 and abs(half - 1.959963984540054 * (4 / 3) ** 0.5 / 2) < 1e-12
    assert mean_ci([0, 0, 1, 0, 0]) is None


# --- gap answers ---------------------------------------------------------------------

participants = st.tuples(st.sampled_from(WORKSHOPS), st.sampled_from(GROUPS), st.sampled_from((None, *SEGMENTS)))


@st.composite
def gap_answers(draw):
    people = draw(st.lists(participants, min_size=0, max_size=40))
    answers = []
    for pid, (workshop, group, segment) in enumerate(people, start=1):
        for gap in draw(st.lists(st.sampled_from(GAPS), unique=True, max_size=3)):
            for order in draw(st.lists(st.integers(0, 2), unique=True, min_size=1, max_size=2)):
                q = draw(st.sampled_from(("seriousness", *ELEMENTS, "segments", "dots")))
                if q == "seriousness":
                    v = draw(st.integers(1, 5))
                elif q == "segments":
                    v = draw(st.lists(st.sampled_from(SEGMENTS), unique=True, max_size=3))
                elif q == "dots":
                    v = draw(st.integers(0, 4))
                else:
                    v = draw(st.integers(0, len(LEVELS) - 1))
                answers.append((workshop, pid, group, segment, gap, q, v, order))
    return answers


def _naive(answers, keep=lambda a: True):
    """Counts straight from the answers: the latest per participant, gap and question."""
    latest = {}
    for a in answers:
        key = (a[1], a[4], a[5])
        if key not in latest or a[7] > latest[key][7]:
            latest[key] = a
    out = defaultdict(
        lambda: {"dist": Counter(), "dots": 0, "voters": 0, "seg": Counter(), "seg_n": 0, "people": set()}
    )
    for a in latest.values():
        if not keep(a):
            continue
        _w, p, _g, _s, gap, q, v, _o = a
        c = out[gap]
        if q == "seriousness":
            c["dist"][v] += 1
        elif q == "dots" and v:
            c["dots"] += v
            c["voters"] += 1
        elif q == "segments":
            c["seg_n"] += 1
            c["seg"].update(v)
        elif q != "dots":
            c.setdefault(q, Counter())[v] += 1
        if q != "dots" or v:
            c["people"].add(p)
    return out


def _check_equal(results, naive):
    for r in results:
        c = naive.get(r.result.gap)
        dist = tuple(c["dist"][v] for v in range(1, 6)) if c else (0,) * 5
        assert r.result.answers == sum(dist)
        assert r.result.distribution == dist if sum(dist) else r.result.distribution in (None, dist)
        if sum(dist):
            assert abs(r.result.mean - sum((i + 1) * n for i, n in enumerate(dist)) / sum(dist)) < 1e-12
        assert r.respondents == (len(c["people"]) if c else 0)
        assert (r.result.dots or 0) == (c["dots"] if c and c["voters"] else 0)
        if c and c["seg_n"]:
            assert r.result.segments == {s: n / c["seg_n"] for s, n in sorted(c["seg"].items())}


@settings(max_examples=60, deadline=None)
@given(gap_answers())
def test_every_figure_is_a_recount_of_the_answers(answers):
    ks = dict.fromkeys(WORKSHOPS, 1)
    results = gap_chain.recount(answers, ks, GAPS, Cut(), 1)
    _check_equal(results, _naive(answers))


@settings(max_examples=60, deadline=None)
@given(gap_answers(), st.sampled_from(("group", "segment")), st.sampled_from((0, 1, 2, 7, 8)))
def test_a_cut_counts_only_the_matching_participants(answers, dim, part):
    ks = dict.fromkeys(WORKSHOPS, 1)
    results = gap_chain.recount(answers, ks, GAPS, Cut(dim, part), 1)
    index = 2 if dim == "group" else 3
    _check_equal(results, _naive(answers, lambda a: (a[index] or 0) == part))
    # and a view of some workshops is the answers of those workshops only
    some = {WORKSHOPS[0]: 1, WORKSHOPS[2]: 1}
    results = gap_chain.recount(answers, some, GAPS, Cut(dim, part), 1)
    _check_equal(results, _naive(answers, lambda a: (a[index] or 0) == part and a[0] in some))


@settings(max_examples=80, deadline=None)
@given(gap_answers(), st.integers(2, 6), st.sampled_from((None, "group", "segment")), st.sampled_from((0, 1, 7)))
def test_no_shown_figure_rests_on_fewer_than_k(answers, k, dim, part):
    ks = dict.fromkeys(WORKSHOPS, k)
    cut = Cut(dim, part)
    folded = gap_chain.fold(gap_chain.cells_of_dim(gap_chain.summarize(answers), dim or "group"), ks, cut)
    # every workshop's contribution to a shown figure has at least k answers
    for counts in folded.workshops.values():
        for c in counts.values():
            assert sum(c.seriousness.values()) in (0,) or sum(c.seriousness.values()) >= k
            assert c.segment_answers == 0 or c.segment_answers >= k
            assert c.dot_voters == 0 or c.dot_voters >= k
            for e in ELEMENTS:
                assert sum(c.relevance[e].values()) == 0 or sum(c.relevance[e].values()) >= k
    for r in gap_chain.chain_results(folded.overall, folded.respondents, GAPS, k):
        assert r.result.mean is None or r.result.answers >= k
        assert r.result.segments is None or r.result.segment_answers >= k
        assert r.result.dots is None or r.result.dot_voters >= k
        for e, level in r.result.relevance.items():
            assert level is None or r.result.relevance_answers[e] >= k


def test_a_group_of_three_beside_others_is_held_back_and_its_complement_too():
    # Workshop 100: group 7 has 6 answers, group 8 has 3, group 9 has 1; k = 5.
    answers = [(100, p, 7, None, 11, "seriousness", 5, 0) for p in range(1, 7)]
    answers += [(100, p, 8, None, 11, "seriousness", 1, 0) for p in range(7, 10)]
    answers += [(100, 10, 9, None, 11, "seriousness", 3, 0)]
    ks = {100: 5}
    everyone = gap_chain.recount(answers, ks, GAPS, Cut(), 5)[0].result
    assert everyone.answers == 10
    # groups 8 and 9 together hold 4 < 5: group 7 is held back too, or 10 - 6 gives them away
    for group in (7, 8, 9):
        assert gap_chain.recount(answers, ks, GAPS, Cut("group", group), 5)[0].result.mean is None


def test_common_ground_needs_every_group():
    answers = []
    pid = 0
    for group, values in ((7, [5, 5, 4, 4, 2]), (8, [4, 4, 5, 1, 1]), (9, [1, 1, 1, 1, 1])):
        for v in values:
            pid += 1
            answers.append((100, pid, group, None, 11, "seriousness", v, 0))
            answers.append((100, pid, group, None, 12, "seriousness", 5 if group != 9 else 4, 0))
    folded = gap_chain.fold(gap_chain.cells_of_dim(gap_chain.summarize(answers), "group"), {100: 5})
    by_group = {
        part: [r.result for r in gap_chain.chain_results(counts, {}, GAPS, 5)] for part, counts in folded.parts.items()
    }
    assert [g for g, _share, _n in gap_chain.common_ground(by_group)] == [12]


# --- ballots -------------------------------------------------------------------------

LINES = (21, 22, 23, 24, 25)


@st.composite
def ballots(draw, workshops=WORKSHOPS):
    out = []
    pid = 0
    for workshop in workshops:
        offered = tuple(draw(st.lists(st.sampled_from(LINES), unique=True, min_size=2, max_size=5)))
        for _ in range(draw(st.integers(0, 12))):
            pid += 1
            group = draw(st.sampled_from(GROUPS))
            ranking = tuple(draw(st.permutations(offered)))[: draw(st.integers(0, len(offered)))]
            out.append((workshop, pid, group, None, workshop, offered, ranking))
    return out


def _naive_pairs(ballots, keep=lambda b: True):
    d = Counter()
    for b in ballots:
        if not keep(b):
            continue
        offered, ranking = b[5], b[6]
        position = {item: i for i, item in enumerate(ranking)}
        for x in offered:
            for y in offered:
                if x in position and (y not in position or position[x] < position[y]):
                    d[(x, y)] += 1
    return +d


@settings(max_examples=60, deadline=None)
@given(ballots(), st.sampled_from((None, 7, 8)))
def test_pooled_ballots_are_a_recount_and_a_cut_counts_its_own(ballot_list, group):
    ks = dict.fromkeys(WORKSHOPS, 1)
    cut = Cut("group", group or 0) if group is not None else Cut()
    folded = rank_chain.recount(ballot_list, ks, cut)
    keep = (lambda b: (b[2] or 0) == group) if group is not None else (lambda b: True)
    assert +folded.overall.pair == _naive_pairs(ballot_list, keep)
    assert folded.overall.ballots == sum(1 for b in ballot_list if keep(b))
    naive = defaultdict(list)
    for b in ballot_list:
        if keep(b):
            naive[b[0]].append(b)
    items = sorted({i for b in ballot_list if keep(b) for i in b[5]})
    expected = methods.schulze_from_pairwise(items, _naive_pairs(ballot_list, keep)) if items else []
    assert rank_chain.pooled(folded.overall) == expected


@settings(max_examples=80, deadline=None)
@given(ballots(workshops=(100,)), st.integers(1, 4))
def test_with_one_workshop_both_aggregations_agree(ballot_list, k):
    folded = rank_chain.recount(ballot_list, {100: k}, Cut())
    lines, _voted = rank_chain.chain_lines(folded)
    assert not any(line.differs for line in lines)
    vote, voted = rank_chain.workshop_vote(folded.workshops)
    assert [(p.item, p.rank) for p in vote] == [(p.item, p.rank) for p in rank_chain.pooled(folded.overall)]
    assert voted == (1 if folded.overall.ballots else 0)


@settings(max_examples=60, deadline=None)
@given(ballots(), st.integers(2, 6), st.sampled_from((None, 7, 8, 0)))
def test_no_ranking_rests_on_fewer_than_k_voters(ballot_list, k, group):
    cut = Cut("group", group) if group is not None else Cut()
    folded = rank_chain.recount(ballot_list, dict.fromkeys(WORKSHOPS, k), cut)
    for room in folded.workshops.values():
        assert room.voters >= k
    for room in folded.parts.values():
        assert room.voters == 0 or room.voters >= k


def test_one_large_workshop_does_not_decide_alone():
    # Workshop 100: 30 ballots 21 > 22 > 23; workshops 200 and 300: 5 ballots each 23 > 22 > 21.
    rows = [(100, p, None, None, 1, (21, 22, 23), (21, 22, 23)) for p in range(30)]
    rows += [(w, 100 + w + p, None, None, w, (21, 22, 23), (23, 22, 21)) for w in (200, 300) for p in range(5)]
    folded = rank_chain.recount(rows, dict.fromkeys(WORKSHOPS, 5), Cut())
    lines = {line.item: line for line in rank_chain.chain_lines(folded)[0]}
    assert lines[21].pooled_rank == 1 and lines[21].workshop_rank == 3 and lines[21].differs
    assert lines[23].workshop_rank == 1
