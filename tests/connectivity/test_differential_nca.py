"""Differential test: our engine against network-config-analyzer on random clusters (NetworkPolicy only).

NCA does not model AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy or Cilium, so those
are covered by the hand-written cases. Documented modelling differences (docs/connectivity.md) are kept out
of the generator: IPv4 only, no pod IPs (NCA never matches ipBlocks against pods), ingress from outside the
cluster and ICMP not compared.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from sovereign.connectivity import CniParams, analyze
from sovereign.stackconfig.model import PolicyApi
from tests.connectivity import clusters, nca_oracle
from tests.connectivity.flatten import flatten, normalise

pytestmark = pytest.mark.skipif(not nca_oracle.available(), reason="network-config-analyzer not installed")

CNI = CniParams(
    enforces=frozenset({PolicyApi.NETWORK_POLICY}),
    ipblock_matches_pod_ips=False,
    end_port=True,
    sctp=True,
    host_network_selected=False,
)

EXAMPLES = {"count": 0}
MAX_EXAMPLES = 1000 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 150
"""Default stays well under a minute; ``HYPOTHESIS_PROFILE=long`` for the long run. Set per test, not as a
global profile, so other suites' hypothesis settings are untouched."""


def _diff(ours: dict[Any, Any], theirs: dict[Any, Any]) -> str:
    lines = []
    for key in sorted(set(ours) | set(theirs)):
        if ours.get(key) != theirs.get(key):
            lines.append(f"{key}: ours={ours.get(key)} nca={theirs.get(key)}")
    return "\n".join(lines[:30])


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters.cluster())
def test_engine_agrees_with_nca(objs: list[dict[str, Any]]) -> None:
    EXAMPLES["count"] += 1
    ours = normalise(flatten(analyze(objs, cni=CNI)))
    with tempfile.TemporaryDirectory() as tmp:
        theirs = normalise(nca_oracle.connectivity(objs, Path(tmp)))
    assert ours == theirs, _diff(ours, theirs)


def test_report_example_count() -> None:
    """Runs after the property (file order) and records how many clusters were compared."""
    print(f"differential examples compared: {EXAMPLES['count']}")
    assert EXAMPLES["count"] > 0 or not nca_oracle.available()
