"""Metamorphic and consistency properties on random clusters (all policy APIs the generator knows):

- query() agrees with reach() on every workload pair and sampled ports;
- object order never changes the result;
- an Admin-tier Deny of everything at top priority leaves nothing reachable; an Admin-tier Allow of
  everything (both directions) makes everything reachable, whatever the NetworkPolicies say.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sovereign.connectivity import ConnectivityReport
from tests.connectivity import clusters
from tests.connectivity.builders import UPSTREAM, anp, run

PROBE_PORTS = (53, 80, 443, 1000, 8080, 9000, 9001)
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALL_NS = {"namespaces": {}}


def _ports_to(report: ConnectivityReport, src: str, dst: str, proto: str) -> set[int]:
    out: set[int] = set()
    for r in report.reach(src):
        if r.destination == dst and r.protocol == proto:
            for a, b in r.ports:
                out.update(p for p in PROBE_PORTS if a <= p <= b)
    return out


@SETTINGS
@given(clusters.cluster(), st.sampled_from(("TCP", "UDP", "SCTP")))
def test_query_agrees_with_reach(objs: list[dict[str, Any]], proto: str) -> None:
    r = run(objs)
    for src in r.workloads:
        for dst in r.workloads:
            expected = _ports_to(r, src, dst, proto)
            got = {p for p in PROBE_PORTS if r.query(src, dst, p, proto).allowed}
            assert got == expected, (src, dst, proto)


@SETTINGS
@given(clusters.cluster(), st.randoms(use_true_random=False))
def test_object_order_does_not_matter(objs: list[dict[str, Any]], rnd: Any) -> None:
    shuffled = list(objs)
    rnd.shuffle(shuffled)
    a = json.dumps(run(objs).to_json(), sort_keys=True)
    b = json.dumps(run(shuffled).to_json(), sort_keys=True)
    assert a == b


@SETTINGS
@given(clusters.cluster())
def test_admin_deny_everything_wins(objs: list[dict[str, Any]]) -> None:
    deny = anp(
        "deny-all",
        0,
        ALL_NS,
        egress=[{"action": "Deny", "to": [{"namespaces": {}}, {"networks": ["0.0.0.0/0", "::/0"]}]}],
    )
    r = run([*objs, deny], cni=UPSTREAM)
    for src in r.workloads:
        assert r.reach(src) == [], src


@SETTINGS
@given(clusters.cluster())
def test_admin_allow_everything_wins(objs: list[dict[str, Any]]) -> None:
    allow = anp(
        "allow-all",
        0,
        ALL_NS,
        egress=[{"action": "Allow", "to": [{"namespaces": {}}, {"networks": ["0.0.0.0/0", "::/0"]}]}],
        ingress=[{"action": "Allow", "from": [{"namespaces": {}}]}],
    )
    r = run([*objs, allow], cni=UPSTREAM)
    for src in r.workloads:
        for dst in r.workloads:
            assert r.query(src, dst, 443, "TCP").allowed
        assert r.query(src, "198.51.100.1", 22, "UDP").allowed
