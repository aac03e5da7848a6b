"""Volume snapshots are stored inside the jurisdiction.

A VolumeSnapshotClass (or VolumeGroupSnapshotClass) tells its CSI driver where snapshots go. Most drivers keep a
snapshot in the volume's region, but some take a location: Google's Persistent Disk driver stores snapshots in the
``storage-locations`` given, and without it in the multi-region nearest to the disk (``us``, ``eu`` or ``asia``,
which the catalog does not place); Azure Disk takes a ``location``. Every parameter value that names a region or
zone of another jurisdiction is reported, and a Google snapshot class without ``storage-locations`` fails closed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.framework.context import RuleContext
from policies.framework.destinations import foreign_location
from policies.framework.k8s import K8sObject
from policies.framework.rule import ResourceRule
from policies.framework.values import as_map, text

GCE_PD_DRIVER = "pd.csi.storage.gke.io"
GCE_LOCATIONS = "storage-locations"


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    driver = text(obj.props.get("driver"))
    params = as_map(obj.props.get("parameters"))
    for key in sorted(params):
        value = text(params[key])
        for token in sorted({t for t in re.split(r"[\s,;]+", value) if t}):
            place = foreign_location(ctx, token)
            if place:
                yield (f"{obj.ref} stores snapshots by parameters.{key}={value} in {place}, outside {jur}: every "
                       f"snapshot taken with this class copies the volume there")
    if driver == GCE_PD_DRIVER and not text(params.get(GCE_LOCATIONS)).strip():
        yield (f"{obj.ref} ({GCE_PD_DRIVER}) sets no parameters.{GCE_LOCATIONS}: snapshots then go to the multi-region "
               f"nearest to the disk, which cannot be shown to stay in {jur}; set {GCE_LOCATIONS} to a region of "
               f"{jur}")


RULE = ResourceRule(
    id="snapshot-location-in-jurisdiction",
    protects="VolumeSnapshotClasses and VolumeGroupSnapshotClasses store snapshots only in the jurisdiction's "
    "regions (no parameter naming a foreign region or zone; Google PD classes name their storage location).",
    remediation="set the snapshot class's location parameter (storage-locations, location) to a region of the "
    "jurisdiction, or remove the parameter naming a foreign one",
    severity="critical",
    check=check,
)
