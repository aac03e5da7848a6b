"""Shared strict parsing of the pieces every policy API uses: CIDRs, port numbers, selectors in context."""

from __future__ import annotations

import ipaddress
from typing import Any

from sovereign.connectivity.intervals import Range, network_range, subtract
from sovereign.connectivity.inventory import Manifest
from sovereign.connectivity.rules import AddressPeer
from sovereign.core.errors import InputError


def cidr(m: Manifest, value: Any, *keys: str | int) -> tuple[int, Range]:
    """(IP version, inclusive range). Host bits may be set (upstream e2e uses such CIDRs)."""
    if not isinstance(value, str) or "/" not in value:
        raise InputError(m.source, m.path(*keys), "a CIDR such as 10.0.0.0/8 or 2001:db8::/32", value)
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise InputError(m.source, m.path(*keys), "a CIDR such as 10.0.0.0/8 or 2001:db8::/32", value) from None
    return net.version, network_range(net)


def address_peer(
    m: Manifest, block: Any, excepts: Any, pods: bool, *keys: str | int, except_key: str = "except"
) -> AddressPeer:
    version, rng = cidr(m, block, *keys)
    holes: list[Range] = []
    if excepts is not None and not isinstance(excepts, list):
        raise InputError(m.source, m.path(*keys[:-1], except_key), "a list of CIDRs", excepts)
    for i, ex in enumerate(excepts or []):
        ev, er = cidr(m, ex, *keys[:-1], except_key, i)
        if ev != version or er[0] < rng[0] or er[1] > rng[1]:
            raise InputError(m.source, m.path(*keys[:-1], except_key, i), f"a CIDR inside {block}", ex)
        holes.append(er)
    ranges = subtract([rng], holes)
    return AddressPeer(ranges if version == 4 else (), ranges if version == 6 else (), pods)


def port_number(m: Manifest, value: Any, *keys: str | int) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise InputError(m.source, m.path(*keys), "a port number 1..65535", value)
    return value


def mapping(m: Manifest, value: Any, *keys: str | int) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(m.source, m.path(*keys), "a mapping", value)
    return value


def seq(m: Manifest, value: Any, *keys: str | int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(m.source, m.path(*keys), "a list", value)
    return value
