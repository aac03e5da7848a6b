"""RT-8: any kind with a pod template makes pods, which the proof treats as sources and destinations."""

from __future__ import annotations

from typing import Any

from sovereign.catalog import default_catalog
from sovereign.connectivity import CniParams, analyze

NS = {"apiVersion": "v1", "kind": "Namespace",
      "metadata": {"name": "fleet-ingest", "labels": {"sovereign-clusters.dev/jurisdiction": "cn"}}}
POD_SPEC = {"containers": [{"name": "app", "image": "registry.automaker.cn/x:1",
                            "ports": [{"name": "https", "containerPort": 8443}]}]}


def _obj(kind: str, spec: dict[str, Any], api: str = "workloads.example.com/v1") -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": kind.lower(), "namespace": "fleet-ingest"},
            "spec": spec}


ROLLOUT = _obj("Rollout", {"template": {"metadata": {"labels": {"app": "gw"}}, "spec": POD_SPEC}},
               "argoproj.io/v1alpha1")
SCHEDULED = _obj("Scheduled", {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "job"}},
                                                                     "spec": POD_SPEC}}}})
BARE = {**_obj("Bare", POD_SPEC), "metadata": {"name": "bare", "namespace": "fleet-ingest", "labels": {"app": "b"}}}
NOT_PODS = _obj("Widget", {"template": {"name": "x"}})


def test_unknown_kinds_with_pod_templates_are_workloads() -> None:
    report = analyze([NS, ROLLOUT, SCHEDULED, BARE, NOT_PODS], cni=CniParams.upstream())
    assert report.workloads == ("fleet-ingest/bare", "fleet-ingest/rollout", "fleet-ingest/scheduled")


def test_an_unknown_kind_is_a_source_of_cross_border_egress() -> None:
    catalog = default_catalog()
    report = analyze([NS, ROLLOUT], cni=CniParams.upstream(), catalog=catalog, jurisdiction="cn")
    sources = {p.source for p in report.cross_border()}
    assert sources == {"fleet-ingest/rollout"}


def test_policies_select_the_template_labels_of_an_unknown_kind() -> None:
    deny = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": "fleet-ingest"},
            "spec": {"podSelector": {"matchLabels": {"app": "gw"}}, "policyTypes": ["Egress"]}}
    report = analyze([NS, ROLLOUT, BARE, deny], cni=CniParams.upstream(), catalog=default_catalog(),
                     jurisdiction="cn")
    assert not report.query("fleet-ingest/rollout", "203.0.113.7", 443, "TCP").allowed
    assert report.query("fleet-ingest/bare", "203.0.113.7", 443, "TCP").allowed
    assert report.query("fleet-ingest/bare", "fleet-ingest/rollout", 8443, "TCP").allowed


def test_nested_pod_templates_are_one_workload_each() -> None:
    ray = _obj("RayCluster", {
        "headGroupSpec": {"template": {"metadata": {"labels": {"role": "head"}}, "spec": POD_SPEC}},
        "workerGroupSpecs": [{"groupName": "w", "template": {"metadata": {"labels": {"role": "worker"}},
                                                            "spec": POD_SPEC}}]}, "ray.io/v1")
    deny_head = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "deny", "namespace": "fleet-ingest"},
                 "spec": {"podSelector": {"matchLabels": {"role": "head"}}, "policyTypes": ["Egress"]}}
    report = analyze([NS, ray, deny_head], cni=CniParams.upstream(), catalog=default_catalog(), jurisdiction="cn")
    head = "fleet-ingest/raycluster/spec.headGroupSpec.template"
    worker = "fleet-ingest/raycluster/spec.workerGroupSpecs[0].template"
    assert report.workloads == (head, worker)
    assert {p.source for p in report.cross_border()} == {worker}


def test_built_in_kinds_that_never_make_pods_are_not_searched_for_templates() -> None:
    """As the pack sees them (the registry of kinds): the API server drops a template smuggled into a built-in
    kind that does not define one, so no pod runs; a custom kind with the same content still makes pods, and a
    core ReplicationController is a workload."""
    template = {"template": {"metadata": {"labels": {"app": "x"}}, "spec": POD_SPEC}}
    smuggled = [
        {**_obj("NetworkPolicy", {"podSelector": {}, **template}, "networking.k8s.io/v1")},
        {**_obj("StorageClass", template, "storage.k8s.io/v1")},
        {**_obj("ConfigMap", template, "v1")},
    ]
    report = analyze([NS, *smuggled], cni=CniParams.upstream())
    assert report.workloads == ()
    custom = _obj("NetworkPolicy", template, "example.com/v1")
    controller = _obj("ReplicationController", template, "v1")
    report = analyze([NS, custom, controller], cni=CniParams.upstream())
    assert report.workloads == ("fleet-ingest/networkpolicy", "fleet-ingest/replicationcontroller")
