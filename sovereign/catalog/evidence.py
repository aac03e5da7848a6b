"""Which cloud provider a set of manifests shows, for checks without a stack config (``check --manifests``).

A region id does not say where it is on its own (``eu-west-1`` is Ireland at AWS, London at Alibaba Cloud): the
provider decides. A stack config names it; plain manifests often show it through the storage they declare: a
StorageClass provisioner or snapshot driver is the provider's CSI driver, a Velero location names the provider's
object-store plugin, a topology key is the provider's zone label. The candidates are the catalog's providers that
have regions in the jurisdiction; the caller uses the provider only when exactly one is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sovereign.catalog.model import Catalog


def _signals(obj: Mapping[str, Any]) -> set[str]:
    kind = obj.get("kind")
    out: set[str] = set()
    if kind == "StorageClass" and isinstance(obj.get("provisioner"), str):
        out.add(f"csi:{obj['provisioner']}")
        for term in obj.get("allowedTopologies") or []:
            for expr in (term or {}).get("matchLabelExpressions") or [] if isinstance(term, Mapping) else []:
                if isinstance(expr, Mapping) and isinstance(expr.get("key"), str):
                    out.add(f"zone-key:{expr['key']}")
    elif kind in ("VolumeSnapshotClass", "VolumeGroupSnapshotClass") and isinstance(obj.get("driver"), str):
        out.add(f"csi:{obj['driver']}")
    elif kind in ("BackupStorageLocation", "VolumeSnapshotLocation"):
        spec = obj.get("spec")
        plugin = spec.get("provider") if isinstance(spec, Mapping) else None
        if isinstance(plugin, str):
            out.add(f"velero:{plugin.rsplit('/', 1)[-1]}")
    return out


def providers_shown(catalog: Catalog, jurisdiction: str, objects: Iterable[Mapping[str, Any]]) -> list[str]:
    """The providers (with regions in ``jurisdiction``) the objects show, sorted; several when ambiguous."""
    jur = catalog.jurisdiction(jurisdiction)
    if jur is None:
        return []
    signals: set[str] = set()
    for obj in objects:
        if isinstance(obj, Mapping):
            signals |= _signals(obj)
    shown = []
    for provider in sorted(catalog.providers.values(), key=lambda p: p.id):
        if not jur.regions_for(provider.id):
            continue
        mine = {f"csi:{provider.csi_provisioner}", f"velero:{provider.object_storage_provider}",
                f"zone-key:{provider.zone_topology_key}"}
        if signals & mine:
            shown.append(provider.id)
    return shown
