"""The join address's reachability (issue 11): loopback addresses are named as such, and the
machine's LAN address is suggested from the addresses given (none read from the machine)."""

from __future__ import annotations

import pytest

from server.workshops import reach


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost:8000",
        "http://[::1]:8000/",
        "http://127.0.1.1/",
        "http://app.localhost/",
    ],
)
def test_loopback_addresses_are_named(url):
    assert reach.is_loopback(url)


@pytest.mark.parametrize("url", ["http://192.168.1.20:8000/", "https://minka.example.org/", "http://[fe80::1]/", ""])
def test_other_addresses_are_not_loopback(url):
    assert not reach.is_loopback(url)


def test_the_first_private_ipv4_address_is_picked():
    assert reach.pick_lan(["127.0.0.1", "169.254.3.4", "::1", "fe80::1", "8.8.8.8", "192.168.1.20", "10.0.0.5"]) == (
        "192.168.1.20"
    )
    assert reach.pick_lan(["127.0.0.1", "not an address", "8.8.8.8"]) is None


def test_the_suggestion_keeps_scheme_and_port():
    got = reach.reach("http://127.0.0.1:8000/", addresses=["127.0.0.1", "10.1.2.3"])
    assert got == {"loopback": True, "host": "127.0.0.1", "suggestion": "http://10.1.2.3:8000/"}
    assert reach.reach("https://localhost/", addresses=["172.20.0.4"])["suggestion"] == "https://172.20.0.4/"


def test_nothing_is_suggested_when_no_lan_address_is_found():
    assert reach.reach("http://127.0.0.1:8000/", addresses=["127.0.0.1"])["suggestion"] is None


def test_a_reachable_address_needs_no_advice():
    assert reach.reach("http://192.168.1.20:8000/", addresses=[]) == {
        "loopback": False,
        "host": "192.168.1.20",
        "suggestion": None,
    }


def test_the_machine_is_asked_without_error():
    found = reach.machine_addresses()
    assert all(isinstance(a, str) for a in found)
