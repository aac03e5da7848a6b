"""Every object's verdict: judged, inert or unjudged, and why."""

from __future__ import annotations

import pytest

from sovereign.kinds.verdict import INERT, JUDGED, UNJUDGED, verdict_of

POD = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}


def test_a_built_in_workload_is_judged_by_the_pod_rules() -> None:
    v = verdict_of("kubernetes:apps/v1:Deployment", {})
    assert v.status == JUDGED and v.kind == "apps/v1 Deployment"
    assert {"workload-region-affinity", "image-registry-allowed", "no-host-access"} <= set(v.rules)
    assert "unjudged-object" not in v.rules


def test_inert_kinds_say_why() -> None:
    v = verdict_of("kubernetes:rbac.authorization.k8s.io/v1:Role", {})
    assert v.status == INERT and "authorisation" in v.reason


@pytest.mark.parametrize(("token", "props", "fragment"), [
    ("kubernetes:example.com/v1:Widget", {}, "kind Widget of API group example.com is not in the registry"),
    ("kubernetes:example.com/v1:Widget", {"spec": {"template": POD}}, "still judge the pod specs it carries at "
                                                                      "spec.template.spec"),
    ("kubernetes:apps/v1beta9:Deployment", {}, "apps/v1beta9 is not a version of Deployment"),
    ("kubernetes:apps/v1:DeploymentPatch", {}, "a server-side patch of an existing Deployment"),
    ("kubernetes:helm.sh/v3:Release", {}, "a Helm release installs its objects through Helm"),
    ("kubernetes:networking.istio.io/v1alpha3:EnvoyFilter", {}, "raw Envoy configuration patches"),
    ("aws:s3/bucket:Bucket", {}, "does not read resources of other providers"),
    ("kubernetes:tekton.dev/v1:TaskRun", {"spec": {"taskRef": {"resolver": "git"}}}, "it sets spec.taskRef.resolver"),
])
def test_unjudged_objects_say_why(token: str, props: dict[str, object], fragment: str) -> None:
    v = verdict_of(token, props)
    assert v.status == UNJUDGED and fragment in v.reason, v


def test_pulumi_types_components_and_the_stack() -> None:
    assert verdict_of("pulumi:pulumi:Stack", {}).status == INERT
    assert verdict_of("pulumi:providers:kubernetes", {}).status == INERT
    assert verdict_of("sovereign-clusters:index:SovereignCluster", {}).status == INERT
    assert verdict_of("kubernetes:yaml/v2:ConfigGroup", {}).status == INERT
    # A program's own component: the engine sends it without a provider; with one it is a custom resource.
    assert verdict_of("acme:index:Tenant", {}, has_provider=False).status == INERT
    assert verdict_of("acme:index:Tenant", {}, has_provider=True).status == UNJUDGED
    assert verdict_of("acme:index:Tenant", {}).status == UNJUDGED
