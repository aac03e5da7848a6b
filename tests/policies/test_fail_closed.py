"""Fail closed: unknown preview values, rule exceptions and missing context are mandatory violations.

The SDK alone would report a read of an unknown as an *advisory* "can't run policy" note (the preview passes)
and an exception as a gRPC error naming no rule; the pack's guard turns both into violations that name the
rule and the value (docs/policies.md).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy
from pulumi_policy.policy import PolicyCustomTimeouts, PolicyResourceOptions
from pulumi_policy.proxy import unknown_checking_proxy
from residency_testkit import PackPool

from policies.framework.context import stack_values_override
from policies.framework.guard import FAIL_CLOSED, to_policy
from policies.framework.k8s import K8sObject
from policies.framework.rule import ResourceRule
from policies.framework.samples import base_stack_config
from sovereign.analyzer.model import Diagnostic
from sovereign.analyzer.resource import resource_from_manifest

UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "ingest-gateway", "namespace": "fleet-ingest"},
    "spec": {
        "selector": {"matchLabels": {"sovereign-clusters.dev/workload": "ingest-gateway"}},
        "template": {
            "metadata": {"labels": {"sovereign-clusters.dev/workload": "ingest-gateway"}},
            "spec": {
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "topology.kubernetes.io/region", "operator": "In", "values": ["cn-north-1"]}]}]}}},
                "containers": [{"name": "app", "image": "registry.automaker.cn/fleet/ingest:1.0",
                                "env": [{"name": "DB", "value": "db.automaker.cn"}]}],
            },
        },
    },
}


def _by_policy(diagnostics: list[Diagnostic], name: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.policy_name == name]


def test_known_deployment_is_clean(packs: PackPool) -> None:
    pack = packs.get(base_stack_config())
    pack.configure({})
    assert pack.analyze(resource_from_manifest(DEPLOYMENT, stack="cn-prod")) == []


def test_unknown_region_is_a_mandatory_violation_naming_rule_and_value(packs: PackPool) -> None:
    pack = packs.get(base_stack_config())
    pack.configure({})
    dep = copy.deepcopy(DEPLOYMENT)
    expr = dep["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchExpressions"][0]
    expr["values"] = [UNKNOWN_STRING]
    [d] = _by_policy(pack.analyze(resource_from_manifest(dep, stack="cn-prod")), "workload-region-affinity")
    assert d.mandatory, d
    assert FAIL_CLOSED in d.message and "rule workload-region-affinity" in d.message
    assert ("string value at .spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuring"
            "Execution.nodeSelectorTerms.0.matchExpressions.0.values.0 can't be known during preview") in d.message
    assert "can't run policy" not in d.message  # not the SDK's advisory skip


def test_unknown_outside_residency_values_is_not_a_violation(packs: PackPool) -> None:
    """An env value no rule reads (e.g. another resource's output) stays harmless."""
    pack = packs.get(base_stack_config())
    pack.configure({})
    dep = copy.deepcopy(DEPLOYMENT)
    dep["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = UNKNOWN_STRING
    assert pack.analyze(resource_from_manifest(dep, stack="cn-prod")) == []


def test_unknown_in_stack_analysis_fails_the_proof(packs: PackPool) -> None:
    pack = packs.get(base_stack_config())
    pack.configure({})
    policy = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "egress", "namespace": "fleet-ingest"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                 "egress": [{"to": [{"ipBlock": {"cidr": UNKNOWN_STRING}}]}]},
    }
    resources = [resource_from_manifest(m, stack="cn-prod") for m in (DEPLOYMENT, policy)]
    [proof] = _by_policy(pack.analyze_stack(resources), "no-cross-border-path")
    assert proof.mandatory and FAIL_CLOSED in proof.message
    assert "spec.egress.0.to.0.ipBlock.cidr" in proof.message
    [resource] = _by_policy(pack.analyze(resources[1]), "egress-not-open-world")
    assert resource.mandatory and "ipBlock.cidr can't be known during preview" in resource.message


def test_unknown_whole_list_fails_closed(packs: PackPool) -> None:
    pack = packs.get(base_stack_config())
    pack.configure({})
    sc = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "x"},
          "provisioner": "ebs.csi.aws.com", "allowedTopologies": UNKNOWN_ARRAY}
    [d] = _by_policy(pack.analyze(resource_from_manifest(sc, stack="cn-prod")), "storageclass-topology")
    assert d.mandatory and "Array value at .allowedTopologies can't be known during preview" in d.message


def _raising_check(ctx: Any, obj: K8sObject) -> Iterator[str]:
    raise ZeroDivisionError("division by zero")


def test_exception_inside_a_rule_is_a_violation() -> None:
    rule = ResourceRule(id="always-broken", protects="A rule with a defect.", remediation="fix it",
                        severity="high", check=_raising_check)
    messages: list[str] = []
    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    res = resource_from_manifest(DEPLOYMENT, stack="cn-prod")
    policy = to_policy(rule)
    assert isinstance(policy, ResourceValidationPolicy)

    def report(message: str, urn: str | None = None) -> None:
        messages.append(message)

    with stack_values_override(base_stack_config(), stack="cn-prod"):
        props = unknown_checking_proxy(dict(res.props))
        policy.validate(ResourceValidationArgs(res.type, props, res.urn, res.name, opts, None, {}), report)
    [m] = messages
    assert m.startswith(f"{FAIL_CLOSED} rule always-broken failed on Deployment fleet-ingest/ingest-gateway "
                        "with ZeroDivisionError: division by zero at policies/test_fail_closed.py:")


def test_no_jurisdiction_fails_every_rule_closed(packs: PackPool) -> None:
    pack = packs.get({})
    pack.configure({})
    diagnostics = pack.analyze(resource_from_manifest(DEPLOYMENT, stack="cn-prod"))
    names = {d.policy_name for d in diagnostics}
    assert {"workload-region-affinity", "accelerator-allowed", "image-registry-allowed", "no-host-access"} <= names
    for d in diagnostics:
        assert d.mandatory and "the jurisdiction is unknown" in d.message, d
    stack = pack.analyze_stack([resource_from_manifest(DEPLOYMENT, stack="cn-prod")])
    mandatory = {d.policy_name for d in stack if d.mandatory}
    assert {"namespace-egress-isolated", "no-cross-border-path", "transfer-valid"} <= mandatory


def test_unknown_jurisdiction_fails_closed(packs: PackPool) -> None:
    pack = packs.get({"sovereign-clusters:jurisdiction": "atlantis"})
    pack.configure({})
    diagnostics = pack.analyze(resource_from_manifest(DEPLOYMENT, stack="cn-prod"))
    assert diagnostics and all("'atlantis'" in d.message and "not in the catalog" in d.message for d in diagnostics)


def test_partial_config_jurisdiction_only(packs: PackPool) -> None:
    """``sovereign check --manifests`` passes only the jurisdiction: resource rules judge against the
    jurisdiction's regions on any provider; stack rules assume only NetworkPolicy is enforced."""
    pack = packs.get({"sovereign-clusters:jurisdiction": "cn"})
    pack.configure({"transfer-valid": {"at": "2027-06-01"}})
    assert pack.analyze(resource_from_manifest(DEPLOYMENT, stack="manifests")) == []
    foreign = copy.deepcopy(DEPLOYMENT)
    foreign["spec"]["template"]["spec"]["containers"][0]["image"] = "quay.io/org/app:1"
    [d] = pack.analyze(resource_from_manifest(foreign, stack="manifests"))
    assert d.policy_name == "image-registry-allowed" and "quay.io" in d.message
    annotated = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "t", "namespace": "model-registry", "annotations": {
            "sovereign-clusters.dev/transfer": "weights-to-eu",
            "sovereign-clusters.dev/transfer-approval": "CAC-SA-2026-0042",
            "sovereign-clusters.dev/transfer-destination": "eu",
            "sovereign-clusters.dev/transfer-regulator": "CAC",
            "sovereign-clusters.dev/transfer-data-classes": "model-weights",
            "sovereign-clusters.dev/transfer-valid-until": "2027-02-28T00:00:00Z"}},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
    }
    stack = pack.analyze_stack([resource_from_manifest(annotated, stack="manifests")])
    [expired] = _by_policy(stack, "transfer-valid")
    assert "opens transfer weights-to-eu, but it expired on 2027-02-28" in expired.message


UNGUARDED_PACK = '''
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def read_region(args, report):
    if args.props["spec"]["region"] != "cn-north-1":
        report("foreign region")

PolicyPack("unguarded", [
    ResourceValidationPolicy("read-region", "reads spec.region", read_region, EnforcementLevel.MANDATORY),
])
'''


def test_the_sdk_alone_fails_open_on_unknowns(tmp_path: Any) -> None:
    """Evidence for the guard: an unguarded mandatory policy that reads an unknown yields only an advisory
    "can't run policy" note, so a preview would pass."""
    from sovereign.analyzer.client import PolicyPackProcess
    from sovereign.core.paths import project_root

    (tmp_path / "PulumiPolicy.yaml").write_text(
        f"runtime:\n  name: python\n  options:\n    virtualenv: {project_root() / '.venv'}\n")
    (tmp_path / "__main__.py").write_text(UNGUARDED_PACK)
    obj = {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
           "spec": {"region": UNKNOWN_STRING}}
    with PolicyPackProcess.start(tmp_path, stack_config={}) as pack:
        pack.configure({})
        [d] = pack.analyze(resource_from_manifest(obj, stack="s"))
    assert d.enforcement_level == "advisory" and not d.mandatory
    assert "can't run policy 'read-region'" in d.message and "during preview" in d.message
