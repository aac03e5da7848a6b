"""Storage: an encrypted, zone-pinned StorageClass per tier and a Velero BackupStorageLocation per backup
location, all inside the jurisdiction. Claims themselves are made by the workloads (infra.compute)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from infra.k8s_objects import declare
from infra.meta import data_class_labels, estate_labels, metadata
from infra.plan import VELERO_NAMESPACE, BackupPlan, StorageClassPlan


@dataclass(frozen=True)
class StorageArgs:
    stack: str
    jurisdiction: str
    storage_classes: tuple[StorageClassPlan, ...]
    backups: tuple[BackupPlan, ...]


def storage_class_manifest(args: StorageArgs, sc: StorageClassPlan) -> dict[str, Any]:
    """WaitForFirstConsumer so the volume is created in the zone the (region-pinned) pod lands in, and
    allowedTopologies so it can only ever be created in the cluster's in-jurisdiction zones."""
    lbls = {**estate_labels(args.jurisdiction, args.stack), **data_class_labels(sc.tier.data_classes)}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": metadata(sc.tier.name, labels_=lbls),
        "provisioner": sc.provisioner,
        "parameters": dict(sc.parameters),
        "reclaimPolicy": sc.reclaim_policy,
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
        "allowedTopologies": [{"matchLabelExpressions": [{"key": sc.zone_key, "values": list(sc.zones)}]}],
    }


def backup_location_manifest(args: StorageArgs, b: BackupPlan) -> dict[str, Any]:
    config = {"region": b.region}
    if b.endpoint:
        config["s3Url"] = b.endpoint
    object_storage = {"bucket": b.bucket}
    if b.prefix:
        object_storage["prefix"] = b.prefix
    lbls = {**estate_labels(args.jurisdiction, args.stack), **data_class_labels(b.data_classes)}
    return {
        "apiVersion": "velero.io/v1",
        "kind": "BackupStorageLocation",
        "metadata": metadata(b.name, namespace=VELERO_NAMESPACE, labels_=lbls),
        "spec": {
            "provider": b.provider,
            "objectStorage": object_storage,
            "config": dict(sorted(config.items())),
            "default": b.default,
        },
    }


class Storage(pulumi.ComponentResource):
    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sovereign-clusters:estate:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        for sc in sorted(args.storage_classes, key=lambda s: s.tier.name):
            declare(storage_class_manifest(args, sc), child)
        for b in sorted(args.backups, key=lambda b: b.name):
            declare(backup_location_manifest(args, b), child)
        self.storage_classes = {
            sc.tier.name: {"reclaimPolicy": sc.reclaim_policy, "zones": list(sc.zones)} for sc in args.storage_classes
        }
        self.register_outputs({"storageClasses": self.storage_classes})
