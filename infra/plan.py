"""Everything the program decides before it declares a single resource.

The plan turns a validated StackConfig plus the catalog into the concrete choices the components render:
regions and zones inside the jurisdiction, GPU products per workload, reclaim policy and encryption per
storage tier, which admin-tier API the CNI enforces, which transfers are active at the evaluation time.
Every inconsistency raises ``InputError`` here, so a bad stack never leaves a half-declared resource graph.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from infra.meta import MAX_LABEL_VALUE, data_classes_summary
from sovereign.catalog.model import Catalog, IPNetwork, Jurisdiction, Provider
from sovereign.core.errors import InputError
from sovereign.stackconfig.ingress import covering_transfers, source_networks, source_ports
from sovereign.stackconfig.model import (
    PolicyApi,
    PortSpec,
    StackConfig,
    StorageTier,
    Transfer,
    TransferState,
    Workload,
)

ESTATE_PRIORITY = 500
"""Admin-tier priority of the estate policy (ANP/CNP); transfer policies use lower numbers (earlier)."""
FIRST_TRANSFER_PRIORITY = 10
"""Per-source transfer policies get 10, 11, ...: before the estate policy, and distinct, because overlapping
policies of equal priority are applied in an undefined order."""

VELERO_NAMESPACE = "velero"
"""Where Velero reads BackupStorageLocations (its install default); installing Velero is a prerequisite."""


class AdminTier(StrEnum):
    """The cluster-wide policy API the estate deny is written in (what the CNI enforces)."""

    CILIUM = "CiliumClusterwideNetworkPolicy"
    CLUSTER_NETWORK_POLICY = "ClusterNetworkPolicy"
    ADMIN_NETWORK_POLICY = "AdminNetworkPolicy"
    NONE = "none"
    """The CNI enforces no admin API: only the namespace NetworkPolicies (layer b) restrict egress."""


def choose_admin_tier(enforces: frozenset[PolicyApi]) -> AdminTier:
    """Cilium's own API when it is the enforcer; else the newer ClusterNetworkPolicy over ANP/BANP."""
    if PolicyApi.CILIUM in enforces:
        return AdminTier.CILIUM
    if PolicyApi.CLUSTER_NETWORK_POLICY in enforces:
        return AdminTier.CLUSTER_NETWORK_POLICY
    if PolicyApi.ADMIN_NETWORK_POLICY in enforces:
        return AdminTier.ADMIN_NETWORK_POLICY
    return AdminTier.NONE


# Encryption-at-rest parameter per CSI provisioner. These are driver facts, not jurisdiction facts, so they
# live here rather than in the catalog. GCE PD encrypts every disk with Google-managed keys and has no on/off
# parameter (only ``disk-encryption-kms-key`` for CMEK, which a tier may pass through its parameters).
ENCRYPTION_PARAMETERS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "ebs.csi.aws.com": MappingProxyType({"encrypted": "true"}),
        "disk.csi.azure.com": MappingProxyType({"diskEncryptionType": "EncryptionAtRestWithPlatformKey"}),
        "pd.csi.storage.gke.io": MappingProxyType({}),
        "diskplugin.csi.alibabacloud.com": MappingProxyType({"encrypted": "true"}),
    }
)

# Object-store endpoints that Velero cannot derive from the region alone (partitions outside the global AWS
# partition). The host is checked against the jurisdiction's catalog domains before it is rendered.
OBJECT_STORE_ENDPOINTS: Mapping[str, str] = MappingProxyType({"aws-cn": "https://s3.{region}.amazonaws.com.cn"})


@dataclass(frozen=True)
class Placement:
    """Where one workload's pods may run: node regions, and GPU products when it asks for accelerators."""

    regions: tuple[str, ...]
    gpu_products: tuple[str, ...]


@dataclass(frozen=True)
class StorageClassPlan:
    tier: StorageTier
    provisioner: str
    zone_key: str
    zones: tuple[str, ...]
    reclaim_policy: str
    parameters: tuple[tuple[str, str], ...]
    regulated: bool


@dataclass(frozen=True)
class BackupPlan:
    name: str
    bucket: str
    prefix: str
    region: str
    provider: str
    endpoint: str | None
    default: bool
    data_classes: tuple[str, ...]


@dataclass(frozen=True)
class SkippedTransfer:
    transfer: Transfer
    reason: str
    """``expired`` or ``not yet valid``."""


@dataclass(frozen=True)
class InboundPath:
    """Sources outside the cluster one workload accepts on some ports: in the jurisdiction (``transfer`` None), or
    abroad under an active transfer that covers them (sovereign/stackconfig/ingress.py decides what covers)."""

    workload: Workload
    source: str
    """The ingress source's name."""
    networks: tuple[IPNetwork, ...]
    ports: tuple[PortSpec, ...]
    transfer: Transfer | None


def _inbound(config: StackConfig, catalog: Catalog, jur: Jurisdiction,
             active: tuple[Transfer, ...]) -> tuple[InboundPath, ...]:
    """Every source of every workload, placed; a foreign network is opened only under an active transfer that covers
    it (a pending or expired one leaves it closed, as for egress). The stack checks refused uncovered ones already;
    one found here anyway is an input error, never a silent opening."""
    out: list[InboundPath] = []
    for i, w in enumerate(config.workloads):
        for j, source in enumerate(w.ingress):
            ports = source_ports(source, w)
            home: list[IPNetwork] = []
            abroad: dict[str, tuple[Transfer, list[IPNetwork]]] = {}
            for placed in source_networks(source, catalog, jur.id):
                if placed.jurisdiction == jur.id:
                    home.append(placed.network)
                    continue
                covering = covering_transfers(config, w, placed, ports)
                if not covering:
                    raise _err(config, ("sovereign-clusters:workloads", i, "ingress", j, *placed.key),
                               "a source in the jurisdiction or covered by a transfer", str(placed.network))
                live = [t for t in covering if t in active]
                if live:
                    abroad.setdefault(live[0].id, (live[0], []))[1].append(placed.network)
            if home:
                out.append(InboundPath(w, source.name, tuple(home), ports, None))
            for _, (transfer, nets) in sorted(abroad.items()):
                out.append(InboundPath(w, source.name, tuple(nets), ports, transfer))
    return tuple(out)


@dataclass(frozen=True)
class EstatePlan:
    config: StackConfig
    jurisdiction: Jurisdiction
    provider: Provider
    regions: tuple[str, ...]
    zones: tuple[str, ...]
    placements: Mapping[str, Placement]
    """By workload ref ``namespace/name``."""
    storage_classes: tuple[StorageClassPlan, ...]
    backups: tuple[BackupPlan, ...]
    admin_tier: AdminTier
    active_transfers: tuple[Transfer, ...]
    skipped_transfers: tuple[SkippedTransfer, ...]
    evaluated_at: datetime
    inbound: tuple[InboundPath, ...] = ()
    """Sources outside the cluster each workload accepts (ingress policy and load balancers render these)."""

    @property
    def in_cluster_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(self.config.cluster.pod_cidrs) + tuple(self.config.cluster.service_cidrs)

    @property
    def in_jurisdiction_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(self.jurisdiction.networks)


def _err(config: StackConfig, key_path: tuple[str | int, ...], expected: str, found: object) -> InputError:
    return InputError(config.source_file, key_path, expected, found)


def _cluster_regions(config: StackConfig, jur: Jurisdiction) -> tuple[str, ...]:
    allowed = set(jur.regions_for(config.cluster.provider))
    regions = tuple(sorted(r for r in config.cluster.regions if r in allowed))
    outside = sorted(r for r in config.cluster.regions if r not in allowed)
    if outside or not regions:
        raise _err(
            config,
            ("sovereign-clusters:cluster", "regions"),
            f"regions of provider {config.cluster.provider!r} inside jurisdiction {jur.id!r} "
            f"({', '.join(sorted(allowed)) or 'none in the catalog'})",
            outside or list(config.cluster.regions),
        )
    return regions


def _cluster_zones(config: StackConfig, catalog: Catalog, regions: tuple[str, ...]) -> tuple[str, ...]:
    provider = catalog.provider(config.cluster.provider)
    allowed: set[str] = set()
    for region_id in regions:
        region = provider.region(region_id) if provider else None
        if region:
            allowed.update(region.zones)
    zones = tuple(sorted(z for z in config.cluster.zones if z in allowed))
    outside = sorted(z for z in config.cluster.zones if z not in allowed)
    if outside or not zones:
        raise _err(
            config,
            ("sovereign-clusters:cluster", "zones"),
            f"zones of the cluster's in-jurisdiction regions ({', '.join(sorted(allowed)) or 'none known'})",
            outside or list(config.cluster.zones),
        )
    return zones


def _placement(config: StackConfig, jur: Jurisdiction, index: int, w: Workload, regions: tuple[str, ...]) -> Placement:
    products: tuple[str, ...] = ()
    if w.accelerator is not None:
        allowed = jur.accelerators.allowed_products()
        products = tuple(p for p in allowed if p == w.accelerator.product)
        if not products or not jur.accelerators.is_allowed(w.accelerator.product):
            raise _err(
                config,
                ("sovereign-clusters:workloads", index, "accelerator", "product"),
                f"a GPU product the catalog explicitly allows in {jur.id!r} ({', '.join(allowed) or 'none'})",
                w.accelerator.product,
            )
    return Placement(regions=regions, gpu_products=products)


def _storage_class(
    config: StackConfig,
    jur: Jurisdiction,
    provider: Provider,
    index: int,
    tier: StorageTier,
    zones: tuple[str, ...],
) -> StorageClassPlan:
    key = ("sovereign-clusters:storage", index)
    regulated = False
    for dc in tier.data_classes:
        data_class = jur.data_class(dc)
        if data_class is None:
            raise _err(config, (*key, "dataClasses"), f"data classes of jurisdiction {jur.id!r}", dc)
        regulated = regulated or data_class.regulated
    reclaim = tier.reclaim_policy or ("Retain" if regulated else "Delete")
    if regulated and reclaim != "Retain":
        raise _err(config, (*key, "reclaimPolicy"), "Retain (the tier holds regulated data classes)", reclaim)
    encryption = ENCRYPTION_PARAMETERS.get(provider.csi_provisioner)
    if encryption is None:
        raise _err(
            config,
            (*key,),
            f"a CSI provisioner with a known encryption-at-rest parameter ({', '.join(sorted(ENCRYPTION_PARAMETERS))})",
            provider.csi_provisioner,
        )
    params = dict(tier.parameters)
    for name, value in encryption.items():
        if name in params and params[name] != value:
            raise _err(
                config,
                (*key, "parameters", name),
                f"{value!r} (encryption at rest is mandatory)",
                params[name],
            )
        params[name] = value
    return StorageClassPlan(
        tier=tier,
        provisioner=provider.csi_provisioner,
        zone_key=provider.zone_topology_key,
        zones=zones,
        reclaim_policy=reclaim,
        parameters=tuple(sorted(params.items())),
        regulated=regulated,
    )


def _backup(config: StackConfig, jur: Jurisdiction, provider: Provider, index: int) -> BackupPlan:
    b = config.backups[index]
    key = ("sovereign-clusters:backups", index)
    if b.region not in jur.regions_for(provider.id):
        raise _err(
            config,
            (*key, "region"),
            f"a region of {provider.id!r} inside jurisdiction {jur.id!r} ({', '.join(jur.regions_for(provider.id))})",
            b.region,
        )
    if not provider.object_storage_provider:
        raise _err(config, (*key,), "a provider with a Velero object-store plugin in the catalog", provider.id)
    endpoint = None
    template = OBJECT_STORE_ENDPOINTS.get(provider.id)
    if template is not None:
        endpoint = template.format(region=b.region)
        host = endpoint.split("://", 1)[1].split("/", 1)[0]
        if not jur.owns_domain(host):
            raise _err(config, (*key, "region"), f"an object-store endpoint inside {jur.id!r}'s domains", host)
    return BackupPlan(
        name=b.name,
        bucket=b.bucket,
        prefix=b.prefix,
        region=b.region,
        provider=provider.object_storage_provider,
        endpoint=endpoint,
        default=b.default,
        data_classes=tuple(b.data_classes),
    )


def _check_egress_destinations(config: StackConfig, jur: Jurisdiction, cluster_nets: tuple[IPNetwork, ...]) -> None:
    """Defence in depth: layer b only ever opens in-cluster or in-jurisdiction CIDRs and domains."""
    for wi, w in enumerate(config.workloads):
        for ni, need in enumerate(w.egress):
            base = ("sovereign-clusters:workloads", wi, "egress", ni)
            for ci, cidr in enumerate(need.cidrs):
                in_cluster = any(cidr.version == n.version and cidr.subnet_of(n) for n in cluster_nets)  # type: ignore[arg-type]
                if not (jur.owns_address(cidr) or in_cluster):
                    raise _err(
                        config,
                        (*base, "cidrs", ci),
                        f"a CIDR inside {jur.id!r}'s catalog networks",
                        str(cidr),
                    )
            for di, domain in enumerate(need.domains):
                if not jur.owns_domain(domain):
                    raise _err(
                        config,
                        (*base, "domains", di),
                        f"a domain inside {jur.id!r}'s catalog domains",
                        domain,
                    )
            if need.workload is not None and config.workload(need.workload) is None:
                raise _err(config, (*base, "workload"), "a workload of this stack (namespace/name)", need.workload)


def _check_transfer(config: StackConfig, catalog: Catalog, jur: Jurisdiction, index: int, t: Transfer) -> None:
    """An approved transfer must still be legal per the catalog: classes that may leave, to that place."""
    key = ("sovereign-clusters:transfers", index)
    dest = catalog.jurisdiction(t.destination.jurisdiction)
    if dest is None or dest.id == jur.id:
        raise _err(
            config,
            (*key, "destination", "jurisdiction"),
            "another catalog jurisdiction",
            t.destination.jurisdiction,
        )
    for di, dc in enumerate(t.data_classes):
        data_class = jur.data_class(dc)
        if data_class is None or not data_class.may_leave_to(dest.id, approved=True):
            raise _err(
                config,
                (*key, "dataClasses", di),
                f"a data class that may leave {jur.id!r} for {dest.id!r}",
                dc,
            )
    for ci, cidr in enumerate(t.destination.cidrs):
        if not dest.owns_address(cidr):
            raise _err(
                config,
                (*key, "destination", "cidrs", ci),
                f"a CIDR inside {dest.id!r}'s catalog networks",
                str(cidr),
            )
    for si, ref in enumerate(t.source_workloads):
        if config.workload(ref) is None:
            raise _err(config, (*key, "sourceWorkloads", si), "a workload of this stack (namespace/name)", ref)


def _check_tenants(config: StackConfig, jur: Jurisdiction) -> None:
    for ti, tenant in enumerate(config.tenants):
        for di, dc in enumerate(tenant.data_classes):
            if jur.data_class(dc) is None:
                raise _err(
                    config,
                    ("sovereign-clusters:tenants", ti, "dataClasses", di),
                    f"a data class of {jur.id!r}",
                    dc,
                )
        summary = data_classes_summary(tenant.data_classes)
        if len(summary) > MAX_LABEL_VALUE:
            raise _err(
                config,
                ("sovereign-clusters:tenants", ti, "dataClasses"),
                f"data classes whose dot-joined ids fit a {MAX_LABEL_VALUE}-character label value",
                summary,
            )


def build_plan(config: StackConfig, catalog: Catalog, at: datetime) -> EstatePlan:
    """All decisions for one stack; raises InputError on the first inconsistency."""
    jur = catalog.jurisdiction(config.jurisdiction)
    if jur is None:
        raise _err(config, ("sovereign-clusters:jurisdiction",), "a catalog jurisdiction id", config.jurisdiction)
    provider = catalog.provider(config.cluster.provider)
    if provider is None:
        raise _err(
            config,
            ("sovereign-clusters:cluster", "provider"),
            "a catalog provider id",
            config.cluster.provider,
        )
    _check_tenants(config, jur)
    regions = _cluster_regions(config, jur)
    zones = _cluster_zones(config, catalog, regions)
    placements = {w.ref: _placement(config, jur, i, w, regions) for i, w in enumerate(config.workloads)}
    storage = tuple(_storage_class(config, jur, provider, i, t, zones) for i, t in enumerate(config.storage))
    backups = tuple(_backup(config, jur, provider, i) for i in range(len(config.backups)))
    cluster_nets = tuple(config.cluster.pod_cidrs) + tuple(config.cluster.service_cidrs)
    _check_egress_destinations(config, jur, cluster_nets)
    for i, t in enumerate(config.transfers):
        _check_transfer(config, catalog, jur, i, t)
    active = tuple(sorted((t for t in config.transfers if t.is_active(at)), key=lambda t: t.id))
    skipped = tuple(
        SkippedTransfer(t, "not yet valid" if t.state(at) is TransferState.PENDING else "expired")
        for t in sorted(config.transfers, key=lambda t: t.id)
        if not t.is_active(at)
    )
    tier = choose_admin_tier(config.cluster.cni.enforces)
    pairs = sum(len(t.source_workloads) for t in active)
    if tier in (AdminTier.ADMIN_NETWORK_POLICY, AdminTier.CLUSTER_NETWORK_POLICY) and (
        FIRST_TRANSFER_PRIORITY + pairs >= ESTATE_PRIORITY
    ):
        raise _err(
            config,
            ("sovereign-clusters:transfers",),
            f"fewer than {ESTATE_PRIORITY - FIRST_TRANSFER_PRIORITY} active (transfer, source) pairs",
            pairs,
        )
    return EstatePlan(
        config=config,
        jurisdiction=jur,
        provider=provider,
        regions=regions,
        zones=zones,
        placements=MappingProxyType(placements),
        storage_classes=storage,
        backups=backups,
        admin_tier=tier,
        active_transfers=active,
        skipped_transfers=skipped,
        evaluated_at=at,
        inbound=_inbound(config, catalog, jur, active),
    )


def split_by_version(nets: tuple[IPNetwork, ...]) -> tuple[list[str], list[str]]:
    """(IPv4, IPv6) CIDR strings, each sorted and de-duplicated."""
    v4 = sorted({str(n) for n in nets if n.version == 4}, key=lambda s: ipaddress.ip_network(s))
    v6 = sorted({str(n) for n in nets if n.version == 6}, key=lambda s: ipaddress.ip_network(s))
    return v4, v6
