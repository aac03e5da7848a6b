"""Declare a manifest dict as the matching pulumi_kubernetes resource.

The components build plain manifests (camelCase, exactly what lands in the cluster) so they can be
inspected and tested without a Pulumi runtime; this module is the one place that maps them to resources.
Logical (URN) names are ``<namespace>/<name>`` for namespaced objects and ``<name>`` for cluster-scoped ones,
so URNs are as deterministic as the manifests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

_TYPED: Mapping[tuple[str, str], type[pulumi.CustomResource]] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ResourceQuota"): k8s.core.v1.ResourceQuota,
    ("v1", "LimitRange"): k8s.core.v1.LimitRange,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("apps/v1", "StatefulSet"): k8s.apps.v1.StatefulSet,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("batch/v1", "CronJob"): k8s.batch.v1.CronJob,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("storage.k8s.io/v1", "StorageClass"): k8s.storage.v1.StorageClass,
}

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


def logical_name(manifest: Mapping[str, Any]) -> str:
    meta = manifest["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else str(meta["name"])


def declare(manifest: Mapping[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Register one manifest. Nested keys stay camelCase: the SDK passes dict keys through unchanged
    (verified under mocks), and top-level fields become the typed resource's keyword arguments."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    name = logical_name(manifest)
    body = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    cls = _TYPED.get((api_version, kind))
    if cls is None:
        return k8s.apiextensions.CustomResource(
            name,
            api_version=api_version,
            kind=kind,
            metadata=body.pop("metadata"),
            spec=body.pop("spec", None),
            opts=opts,
        )
    return cls(name, **{_snake(k): v for k, v in body.items()}, opts=opts)
