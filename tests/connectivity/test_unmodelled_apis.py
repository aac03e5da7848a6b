"""RT-15: a policy object of another API with a modelled kind name is ignored and reported, never misread."""

from __future__ import annotations

from sovereign.connectivity import CniParams, analyze
from sovereign.stackconfig.model import PolicyApi

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}
APP = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app", "namespace": "a"},
       "spec": {"template": {"metadata": {"labels": {"app": "x"}},
                             "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
DENY = {"kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "a"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}


def test_calico_networkpolicy_is_not_read_as_a_kubernetes_one() -> None:
    calico = {**DENY, "apiVersion": "projectcalico.org/v3", "spec": {"selector": "all()", "types": ["Egress"]}}
    report = analyze([NS, APP, calico], cni=CniParams.upstream())
    assert report.query("a/app", "203.0.113.7", 443, "TCP").allowed
    [ignored] = report.ignored_policies
    assert (ignored.kind, ignored.namespace, ignored.name) == ("NetworkPolicy", "a", "deny")
    assert "projectcalico.org/v3 NetworkPolicy is not a modelled API" in ignored.reason


def test_modelled_api_with_or_without_api_version_is_read() -> None:
    for policy in (DENY, {**DENY, "apiVersion": "networking.k8s.io/v1"}):
        report = analyze([NS, APP, policy], cni=CniParams.upstream())
        assert not report.query("a/app", "203.0.113.7", 443, "TCP").allowed
        assert report.ignored_policies == []


def test_antrea_cluster_network_policy_is_ignored() -> None:
    antrea = {"apiVersion": "crd.antrea.io/v1beta1", "kind": "ClusterNetworkPolicy", "metadata": {"name": "c"},
              "spec": {"priority": 1, "appliedTo": [{"podSelector": {}}], "egress": [{"action": "Drop"}]}}
    cni = CniParams(frozenset(PolicyApi), ipblock_matches_pod_ips=True, end_port=True, sctp=True,
                    host_network_selected=False)
    report = analyze([NS, APP, antrea], cni=cni)
    assert [(p.name, "crd.antrea.io/v1beta1 ClusterNetworkPolicy is not a modelled API" in p.reason)
            for p in report.ignored_policies] == [("c", True)]
