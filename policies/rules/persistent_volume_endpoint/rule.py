"""Volumes keep their bytes on servers inside the jurisdiction: PersistentVolumes and volumes written inline in pods.

A statically provisioned PersistentVolume names its storage server directly (NFS server, iSCSI portals, Ceph
monitors, CSI volume attributes such as ``server``/``endpoint``); every write goes there, wherever it is. The same
volume sources can be written inline in a pod (``volumes[].nfs``, ``iscsi``, ``cephfs``, ``rbd``, inline ``csi``),
in every kind that makes pods. Node affinity on a PV pins where it can be mounted and must stay in the
jurisdiction's regions and zones too.

Object-store drivers name a bucket, not a place: the bucket's location is decided where it was created. A CSI
volume (PV or inline) whose attributes or mount options name a bucket (``bucketName``, ``bucket``, ``container``)
must also name where it is (a ``region`` attribute or mount option, or an endpoint the catalog places), else it
fails closed. A region or endpoint named in mount options (``region us-east-1``, ``endpoint-url=https://...``)
is judged like an attribute. A volume whose account or bucket is held in a Secret (in-tree ``azureFile``) cannot
be placed either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policies.framework.addresses import host_of, place_host
from policies.framework.context import RuleContext
from policies.framework.destinations import place_region
from policies.framework.k8s import K8sObject, term_values
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_list, as_map, text
from sovereign.core.labels import REGION, ZONE

ENDPOINT_ATTRIBUTE_HINTS = ("server", "endpoint", "host", "url", "address", "portal", "monitor", "share", "source")
"""CSI volumeAttributes keys (lower-cased substring match) that name where the data lives."""
REGION_KEYS = ("region", "location")
BUCKET_KEYS = ("bucketname", "bucket", "containername", "container")
_OPTION = re.compile(r"^-{0,2}(?P<key>[a-z][a-z0-9_-]*)(?:[= ](?P<value>.+))?$", re.IGNORECASE)


def _csi_places(prefix: str, attrs: Mapping[str, Any], options: list[str]) -> tuple[list[tuple[str, str]],
                                                                                 list[tuple[str, str]], list[str]]:
    """(endpoints, regions, buckets) a CSI volume's attributes and mount options name."""
    endpoints: list[tuple[str, str]] = []
    regions: list[tuple[str, str]] = []
    buckets: list[str] = []
    for key in sorted(attrs):
        low, value = key.lower(), text(attrs[key])
        where = f"{prefix}.volumeAttributes.{key}"
        if low in REGION_KEYS:
            regions.append((where, value))
        elif low in BUCKET_KEYS:
            buckets.append(f"{where}={value}")
        elif any(h in low for h in ENDPOINT_ATTRIBUTE_HINTS):
            for part in [p for p in value.replace(";", ",").split(",") if p.strip()]:
                endpoints.append((where, part.strip()))
    for i, option in enumerate(options):
        found = _OPTION.match(option.strip())
        if found is None or not found.group("value"):
            continue
        key, value = found.group("key").lower().replace("_", "-"), found.group("value").strip()
        where = f"mountOptions[{i}]"
        if key in REGION_KEYS:
            regions.append((where, value))
        elif key in ("endpoint-url", "endpoint", "url"):
            endpoints.append((where, value))
    return endpoints, regions, buckets


def _sources(prefix: str, source: Mapping[str, Any], options: list[str]) -> Iterator[tuple[str, str]]:
    """(where, endpoint) of a volume source (a PV spec or an inline pod volume); region/bucket handled apart."""
    nfs = as_map(source.get("nfs"))
    if nfs.get("server") is not None:
        yield f"{prefix}.nfs.server", text(nfs.get("server"))
    iscsi = as_map(source.get("iscsi"))
    if iscsi.get("targetPortal") is not None:
        yield f"{prefix}.iscsi.targetPortal", text(iscsi.get("targetPortal"))
    for i, portal in enumerate(as_list(iscsi.get("portals"))):
        yield f"{prefix}.iscsi.portals[{i}]", text(portal)
    for kind in ("cephfs", "rbd"):
        for i, mon in enumerate(as_list(as_map(source.get(kind)).get("monitors"))):
            yield f"{prefix}.{kind}.monitors[{i}]", text(mon)


def _judge_source(ctx: RuleContext, obj: K8sObject, prefix: str, source: Mapping[str, Any],
                  options: list[str]) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    endpoints = list(_sources(prefix, source, options))
    csi = as_map(source.get("csi"))
    regions: list[tuple[str, str]] = []
    buckets: list[str] = []
    if csi:
        more, regions, buckets = _csi_places(f"{prefix}.csi", as_map(csi.get("volumeAttributes")), options)
        endpoints.extend(more)
    by_host: dict[str, list[tuple[str, str]]] = {}
    for where, endpoint in endpoints:
        if endpoint.startswith("/"):
            continue  # a path on the server (e.g. csi-driver-nfs `share`), not a location
        host = host_of(endpoint.split(":/", 1)[0] if "://" not in endpoint else endpoint)
        by_host.setdefault(host, []).append((where, endpoint))
    for host, named in by_host.items():  # one server named by several fields is one root cause: one finding
        inside, located = place_host(host, ctx.jurisdiction, ctx.catalog, ctx.stack.cluster.cidrs)
        if not inside:
            shown = "; ".join(f"{endpoint!r} ({where})" for where, endpoint in named)
            yield (f"{obj.ref} stores data on {shown}, which lies in {located}, outside {jur}: every write to the "
                   f"volume would cross the border")
    for where, region in regions:
        placed = place_region(ctx, region)
        if placed.inside is not True:
            yield (f"{obj.ref} stores data in {placed.where} ({where}), outside {jur}: every write to the volume "
                   f"would cross the border")
    if buckets and not regions and not [e for _w, e in endpoints if not e.startswith("/")]:
        yield (f"{obj.ref} mounts the bucket {', '.join(buckets)} ({text(csi.get('driver'))}) without a region or "
               f"endpoint: the bucket's own location decides where the data is, which cannot be shown to be in "
               f"{jur}. Fix: name the region (volume attribute or mount option) or an endpoint in {jur}")
    azure_file = as_map(source.get("azureFile"))
    if azure_file:
        yield (f"{obj.ref} mounts an Azure file share ({prefix}.azureFile) whose storage account is named only in "
               f"Secret {text(azure_file.get('secretName')) or '?'}: its region cannot be shown to be in {jur}")


def _node_affinity(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    zones, regions = ctx.stack.allowed_zones(), ctx.stack.allowed_regions()
    terms = as_list(as_map(as_map(as_map(obj.spec.get("nodeAffinity")).get("required"))).get("nodeSelectorTerms"))
    for i, term in enumerate(terms):
        for key, allowed in ((ZONE, zones), (REGION, regions)):
            for op, values in term_values(as_map(term), key):
                foreign = sorted(v for v in values if v not in allowed) if op == "In" else []
                if foreign:
                    yield (f"{obj.ref} spec.nodeAffinity.required.nodeSelectorTerms[{i}] places the volume in "
                           f"{', '.join(foreign)}, outside {jur}")


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if obj.group == "" and obj.kind == "PersistentVolume":
        options = [text(o) for o in as_list(obj.spec.get("mountOptions"))]
        yield from _judge_source(ctx, obj, "spec", obj.spec, options)
        yield from _node_affinity(ctx, obj)
        return
    shapes = obj.pod_shapes()  # read before the context is needed
    if not shapes or not ctx.governed(obj.namespace):
        return
    for shape in shapes:
        where, volumes = shape.get("volumes")
        for i, volume in enumerate(as_list(volumes)):
            yield from _judge_source(ctx, obj, f"{where}[{i}]", as_map(volume), [])


RULE = ResourceRule(
    id="persistent-volume-endpoint",
    protects="Volumes (PersistentVolumes and volumes written inline in pods of any kind) store data only on servers "
    "(NFS, iSCSI, Ceph, CSI endpoints), in regions and in zones inside the jurisdiction; a bucket without a region "
    "or endpoint fails closed.",
    remediation="point the volume at a storage server in the jurisdiction's networks or domains, name the region of "
    "an object-store bucket, or provision it dynamically from a jurisdiction-pinned StorageClass",
    severity="critical",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
