"""Check a typed stack against the jurisdiction catalog: what a JSON schema cannot express.

Regions, zones, networks, domains, data classes, accelerators, registries and transfers are only right or
wrong relative to the catalog (and to the rest of the stack), so they are checked after the model is built.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from sovereign.catalog.model import ExportMode, IPNetwork
from sovereign.core.errors import InputError
from sovereign.stackconfig.error_text import listing
from sovereign.stackconfig.ingress import UnknownNetwork, covering_transfers, source_networks, source_ports
from sovereign.stackconfig.model import EgressNeed, LoadBalancerScheme, StackConfig, Transfer, Workload
from sovereign.stackconfig.namespace import KeyPath, key_path, prefixed

if TYPE_CHECKING:
    from sovereign.catalog.model import Catalog, Jurisdiction


def catalog_errors_of(config: StackConfig, catalog: Catalog) -> list[InputError]:
    """Every catalog problem of ``config``, each one InputError with its key path (empty when it fits)."""
    return _CatalogChecks(config, catalog).run()


def _image_registry(image: str) -> str:
    """Registry host of an image reference (port stripped); the schema requires an explicit host."""
    host = image.split("/", 1)[0]
    return host.rsplit(":", 1)[0] if ":" in host else host


class _CatalogChecks:
    """Collects every problem rather than stopping at the first, so a user fixes the file in one round."""

    def __init__(self, config: StackConfig, catalog: Catalog) -> None:
        self.config = config
        self.catalog = catalog
        self.file = config.source_file
        self.errors: list[InputError] = []

    def error(self, path: KeyPath, expected: str, found: str) -> None:
        self.errors.append(InputError(self.file, path, expected, found_text=found))

    def run(self) -> list[InputError]:
        jur = self.catalog.jurisdiction(self.config.jurisdiction)
        if jur is None:
            self.error(
                key_path("jurisdiction"),
                f"a jurisdiction of the catalog: {listing(sorted(self.catalog.jurisdictions))}",
                repr(self.config.jurisdiction),
            )
        provider = self.config.cluster.provider
        if self.catalog.provider(provider) is None:
            self.error(
                key_path("cluster", "provider"),
                f"a provider of the catalog: {listing(sorted(self.catalog.providers))}",
                repr(provider),
            )
        if jur is None or self.errors:
            return self.errors  # everything below is relative to the jurisdiction and the provider
        self._cluster(jur)
        self._tenants(jur)
        self._storage(jur)
        self._workloads(jur)
        self._backups(jur)
        self._transfers(jur)
        return self.errors

    # -- helpers

    def _duplicates(self, names: Sequence[str], items: KeyPath, field: str, what: str) -> None:
        """Report every repeat of a name in the list at ``items``, at ``items[i].field``."""
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in seen:
                self.error((*items, i, field), f"a unique {what}", f"{name!r}, already used at index {seen[name]}")
            else:
                seen[name] = i

    def _of_this_stack(self, value: str, known: Sequence[str], what: str, path: KeyPath) -> bool:
        """References between sections must name something the stack itself declares."""
        if value in known:
            return True
        self.error(path, f"{what} of this stack: {listing(known)}", repr(value))
        return False

    def _data_classes(self, jur: Jurisdiction, ids: Iterable[str], path: KeyPath) -> None:
        for i, dc in enumerate(ids):
            if jur.data_class(dc) is None:
                self.error((*path, i), f"a data class of {jur.id}: {listing(jur.data_classes)}", repr(dc))

    def _held(
        self,
        jur: Jurisdiction,
        ids: Sequence[str],
        held: Collection[str],
        path: KeyPath,
        expected: str,
        skip: Collection[str] = (),
    ) -> None:
        """Data may only be handled where it is held; unknown classes are reported by ``_data_classes``."""
        for j, dc in enumerate(ids):
            if jur.data_class(dc) is not None and dc not in held and dc not in skip:
                self.error((*path, j), expected, repr(dc))

    def _region_in_jurisdiction(self, jur: Jurisdiction, region: str, path: KeyPath) -> None:
        provider = self.config.cluster.provider
        allowed = jur.regions_for(provider)
        if region in allowed:
            return
        expected = (
            f"a region of {jur.id} on provider {provider}: {listing(allowed)}"
            if allowed
            else f"a region of {jur.id} (the catalog lists none on provider {provider}; "
            f"{jur.id} has regions on {listing(sorted(jur.regions))})"
        )
        owner = self.catalog.jurisdiction_of_region(provider, region)
        prov = self.catalog.provider(provider)
        known = prov.region(region) if prov else None
        if owner is not None:
            found = f"{region} belongs to {owner.id} ({owner.name}), not {jur.id}"
        elif known is not None:
            found = f"{region} is a region of {provider} in {known.country}, outside {jur.id}"
        else:
            found = f"{region!r}, not a region of provider {provider}"
        self.error(path, expected, found)

    def _inside(
        self, jur: Jurisdiction, nets: Sequence[IPNetwork], domains: Sequence[str], path: KeyPath, why: str
    ) -> None:
        """Networks at ``path.cidrs`` and domains at ``path.domains`` must belong to ``jur``."""
        for i, net in enumerate(nets):
            if jur.owns_address(net):
                continue
            owner = self.catalog.jurisdiction_of_address(net)
            where = f"a network of {owner.id}" if owner else f"outside the networks of {jur.id}"
            self.error(
                (*path, "cidrs", i),
                f"a network inside {jur.id}'s catalog networks ({listing(str(n) for n in jur.networks)}); {why}",
                f"{net} ({where})",
            )
        for i, name in enumerate(domains):
            if jur.owns_domain(name):
                continue
            domain_owner = self.catalog.jurisdiction_of_domain(name)
            where = f"a domain of {domain_owner.id}" if domain_owner else f"not a domain of {jur.id}"
            self.error(
                (*path, "domains", i), f"a domain of {jur.id} ({listing(jur.domains)}); {why}", f"{name!r} ({where})"
            )

    # -- sections

    def _cluster(self, jur: Jurisdiction) -> None:
        cluster = self.config.cluster
        provider = self.catalog.provider(cluster.provider)
        assert provider is not None
        for i, region in enumerate(cluster.regions):
            self._region_in_jurisdiction(jur, region, key_path("cluster", "regions", i))
        cluster_zones = [z for r in cluster.regions if (reg := provider.region(r)) for z in reg.zones]
        for i, zone in enumerate(cluster.zones):
            zone_region = self.catalog.region_of_zone(cluster.provider, zone)
            if zone_region is not None and zone_region.id in cluster.regions:
                continue
            found = (
                f"{zone} is a zone of {zone_region.id}, not one of the cluster's regions"
                if zone_region
                else f"{zone!r}, not a zone of provider {cluster.provider}"
            )
            self.error(
                key_path("cluster", "zones", i),
                f"a zone of the cluster's regions {listing(cluster.regions)}: {listing(cluster_zones)}",
                found,
            )
        for field, nets in (("podCidrs", cluster.pod_cidrs), ("serviceCidrs", cluster.service_cidrs)):
            versions = [n.version for n in nets]
            if len(set(versions)) != len(versions):
                self.error(
                    key_path("cluster", field),
                    "at most one IPv4 and one IPv6 network",
                    ", ".join(str(n) for n in nets),
                )
            for i, net in enumerate(nets):
                for other in self.catalog.jurisdictions.values():
                    if other.id == jur.id:
                        continue
                    clash = [n for n in other.networks if n.version == net.version and n.overlaps(net)]
                    if clash:
                        self.error(
                            key_path("cluster", field, i),
                            "a cluster network that overlaps no catalog network of another jurisdiction",
                            f"{net} overlaps {clash[0]}, a network of {other.id}",
                        )
        for i, pod in enumerate(cluster.pod_cidrs):
            for svc in cluster.service_cidrs:
                if pod.version == svc.version and pod.overlaps(svc):
                    self.error(
                        key_path("cluster", "podCidrs", i),
                        "pod networks apart from the service networks",
                        f"{pod} overlaps service network {svc}",
                    )

    def _tenants(self, jur: Jurisdiction) -> None:
        tenants = self.config.tenants
        self._duplicates([t.namespace for t in tenants], key_path("tenants"), "namespace", "tenant namespace")
        for i, tenant in enumerate(tenants):
            self._data_classes(jur, tenant.data_classes, key_path("tenants", i, "dataClasses"))

    def _storage(self, jur: Jurisdiction) -> None:
        tiers = self.config.storage
        self._duplicates([s.name for s in tiers], key_path("storage"), "name", "storage tier name")
        for i, tier in enumerate(tiers):
            self._data_classes(jur, tier.data_classes, key_path("storage", i, "dataClasses"))

    def _workloads(self, jur: Jurisdiction) -> None:
        cfg = self.config
        refs = [w.ref for w in cfg.workloads]
        self._duplicates(refs, key_path("workloads"), "name", "workload namespace/name")
        tenants = [t.namespace for t in cfg.tenants]
        tiers = [s.name for s in cfg.storage]
        for i, w in enumerate(cfg.workloads):
            path = key_path("workloads", i)
            tenant = cfg.tenant(w.namespace)
            self._of_this_stack(w.namespace, tenants, "a tenant namespace", (*path, "namespace"))
            for field, classes in (("reads", w.reads), ("writes", w.writes)):
                self._data_classes(jur, classes, (*path, field))
                if tenant is not None:
                    holds = f"a data class tenant {tenant.namespace} holds: {listing(tenant.data_classes)}"
                    self._held(jur, classes, tenant.data_classes, (*path, field), holds)
            registry = _image_registry(w.image)
            if not jur.registry_allowed(registry):
                self.error(
                    (*path, "image"),
                    f"an image from a registry allowed in {jur.id}: {listing(jur.registries)}",
                    f"{w.image!r} (registry {registry})",
                )
            if w.accelerator is not None:
                self._accelerator(jur, w.accelerator.product, (*path, "accelerator", "product"))
            self._duplicates([p.name for p in w.ports], (*path, "ports"), "name", "port name")
            self._duplicates(
                [f"{p.port}/{p.protocol.value}" for p in w.ports], (*path, "ports"), "port", "port and protocol"
            )
            self._duplicates([v.name for v in w.volumes], (*path, "volumes"), "name", "volume name")
            self._duplicates([v.mount_path for v in w.volumes], (*path, "volumes"), "mountPath", "mount path")
            for j, vol in enumerate(w.volumes):
                self._of_this_stack(vol.tier, tiers, "a storage tier", (*path, "volumes", j, "tier"))
            for j, ref in enumerate(w.ingress_from):
                self._of_this_stack(ref, refs, "a workload", (*path, "ingressFrom", j))
            self._duplicates([e.name for e in w.egress], (*path, "egress"), "name", "egress name")
            self._ingress(jur, w, path)
            for j, need in enumerate(w.egress):
                self._egress(jur, need, (*path, "egress", j), refs)

    def _ingress(self, jur: Jurisdiction, w: Workload, path: KeyPath) -> None:
        """Each source: named networks the catalog declares, no copy of the jurisdiction's own addresses, ports the
        workload exposes, and outside the jurisdiction only under a transfer of this stack (sovereign/stackconfig/
        ingress.py); a load balancer needs sources, and an internal one a provider whose annotation is known."""
        self._duplicates([s.name for s in w.ingress], (*path, "ingress"), "name", "ingress source name")
        exposed = {(p.port, p.protocol) for p in w.ports}
        foreign: list[str] = []
        for j, source in enumerate(w.ingress):
            at = (*path, "ingress", j)
            try:
                placed = source_networks(source, self.catalog, jur.id)
            except UnknownNetwork as exc:
                self.error((*at, "networks", exc.index),
                           f"a named network of the catalog's organisation layer: {listing(exc.known) or 'none'}",
                           repr(exc.reference))
                continue
            ports = source_ports(source, w)
            if not ports:
                self.error((*at, "ports"), "ports of the workload (it declares none, so nothing can connect in)",
                           "no ports")
            for k, spec in enumerate(source.ports):
                first = spec.port or 0
                last = spec.end_port or first
                if spec.port is None or not all((p, spec.protocol) in exposed for p in range(first, last + 1)):
                    span = f"{spec.port}-{last}" if last != spec.port else str(spec.port)
                    shown = "every port" if spec.port is None else span
                    self.error((*at, "ports", k),
                               f"a port {w.ref} exposes: "
                               f"{listing(f'{p}/{proto.value}' for p, proto in sorted(exposed)) or 'none'}",
                               f"{shown}/{spec.protocol.value}")
            for net in placed:
                if net.jurisdiction == jur.id:
                    if net.key[0] == "cidrs":
                        named = ", ".join(n for n in sorted(jur.named_networks)) or "none yet"
                        self.error((*at, *net.key),
                                   f"a network of {jur.id} named, not copied: add it to the organisation file's "
                                   f"named_networks and refer to it under `networks` (named in {jur.id}: {named})",
                                   f"{net.network} (inside {jur.id}'s catalog networks)")
                    continue
                foreign.append(source.name)
                if covering_transfers(self.config, w, net, ports):
                    continue
                where = f"a network of {net.jurisdiction}" if net.jurisdiction else "nobody's catalog network"
                self.error((*at, *net.key),
                           f"a source in {jur.id}, or one covered by a transfer of this stack (sourceWorkloads "
                           f"{w.ref}, destination {net.jurisdiction or 'a jurisdiction of the catalog'} covering "
                           f"{net.network} and the ports): a connection from abroad lets {w.ref}'s data leave on "
                           f"the response path",
                           f"{net.origin} ({net.network}, {where})")
        if w.load_balancer is None:
            return
        at = (*path, "loadBalancer")
        if not w.ingress:
            self.error(at, "ingress sources next to a load balancer (its loadBalancerSourceRanges)", "no `ingress`")
        if w.load_balancer is LoadBalancerScheme.INTERNAL:
            provider = self.catalog.provider(self.config.cluster.provider)
            if provider is not None and not provider.internal_load_balancer:
                self.error((*at, "scheme"),
                           "a provider whose internal load-balancer annotation the catalog knows, or scheme "
                           "regional", f"internal on {provider.id}, for which the catalog lists none")
        elif foreign:
            self.error((*at, "scheme"),
                       "internal (a regional, internet-facing load balancer may only admit sources in "
                       f"{jur.id}; a transfer's source abroad comes in over the private network)",
                       f"regional with source(s) outside {jur.id}: {listing(sorted(set(foreign)))}")

    def _accelerator(self, jur: Jurisdiction, product: str, path: KeyPath) -> None:
        policy = jur.accelerators
        if policy.is_allowed(product):
            return
        rule = policy.rule_for(product)
        if rule is not None:
            found = (
                f"{product!r}, denied in {jur.id} by catalog rule {rule.product!r} "
                f"(as of {rule.provenance.as_of.isoformat()}, source: {rule.provenance.source})"
            )
        else:
            prov = policy.default_provenance
            found = (
                f"{product!r}, not listed for {jur.id}: default {policy.default.value} "
                f"(as of {prov.as_of.isoformat()}, source: {prov.source})"
            )
        self.error(path, f"an accelerator allowed in {jur.id}: {listing(policy.allowed_products())}", found)

    def _egress(self, jur: Jurisdiction, need: EgressNeed, path: KeyPath, refs: Sequence[str]) -> None:
        why = f"egress needs stay in the jurisdiction; cross-border flows go through {prefixed('transfers')}"
        self._inside(jur, need.cidrs, need.domains, path, why)
        if need.workload is None or not self._of_this_stack(need.workload, refs, "a workload", (*path, "workload")):
            return
        target = self.config.workload(need.workload)
        assert target is not None
        exposed = {(p.port, p.protocol) for p in target.ports}
        for k, spec in enumerate(need.ports):
            if spec.port is None:
                continue
            last = spec.end_port or spec.port
            if not any(spec.port <= port <= last and proto is spec.protocol for port, proto in exposed):
                self.error(
                    (*path, "ports", k),
                    f"a port {need.workload} exposes: {listing(f'{p}/{proto.value}' for p, proto in sorted(exposed))}",
                    f"{spec.port}{'-' + str(spec.end_port) if spec.end_port else ''}/{spec.protocol.value}",
                )

    def _backups(self, jur: Jurisdiction) -> None:
        backups = self.config.backups
        self._duplicates([b.name for b in backups], key_path("backups"), "name", "backup location name")
        defaults = [i for i, b in enumerate(backups) if b.default]
        for i in defaults[1:]:
            self.error(
                key_path("backups", i, "default"),
                "at most one default backup location",
                f"a second default (the first is {backups[defaults[0]].name!r})",
            )
        for i, backup in enumerate(backups):
            self._region_in_jurisdiction(jur, backup.region, key_path("backups", i, "region"))
            self._data_classes(jur, backup.data_classes, key_path("backups", i, "dataClasses"))

    def _transfers(self, jur: Jurisdiction) -> None:
        transfers = self.config.transfers
        refs = [w.ref for w in self.config.workloads]
        others = sorted(j for j in self.catalog.jurisdictions if j != jur.id)
        self._duplicates([t.id for t in transfers], key_path("transfers"), "id", "transfer id")
        for i, transfer in enumerate(transfers):
            path = key_path("transfers", i)
            for j, ref in enumerate(transfer.source_workloads):
                self._of_this_stack(ref, refs, "a workload", (*path, "sourceWorkloads", j))
            dest_id = transfer.destination.jurisdiction
            dest = self.catalog.jurisdiction(dest_id)
            if dest is None or dest.id == jur.id:
                found = repr(dest_id) + (" (the stack's own jurisdiction)" if dest_id == jur.id else "")
                self.error(
                    (*path, "destination", "jurisdiction"),
                    f"another jurisdiction of the catalog: {listing(others)}",
                    found,
                )
                dest = None  # no export rule to check against
            else:
                why = "a transfer's destination must lie in its destination jurisdiction"
                d = transfer.destination
                self._inside(dest, d.cidrs, d.domains, (*path, "destination"), why)
            self._data_classes(jur, transfer.data_classes, (*path, "dataClasses"))
            forbidden = self._export_rules(jur, transfer, dest, path) if dest is not None else set()
            self._held_by_sources(jur, transfer, path, skip=forbidden)

    def _export_rules(self, jur: Jurisdiction, transfer: Transfer, dest: Jurisdiction, path: KeyPath) -> set[str]:
        """Each data class must be allowed to go to ``dest`` under ``transfer``'s regulator; returns the
        classes that may never go there, so the holder check does not report them twice."""
        forbidden: set[str] = set()
        for j, dc_id in enumerate(transfer.data_classes):
            dc = jur.data_class(dc_id)
            if dc is None:
                continue
            rule = f"(as of {dc.provenance.as_of.isoformat()}, source: {dc.provenance.source})"
            if not dc.may_leave_to(dest.id, approved=True):
                forbidden.add(dc_id)
                if dc.export is ExportMode.NEVER:
                    found = f"{dc_id!r}: export never, whatever is approved {rule}"
                else:
                    found = f"{dc_id!r}: may go only to {listing(dc.destinations)}, not {dest.id} {rule}"
                self.error(
                    (*path, "dataClasses", j),
                    f"a data class of {jur.id} whose export rule allows {dest.id}",
                    found,
                )
            elif (
                dc.export is ExportMode.APPROVED_TRANSFER
                and dc.regulator
                and dc.regulator.casefold() != transfer.regulator.casefold()
            ):
                self.error(
                    (*path, "regulator"),
                    f"the regulator that approves exports of {dc_id}: {dc.regulator} {rule}",
                    repr(transfer.regulator),
                )
        return forbidden

    def _held_by_sources(self, jur: Jurisdiction, transfer: Transfer, path: KeyPath, skip: set[str]) -> None:
        """A transfer names only data its senders' tenants hold; otherwise the approval misfits the flow."""
        tenants = [
            tenant
            for ref in transfer.source_workloads
            if (w := self.config.workload(ref)) and (tenant := self.config.tenant(w.namespace))
        ]
        if not tenants:
            return  # unknown sources or namespaces are reported on their own
        held = {dc for tenant in tenants for dc in tenant.data_classes}
        holders = "; ".join(f"{t.namespace}: {listing(t.data_classes)}" for t in tenants)
        expected = f"a data class held by the tenant of a source workload ({holders})"
        self._held(jur, transfer.data_classes, held, (*path, "dataClasses"), expected, skip)
