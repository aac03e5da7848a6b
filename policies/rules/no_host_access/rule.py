"""No hostNetwork, hostPort, hostPath, hostPID, hostIPC or privileged containers in governed namespaces.

Each one steps outside what the residency controls see: hostNetwork traffic is node traffic that NetworkPolicies
do not govern on most CNIs (docs/connectivity.md, CNI parameters), a hostPort exposes the pod on the node's
address, and a hostPath writes data to the node's disk, outside the jurisdiction-pinned storage classes.

The same holds for the other host namespaces and for privilege (RT-12): with hostPID a container that may call
setns (privileged, or CAP_SYS_ADMIN) runs ``nsenter -t 1 -n`` and is in the node's network namespace, outside
every NetworkPolicy; hostIPC shares the node's System V / POSIX shared memory with host processes, a data path no
policy sees; a privileged container (or one adding SYS_ADMIN / ALL) can mount the node's disks and reconfigure
the node. NET_ADMIN and NET_RAW are not flagged: they act inside the pod's own network namespace, and policies
are enforced outside it (on the host side of the pod's interface), so they open no path around them.

A Multus secondary network (``k8s.v1.cni.cncf.io/networks`` on the pod template, RT-18) gives the pod a second
interface (macvlan/ipvlan/SR-IOV on the node's uplink) that NetworkPolicy does not govern: the same path around
the cluster network as hostNetwork. Kinds that run containers outside a pod template (RT-17: Argo Workflow
``spec.templates[].container``, Tekton ``spec.steps[]`` / ``spec.podTemplate.hostNetwork``) are judged by shape
(``framework.k8s.loose_workload``); a ``podSpecPatch`` there cannot be analysed and fails closed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.framework.context import RuleContext
from policies.framework.k8s import MULTUS_NETWORKS, K8sObject, PodShape, multus_networks
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_list, as_map, text
from sovereign.kinds.shapes import LooseContent

HOST_NAMESPACES = (
    ("hostPID", "its containers see the node's processes; a privileged one (or one with SYS_ADMIN) can nsenter "
                "into the node's network namespace, where its traffic is node traffic outside every "
                "NetworkPolicy"),
    ("hostIPC", "its containers share the node's IPC namespace (shared memory with host processes), a data "
                "path no NetworkPolicy sees"),
)
FAIL_CLOSED_PATCH = "[fail-closed]"
ESCAPE_CAPABILITIES = frozenset({"SYS_ADMIN", "ALL"})
"""Capabilities that amount to privileged for these purposes (setns, mount); see the module docstring."""


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    shapes = obj.pod_shapes()  # read before the context is needed
    loose = obj.loose() if not shapes else None  # containers outside pod templates (RT-17)
    if not (shapes or loose) or not ctx.governed(obj.namespace):
        return
    for shape in shapes:
        yield from _check_networks(ctx, obj, f"{shape.metadata_path}.annotations['{MULTUS_NETWORKS}']",
                                   text(shape.annotations().get(MULTUS_NETWORKS)))
        yield from _check_pod(ctx, obj, shape)
    if loose:
        yield from _check_loose(ctx, obj, loose)


def _host_network(ctx: RuleContext, obj: K8sObject, where: str, runs: str = "") -> str:
    return (f"{obj.ref} sets {where}.hostNetwork: true{runs}: its traffic leaves as node traffic that egress "
            f"policies do not govern, so it could reach any address outside {ctx.jurisdiction.id}")


def _check_networks(ctx: RuleContext, obj: K8sObject, where: str, value: str) -> Iterator[str]:
    """Multus secondary networks (RT-18): an interface besides the pod network, which NetworkPolicy does not
    govern (a macvlan/ipvlan/SR-IOV interface reaches the underlay directly), a path around it like hostNetwork."""
    if value.strip():
        yield (f"{obj.ref} attaches Multus secondary network(s) {', '.join(multus_networks(value))} through "
               f"{where}: traffic on a secondary interface bypasses every NetworkPolicy and could reach any "
               f"address outside {ctx.jurisdiction.id}. Fix: remove the {MULTUS_NETWORKS} annotation (the "
               f"secondary network), or get an exemption for the namespace (no-host-access excludedNamespaces)")


def _check_loose(ctx: RuleContext, obj: K8sObject, loose: LooseContent) -> Iterator[str]:
    images = sorted({text(c.get("image")) for _, c in loose.containers})
    runs = f" for the containers it runs ({', '.join(images)})" if images else ""
    for where, key in loose.host_flags:
        if key == "hostNetwork":
            yield _host_network(ctx, obj, where, runs)
        else:
            yield f"{obj.ref} sets {where}.{key}: true{runs}: {dict(HOST_NAMESPACES)[key]}"
    for where in loose.spec_patches:
        yield (f"{FAIL_CLOSED_PATCH} {obj.ref} sets {where}: a patch of the pod spec (hostNetwork, hostPID, "
               f"privileged...) that the pack cannot analyse, so it is not accepted. Fix: set the pod settings in "
               f"the workflow's own fields instead of podSpecPatch")
    for where, value in loose.networks:
        yield from _check_networks(ctx, obj, where, value)
    for where, host_path in loose.host_paths:
        yield (f"{obj.ref} mounts {where} {host_path}: data lands on the node's disk outside the "
               f"jurisdiction-pinned storage classes")
    for where, c in loose.containers:
        yield from _check_container(ctx, obj, where, c)


def _check_pod(ctx: RuleContext, obj: K8sObject, shape: PodShape) -> Iterator[str]:
    where, host_network = shape.get("hostNetwork")
    if host_network is True:
        yield _host_network(ctx, obj, where.removesuffix(".hostNetwork"))
    containers = list(shape.containers())
    for path, c in containers:
        yield from _check_ports(obj, path, c)
    for key, why in HOST_NAMESPACES:
        where, value = shape.get(key)
        if value is True:
            yield f"{obj.ref} sets {where}: true: {why}"
    for path, c in containers:
        yield from _check_privilege(ctx, obj, path, c)
    volumes_path, volumes = shape.get("volumes")
    for i, vol in enumerate(as_list(volumes)):
        host_path = as_map(vol).get("hostPath")
        if host_path is not None:
            yield (f"{obj.ref} mounts {volumes_path}[{i}].hostPath {text(as_map(host_path).get('path'))}: data "
                   f"lands on the node's disk outside the jurisdiction-pinned storage classes")
    patch_path, patch = shape.get("podSpecPatch")
    if patch not in (None, "", {}):
        yield (f"{FAIL_CLOSED_PATCH} {obj.ref} sets {patch_path}: a patch of the pod spec (hostNetwork, hostPID, "
               f"privileged...) that the pack cannot analyse, so it is not accepted. Fix: set the pod settings in "
               f"the kind's own fields instead of podSpecPatch")


def _check_container(ctx: RuleContext, obj: K8sObject, where: str, c: Mapping[str, Any]) -> Iterator[str]:
    yield from _check_ports(obj, where, c)
    yield from _check_privilege(ctx, obj, where, c)


def _check_ports(obj: K8sObject, where: str, c: Mapping[str, Any]) -> Iterator[str]:
    for j, port in enumerate(as_list(c.get("ports"))):
        host_port = as_map(port).get("hostPort")
        if host_port not in (None, 0, 0.0):
            yield (f"{obj.ref} exposes {where}.ports[{j}].hostPort {text(host_port)} on the node's address, "
                   f"bypassing the namespace's network policies")


def _check_privilege(ctx: RuleContext, obj: K8sObject, container: str, c: Mapping[str, Any]) -> Iterator[str]:
    security = as_map(c.get("securityContext"))
    where = f"{container}.securityContext"
    if security.get("privileged") is True:
        yield (f"{obj.ref} runs a privileged container ({where}.privileged: true): it can mount the node's "
               f"disks and, with hostPID, enter the node's network namespace, outside every NetworkPolicy "
               f"and storage control of {ctx.jurisdiction.id}")
    added = sorted({text(cap).upper().removeprefix("CAP_")
                    for cap in as_list(as_map(security.get("capabilities")).get("add"))} & ESCAPE_CAPABILITIES)
    if added:
        yield (f"{obj.ref} adds capabilities {added} ({where}.capabilities.add): as good as privileged (setns, "
               f"mount), a way around the residency controls of {ctx.jurisdiction.id}")


RULE = ResourceRule(
    id="no-host-access",
    protects="Pods in governed namespaces use no hostNetwork, hostPort, hostPath, hostPID, hostIPC, privileged "
    "containers, SYS_ADMIN/ALL capabilities or Multus secondary networks (paths around residency controls), in pod "
    "templates and in containers outside them (Argo Workflow templates, Tekton steps).",
    remediation="remove hostNetwork/hostPort/hostPath/hostPID/hostIPC, privileged: true and added SYS_ADMIN/ALL "
    "capabilities, podSpecPatch and the k8s.v1.cni.cncf.io/networks annotation (or exempt the namespace through "
    "excludedNamespaces); use a Service, and a PersistentVolumeClaim on a jurisdiction-pinned StorageClass",
    severity="high",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
