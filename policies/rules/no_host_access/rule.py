"""No hostNetwork, hostPort or hostPath in governed namespaces.

Each one steps outside what the residency controls see: hostNetwork traffic is node traffic that NetworkPolicies
do not govern on most CNIs (netpol-semantics.md §1.8), a hostPort exposes the pod on the node's address, and a
hostPath writes data to the node's disk, outside the jurisdiction-pinned storage classes.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.framework.context import RuleContext
from policies.framework.k8s import WORKLOAD_KINDS, K8sObject, containers
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_list, as_map, text


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if not ctx.governed(obj.namespace):
        return
    spec = obj.pod_spec()
    if spec is None:
        return
    path = obj.pod_spec_path()
    if spec.get("hostNetwork") is True:
        yield (f"{obj.ref} sets {path}.hostNetwork: true: its traffic leaves as node traffic that egress "
               f"policies do not govern, so it could reach any address outside {ctx.jurisdiction.id}")
    for list_name, i, c in containers(spec):
        for j, port in enumerate(as_list(c.get("ports"))):
            host_port = as_map(port).get("hostPort")
            if host_port not in (None, 0, 0.0):
                yield (f"{obj.ref} exposes {path}.{list_name}[{i}].ports[{j}].hostPort {text(host_port)} on the "
                       f"node's address, bypassing the namespace's network policies")
    for i, vol in enumerate(as_list(spec.get("volumes"))):
        host_path = as_map(vol).get("hostPath")
        if host_path is not None:
            yield (f"{obj.ref} mounts {path}.volumes[{i}] hostPath {text(as_map(host_path).get('path'))}: data "
                   f"lands on the node's disk outside the jurisdiction-pinned storage classes")


RULE = ResourceRule(
    id="no-host-access",
    protects="Pods in governed namespaces use no hostNetwork, hostPort or hostPath (paths around residency "
    "controls).",
    remediation="remove hostNetwork/hostPort/hostPath; use a Service, and a PersistentVolumeClaim on a "
    "jurisdiction-pinned StorageClass",
    severity="high",
    kinds=WORKLOAD_KINDS,
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
