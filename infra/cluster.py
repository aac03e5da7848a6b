"""SovereignCluster: the whole estate of one stack, assembled from small components with typed arguments.

Every child inherits the stack's explicit Kubernetes provider through ``parent`` (the component is created
with ``providers=[provider]``), so nothing ever falls back to the ambient default provider.
"""

from __future__ import annotations

from typing import Any

import pulumi

from infra.compute import Compute, ComputeArgs
from infra.egress import Egress, EgressArgs, unenforceable_domains
from infra.ingress import Ingress, IngressArgs
from infra.plan import EstatePlan, split_by_version
from infra.provider import target_description
from infra.storage import Storage, StorageArgs
from infra.tenancy import Tenancy, TenancyArgs
from infra.transfers import Transfers, TransfersArgs, iso, source_workload_refs
from sovereign.stackconfig.model import EgressNeed, PortSpec, Workload


def tenancy_args(plan: EstatePlan) -> TenancyArgs:
    c = plan.config
    return TenancyArgs(c.stack, c.jurisdiction, c.cluster.kubernetes_version, c.tenants)


def compute_args(plan: EstatePlan) -> ComputeArgs:
    c = plan.config
    return ComputeArgs(c.stack, c.jurisdiction, c.workloads, plan.placements)


def storage_args(plan: EstatePlan) -> StorageArgs:
    c = plan.config
    return StorageArgs(c.stack, c.jurisdiction, plan.storage_classes, plan.backups)


def _networks(plan: EstatePlan) -> dict[str, tuple[str, ...]]:
    cluster_v4, cluster_v6 = split_by_version(plan.in_cluster_networks)
    jur_v4, jur_v6 = split_by_version(plan.in_jurisdiction_networks)
    return {
        "in_cluster_v4": tuple(cluster_v4),
        "in_cluster_v6": tuple(cluster_v6),
        "in_jurisdiction_v4": tuple(jur_v4),
        "in_jurisdiction_v6": tuple(jur_v6),
    }


def egress_args(plan: EstatePlan) -> EgressArgs:
    c = plan.config
    return EgressArgs(
        stack=c.stack,
        jurisdiction=c.jurisdiction,
        admin_tier=plan.admin_tier,
        namespaces=tuple(sorted(t.namespace for t in c.tenants)),
        workloads=c.workloads,
        dns_namespace=c.cluster.dns_namespace,
        dns_pod_labels=c.cluster.dns_pod_labels,
        transfer_sources=source_workload_refs(plan.active_transfers),
        **_networks(plan),
    )


def ingress_args(plan: EstatePlan) -> IngressArgs:
    c = plan.config
    return IngressArgs(c.stack, c.jurisdiction, c.workloads, plan.inbound, plan.provider.internal_load_balancer)


def transfers_args(plan: EstatePlan) -> TransfersArgs:
    c = plan.config
    return TransfersArgs(
        stack=c.stack,
        jurisdiction=c.jurisdiction,
        admin_tier=plan.admin_tier,
        active=plan.active_transfers,
        skipped=plan.skipped_transfers,
        **_networks(plan),
    )


def port_text(p: PortSpec) -> str:
    if p.port is None:
        return f"{p.protocol.value} (all ports)"
    if p.end_port is not None and p.end_port != p.port:
        return f"{p.port}-{p.end_port}/{p.protocol.value}"
    return f"{p.port}/{p.protocol.value}"


def _need_ports(need: EgressNeed, destination: Workload | None) -> list[str]:
    if need.ports:
        return [port_text(p) for p in need.ports]
    if destination is not None and destination.ports:
        return [f"{p.port}/{p.protocol.value}" for p in destination.ports]
    return ["all ports"]


def allowed_egress(plan: EstatePlan) -> dict[str, Any]:
    """Per workload, every destination the rendered policies let it reach (DNS, declared needs, transfers)."""
    c = plan.config
    enforce_domains = not unenforceable_domains(egress_args(plan))
    dns = f"{c.cluster.dns_namespace}/" + ",".join(f"{k}={v}" for k, v in sorted(c.cluster.dns_pod_labels))
    out: dict[str, Any] = {}
    for w in sorted(c.workloads, key=lambda w: w.ref):
        cidrs: list[dict[str, Any]] = []
        workloads: list[dict[str, Any]] = []
        domains: list[dict[str, Any]] = []
        for need in w.egress:
            dst = c.workload(need.workload) if need.workload else None
            ports = _need_ports(need, dst)
            cidrs += [{"cidr": str(cidr), "ports": ports, "need": need.name} for cidr in need.cidrs]
            if need.workload:
                workloads.append({"workload": need.workload, "ports": ports, "need": need.name})
            domains += [
                {"domain": d, "ports": ports, "need": need.name, "enforced": enforce_domains} for d in need.domains
            ]
        transfers = [
            {
                "transfer": t.id,
                "cidrs": sorted(str(x) for x in t.destination.cidrs),
                "ports": [port_text(p) for p in t.destination.ports] or ["all ports"],
                "validUntil": iso(t.valid_until),
            }
            for t in plan.active_transfers
            if w.ref in t.source_workloads
        ]
        out[w.ref] = {
            "dns": [f"{dns} 53/UDP", f"{dns} 53/TCP"],
            "cidrs": cidrs,
            "workloads": workloads,
            "domains": domains,
            "transfers": transfers,
        }
    return out


class SovereignCluster(pulumi.ComponentResource):
    """The estate of one stack. Children: tenancy, storage, compute, egress, ingress, transfers."""

    outputs: dict[str, Any]

    def __init__(self, name: str, plan: EstatePlan, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sovereign-clusters:index:SovereignCluster", name, None, opts)
        tenancy = Tenancy(f"{name}-tenancy", tenancy_args(plan), pulumi.ResourceOptions(parent=self))
        after_tenancy = pulumi.ResourceOptions(parent=self, depends_on=[tenancy])
        storage = Storage(f"{name}-storage", storage_args(plan), after_tenancy)
        Compute(
            f"{name}-compute",
            compute_args(plan),
            pulumi.ResourceOptions(parent=self, depends_on=[tenancy, storage]),
        )
        egress = Egress(f"{name}-egress", egress_args(plan), after_tenancy)
        ingress = Ingress(f"{name}-ingress", ingress_args(plan), after_tenancy)
        transfers = Transfers(f"{name}-transfers", transfers_args(plan), after_tenancy)
        c = plan.config
        self.outputs = {
            "jurisdiction": plan.jurisdiction.id,
            "provider": plan.provider.id,
            "regions": list(plan.regions),
            "zones": list(plan.zones),
            "namespaces": tenancy.namespaces,
            "allowedEgress": allowed_egress(plan),
            "allowedIngress": ingress.allowed,
            "activeTransfers": transfers.active,
            "expiredTransfers": transfers.expired,
            "adminTier": egress.admin_tier,
            "adminTierEnforced": egress.admin_tier != "none",
            "notEnforceableAtL3": egress.unenforceable + transfers.unenforceable,
            "storageClasses": storage.storage_classes,
            "kubernetesTarget": target_description(c.kubeconfig_configured, c.render_dir),
            "evaluatedAt": plan.evaluated_at.isoformat(),
        }
        self.register_outputs(self.outputs)
