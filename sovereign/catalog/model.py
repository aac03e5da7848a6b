"""Typed, immutable view of the jurisdiction catalog.

The catalog is the single source of truth for where a jurisdiction's regions, zones, networks, domains,
data-class export rules, accelerator rules and image registries are. The Pulumi program reads it to decide
what to build, and the policy pack reads it to decide what to accept.

It is built from two layers (docs/catalog.md): the public layer the project maintains (countries, providers,
regions and zones, legal data categories, accelerator rules) and the organisation's own layer (networks, domains,
registries, its data classes mapped onto the legal categories). The loader merges them into this one model, so
its readers need not know there are two; ``Catalog.organisation`` says which organisation file it holds.
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Provenance:
    """Where a rule comes from and the date it was last checked; every rule carries one."""

    as_of: date
    source: str


@dataclass(frozen=True)
class Region:
    provider: str
    id: str
    name: str
    country: str
    zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class Provider:
    """A cloud (partition) whose region ids form one namespace; ids are not portable across providers."""

    id: str
    name: str
    csi_provisioner: str
    zone_topology_key: str
    regions: Mapping[str, Region] = field(default_factory=lambda: MappingProxyType({}))
    object_storage_provider: str = ""
    """Velero object-store plugin name (``aws``, ``azure``, ``gcp``, ``alibabacloud``, ...)."""
    endpoint_patterns: tuple[str, ...] = ()
    """Host patterns of regional service endpoints: ``{region}`` a region id, ``*`` one or more labels."""
    internal_load_balancer: tuple[tuple[str, str], ...] = ()
    """Service annotations (sorted pairs) that make this provider's load balancer internal; empty: none known, so
    the program cannot render an internal load balancer there (it refuses rather than render a public one)."""

    def region(self, region_id: str) -> Region | None:
        return self.regions.get(region_id)

    def region_of_host(self, host: str) -> Region | None:
        """The region a regional endpoint host names (``s3.eu-central-1.amazonaws.com``), if it is this provider's."""
        name = host.lower().rstrip(".")
        for pattern in self.endpoint_patterns:
            found = _endpoint_regex(pattern).fullmatch(name)
            if found is not None and found.group("region") in self.regions:
                return self.regions[found.group("region")]
        return None


@functools.lru_cache(maxsize=256)
def _endpoint_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for piece in re.split(r"(\{region\}|\*)", pattern):
        if piece == "{region}":
            parts.append(r"(?P<region>[a-z0-9-]+)")
        elif piece == "*":
            parts.append(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


@dataclass(frozen=True)
class LegalBasis:
    law: str
    provenance: Provenance


class ExportMode(StrEnum):
    NEVER = "never"
    """Never leaves the jurisdiction, whatever is approved."""
    APPROVED_TRANSFER = "approved-transfer"
    """Leaves only through a transfer approved by the regulator, to the listed destinations, while valid."""
    FREE = "free"
    """May leave without an approval (e.g. anonymised aggregates)."""


@dataclass(frozen=True)
class DataClass:
    id: str
    description: str
    regulated: bool
    """Regulated data gets Retain reclaim policy and is tracked by the posture diff."""
    export: ExportMode
    destinations: tuple[str, ...]
    """Jurisdiction ids it may go to (APPROVED_TRANSFER/FREE); empty means any destination."""
    regulator: str | None
    provenance: Provenance
    """Of the legal rule: the public layer's category (an organisation's class inherits it)."""
    category: str = ""
    """The public layer's legal data category this class falls under (a category itself: empty)."""

    def may_leave_to(self, destination: str, *, approved: bool) -> bool:
        """Whether data of this class may be sent to ``destination`` (with or without an approval)."""
        if self.export is ExportMode.NEVER:
            return False
        if self.destinations and destination not in self.destinations:
            return False
        return self.export is ExportMode.FREE or approved


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


NVIDIA = "nvidia"
"""The vendor whose products the program pins (``nvidia.com/gpu.product``)."""


@dataclass(frozen=True)
class AcceleratorRule:
    product: str
    """The vendor's canonical product name (sovereign/kinds/accelerators.yaml), e.g. ``NVIDIA-H100-80GB-HBM3``;
    ``*`` globs allowed."""
    decision: Decision
    provenance: Provenance
    note: str = ""
    vendor: str = NVIDIA


@dataclass(frozen=True)
class AcceleratorPolicy:
    default: Decision
    default_provenance: Provenance
    rules: tuple[AcceleratorRule, ...]

    def rule_for(self, product: str, vendor: str = NVIDIA) -> AcceleratorRule | None:
        """The first of the vendor's rules whose product pattern matches (exact names before globs; letter case
        does not matter: labels and drivers spell products differently)."""
        wanted = product.lower()
        mine = [r for r in self.rules if r.vendor == vendor]
        for rule in mine:
            if rule.product.lower() == wanted:
                return rule
        for rule in mine:
            if fnmatch.fnmatchcase(wanted, rule.product.lower()):
                return rule
        return None

    def is_allowed(self, product: str, vendor: str = NVIDIA) -> bool:
        rule = self.rule_for(product, vendor)
        return (rule.decision if rule else self.default) is Decision.ALLOW

    def allowed_products(self, vendor: str | None = NVIDIA) -> tuple[str, ...]:
        """Explicitly allowed, exact product names of one vendor (None: every vendor), sorted; the program pins
        GPU workloads to the NVIDIA ones."""
        return tuple(sorted(r.product for r in self.rules
                            if r.decision is Decision.ALLOW and "*" not in r.product
                            and (vendor is None or r.vendor == vendor)))


def _domain_matches(name: str, pattern: str) -> bool:
    """``example.cn`` matches itself; ``*.example.cn`` matches any name below it (one or more labels)."""
    name = name.lower().rstrip(".")
    pattern = pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])
    return name == pattern


@dataclass(frozen=True)
class NamedNetwork:
    """A network of the organisation with a name a stack refers to (``named_networks`` of the organisation file)."""

    name: str
    description: str
    networks: tuple[IPNetwork, ...]


@dataclass(frozen=True)
class Jurisdiction:
    id: str
    name: str
    countries: tuple[str, ...]
    legal_basis: tuple[LegalBasis, ...]
    regions: Mapping[str, tuple[str, ...]]
    """provider id -> region ids of that provider inside this jurisdiction."""
    networks: tuple[IPNetwork, ...]
    domains: tuple[str, ...]
    data_classes: Mapping[str, DataClass]
    accelerators: AcceleratorPolicy
    registries: tuple[str, ...]
    """Allowed image registry hosts (``*.`` prefix globs allowed)."""
    provenance: Provenance
    data_categories: Mapping[str, DataClass] = field(default_factory=lambda: MappingProxyType({}))
    """The public layer's legal data categories and their export rules; ``data_classes`` are the organisation's
    classes, each with the rule of its category (narrowed as the organisation chose)."""
    named_networks: Mapping[str, NamedNetwork] = field(default_factory=lambda: MappingProxyType({}))
    """The organisation's networks stacks refer to by name (its uplinks, its load balancers' subnets); their
    addresses are also in ``networks``, so a stack names them without ever copying a CIDR."""

    def regions_for(self, provider: str) -> tuple[str, ...]:
        return self.regions.get(provider, ())

    def owns_address(self, address: IPAddress | IPNetwork) -> bool:
        if isinstance(address, ipaddress.IPv4Network | ipaddress.IPv6Network):
            return any(
                address.version == net.version and address.subnet_of(net)  # type: ignore[arg-type]
                for net in self.networks
            )
        return any(address in net for net in self.networks)

    def owns_domain(self, name: str) -> bool:
        return any(_domain_matches(name, pattern) for pattern in self.domains)

    def registry_allowed(self, registry_host: str) -> bool:
        return any(_domain_matches(registry_host, pattern) for pattern in self.registries)

    def data_class(self, data_class_id: str) -> DataClass | None:
        return self.data_classes.get(data_class_id)


@dataclass(frozen=True)
class Organisation:
    """The organisation layer's identity: whose networks, domains, registries and data classes the catalog holds."""

    name: str
    version: str
    path: str
    """The organisation file it was read from."""
    example: bool = False
    """An example organisation (``example:`` in the file): its facts are made up and fit only ``example_stacks``."""
    example_stacks: tuple[str, ...] = ()


NO_ORGANISATION = Organisation(name="", version="", path="")
"""A catalog built without an organisation layer (hand-built test catalogs)."""


@dataclass(frozen=True)
class Catalog:
    version: str
    """The public layer's version (``catalog.yaml``)."""
    as_of: date
    """The public layer's date."""
    providers: Mapping[str, Provider]
    jurisdictions: Mapping[str, Jurisdiction]
    source_dir: str = ""
    """The public layer's directory."""
    organisation: Organisation = NO_ORGANISATION
    """The organisation layer's identity."""

    def layers(self) -> str:
        """Both layers' identity in one line, as reports print it: ``public 2026.12.06 (as of 2026-12-06);
        organisation <name> <version> (<path>[, example])``."""
        org = self.organisation
        text = f"public {self.version} (as of {self.as_of.isoformat()})"
        if not org.path:
            return text + "; no organisation layer"
        return (text + f"; organisation {org.name} {org.version} ({org.path}" + (", example" if org.example else "")
                + ")")

    def jurisdiction(self, jurisdiction_id: str) -> Jurisdiction | None:
        return self.jurisdictions.get(jurisdiction_id)

    def provider(self, provider_id: str) -> Provider | None:
        return self.providers.get(provider_id)

    def region_of_host(self, host: str) -> Region | None:
        """The provider region a regional service endpoint names, by the providers' endpoint patterns."""
        for provider in sorted(self.providers.values(), key=lambda p: p.id):
            region = provider.region_of_host(host)
            if region is not None:
                return region
        return None

    def jurisdiction_of_region(self, provider: str, region: str) -> Jurisdiction | None:
        for jur in self.jurisdictions.values():
            if region in jur.regions_for(provider):
                return jur
        return None

    def region_of_zone(self, provider: str, zone: str) -> Region | None:
        prov = self.providers.get(provider)
        if prov is None:
            return None
        for region in prov.regions.values():
            if zone in region.zones:
                return region
        return None

    def jurisdiction_of_zone(self, provider: str, zone: str) -> Jurisdiction | None:
        region = self.region_of_zone(provider, zone)
        return self.jurisdiction_of_region(provider, region.id) if region else None

    def zones_for(self, jurisdiction_id: str, provider: str) -> tuple[str, ...]:
        """All zones of the jurisdiction's regions on one provider, in catalog order."""
        jur = self.jurisdictions.get(jurisdiction_id)
        prov = self.providers.get(provider)
        if jur is None or prov is None:
            return ()
        zones: list[str] = []
        for region_id in jur.regions_for(provider):
            region = prov.regions.get(region_id)
            if region:
                zones.extend(region.zones)
        return tuple(zones)

    def jurisdiction_of_address(self, address: IPAddress | IPNetwork) -> Jurisdiction | None:
        """The jurisdiction whose catalog networks contain the address (networks never overlap)."""
        for jur in self.jurisdictions.values():
            if jur.owns_address(address):
                return jur
        return None

    def jurisdiction_of_domain(self, name: str) -> Jurisdiction | None:
        for jur in self.jurisdictions.values():
            if jur.owns_domain(name):
                return jur
        return None
