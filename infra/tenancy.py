"""Tenancy: one namespace per tenant, labelled with jurisdiction and data classes, Pod Security Admission
``restricted`` enforced, and a ResourceQuota + LimitRange so no tenant can starve the others."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from infra.k8s_objects import declare
from infra.meta import data_class_labels, estate_labels, metadata
from sovereign.core import labels
from sovereign.stackconfig.model import Tenant

PSA_LEVEL = "restricted"


@dataclass(frozen=True)
class TenancyArgs:
    stack: str
    jurisdiction: str
    kubernetes_version: str
    """``MAJOR.MINOR``; PSA is pinned to that version so a control-plane upgrade cannot loosen it silently."""
    tenants: tuple[Tenant, ...]


def namespace_manifest(args: TenancyArgs, tenant: Tenant) -> dict[str, Any]:
    psa_version = f"v{args.kubernetes_version}"
    lbls = {
        **estate_labels(args.jurisdiction, args.stack),
        **data_class_labels(tenant.data_classes, summary=True),
        labels.GOVERNED: "true",
        labels.PSA_ENFORCE: PSA_LEVEL,
        labels.PSA_ENFORCE_VERSION: psa_version,
        labels.PSA_AUDIT: PSA_LEVEL,
        labels.PSA_WARN: PSA_LEVEL,
    }
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(tenant.namespace, labels_=lbls)}


def quota_manifest(args: TenancyArgs, tenant: Tenant) -> dict[str, Any]:
    q = tenant.quota
    hard = {
        "requests.cpu": q.cpu,
        "limits.cpu": q.cpu,
        "requests.memory": q.memory,
        "limits.memory": q.memory,
        f"requests.{labels.GPU_RESOURCE}": str(q.gpu),
        "pods": str(q.pods),
        "requests.storage": q.storage,
    }
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata(
            "tenant-quota", namespace=tenant.namespace, labels_=estate_labels(args.jurisdiction, args.stack)
        ),
        "spec": {"hard": dict(sorted(hard.items()))},
    }


def limit_range_manifest(args: TenancyArgs, tenant: Tenant) -> dict[str, Any]:
    """Caps per container and per claim at the tenant's quota. No defaults are injected: every workload the
    program renders declares its own requests/limits, and an undeclared pod is rejected by the quota."""
    q = tenant.quota
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata(
            "tenant-limits", namespace=tenant.namespace, labels_=estate_labels(args.jurisdiction, args.stack)
        ),
        "spec": {
            "limits": [
                {"type": "Container", "max": {"cpu": q.cpu, "memory": q.memory}},
                {"type": "PersistentVolumeClaim", "max": {"storage": q.storage}},
            ]
        },
    }


class Tenancy(pulumi.ComponentResource):
    """Namespaces first: every other component depends on this one."""

    namespaces: list[str]

    def __init__(self, name: str, args: TenancyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sovereign-clusters:estate:Tenancy", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.namespaces = sorted(t.namespace for t in args.tenants)
        for tenant in sorted(args.tenants, key=lambda t: t.namespace):
            ns = declare(namespace_manifest(args, tenant), child)
            in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
            declare(quota_manifest(args, tenant), in_ns)
            declare(limit_range_manifest(args, tenant), in_ns)
        self.register_outputs({"namespaces": self.namespaces})
