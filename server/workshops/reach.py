"""Can phones reach the join address? Whether it is a loopback one (127.0.0.1, localhost,
::1: only this computer), and the machine's address on the local network to suggest.

``is_loopback``, ``pick_lan`` and ``suggested_base`` are pure. ``machine_addresses`` reads
the machine's addresses without sending anything: the source address the kernel would
use towards a private network (a UDP socket's ``connect`` only picks a route, no packet
leaves), else the addresses of the host's name (``getaddrinfo``). It is asked at most once
a minute.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
# Destinations a UDP socket is "connected" to, only to learn the route's source address.
PROBES = ("10.255.255.255", "192.168.255.255", "172.31.255.255")
CACHE_SECONDS = 60.0


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def is_loopback(url: str) -> bool:
    """Whether the address names this computer only (no phone can open it)."""
    host = host_of(url)
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pick_lan(addresses: Iterable[str]) -> str | None:
    """The first private IPv4 address (a local network's), or None."""
    for text in addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        if address.version == 4 and address.is_private and not (address.is_loopback or address.is_link_local):
            return str(address)
    return None


def suggested_base(url: str, lan: str | None) -> str | None:
    """``url`` with its host replaced by ``lan`` (same scheme and port), or None."""
    if lan is None:
        return None
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    return f"{parts.scheme or 'http'}://{lan}{port}/"


def _routed_source(probe: str) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect((probe, 9))  # UDP: sets the route and source address, sends nothing
            return s.getsockname()[0]
        except OSError:
            return None


def _named_addresses() -> list[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return [info[4][0] for info in infos]


def machine_addresses() -> list[str]:
    found = [a for a in (_routed_source(p) for p in PROBES) if a]
    return found + _named_addresses()


_cache: dict[str, tuple[float, list[str]]] = {}


def _cached_addresses(now: Callable[[], float] = time.monotonic) -> list[str]:
    at, found = _cache.get("addresses", (-CACHE_SECONDS, []))
    if now() - at >= CACHE_SECONDS:
        found = machine_addresses()
        _cache["addresses"] = (now(), found)
    return found


def reach(join_base: str, addresses: Iterable[str] | None = None) -> dict:
    """What the pages say about the join address (its ``host``): whether it is ``loopback`` and, then, the
    ``suggestion`` (the same address at this machine's LAN address; None when none is found).
    ``addresses``: the machine's (tests give them; by default they are read)."""
    host = host_of(join_base)
    if not is_loopback(join_base):
        return {"loopback": False, "host": host, "suggestion": None}
    found = _cached_addresses() if addresses is None else addresses
    return {"loopback": True, "host": host, "suggestion": suggested_base(join_base, pick_lan(found))}
