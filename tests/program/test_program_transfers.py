"""Approved transfers open exactly their path while valid; outside the window nothing is rendered, the
skip is exported and logged. The evaluation time is injected through SOVEREIGN_AT."""

from __future__ import annotations

from typing import Any

from program_graph import is_transfer_policy
from program_support import DEFAULT_AT

from infra.plan import ESTATE_PRIORITY
from sovereign.core import labels
from sovereign.stackconfig.loader import load_stack

STACK = "cn-prod"


def _transfer() -> Any:
    (transfer,) = load_stack(STACK).transfers
    return transfer


def test_active_transfer_opens_exactly_its_path(capture: Any) -> None:
    t = _transfer()
    built = capture(STACK, at=DEFAULT_AT)
    (policy,) = [p for p in built.kind("NetworkPolicy") if is_transfer_policy(p)]
    ns, name = t.source_workloads[0].split("/", 1)
    assert policy["metadata"]["namespace"] == ns
    assert policy["spec"]["podSelector"] == {"matchLabels": {labels.WORKLOAD: name}}
    assert policy["spec"]["policyTypes"] == ["Egress"]
    (rule,) = policy["spec"]["egress"]
    assert [peer["ipBlock"]["cidr"] for peer in rule["to"]] == [str(c) for c in t.destination.cidrs]
    assert [(p["port"], p["protocol"]) for p in rule["ports"]] == [
        (p.port, p.protocol.value) for p in t.destination.ports
    ]
    notes = policy["metadata"]["annotations"]
    assert notes[labels.TRANSFER_APPROVAL] == t.approval_reference
    assert notes[labels.TRANSFER_REGULATOR] == t.regulator
    assert notes[labels.TRANSFER_DESTINATION] == t.destination.jurisdiction
    assert notes[labels.TRANSFER_DATA_CLASSES].split(",") == sorted(t.data_classes)
    assert notes[labels.TRANSFER_VALID_FROM] == t.valid_from.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert notes[labels.TRANSFER_VALID_UNTIL] == t.valid_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    (active,) = built.outputs["activeTransfers"]
    assert active["id"] == t.id and active["validUntil"] == notes[labels.TRANSFER_VALID_UNTIL]
    assert built.outputs["expiredTransfers"] == []


def test_active_transfer_passes_admin_tier_before_estate_deny(capture: Any) -> None:
    t = _transfer()
    built = capture(STACK, at=DEFAULT_AT)
    anps = {a["metadata"]["name"]: a for a in built.kind("AdminNetworkPolicy")}
    (transfer_anp,) = [a for a in anps.values() if labels.TRANSFER_APPROVAL in a["metadata"].get("annotations", {})]
    ns, name = t.source_workloads[0].split("/", 1)
    spec = transfer_anp["spec"]
    assert spec["priority"] < ESTATE_PRIORITY
    assert spec["subject"] == {
        "pods": {
            "namespaceSelector": {"matchLabels": {labels.METADATA_NAME: ns}},
            "podSelector": {"matchLabels": {labels.WORKLOAD: name}},
        }
    }
    (rule,) = spec["egress"]
    assert rule["action"] == "Pass"
    assert rule["to"] == [{"networks": [str(c) for c in t.destination.cidrs]}]
    assert rule["ports"] == [
        {"portNumber": {"port": p.port, "protocol": p.protocol.value}} for p in t.destination.ports
    ]


def test_expired_transfer_not_rendered_but_exported_and_logged(capture: Any) -> None:
    t = _transfer()
    built = capture(STACK, at="2027-03-01T00:00:00Z")
    assert built.error is None
    assert not [p for p in built.kind("NetworkPolicy") if is_transfer_policy(p)]
    assert not [a for a in built.kind("AdminNetworkPolicy") if labels.TRANSFER_ID in a["metadata"].get("labels", {})]
    assert built.outputs["activeTransfers"] == []
    (expired,) = built.outputs["expiredTransfers"]
    assert (expired["id"], expired["reason"]) == (t.id, "expired")
    assert any(t.id in w and "expired" in w for w in built.warnings)
    # The estate deny is still there: the path is closed, not merely unlisted.
    assert [a["metadata"]["name"] for a in built.kind("AdminNetworkPolicy")] == ["sovereign-estate-egress"]
    registry_egress = built.outputs["allowedEgress"][t.source_workloads[0]]
    assert registry_egress["transfers"] == []


def test_not_yet_valid_transfer_not_rendered(capture: Any) -> None:
    built = capture(STACK, at="2026-01-01")
    assert not [p for p in built.kind("NetworkPolicy") if is_transfer_policy(p)]
    (skipped,) = built.outputs["expiredTransfers"]
    assert skipped["reason"] == "not yet valid"
