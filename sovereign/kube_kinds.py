"""Which built-in Kubernetes kinds never run pods: shared by the policy pack (policies/framework/k8s.py) and the
connectivity engine (sovereign/connectivity/inventory.py), so both see the same pods."""

from __future__ import annotations

WORKLOADS_OF_THE_CORE_GROUP = frozenset({"Pod", "ReplicationController"})

PODLESS_BUILTIN_GROUPS = frozenset({
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "authentication.k8s.io",
    "authorization.k8s.io", "autoscaling", "certificates.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
    "events.k8s.io", "flowcontrol.apiserver.k8s.io", "internal.apiserver.k8s.io", "networking.k8s.io",
    "node.k8s.io", "policy", "rbac.authorization.k8s.io", "resource.k8s.io", "scheduling.k8s.io",
    "storage.k8s.io", "storagemigration.k8s.io",
})
"""Built-in API groups none of whose kinds carries a pod template. The API server drops fields a built-in type
does not define, so a ``template.spec.containers`` smuggled into, say, a NetworkPolicy never runs a pod: such
objects are not searched for one (custom kinds still are, RT-8)."""


def is_builtin_podless(group: str, kind: str) -> bool:
    """A built-in kind that never makes pods: core kinds other than Pod and ReplicationController, and every kind
    of ``PODLESS_BUILTIN_GROUPS`` (``group`` "" or "core" is the core group)."""
    if group in ("", "core"):
        return kind not in WORKLOADS_OF_THE_CORE_GROUP
    return group in PODLESS_BUILTIN_GROUPS


def api_group(api_version: object) -> str:
    """``apps/v1`` -> ``apps``; ``v1`` (the core group) -> ""; anything but a string -> "" too."""
    if not isinstance(api_version, str) or "/" not in api_version:
        return ""
    return api_version.rsplit("/", 1)[0]
