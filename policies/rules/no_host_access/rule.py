"""No hostNetwork, hostPort, hostPath, hostPID, hostIPC or privileged containers in governed namespaces.

Each one steps outside what the residency controls see: hostNetwork traffic is node traffic that NetworkPolicies
do not govern on most CNIs (netpol-semantics.md §1.8), a hostPort exposes the pod on the node's address, and a
hostPath writes data to the node's disk, outside the jurisdiction-pinned storage classes.

The same holds for the other host namespaces and for privilege (RT-12): with hostPID a container that may call
setns (privileged, or CAP_SYS_ADMIN) runs ``nsenter -t 1 -n`` and is in the node's network namespace, outside
every NetworkPolicy; hostIPC shares the node's System V / POSIX shared memory with host processes, a data path no
policy sees; a privileged container (or one adding SYS_ADMIN / ALL) can mount the node's disks and reconfigure
the node. NET_ADMIN and NET_RAW are not flagged: they act inside the pod's own network namespace, and policies
are enforced outside it (on the host side of the pod's interface), so they open no path around them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject, containers
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_list, as_map, text

HOST_NAMESPACES = (
    ("hostPID", "its containers see the node's processes; a privileged one (or one with SYS_ADMIN) can nsenter "
                "into the node's network namespace, where its traffic is node traffic outside every "
                "NetworkPolicy"),
    ("hostIPC", "its containers share the node's IPC namespace (shared memory with host processes), a data "
                "path no NetworkPolicy sees"),
)
ESCAPE_CAPABILITIES = frozenset({"SYS_ADMIN", "ALL"})
"""Capabilities that amount to privileged for these purposes (setns, mount); see the module docstring."""


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    specs = obj.pod_specs()  # any kind with a pod template (RT-8), read before the context is needed
    if not specs or not ctx.governed(obj.namespace):
        return
    for path, spec in specs:
        yield from _check_pod(ctx, obj, path, spec)


def _check_pod(ctx: RuleContext, obj: K8sObject, path: str, spec: Mapping[str, Any]) -> Iterator[str]:
    if spec.get("hostNetwork") is True:
        yield (f"{obj.ref} sets {path}.hostNetwork: true: its traffic leaves as node traffic that egress "
               f"policies do not govern, so it could reach any address outside {ctx.jurisdiction.id}")
    for list_name, i, c in containers(spec):
        for j, port in enumerate(as_list(c.get("ports"))):
            host_port = as_map(port).get("hostPort")
            if host_port not in (None, 0, 0.0):
                yield (f"{obj.ref} exposes {path}.{list_name}[{i}].ports[{j}].hostPort {text(host_port)} on the "
                       f"node's address, bypassing the namespace's network policies")
    for key, why in HOST_NAMESPACES:
        if spec.get(key) is True:
            yield f"{obj.ref} sets {path}.{key}: true: {why}"
    for list_name, i, c in containers(spec):
        security = as_map(c.get("securityContext"))
        where = f"{path}.{list_name}[{i}].securityContext"
        if security.get("privileged") is True:
            yield (f"{obj.ref} runs a privileged container ({where}.privileged: true): it can mount the node's "
                   f"disks and, with hostPID, enter the node's network namespace, outside every NetworkPolicy "
                   f"and storage control of {ctx.jurisdiction.id}")
        added = sorted({text(cap).upper().removeprefix("CAP_")
                        for cap in as_list(as_map(security.get("capabilities")).get("add"))} & ESCAPE_CAPABILITIES)
        if added:
            yield (f"{obj.ref} adds capabilities {added} ({where}.capabilities.add): as good as privileged (setns, "
                   f"mount), a way around the residency controls of {ctx.jurisdiction.id}")
    for i, vol in enumerate(as_list(spec.get("volumes"))):
        host_path = as_map(vol).get("hostPath")
        if host_path is not None:
            yield (f"{obj.ref} mounts {path}.volumes[{i}] hostPath {text(as_map(host_path).get('path'))}: data "
                   f"lands on the node's disk outside the jurisdiction-pinned storage classes")


RULE = ResourceRule(
    id="no-host-access",
    protects="Pods in governed namespaces use no hostNetwork, hostPort, hostPath, hostPID, hostIPC, privileged "
    "containers or SYS_ADMIN/ALL capabilities (paths around residency controls).",
    remediation="remove hostNetwork/hostPort/hostPath/hostPID/hostIPC, privileged: true and added SYS_ADMIN/ALL "
    "capabilities; use a Service, and a PersistentVolumeClaim on a jurisdiction-pinned StorageClass",
    severity="high",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
