"""``sovereign check STACK --manifests PATH``: plain manifests judged under one stack's cluster config.

Without the stack, the pack knows only the jurisdiction and must assume the strictest CNI; with it, the proof
knows which policy APIs the CNI enforces, so a CiliumNetworkPolicy on a Calico cluster is ignored (and its
pods reach the world) while the same deny as a NetworkPolicy holds.
"""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import run_cli

MANIFESTS = Path(__file__).resolve().parents[1] / "redteam" / "vectors" / "policy-kind-not-enforced-by-cni"


def _violations(stdout: str) -> list[dict[str, object]]:
    return list(json.loads(stdout)["violations"])


def test_cilium_deny_on_a_calico_cluster_is_ignored_and_the_leak_found() -> None:
    result = run_cli("check", "cn-prod", "--manifests", MANIFESTS / "leak", "--at", "2026-12-01", "--format", "json")
    assert result.returncode == 1, result.stderr
    policies = {v["policy"] for v in _violations(result.stdout)}
    assert "no-cross-border-path" in policies
    assert "namespace-egress-isolated" in policies


def test_the_same_deny_as_a_networkpolicy_passes_under_the_stack() -> None:
    result = run_cli("check", "cn-prod", "--manifests", MANIFESTS / "twin", "--at", "2026-12-01", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _violations(result.stdout) == []


def test_jurisdiction_that_contradicts_the_stack_is_bad_input() -> None:
    result = run_cli("check", "cn-prod", "--manifests", MANIFESTS / "twin", "--jurisdiction", "eu")
    assert result.returncode == 2
    assert "--jurisdiction" in result.stderr and "cn-prod (cn)" in result.stderr


def test_two_stacks_with_manifests_is_bad_input() -> None:
    result = run_cli("check", "cn-prod", "eu-prod", "--manifests", MANIFESTS / "twin")
    assert result.returncode == 2
    assert "at most one stack name with --manifests" in result.stderr
