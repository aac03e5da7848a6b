"""Label and annotation keys, and the project's other names, defined once for the program, the policies and the
tools."""

from __future__ import annotations

CONFIG_NAMESPACE = "sovereign-clusters"
"""The Pulumi config namespace of every stack setting (``sovereign-clusters:<key>``)."""

PREFIX = "sovereign-clusters.dev/"

JURISDICTION = PREFIX + "jurisdiction"
"""On namespaces (and cluster-scoped objects we create): the jurisdiction id that governs them."""
DATA_CLASSES = PREFIX + "data-classes"
"""On namespaces: the data classes stored or processed there, dot-separated (label values allow no commas)."""
DATA_CLASS_PREFIX = PREFIX + "data-class."
"""One label per data class, ``sovereign-clusters.dev/data-class.<id>: "true"``, so selectors can match."""
WORKLOAD = PREFIX + "workload"
"""On pod templates: the workload name, used by egress policies to select exactly one workload."""
STACK = PREFIX + "stack"
GOVERNED = PREFIX + "governed"
"""On namespaces: "true" when residency rules apply to everything inside."""

TRANSFER_APPROVAL = PREFIX + "transfer-approval"
TRANSFER_REGULATOR = PREFIX + "transfer-regulator"
TRANSFER_VALID_FROM = PREFIX + "transfer-valid-from"
TRANSFER_VALID_UNTIL = PREFIX + "transfer-valid-until"
TRANSFER_DESTINATION = PREFIX + "transfer-destination"
TRANSFER_DATA_CLASSES = PREFIX + "transfer-data-classes"
TRANSFER_ID = PREFIX + "transfer"

METADATA_NAME = "kubernetes.io/metadata.name"
REGION = "topology.kubernetes.io/region"
ZONE = "topology.kubernetes.io/zone"
GPU_PRODUCT = "nvidia.com/gpu.product"
GPU_RESOURCE = "nvidia.com/gpu"
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
PSA_ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version"
PSA_AUDIT = "pod-security.kubernetes.io/audit"
PSA_WARN = "pod-security.kubernetes.io/warn"
CILIUM_POD_NAMESPACE = "io.kubernetes.pod.namespace"
"""The label Cilium gives every endpoint: its pod's namespace."""
CILIUM_NAMESPACE = "k8s:" + CILIUM_POD_NAMESPACE
"""The same label with the source prefix policies may write (``k8s:``); pods cannot set it themselves, so
selectors can trust it."""
CILIUM_NAMESPACE_LABELS_PREFIX = "io.cilium.k8s.namespace.labels."
"""Cilium gives every endpoint its namespace's labels under this prefix."""
PULUMI_SKIP_AWAIT = "pulumi.com/skipAwait"
"""pulumi-kubernetes waits for a Job to complete unless this annotation is "true"."""


def data_class_label(data_class: str) -> str:
    return DATA_CLASS_PREFIX + data_class
