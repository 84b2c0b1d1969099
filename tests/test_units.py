"""Pure helpers: ordering, join codes, CSRF tokens, locale choice, activity settings."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from server.activities.kinds import GAP_RATING, RANKING
from server.auth import csrf
from server.i18n import pick_locale
from server.ordering import moved, renumber, reordered
from server.web import safe_next
from server.workshops import codes


@dataclass
class Row:
    id: int
    position: int


@given(st.lists(st.integers(0, 50), min_size=1, max_size=20, unique=True), st.data())
def test_moving_an_item_keeps_every_item_once(ids, data):
    rows = [Row(i, n) for n, i in enumerate(ids)]
    target = data.draw(st.sampled_from(ids))
    delta = data.draw(st.integers(-30, 30))
    order = moved(rows, target, delta)
    assert sorted(r.id for r in order) == sorted(ids)
    old = ids.index(target)
    assert [r.id for r in order].index(target) == max(0, min(len(ids) - 1, old + delta))
    renumber(order)
    assert [r.position for r in order] == list(range(len(ids)))


def test_reordered_needs_each_item_once():
    rows = [Row(1, 0), Row(2, 1), Row(3, 2)]
    assert [r.id for r in reordered(rows, [3, 1, 2])] == [3, 1, 2]
    assert reordered(rows, [3, 1]) is None
    assert reordered(rows, [3, 1, 1]) is None
    assert reordered(rows, [3, 1, 4]) is None


def test_join_codes_are_six_digits_without_leading_zero():
    for _ in range(500):
        code = codes.new_code()
        assert codes.is_code(code) and code[0] != "0"


@given(st.text(max_size=30))
def test_normalized_codes_hold_only_digits(typed):
    assert codes.normalize(typed).isdigit() or codes.normalize(typed) == ""


def test_typed_code_with_spaces_and_dashes():
    assert codes.normalize(" 123-456 ") == "123456"
    assert codes.spaced("123456") == "123 456"


def test_csrf_token_is_bound_to_the_cookie_and_the_secret():
    token = csrf.token_for("s1", "cookie")
    assert csrf.token_ok("s1", "cookie", token)
    assert not csrf.token_ok("s2", "cookie", token)
    assert not csrf.token_ok("s1", "other", token)
    assert not csrf.token_ok("s1", None, token)
    assert not csrf.token_ok("s1", "cookie", None)


def test_origin_check():
    assert csrf.origin_ok(None, "minka.pe", [])
    assert csrf.origin_ok("https://minka.pe", "minka.pe", [])
    assert not csrf.origin_ok("https://evil.example", "minka.pe", [])
    assert csrf.origin_ok("https://proxy.pe", "minka:8000", ["proxy.pe"])
    assert not csrf.origin_ok("null", "minka.pe", [])


def test_locale_from_cookie_then_browser_then_default():
    assert pick_locale("en", "es-PE,es;q=0.9", "es") == "en"
    assert pick_locale(None, "es-PE,es;q=0.9", "en") == "es"
    assert pick_locale(None, "en-GB,en;q=0.8", "es") == "en"
    assert pick_locale(None, "qu-PE,qu;q=0.9", "es") == "es"
    assert pick_locale("fr", None, "en") == "en"


def test_safe_next_stays_on_this_site():
    assert safe_next("/chains/1") == "/chains/1"
    for bad in ("https://evil.example", "//evil.example", "javascript:alert(1)", ""):
        assert safe_next(bad, "/") == "/"


def test_gap_rating_settings_are_checked():
    errors: dict = {}
    clean = GAP_RATING.check_settings(
        {"mode": "dots", "dot_budget": "5", "dot_max_per_item": "2", "ask_diversification": "on"}, errors
    )
    assert errors == {}
    assert clean == {
        "mode": "dots",
        "ask_specialization": False,
        "ask_diversification": True,
        "ask_global_context": False,
        "ask_segments": False,
        "dot_budget": 5,
        "dot_max_per_item": 2,
    }
    errors = {}
    GAP_RATING.check_settings({"mode": "dots", "dot_budget": "2", "dot_max_per_item": "3"}, errors)
    assert set(errors) == {"dot_max_per_item"}
    errors = {}
    GAP_RATING.check_settings({"mode": "cheat", "dot_budget": "x"}, errors)
    assert set(errors) == {"mode", "dot_budget"}


def test_ranking_k_bounds():
    errors: dict = {}
    RANKING.check_settings({"mode": "top_k", "k": "0"}, errors)
    assert set(errors) == {"k"}


def test_every_setting_is_documented():
    """docs/deployment.md is the settings' contract: a new setting fails here until documented."""
    from server import ROOT
    from server.config import Settings

    doc = (ROOT / "docs" / "deployment.md").read_text()
    missing = [name for name in Settings.model_fields if f"`MINKA_{name.upper()}`" not in doc]
    assert missing == []


def test_phones_get_live_results_at_most_every_phone_interval():
    from server.realtime.hub import Hub
    from server.realtime.topics import AudienceKey

    phones, phones_en, screen = (
        AudienceKey("participants", "es"),
        AudienceKey("participants", "en"),
        AudienceKey("projector", "es"),
    )
    hub = Hub(phone_interval=60)
    messages = {phones: {"results": "r"}, phones_en: {"results": "R"}, screen: {"screen": "s"}}
    assert hub._hold_phone_results(1, {"results"}, messages)[phones] == {"results": "r"}
    held = hub._hold_phone_results(1, {"results"}, messages)
    assert held == {phones: {}, phones_en: {}, screen: {"screen": "s"}}  # screens still get every tick
    assert "results" in hub._dirty[1]  # sent later, rendered afresh
    # A new stage (a reveal) reaches phones at once.
    assert hub._hold_phone_results(1, {"stage", "results"}, messages)[phones_en] == {"results": "R"}


def test_a_connecting_phone_gets_the_stage_even_after_a_partial_broadcast():
    """Regression (found by bench/live_gaps.py): a broadcast of the counts alone used to leave
    the remembered phone texts empty, so phones connecting next got no stage."""
    import asyncio
    import concurrent.futures

    from server.realtime.hub import Connection, Hub
    from server.realtime.topics import AudienceKey

    phones, console = AudienceKey("participants", "es"), AudienceKey("console", "es")

    def render(workshop_id, topics, audiences):
        out = {phones: {}, console: {}}
        if "stage" in topics:
            out[phones]["stage"] = "STAGE"
        if "counts" in topics:
            out[console]["counts"] = "COUNTS"
        return {key: texts for key, texts in out.items() if key in audiences}

    async def send(text):
        pass

    hub = Hub(render)
    for role in ("participants", "console"):  # watched (only watched audiences are remembered)
        hub._connections[1][AudienceKey(role, "es")].add(Connection(send, 1, role))
    hub._remember(1, render(1, {"counts"}, {phones, console}))  # what a tick with only the counts stores
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        texts = pool.submit(asyncio.run, hub.current(1, "participants", "es")).result()
    assert texts == {"stage": "STAGE"}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, hub.current(1, "console", "es")).result()
    hub._remember(1, {console: {"counts": "NEWER"}})  # later partial renders update the full set
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, hub.current(1, "console", "es")).result() == {"counts": "NEWER"}


def test_a_broadcast_reaches_every_connection_a_slice_at_a_time():
    """A large room's broadcast is handed out DELIVERY_SLICE connections per turn of the
    event loop (acknowledgements go out in between), and still reaches everyone once."""
    import asyncio

    from server.realtime.hub import DELIVERY_SLICE, PARTICIPANTS, Connection, Hub

    def render(workshop_id, topics, audiences):
        return {key: {"results": f"R{workshop_id}"} for key in audiences}

    async def go():
        got: list[str] = []
        turns: list[int] = []  # how many had it at each turn of the loop

        async def send(text):
            got.append(text)

        hub = Hub(render, phone_interval=0)
        conns = [Connection(send, 1, PARTICIPANTS, n) for n in range(2 * DELIVERY_SLICE + 50)]
        for conn in conns:
            hub.attach(conn)
        hub._dirty.clear()
        hub.mark_dirty(1, "results")
        hub.flush()  # renders, and schedules the hand-out on this loop
        for _ in range(20):
            await asyncio.sleep(0)
            turns.append(len(got))
        for conn in conns:
            await hub.detach(conn)
        return got, turns

    got, turns = in_own_loop(go)
    assert got == ["R1"] * (2 * DELIVERY_SLICE + 50)
    first = next(n for n in turns if n)
    assert first == DELIVERY_SLICE < len(got)  # not everyone in the same turn


def test_a_later_broadcast_overtaking_a_sliced_one_is_not_undone():
    """Two ticks' hand-outs interleave in a large room: every connection must end with
    the newer text, never the older one pushed after it."""
    import asyncio

    from server.realtime.hub import DELIVERY_SLICE, PARTICIPANTS, Connection, Hub

    texts = iter(["OLD", "NEW"])

    def render(workshop_id, topics, audiences):
        text = next(texts)
        return {key: {"results": text} for key in audiences}

    async def go():
        last: dict[int, str] = {}

        def sender(n):
            async def send(text):
                last[n] = text

            return send

        hub = Hub(render, phone_interval=0)
        conns = [Connection(sender(n), 1, PARTICIPANTS, n) for n in range(3 * DELIVERY_SLICE)]
        for conn in conns:
            hub.attach(conn)
        hub._dirty.clear()
        hub.mark_dirty(1, "results")
        hub.flush()  # OLD: its later slices go out on later turns of the loop
        await asyncio.sleep(0)  # the first slice of OLD is handed out
        # The next tick lists the connections in another order (a set, after some came
        # and went): the last of OLD's slices are the first of NEW's.
        listed = hub._conns
        hub._conns = lambda workshop_id: {a: conns[::-1] for a, conns in listed(workshop_id).items()}
        hub.mark_dirty(1, "results")
        hub.flush()
        for _ in range(20):
            await asyncio.sleep(0)
        for conn in conns:
            await hub.detach(conn)
        return last

    last = in_own_loop(go)
    assert len(last) == 3 * DELIVERY_SLICE
    assert set(last.values()) == {"NEW"}


def in_own_loop(coroutine_function):
    """asyncio.run in a thread of its own: the main thread may already run Playwright's loop."""
    import asyncio
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine_function()).result()
