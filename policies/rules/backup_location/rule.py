"""Velero backups and volume snapshots stay in the jurisdiction.

A BackupStorageLocation in another region receives a full copy of every namespace it backs up: the single
largest bulk export path in a cluster. Its region must be one of the jurisdiction's regions on the object-store
provider, and any explicit S3 endpoint must be a host the jurisdiction owns.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.framework.addresses import host_of, place_host
from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import ResourceRule
from policies.framework.values import as_map, text


def _providers_for(ctx: RuleContext, plugin: str) -> list[str]:
    name = plugin.rsplit("/", 1)[-1]
    return sorted(p.id for p in ctx.catalog.providers.values() if p.object_storage_provider == name)


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if obj.group != "velero.io":
        return
    jur = ctx.jurisdiction
    spec = obj.spec
    config = as_map(spec.get("config"))
    plugin = text(spec.get("provider"))
    region = text(config.get("region"))
    endpoints = [(k, text(config.get(k))) for k in ("s3Url", "publicUrl") if text(config.get(k))]
    what = "backups" if obj.kind == "BackupStorageLocation" else "volume snapshots"
    if region:
        candidates = _providers_for(ctx, plugin)
        providers = list(candidates)
        if ctx.stack.cluster.provider in providers:
            providers = [ctx.stack.cluster.provider or ""]
        inside = [p for p in providers if region in jur.regions_for(p)]
        if not inside:
            where = "an unknown location"
            for p in candidates:
                other = ctx.catalog.jurisdiction_of_region(p, region)
                reg = ctx.catalog.providers[p].region(region)
                if reg is not None:
                    where = f"{p} region {region} ({other.id if other else reg.country})"
                    break
            yield (f"{obj.ref} would copy {what} to {where}, outside {jur.id} (spec.config.region={region}, "
                   f"provider {plugin or '?'}); allowed regions: "
                   f"{', '.join(sorted({r for p in providers for r in jur.regions_for(p)})) or '(none)'}")
    elif not endpoints:
        yield (f"{obj.ref} sets neither spec.config.region nor s3Url: the plugin's default region (or the "
               f"object store's own location) decides where {what} go, which cannot be shown to be in {jur.id}")
    for key, url in endpoints:
        host = host_of(url)
        ok, place = place_host(host, jur, ctx.catalog, ctx.stack.cluster.cidrs)
        if not ok:
            yield (f"{obj.ref} sends {what} to {url} (spec.config.{key}), which lies in {place}, outside {jur.id}")


RULE = ResourceRule(
    id="backup-location-in-jurisdiction",
    protects="Velero BackupStorageLocations and VolumeSnapshotLocations write only to object stores inside the "
    "jurisdiction.",
    remediation="set spec.config.region to one of the jurisdiction's regions and point s3Url at an endpoint "
    "the jurisdiction owns",
    severity="critical",
    check=check,
)
