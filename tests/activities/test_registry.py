"""The registry of activity kinds: what the host dispatches through."""

from __future__ import annotations

import pytest

from server.activities.registry import ActivityType, Registry
from server.app import make_registry
from server.workshops import messages


def test_every_phone_write_and_every_form_post_has_one_kind():
    registry = make_registry()
    for model in (*messages.WRITES, *messages.SIGNALS):
        t = model.model_fields["t"].annotation.__args__[0]
        assert registry.for_message(t).key in registry
    actions = (
        "answer",
        "dots",
        "rank",
        "pair",
        "rm_edit",
        "rm_row",
        "rm_commit",
        "rm_withdraw",
        "rm_comment",
        "rm_plus",
    )
    assert {a: registry.for_form(a).key for a in actions} == {
        "answer": "gap_rating",
        "dots": "gap_rating",
        "rank": "ranking",
        "pair": "ranking",
        **dict.fromkeys(actions[4:], "roadmap"),  # issue 12: the roadmap runs live
    }
    assert registry.for_form("nothing") is None and registry.get("nothing") is None


def test_a_kind_registers_once_and_claims_its_messages_alone():
    registry = make_registry()
    with pytest.raises(ValueError):
        registry.register(type(registry["gap_rating"])())

    class Other(ActivityType):  # a new kind that wants the gaps' "answer" message
        key, spec, messages = "other", registry["gap_rating"].spec, ("answer",)

    Other.__abstractmethods__ = frozenset()
    with pytest.raises(ValueError):
        registry.register(Other())
    assert "other" not in registry


def test_each_app_has_its_own_registry(app):
    assert isinstance(app.state.registry, Registry)
    assert app.state.registry is not make_registry()
    assert app.state.tallies.registry is app.state.registry
    assert app.state.hub.renderer.registry is app.state.registry


def test_templates_of_a_kind_are_in_its_folder(app):
    env = app.state.templates
    for kind in app.state.registry:
        for audience in ("phone", "screen", "console", "results"):
            assert env.get_template(kind.template(audience)).name == f"activities/{kind.key}/_{audience}.html"


def test_the_registry_pickles_for_the_export_worker():
    """The export worker gets the app's registry pickled; a kind's in-process helpers
    (the roadmap's presence, with its lock) stay behind and the worker gets fresh kinds."""
    import pickle

    from server.app import make_registry

    registry = make_registry()
    copy = pickle.loads(pickle.dumps(registry))
    assert [k.key for k in copy] == [k.key for k in registry]
