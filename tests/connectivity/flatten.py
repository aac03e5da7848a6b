"""Flatten a ConnectivityReport into the oracle's shape, and compare two flat maps segment by segment."""

from __future__ import annotations

import ipaddress

from sovereign.connectivity import ConnectivityReport
from sovereign.connectivity.intervals import merge

Flat = dict[tuple[str, str, str], list[tuple[int, int]]]


def _v4_range(destination: str) -> tuple[int, int] | None:
    try:
        if "-" in destination and "/" not in destination:
            lo, hi = destination.split("-")
            a, b = ipaddress.ip_address(lo), ipaddress.ip_address(hi)
        else:
            net = ipaddress.ip_network(destination)
            a, b = net.network_address, net.broadcast_address
    except ValueError:
        return None
    if a.version != 4:
        return None
    return int(a), int(b)


def flatten(report: ConnectivityReport) -> Flat:
    out: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    known = set(report.workloads)
    for src in report.workloads:
        for r in report.reach(src):
            if r.destination == src or r.destination.startswith("fqdn:"):
                continue
            if r.destination in known:
                key = (src, r.destination, r.protocol)
            else:
                rng = _v4_range(r.destination)
                if rng is None:
                    continue  # IPv6
                key = (src, f"ip:{rng[0]}-{rng[1]}", r.protocol)
            out.setdefault(key, []).extend(r.ports)
    return {k: list(merge(v)) for k, v in out.items()}


def normalise(flat: Flat) -> dict[tuple[str, str, str], tuple[tuple[int, int], ...]]:
    """Pod destinations as they are; IP destinations split into elementary address segments per port set,
    so two analyzers that cut address space differently compare equal when they mean the same."""
    pods: dict[tuple[str, str, str], tuple[tuple[int, int], ...]] = {}
    ips: dict[tuple[str, str], list[tuple[int, int, tuple[tuple[int, int], ...]]]] = {}
    for (src, dst, proto), ports in flat.items():
        if dst.startswith("ip:"):
            lo, hi = (int(x) for x in dst[3:].split("-"))
            ips.setdefault((src, proto), []).append((lo, hi, tuple(merge(ports))))
        elif ports:
            pods[(src, dst, proto)] = tuple(merge(ports))
    for (src, proto), segs in ips.items():
        cuts = sorted({lo for lo, _, _ in segs} | {hi + 1 for _, hi, _ in segs})
        for a, b in zip(cuts, cuts[1:], strict=False):
            covering = [p for lo, hi, p in segs if lo <= a and b - 1 <= hi]
            ports = merge([r for p in covering for r in p])
            if ports:
                pods[(src, f"ip:{a}-{b - 1}", proto)] = ports
    # coalesce adjacent IP segments with equal ports, so the split points of either side do not matter
    out: dict[tuple[str, str, str], tuple[tuple[int, int], ...]] = {}
    by_src: dict[tuple[str, str], list[tuple[int, int, tuple[tuple[int, int], ...]]]] = {}
    for (src, dst, proto), ports in pods.items():
        if dst.startswith("ip:"):
            lo, hi = (int(x) for x in dst[3:].split("-"))
            by_src.setdefault((src, proto), []).append((lo, hi, ports))
        else:
            out[(src, dst, proto)] = ports
    for (src, proto), segs in by_src.items():
        segs.sort()
        cur = list(segs[0])
        for lo, hi, p in segs[1:]:
            if lo == cur[1] + 1 and p == cur[2]:
                cur[1] = hi
            else:
                out[(src, f"ip:{cur[0]}-{cur[1]}", proto)] = cur[2]
                cur = [lo, hi, p]
        out[(src, f"ip:{cur[0]}-{cur[1]}", proto)] = cur[2]
    return out
