"""Egress layer c: approved, currently valid transfers open exactly their path and nothing else.

For each active transfer and each source workload: a narrow NetworkPolicy (that workload, those CIDRs, those
ports) annotated with the approval, plus the admin-tier object that lets that one path through the estate
deny. Transfers outside their validity window at the evaluation time are not rendered at all.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pulumi

from infra.egress import ANP_API, CILIUM_API, CNP_API
from infra.k8s_objects import declare
from infra.meta import estate_labels, metadata
from infra.plan import FIRST_TRANSFER_PRIORITY, AdminTier, SkippedTransfer
from infra.policy_syntax import (
    CILIUM_NAMESPACE_LABEL,
    anp_ports,
    cilium_cidr_deny,
    cnp_protocols,
    namespaced_pod,
    networks_peers,
    np_ports,
)
from sovereign.core import labels
from sovereign.stackconfig.model import Transfer


@dataclass(frozen=True)
class TransferSource:
    """One (transfer, source workload) pair: the unit every layer opens."""

    transfer: Transfer
    namespace: str
    workload: str


@dataclass(frozen=True)
class TransfersArgs:
    stack: str
    jurisdiction: str
    admin_tier: AdminTier
    active: tuple[Transfer, ...]
    skipped: tuple[SkippedTransfer, ...]
    in_cluster_v4: tuple[str, ...]
    in_cluster_v6: tuple[str, ...]
    in_jurisdiction_v4: tuple[str, ...]
    in_jurisdiction_v6: tuple[str, ...]


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sources(args: TransfersArgs) -> list[TransferSource]:
    out = []
    for t in sorted(args.active, key=lambda t: t.id):
        for ref in sorted(t.source_workloads):
            namespace, workload = ref.split("/", 1)
            out.append(TransferSource(t, namespace, workload))
    return out


def source_workload_refs(active: tuple[Transfer, ...]) -> tuple[str, ...]:
    return tuple(sorted({ref for t in active for ref in t.source_workloads}))


def approval_annotations(t: Transfer) -> dict[str, str]:
    return {
        labels.TRANSFER_ID: t.id,
        labels.TRANSFER_APPROVAL: t.approval_reference,
        labels.TRANSFER_REGULATOR: t.regulator,
        labels.TRANSFER_DESTINATION: t.destination.jurisdiction,
        labels.TRANSFER_DATA_CLASSES: ",".join(sorted(t.data_classes)),
        labels.TRANSFER_VALID_FROM: iso(t.valid_from),
        labels.TRANSFER_VALID_UNTIL: iso(t.valid_until),
    }


def _labels(args: TransfersArgs, t: Transfer) -> dict[str, str]:
    return {**estate_labels(args.jurisdiction, args.stack), labels.TRANSFER_ID: t.id}


def _cidrs(t: Transfer) -> list[str]:
    return sorted({str(c) for c in t.destination.cidrs}, key=ipaddress.ip_network)


def network_policy_manifest(args: TransfersArgs, src: TransferSource) -> dict[str, Any]:
    t = src.transfer
    rule: dict[str, Any] = {"to": [{"ipBlock": {"cidr": c}} for c in _cidrs(t)]}
    if t.destination.ports:
        rule["ports"] = np_ports(t.destination.ports)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(
            f"transfer-{t.id}-{src.workload}",
            namespace=src.namespace,
            labels_=_labels(args, t),
            annotations=approval_annotations(t),
        ),
        "spec": {
            "podSelector": {"matchLabels": {labels.WORKLOAD: src.workload}},
            "policyTypes": ["Egress"],
            "egress": [rule],
        },
    }


def _admin_rule(t: Transfer, ports_key: str, ports: list[dict[str, Any]]) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": f"transfer-{t.id}", "action": "Pass", "to": networks_peers(_cidrs(t))}
    if ports:
        rule[ports_key] = ports
    return rule


def admin_manifests(args: TransfersArgs) -> list[dict[str, Any]]:
    """Admin-tier exceptions. ANP/CNP: a Pass (to the NetworkPolicy tier, where layer c allows it) for exactly
    the transfer CIDRs/ports, evaluated before the estate Deny. Cilium: one CCNP per source whose deny excepts
    its transfer CIDRs (the estate CCNP does not select transfer sources)."""
    pairs = [s for s in sources(args) if s.transfer.destination.cidrs]
    out: list[dict[str, Any]] = []
    if args.admin_tier in (AdminTier.ADMIN_NETWORK_POLICY, AdminTier.CLUSTER_NETWORK_POLICY):
        # infra.plan guarantees these priorities stay below the estate's.
        for index, src in enumerate(pairs):
            t = src.transfer
            meta = metadata(
                f"sovereign-transfer-{t.id}-{src.namespace}-{src.workload}",
                labels_=_labels(args, t),
                annotations=approval_annotations(t),
            )
            subject = {"pods": namespaced_pod(src.namespace, src.workload)}
            priority = FIRST_TRANSFER_PRIORITY + index
            if args.admin_tier is AdminTier.ADMIN_NETWORK_POLICY:
                spec: dict[str, Any] = {
                    "priority": priority,
                    "subject": subject,
                    "egress": [_admin_rule(t, "ports", anp_ports(t.destination.ports))],
                }
                out.append({"apiVersion": ANP_API, "kind": "AdminNetworkPolicy", "metadata": meta, "spec": spec})
            else:
                spec = {
                    "tier": "Admin",
                    "priority": priority,
                    "subject": subject,
                    "egress": [_admin_rule(t, "protocols", cnp_protocols(t.destination.ports))],
                }
                out.append({"apiVersion": CNP_API, "kind": "ClusterNetworkPolicy", "metadata": meta, "spec": spec})
    elif args.admin_tier is AdminTier.CILIUM:
        by_source: dict[tuple[str, str], list[Transfer]] = {}
        for s in sources(args):
            by_source.setdefault((s.namespace, s.workload), []).append(s.transfer)
        for (namespace, workload), transfers in sorted(by_source.items()):
            extra_v4 = sorted({str(c) for t in transfers for c in t.destination.cidrs if c.version == 4})
            extra_v6 = sorted({str(c) for t in transfers for c in t.destination.cidrs if c.version == 6})
            ids = sorted(t.id for t in transfers)
            lbls = {**estate_labels(args.jurisdiction, args.stack), labels.TRANSFER_ID: ids[0]}
            out.append(
                {
                    "apiVersion": CILIUM_API,
                    "kind": "CiliumClusterwideNetworkPolicy",
                    "metadata": metadata(
                        f"sovereign-transfer-source-{namespace}-{workload}",
                        labels_=lbls,
                        annotations={labels.TRANSFER_ID: ",".join(ids)},
                    ),
                    "spec": {
                        "description": f"Estate egress deny for transfer source {namespace}/{workload}, "
                        f"except its approved transfers {', '.join(ids)}.",
                        # Namespace on Cilium's own label: a pod elsewhere cannot borrow this exception.
                        "endpointSelector": {
                            "matchLabels": {CILIUM_NAMESPACE_LABEL: namespace, labels.WORKLOAD: workload}
                        },
                        "enableDefaultDeny": {"egress": False, "ingress": False},
                        "egressDeny": [
                            {
                                "toCIDRSet": cilium_cidr_deny(
                                    sorted({*args.in_cluster_v4, *args.in_jurisdiction_v4, *extra_v4}),
                                    sorted({*args.in_cluster_v6, *args.in_jurisdiction_v6, *extra_v6}),
                                )
                            }
                        ],
                    },
                }
            )
    return out


def active_summary(args: TransfersArgs) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "approvalReference": t.approval_reference,
            "regulator": t.regulator,
            "destination": t.destination.jurisdiction,
            "dataClasses": sorted(t.data_classes),
            "sourceWorkloads": sorted(t.source_workloads),
            "cidrs": _cidrs(t),
            "validFrom": iso(t.valid_from),
            "validUntil": iso(t.valid_until),
        }
        for t in sorted(args.active, key=lambda t: t.id)
    ]


def skipped_summary(args: TransfersArgs) -> list[dict[str, Any]]:
    return [
        {
            "id": s.transfer.id,
            "approvalReference": s.transfer.approval_reference,
            "reason": s.reason,
            "validFrom": iso(s.transfer.valid_from),
            "validUntil": iso(s.transfer.valid_until),
        }
        for s in args.skipped
    ]


def unenforceable_domains(args: TransfersArgs) -> list[dict[str, str]]:
    """Transfer domains are never opened: no layer confines a name to the approved destination's addresses."""
    return [
        {"transfer": t.id, "domain": d, "status": "not enforceable at L3; not opened"}
        for t in sorted(args.active, key=lambda t: t.id)
        for d in sorted(t.destination.domains)
    ]


class Transfers(pulumi.ComponentResource):
    def __init__(self, name: str, args: TransfersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sovereign-clusters:estate:Transfers", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        for s in args.skipped:
            pulumi.log.warn(
                f"transfer {s.transfer.id!r} ({s.transfer.approval_reference}) is {s.reason} "
                f"(valid {iso(s.transfer.valid_from)} .. {iso(s.transfer.valid_until)}); not rendered",
                resource=self,
            )
        for src in sources(args):
            if src.transfer.destination.cidrs:
                declare(network_policy_manifest(args, src), child)
        for manifest in admin_manifests(args):
            declare(manifest, child)
        self.active = active_summary(args)
        self.expired = skipped_summary(args)
        self.unenforceable = unenforceable_domains(args)
        self.register_outputs({"activeTransfers": self.active, "expiredTransfers": self.expired})
