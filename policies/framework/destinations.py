"""Where a destination named in an object lies: a URL, an endpoint, a host or a region, placed through the catalog.

One place for the reading of destinations that operators, secret stores and routes name, so every rule that meets a
URL treats it alike: network URLs by their host; object-store URLs (``s3://bucket``) by the endpoint or region given
beside them, since the bucket's own location is not in the URL; in-cluster URLs (``pvc://``, ``file://``, relative
paths) as staying in the cluster; anything else as unplaceable, which fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from policies.framework.addresses import host_of, place_host
from policies.framework.context import RuleContext

OBJECT_STORE_SCHEMES = {
    "s3": "aws", "s3a": "aws", "s3n": "aws", "gs": "gcp", "gcs": "gcp", "az": "azure", "abfs": "azure",
    "abfss": "azure", "wasb": "azure", "wasbs": "azure", "oss": "alibaba", "obs": "huawei", "cos": "tencent",
    "cosn": "tencent",
}
"""URL schemes naming a bucket, and the provider family whose regions a bare region beside them belongs to."""
NETWORK_SCHEMES = frozenset({"http", "https", "grpc", "grpcs", "tcp", "tls", "ssl", "ws", "wss", "kafka", "amqp",
                             "amqps", "mqtt", "mqtts", "nats", "redis", "rediss", "postgres", "postgresql", "mysql",
                             "mongodb", "mongodb+srv", "smtp", "smtps", "sftp", "ftp", "ftps", "ssh", "hdfs", "webhdfs",
                             "oci", "docker"})
IN_CLUSTER_SCHEMES = frozenset({"pvc", "file", "local", "memory", "emptydir"})


@dataclass(frozen=True)
class Place:
    inside: bool | None
    """True inside the jurisdiction (or the cluster), False outside, None: cannot be placed."""
    where: str


def place_endpoint(ctx: RuleContext, value: str) -> Place:
    """A URL or ``host[:port]``: placed by its host."""
    host = host_of(value)
    inside, where = place_host(host, ctx.jurisdiction, ctx.catalog, ctx.stack.cluster.cidrs)
    return Place(inside, where)


def place_region(ctx: RuleContext, region: str, family: str | None = None) -> Place:
    """A region id, of a provider family when the field implies one (``aws`` covers aws, aws-cn, aws-us-gov...)."""
    catalog, jur = ctx.catalog, ctx.jurisdiction
    if family is None:
        inside, where = ctx.stack.region_verdict(region)
        return Place(inside, where)
    providers = sorted((p for p in catalog.providers.values()
                        if (p.id == family or p.id.startswith(family + "-")) and p.region(region) is not None),
                       key=lambda p: p.id)
    if not providers:
        return Place(False, f"region {region} (no {family} region of the catalog)")
    if ctx.stack.cluster.provider in {p.id for p in providers}:
        providers = [p for p in providers if p.id == ctx.stack.cluster.provider]
    verdicts = {p.id: region in jur.regions_for(p.id) for p in providers}
    if all(verdicts.values()):
        return Place(True, f"region {region} ({', '.join(verdicts)})")
    if not any(verdicts.values()):
        first = providers[0]
        other = catalog.jurisdiction_of_region(first.id, region)
        return Place(False, f"region {region} ({first.id}, {other.id if other else first.regions[region].country})")
    return Place(None, f"region {region} is in {jur.id} at some {family} providers and not at others "
                       f"({', '.join(f'{k}: {v}' for k, v in verdicts.items())})")


DISCOVERY_PREFIXES = ("dnssrvnoa+", "dnssrv+", "dns+")
"""Service-discovery prefixes of a URL scheme (``dnssrv+http://``): the rest of the URL is an ordinary URL."""


def strip_discovery(url: str) -> str:
    text = url.strip()
    for prefix in DISCOVERY_PREFIXES:
        if text.lower().startswith(prefix):
            return text[len(prefix):]
    return text


def url_scheme(url: str) -> str:
    url = strip_discovery(url)
    return urlsplit(url).scheme.lower() if "://" in url else ""


def is_object_store(url: str) -> bool:
    return url_scheme(url) in OBJECT_STORE_SCHEMES


def place_url(ctx: RuleContext, url: str) -> Place:
    """A URL on its own. An object-store URL is placed by the caller (endpoint or region beside it): here it cannot
    be placed."""
    text = strip_discovery(url)
    scheme = url_scheme(text)
    if not scheme:
        if text.startswith(("/", "./", "../")) or not text:
            return Place(True, "a path in the cluster")
        return place_endpoint(ctx, text)
    if scheme in IN_CLUSTER_SCHEMES:
        return Place(True, f"{scheme}:// (in the cluster)")
    if scheme in OBJECT_STORE_SCHEMES:
        return Place(None, f"a {scheme}:// bucket whose location is neither in the URL nor given beside it (no "
                           f"endpoint, no region): the bucket's own location decides")
    if scheme in NETWORK_SCHEMES:
        return place_endpoint(ctx, text)
    return Place(None, f"a {scheme}:// URL the checker cannot place")


def foreign_location(ctx: RuleContext, token: str) -> str | None:
    """Where a region or zone id named in a parameter lies, when it is outside the jurisdiction."""
    jur = ctx.jurisdiction
    own_regions = {r for rs in jur.regions.values() for r in rs}
    first = ctx.stack.cluster.provider
    providers = sorted(ctx.catalog.providers.values(), key=lambda p: (p.id != first, p.id))
    for prov in providers:
        if token in prov.regions and token not in own_regions:
            other = ctx.catalog.jurisdiction_of_region(prov.id, token)
            return f"region {token} ({prov.id}, {other.id if other else prov.regions[token].country})"
        region = ctx.catalog.region_of_zone(prov.id, token)
        if region is not None and region.id not in own_regions:
            other = ctx.catalog.jurisdiction_of_region(prov.id, region.id)
            return f"zone {token} of region {region.id} ({prov.id}, {other.id if other else region.country})"
    return None
