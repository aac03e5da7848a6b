"""Interval arithmetic for ports and addresses: sorted, disjoint, inclusive integer ranges.

The engine never expands single ports or addresses: every rule boundary becomes an "atom" boundary, and a set
of ports or addresses is a bitmask over atoms (a Python int), so union/intersection are single operations.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

Range = tuple[int, int]

PROTOCOLS = ("TCP", "UDP", "SCTP")
PORT_MIN, PORT_MAX = 1, 65535
V4_MAX, V6_MAX = 2**32 - 1, 2**128 - 1
"""The last address of each address space (addresses are integers; ranges are inclusive)."""


def merge(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Union of inclusive ranges, sorted and coalesced (adjacent ranges join)."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((a, b) for a, b in out)


def subtract(ranges: Sequence[Range], holes: Sequence[Range]) -> tuple[Range, ...]:
    """``ranges`` minus ``holes`` (both sorted/disjoint or not; result coalesced)."""
    result: list[Range] = []
    holes_m = merge(holes)
    for lo, hi in merge(ranges):
        cur = lo
        for hlo, hhi in holes_m:
            if hhi < cur or hlo > hi:
                continue
            if hlo > cur:
                result.append((cur, hlo - 1))
            cur = max(cur, hhi + 1)
            if cur > hi:
                break
        if cur <= hi:
            result.append((cur, hi))
    return merge(result)


class Atoms:
    """A partition of [lo, hi] into atoms whose boundaries are every range edge the engine has seen.

    Bit ``offset + i`` of a mask stands for atom ``i``; a range whose edges are boundaries maps to a
    contiguous run of bits.
    """

    def __init__(self, lo: int, hi: int, ranges: Iterable[Range], offset: int) -> None:
        starts = {lo}
        for a, b in ranges:
            a, b = max(a, lo), min(b, hi)
            if a > b:
                continue
            starts.add(a)
            if b < hi:
                starts.add(b + 1)
        self.lo, self.hi, self.offset = lo, hi, offset
        self.starts = sorted(starts)
        self.count = len(self.starts)
        self.all_mask = ((1 << self.count) - 1) << offset

    def atom_of(self, value: int) -> int:
        """Index (not bit) of the atom holding ``value``."""
        return bisect.bisect_right(self.starts, value) - 1

    def span(self, index: int) -> Range:
        end = self.starts[index + 1] - 1 if index + 1 < self.count else self.hi
        return self.starts[index], end

    def mask(self, ranges: Iterable[Range]) -> int:
        """Bitmask of the atoms covering ``ranges`` (their edges must be atom boundaries)."""
        m = 0
        for a, b in ranges:
            a, b = max(a, self.lo), min(b, self.hi)
            if a > b:
                continue
            i = self.atom_of(a)
            j = self.atom_of(b)
            m |= ((1 << (j - i + 1)) - 1) << (i + self.offset)
        return m

    def ranges(self, mask: int) -> tuple[Range, ...]:
        """Coalesced ranges of the atoms set in ``mask`` (bits outside this space are ignored)."""
        m = (mask & self.all_mask) >> self.offset
        out: list[Range] = []
        i = 0
        while m:
            if m & 1:
                j = i
                while m & 1:
                    m >>= 1
                    j += 1
                a = self.starts[i]
                b = self.starts[j] - 1 if j < self.count else self.hi
                out.append((a, b))
                i = j
            else:
                skip = (m & -m).bit_length() - 1
                m >>= skip
                i += skip
        return merge(out)


def network_range(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Range:
    return int(net.network_address), int(net.broadcast_address)


def format_address_range(version: int, lo: int, hi: int) -> str:
    """CIDR when the range is one, else ``first-last``."""
    addr_cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    first, last = addr_cls(lo), addr_cls(hi)
    nets = list(ipaddress.summarize_address_range(first, last))
    if len(nets) == 1:
        return str(nets[0])
    return f"{first}-{last}"


def address_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of an address range as ``format_address_range`` writes it (CIDR or ``first-last``); [] when
    ``text`` is not one."""
    try:
        if "-" in text and "/" not in text:
            lo, hi = (ipaddress.ip_address(p) for p in text.split("-", 1))
            return list(ipaddress.summarize_address_range(lo, hi))
        return [ipaddress.ip_network(text, strict=False)]
    except (ValueError, TypeError):
        return []


def format_ports(ranges: Sequence[Range]) -> str:
    if tuple(ranges) == ((PORT_MIN, PORT_MAX),):
        return "all"
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def mask_of(indices: Iterable[int]) -> int:
    """Bitmask with the given bit indices set, built in one pass (OR-ing bits into a growing int one at a
    time costs O(width) each, O(n x width) in all)."""
    idx = list(indices)
    if not idx:
        return 0
    buf = bytearray(max(idx) // 8 + 1)
    for i in idx:
        buf[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(buf, "little")


def group_masks(pairs: Iterable[tuple[object, int]]) -> dict[Any, int]:
    """``{key: mask of indices}`` from (key, index) pairs, each mask built once."""
    lists: dict[Any, list[int]] = {}
    for key, i in pairs:
        lists.setdefault(key, []).append(i)
    return {k: mask_of(v) for k, v in lists.items()}


def iter_bits(mask: int) -> Iterable[int]:
    """Indices of set bits, ascending.

    Peeling the lowest bit costs O(width) per bit on a wide int, O(width x bits) in all; for dense masks
    one pass over the binary string is linear.
    """
    if mask.bit_count() <= 8:
        while mask:
            low = mask & -mask
            yield low.bit_length() - 1
            mask ^= low
        return
    digits = bin(mask)[:1:-1]  # least significant first, without "0b"
    i = digits.find("1")
    while i >= 0:
        yield i
        i = digits.find("1", i + 1)
