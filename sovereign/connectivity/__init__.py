"""Connectivity proof: what every workload can reach, and whether any path crosses a border.

Pure Python over rendered Kubernetes objects (plain manifest dicts, camelCase keys); no cluster needed.
Semantics follow upstream (NetworkPolicy, AdminNetworkPolicy/BaselineAdminNetworkPolicy v1alpha1,
ClusterNetworkPolicy v1alpha2, CiliumNetworkPolicy/CiliumClusterwideNetworkPolicy v2); every behaviour that
upstream leaves to the CNI is an explicit ``CniParams`` field. See docs/connectivity.md.

API::

    cni = CniParams.from_cni_config(stack.cluster.cni)          # or CniParams(...) / CniParams.upstream()
    report = analyze(objects, cni=cni, catalog=catalog, jurisdiction="eu",
                     cluster_cidrs=stack.cluster.pod_cidrs + stack.cluster.service_cidrs,
                     sources=None)       # optional (file, key prefix) per object, for error messages
    report.workloads                     # tuple of "ns/name" (workloads and bare pods), sorted
    report.reach("ns/app")               # list[Reach(destination, protocol, ports, rules)]
    report.query("ns/app", "ns/db", 5432, "TCP")      # Answer(allowed, rules, reason, mixed, resolved, backends)
                                         #   ns/name is the Service of that name if there is one (resolved
                                         #   through selector and targetPort), else the workload or pod;
                                         #   service:ns/name, workload:ns/name say which
    report.destinations("ns/app")        # list[Destination(category, destination, jurisdiction, protocol, ports,
                                         #   rules)], by DESTINATION_CLASSES
    report.query("ns/app", "203.0.113.7", 443, "TCP") # external address; port None = any port
    report.cross_border()                # list[CrossBorderPath(source, source_jurisdiction, hops,
                                         #   destination_range, destination_jurisdiction, protocol, ports, rules,
                                         #   direction)]: outbound, and inbound (clients abroad a policy admits)
    report.inbound("ns/app")             # list[Inbound]: address ranges outside the cluster that may connect in
    report.query("world", "ns/app", 8443)             # from outside the cluster ("world" or an IP outside it)
    report.ignored_policies              # list[IgnoredPolicy(kind, namespace, name, reason)]
    report.notes                         # parts of policies that are not modelled
    report.jurisdiction_of("ns/app")     # namespace label, else the cluster's jurisdiction
    report.to_json()                     # deterministic JSON-able dict

``sovereign.connectivity.manifests.load(path)`` reads a file or directory of YAML/JSON manifests and returns
``(objects, sources)`` ready for ``analyze``.

Rule chains are tuples of ``RuleRef(kind, namespace, name, rule)``: egress side first, then the destination's
ingress side. A workload's jurisdiction is its namespace label ``sovereign-clusters.dev/jurisdiction`` when
present, else the ``jurisdiction`` argument (the cluster's). Bad manifests raise ``InputError``.
"""

from sovereign.connectivity.engine import analyze
from sovereign.connectivity.model import (
    DESTINATION_CLASSES,
    Answer,
    BackendAnswer,
    CniParams,
    CrossBorderPath,
    Destination,
    IgnoredPolicy,
    Inbound,
    Reach,
    RuleRef,
)
from sovereign.connectivity.report import ConnectivityReport

__all__ = [
    "DESTINATION_CLASSES",
    "Answer",
    "BackendAnswer",
    "CniParams",
    "ConnectivityReport",
    "CrossBorderPath",
    "Destination",
    "IgnoredPolicy",
    "Inbound",
    "Reach",
    "RuleRef",
    "analyze",
]
