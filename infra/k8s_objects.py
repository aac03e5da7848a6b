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

from infra.lifecycle import lifecycle_options
from sovereign.kinds.tokens import type_token

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


def logical_name(manifest: Mapping[str, Any]) -> str:
    meta = manifest["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else str(meta["name"])


def declare(manifest: Mapping[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Register one manifest as the provider's resource type, with the manifest as its inputs.

    The typed classes of pulumi_kubernetes register the same type token with the same inputs, plus aliases to
    every legacy apiVersion of the kind (``apps/v1beta1``, ``extensions/v1beta1``, ...). Those aliases only help
    stacks that once created the object under a legacy type; this program never did, and resolving them costs
    the SDK more than the registration itself (docs/benchmarks.md). The generic form keeps inputs byte-identical
    and lets the explicit provider (which carries the plugin version) decide everything else. The kinds that
    hold data are protected and retained on delete (infra/lifecycle.py).
    """
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    props = {key: manifest[key] for key in sorted(manifest)}
    return pulumi.CustomResource(
        type_token(api_version, kind), logical_name(manifest), props, lifecycle_options(manifest, opts)
    )
