"""Fail closed, end to end over gRPC: a rule that breaks, a value unknown at preview, and pod templates in kinds
the pack does not know must each end in a violation naming the rule, never in a silent pass."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import (
    JURISDICTION_ONLY,
    UNKNOWN,
    analyze,
    default_deny,
    deployment,
    describe,
    namespace,
    pack,
    pod_spec,
)

from sovereign.analyzer.client import PolicyPackProcess

FAIL_CLOSED = "[fail-closed]"


@pytest.fixture(scope="module")
def cn_pack() -> Any:
    with pack(JURISDICTION_ONLY) as process:
        yield process


def _fail_closed(diags: list[Any], rule: str) -> list[Any]:
    return [d for d in diags if d.policy_name == rule and FAIL_CLOSED in d.message and f"rule {rule}" in d.message]


# ------------------------------------------------------------------------------ an exception inside a rule
TRANSFER_POLICY = {
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    "metadata": {"name": "transfer-weights-to-eu", "namespace": "fleet-ingest", "annotations": {
        "sovereign-clusters.dev/transfer": "weights-to-eu",
        "sovereign-clusters.dev/transfer-approval": "CAC-SA-2026-0042",
        "sovereign-clusters.dev/transfer-regulator": "CAC",
        "sovereign-clusters.dev/transfer-destination": "eu",
        "sovereign-clusters.dev/transfer-data-classes": "model-weights",
        "sovereign-clusters.dev/transfer-valid-from": "2026-03-01T00:00:00Z",
        "sovereign-clusters.dev/transfer-valid-until": "2027-02-28T00:00:00Z"}},
    "spec": {"podSelector": {"matchLabels": {"app": "ingest-gateway"}}, "policyTypes": ["Egress"],
             "egress": [{"to": [{"ipBlock": {"cidr": "10.20.5.0/24"}}], "ports": [{"port": 443, "protocol": "TCP"}]}]},
}


def test_exception_inside_a_rule_is_a_mandatory_violation_naming_it() -> None:
    """No resource shape we could craft crashes a rule (they read props defensively; tests/e2e fuzzes that
    below), so the failure is injected through the one input a rule parses itself: the policy config ``at``.
    ``2026-02-30`` matches the schema's pattern, reaches the rule, and raises inside ``ctx.at``."""
    bad_at = {"transfer-valid": {"at": "2026-02-30"}, "no-cross-border-path": {"at": "2026-02-30"}}
    manifests = [namespace(), default_deny(), deployment(), TRANSFER_POLICY]
    with pack(JURISDICTION_ONLY, policy_config=bad_at) as process:
        diags = analyze(process, manifests)
    hits = _fail_closed(diags, "transfer-valid")
    assert hits, describe(diags)
    assert all(d.enforcement_level == "mandatory" for d in hits), describe(hits)
    assert any("failed on" in d.message for d in hits), describe(hits)


def test_exception_in_an_advisory_rule_is_reported_naming_it() -> None:
    """The expiry warning is advisory; a crash in it must still be reported, naming the rule."""
    from e2e_support import stack_config

    with pack(stack_config("cn-prod"), stack="cn-prod",
              policy_config={"transfer-expiry-warning": {"warningDays": 10**12, "at": "2026-12-01"}}) as process:
        diags = analyze(process, [namespace(), default_deny(), deployment()], stack="cn-prod")
    hits = _fail_closed(diags, "transfer-expiry-warning")
    assert hits, describe(diags)
    assert "failed on the stack with OverflowError" in hits[0].message, describe(hits)


HOSTILE_SHAPES: dict[str, dict[str, Any]] = {
    "spec-is-a-list": {**deployment(), "spec": [1, 2]},
    "template-spec-is-a-string": {**deployment(), "spec": {"template": {"spec": "x"}}},
    "containers-is-a-map": deployment({"containers": {"name": "app"}}),
    "labels-is-a-list": {**deployment(), "metadata": {"name": "x", "namespace": "fleet-ingest", "labels": [1]}},
    "policy-egress-is-a-string": {**default_deny(), "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                                                            "egress": "everything"}},
    "ports-are-floats": {**default_deny(), "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"ipBlock": {"cidr": "10.10.0.0/16"}}], "ports": [{"port": 1.5, "endPort": -3}]}]}},
    "cidr-is-a-number": {**default_deny(), "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"ipBlock": {"cidr": 167772160, "except": "10.0.0.0/8"}}]}]}},
}


@pytest.mark.parametrize("case", sorted(HOSTILE_SHAPES))
def test_wrong_types_never_crash_the_pack_or_pass_an_open_door(case: str, cn_pack: PolicyPackProcess) -> None:
    """Wrong types where rules expect mappings: the RPCs answer (no gRPC error), every finding is attributed to
    a rule, and a type-broken egress rule never counts as a closed door for an unprotected workload."""
    diags = analyze(cn_pack, [namespace(), HOSTILE_SHAPES[case], deployment(name="other")])
    assert all(d.policy_name for d in diags), describe(diags)
    if case.startswith(("policy-", "ports-", "cidr-")):
        # The only egress policy is type-broken; the workload 'other' must not be judged isolated and clean.
        assert any(d.enforcement_level == "mandatory" for d in diags), describe(diags)


# ------------------------------------------------------------------------------ unknown at preview
def _with(obj: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    import copy

    out = copy.deepcopy(obj)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


UNKNOWN_CASES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "image": ("image-registry-allowed", [deployment(pod_spec(image=UNKNOWN))]),
    "region-node-selector": ("workload-region-affinity", [deployment(
        {"nodeSelector": {"topology.kubernetes.io/region": UNKNOWN},
         "containers": [{"name": "app", "image": "registry.automaker.cn/x:1"}]})]),
    "affinity-values": ("workload-region-affinity", [_with(deployment(), (
        "spec", "template", "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms", 0, "matchExpressions", 0, "values"), [UNKNOWN])]),
    "host-network": ("no-host-access", [deployment(pod_spec(hostNetwork=UNKNOWN))]),
    "gpu-product": ("accelerator-allowed", [deployment(pod_spec(
        nodeSelector={"nvidia.com/gpu.product": UNKNOWN},
        containers=[{"name": "app", "image": "registry.automaker.cn/x:1",
                     "resources": {"limits": {"nvidia.com/gpu": 1}}}]))]),
    "namespace-label": ("namespace-jurisdiction-label", [namespace(jurisdiction=UNKNOWN)]),
    "ipblock-cidr": ("egress-not-open-world", [_with(TRANSFER_POLICY, ("spec", "egress", 0, "to", 0, "ipBlock",
                                                                       "cidr"), UNKNOWN)]),
    "external-name": ("service-endpoint-in-jurisdiction", [{
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "fleet-ingest"},
        "spec": {"type": "ExternalName", "externalName": UNKNOWN}}]),
    "nfs-server": ("persistent-volume-endpoint", [{
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv"},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"],
                 "nfs": {"server": UNKNOWN, "path": "/x"}}}]),
    "backup-region": ("backup-location-in-jurisdiction", [{
        "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation", "metadata": {"name": "b", "namespace": "velero"},
        "spec": {"provider": "aws", "objectStorage": {"bucket": "b"}, "config": {"region": UNKNOWN}}}]),
    "webhook-url": ("webhook-in-cluster", [{
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "w"}, "webhooks": [{"name": "w.automaker.cn", "admissionReviewVersions": ["v1"],
                                                 "sideEffects": "None", "clientConfig": {"url": UNKNOWN}}]}]),
    "storage-zone": ("storageclass-topology", [{
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "sc"},
        "provisioner": "ebs.csi.aws.com", "allowedTopologies": [{"matchLabelExpressions": [
            {"key": "topology.ebs.csi.aws.com/zone", "values": [UNKNOWN]}]}]}]),
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_CASES))
def test_unknown_at_preview_is_a_mandatory_violation(case: str, cn_pack: PolicyPackProcess) -> None:
    rule, objects = UNKNOWN_CASES[case]
    diags = analyze(cn_pack, [namespace(), default_deny(), *objects])
    hits = _fail_closed(diags, rule)
    assert hits, f"{rule} did not fail closed on an unknown value ({case})\n{describe(diags)}"
    assert all(d.enforcement_level == "mandatory" for d in hits), describe(hits)
    assert "unknown" in hits[0].message, describe(hits)


def test_unknown_policy_peer_fails_the_connectivity_proof_closed(cn_pack: PolicyPackProcess) -> None:
    """The connectivity proof reads every policy; an unknown selector there is residency-critical."""
    policy = _with(default_deny(), ("spec", "podSelector"), {"matchLabels": {"app": UNKNOWN}})
    diags = analyze(cn_pack, [namespace(), policy, deployment()])
    assert _fail_closed(diags, "no-cross-border-path") or _fail_closed(diags, "namespace-egress-isolated"), \
        describe(diags)


# ------------------------------------------------------------------------------ unknown kinds with pod templates
ROLLOUT_SPEC = pod_spec(image="docker.io/library/nginx:1.27", hostNetwork=True,
                        nodeSelector={"topology.kubernetes.io/region": "eu-central-1"})
ROLLOUT_SPEC.pop("affinity")
UNKNOWN_KINDS: dict[str, dict[str, Any]] = {
    "argo-rollout": deployment(ROLLOUT_SPEC, api="argoproj.io/v1alpha1", kind="Rollout"),
    "custom-worker": deployment(ROLLOUT_SPEC, api="workloads.example.com/v1", kind="Worker"),
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_KINDS))
def test_unknown_kind_with_pod_template_is_analysed_or_flagged(case: str, cn_pack: PolicyPackProcess) -> None:
    """hostNetwork, a foreign region and a docker.io image inside an unknown kind's pod template: analysed as a
    workload (the rules fire) or flagged as un-analysable, never a silent pass (RT-8)."""
    obj = UNKNOWN_KINDS[case]
    diags = analyze(cn_pack, [namespace(), default_deny(), obj])
    mandatory = [d for d in diags if d.enforcement_level == "mandatory"]
    assert mandatory, f"{obj['kind']} with a hostile pod template passed silently (RT-8)\n{describe(diags)}"
    assert any(obj["kind"] in d.message or obj["metadata"]["name"] in d.message for d in mandatory), \
        describe(mandatory)


def test_unknown_kind_via_cli_is_not_a_silent_pass(tmp_path: Any) -> None:
    import yaml
    from e2e_support import run_cli

    path = tmp_path / "rollout.yaml"
    path.write_text(yaml.safe_dump_all([namespace(), default_deny(), UNKNOWN_KINDS["argo-rollout"]]),
                    encoding="utf-8")
    run = run_cli(["check", "--manifests", str(path), "--jurisdiction", "cn", "--format", "json"])
    assert run.code == 1, f"exit {run.code}: an Argo Rollout with hostNetwork in eu-central-1 passed (RT-8)\n" \
                          f"{run.stdout[-1500:]}{run.stderr[-1500:]}"
