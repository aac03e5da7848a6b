"""PersistentVolumes keep their bytes on servers inside the jurisdiction.

A statically provisioned PV names its storage server directly (NFS server, iSCSI portal, Ceph monitors, CSI
volume attributes such as ``server``/``endpoint``); every write goes there, wherever it is. Node affinity on a PV
pins where it can be mounted and must stay in the jurisdiction's regions/zones too.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.framework.addresses import host_of, place_host
from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject, term_values
from policies.framework.rule import ResourceRule
from policies.framework.values import as_list, as_map, text
from sovereign.labels import REGION, ZONE

ENDPOINT_ATTRIBUTE_HINTS = ("server", "endpoint", "host", "url", "address", "portal", "monitor", "share", "source")
"""CSI volumeAttributes keys (lower-cased substring match) that name where the data lives."""


def _endpoints(spec: object) -> Iterator[tuple[str, str]]:
    s = as_map(spec)
    nfs = as_map(s.get("nfs"))
    if nfs.get("server") is not None:
        yield "spec.nfs.server", text(nfs.get("server"))
    iscsi = as_map(s.get("iscsi"))
    if iscsi.get("targetPortal") is not None:
        yield "spec.iscsi.targetPortal", text(iscsi.get("targetPortal"))
    for i, portal in enumerate(as_list(iscsi.get("portals"))):
        yield f"spec.iscsi.portals[{i}]", text(portal)
    for kind in ("cephfs", "rbd"):
        for i, mon in enumerate(as_list(as_map(s.get(kind)).get("monitors"))):
            yield f"spec.{kind}.monitors[{i}]", text(mon)
    attrs = as_map(as_map(s.get("csi")).get("volumeAttributes"))
    for key in sorted(attrs):
        if any(h in key.lower() for h in ENDPOINT_ATTRIBUTE_HINTS):
            value = text(attrs[key])
            for part in [p for p in value.replace(";", ",").split(",") if p.strip()]:
                yield f"spec.csi.volumeAttributes.{key}", part.strip()


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if obj.group != "":
        return
    jur = ctx.jurisdiction.id
    for where, endpoint in _endpoints(obj.spec):
        if endpoint.startswith("/"):
            continue  # a path on the server (e.g. csi-driver-nfs `share`), not a location
        host = host_of(endpoint.split(":/", 1)[0] if "://" not in endpoint else endpoint)
        inside, place = place_host(host, ctx.jurisdiction, ctx.catalog, ctx.stack.cluster.cidrs)
        if not inside:
            yield (f"{obj.ref} stores data on {endpoint!r} ({where}), which lies in {place}, outside {jur}: every "
                   f"write to the volume would cross the border")
    zones, regions = ctx.stack.allowed_zones(), ctx.stack.allowed_regions()
    terms = as_list(as_map(as_map(as_map(obj.spec.get("nodeAffinity")).get("required"))).get("nodeSelectorTerms"))
    for i, term in enumerate(terms):
        for key, allowed in ((ZONE, zones), (REGION, regions)):
            for op, values in term_values(as_map(term), key):
                foreign = sorted(v for v in values if v not in allowed) if op == "In" else []
                if foreign:
                    yield (f"{obj.ref} spec.nodeAffinity.required.nodeSelectorTerms[{i}] places the volume in "
                           f"{', '.join(foreign)}, outside {jur}")


RULE = ResourceRule(
    id="persistent-volume-endpoint",
    protects="PersistentVolumes store data only on servers (NFS, iSCSI, Ceph, CSI endpoints) and in zones "
    "inside the jurisdiction.",
    remediation="point the volume at a storage server in the jurisdiction's networks or domains, or provision "
    "it dynamically from a jurisdiction-pinned StorageClass",
    severity="critical",
    check=check,
)
