"""StorageClasses provision volumes only in the jurisdiction's zones and replicate nowhere else.

A StorageClass without ``allowedTopologies`` lets the provisioner create volumes in any zone the CSI driver
serves; geo-redundant SKUs and replication parameters copy every byte to another region.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.framework.context import RuleContext
from policies.framework.destinations import foreign_location
from policies.framework.k8s import K8sObject
from policies.framework.rule import ResourceRule
from policies.framework.values import as_list, as_map, text
from sovereign.core.labels import REGION, ZONE

GEO_REDUNDANT_SKU = re.compile(r"(^|_)(RA)?GZ?RS$", re.IGNORECASE)
"""Azure skuName/storageaccounttype values that replicate to the paired region (Standard_GRS, RAGZRS...)."""


def _zone_keys(ctx: RuleContext) -> set[str]:
    keys = {ZONE}
    provider = ctx.catalog.provider(ctx.stack.cluster.provider) if ctx.stack.cluster.provider else None
    if provider is not None:
        keys.add(provider.zone_topology_key)
    else:
        keys.update(p.zone_topology_key for p in ctx.catalog.providers.values())
    return keys


def _zone_elsewhere(ctx: RuleContext, zone: str) -> bool:
    """Whether the catalog lists ``zone`` in a region of any provider (so it is known to be elsewhere); a zone
    it does not list at all is unknown, which fails just as closed but says so."""
    return any(ctx.catalog.region_of_zone(p, zone) is not None for p in ctx.catalog.providers)


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if obj.group != "storage.k8s.io":
        return
    jur = ctx.jurisdiction.id
    zones = ctx.stack.allowed_zones()
    regions = ctx.stack.allowed_regions()
    zone_keys = _zone_keys(ctx)
    terms = as_list(obj.props.get("allowedTopologies"))
    if not terms:
        yield (f"{obj.ref} has no allowedTopologies, so its provisioner may create volumes in any zone, outside "
               f"{jur} included; restrict it to the zones {', '.join(zones) or '(none known)'}")
    for i, term in enumerate(terms):
        constrained = False
        for j, expr in enumerate(as_list(as_map(term).get("matchLabelExpressions"))):
            e = as_map(expr)
            key = text(e.get("key"))
            values = [text(v) for v in as_list(e.get("values"))]
            where = f"allowedTopologies[{i}].matchLabelExpressions[{j}]"
            if key in zone_keys:
                constrained = True
                outside = sorted(v for v in values if v not in zones)
                known = [v for v in outside if _zone_elsewhere(ctx, v)]
                unknown = [v for v in outside if v not in known]
                shown = ", ".join(zones) or "(the catalog lists none for this provider)"
                if known:
                    yield (f"{obj.ref} may provision volumes in zone(s) {', '.join(known)}, outside {jur}: "
                           f"{where} {key} In {values}; allowed zones: {shown}")
                if unknown:
                    yield (f"{obj.ref} may provision volumes in zone(s) {', '.join(unknown)}, which the catalog "
                           f"does not place in {jur}: {where} {key} In {values}; allowed zones: {shown}")
            elif key == REGION:
                constrained = True
                foreign = sorted(v for v in values if v not in regions)
                if foreign:
                    yield (f"{obj.ref} may provision volumes in region(s) {', '.join(foreign)}, outside {jur}: "
                           f"{where}; allowed regions: {', '.join(regions)}")
        if not constrained:
            yield (f"{obj.ref} allowedTopologies[{i}] constrains neither zone ({', '.join(sorted(zone_keys))}) "
                   f"nor region, so volumes may be provisioned outside {jur}")
    params = as_map(obj.props.get("parameters"))
    for key in sorted(params):
        value = text(params[key])
        if key.lower() in ("skuname", "storageaccounttype") and GEO_REDUNDANT_SKU.search(value):
            yield (f"{obj.ref} parameter {key}={value} is geo-redundant: every volume is replicated to the "
                   f"provider's paired region, which the catalog does not place in {jur}; use a locally or "
                   f"zone-redundant SKU (LRS/ZRS)")
            continue
        for token in sorted(set(t for t in re.split(r"[\s,;]+", value) if t)):
            place = foreign_location(ctx, token)
            if place:
                yield (f"{obj.ref} parameter {key}={value} replicates or places data in {place}, outside {jur}")


RULE = ResourceRule(
    id="storageclass-topology",
    protects="StorageClasses provision only in the jurisdiction's zones (allowedTopologies) and replicate to "
    "no other jurisdiction.",
    remediation="set allowedTopologies to the provider's zone topology key In the stack's zones, and remove "
    "geo-replication parameters that name other regions",
    severity="critical",
    check=check,
)
