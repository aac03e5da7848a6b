"""analyze(): manifests in, ConnectivityReport out. Orchestration only; semantics live in the translators
(netpol, adminpol, cilium) and the evaluator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sovereign.catalog.model import Catalog, IPNetwork
from sovereign.connectivity import adminpol, cilium, netpol
from sovereign.connectivity.evaluate import Outcome, evaluate
from sovereign.connectivity.intervals import iter_bits
from sovereign.connectivity.inventory import (
    NETWORK_POLICY_ROLE,
    Manifest,
    Namespace,
    PodTemplate,
    Service,
    endpoint_slice,
    endpoints_object,
    name_of,
    namespace_object,
    namespace_of,
    pod_templates,
    service_object,
    to_manifests,
)
from sovereign.connectivity.model import CniParams, IgnoredPolicy
from sovereign.connectivity.report import ConnectivityReport
from sovereign.connectivity.rules import Policy
from sovereign.connectivity.universe import Universe
from sovereign.kinds.registry import default_registry
from sovereign.kinds.tokens import api_group
from sovereign.process.gc_tuning import cycle_collection_paused
from sovereign.stackconfig.model import PolicyApi

API_OF_KIND = {
    "NetworkPolicy": PolicyApi.NETWORK_POLICY,
    "AdminNetworkPolicy": PolicyApi.ADMIN_NETWORK_POLICY,
    "BaselineAdminNetworkPolicy": PolicyApi.ADMIN_NETWORK_POLICY,
    "ClusterNetworkPolicy": PolicyApi.CLUSTER_NETWORK_POLICY,
    "CiliumNetworkPolicy": PolicyApi.CILIUM,
    "CiliumClusterwideNetworkPolicy": PolicyApi.CILIUM,
}

def modelled_policy_kinds() -> dict[str, str]:
    """Kind -> API group of every policy kind this engine models: the registry's kinds with the network-policy
    role. Another API's object of the same kind name (Calico's ``projectcalico.org/v3`` NetworkPolicy, Antrea's
    ``crd.antrea.io`` ClusterNetworkPolicy) has other semantics and is reported as ignored, never read as if it were
    the modelled one (RT-15)."""
    modelled = {e.kind: e.group for e in default_registry().kinds_with_role(NETWORK_POLICY_ROLE)}
    unknown = sorted(set(modelled) - set(API_OF_KIND))
    if unknown:
        raise RuntimeError(f"the registry of kinds names policy kinds the engine does not model: {unknown}")
    return modelled


def _group(m: Manifest) -> str | None:
    """The object's API group; None when apiVersion is absent (hand-built objects: taken as the modelled one)."""
    api = m.obj.get("apiVersion")
    if not isinstance(api, str) or not api:
        return None
    return api_group(api)


def parse_policies(
    manifests: Sequence[Manifest], cni: CniParams
) -> tuple[list[Policy], list[IgnoredPolicy], list[str]]:
    """The policies of the APIs the engine models and the CNI enforces, in the engine's vocabulary (rules.py);
    the others listed as ignored, with why."""
    policies: list[Policy] = []
    ignored: list[IgnoredPolicy] = []
    notes: list[str] = []
    modelled = modelled_policy_kinds()
    cilium_inputs: cilium.Inputs | None = None  # CiliumCIDRGroups and Services Cilium peers resolve against
    for m in manifests:
        kind = m.kind
        if kind not in modelled:
            continue
        api = API_OF_KIND[kind]
        ns = namespace_of(m) if kind in ("NetworkPolicy", "CiliumNetworkPolicy") else ""
        group = _group(m)
        if group is not None and group != modelled[kind]:
            ignored.append(IgnoredPolicy(kind, ns, name_of(m), f"{m.obj.get('apiVersion')} {kind} is not a modelled "
                                         f"API (only {modelled[kind]} {kind} is)"))
            continue
        if api not in cni.enforces:
            ignored.append(IgnoredPolicy(kind, ns, name_of(m), f"the CNI does not enforce {api.value}"))
            continue
        if kind == "NetworkPolicy":
            policies.append(netpol.parse(m, cni.ipblock_matches_pod_ips))
        elif kind in (adminpol.ANP, adminpol.BANP, adminpol.CNP):
            policies.append(adminpol.parse(m))
        else:
            before = len(notes)
            if cilium_inputs is None:
                cilium_inputs = cilium.Inputs.collect(manifests)
            parsed = cilium.parse(m, cni.ipblock_matches_pod_ips, notes, cilium_inputs)
            policies.extend(parsed)
            if not parsed:
                ignored.append(IgnoredPolicy(kind, ns, name_of(m), "host policies (nodeSelector) are not modelled"))
                del notes[before:]
    return policies, ignored, notes


def analyze(
    objects: Sequence[Mapping[str, Any]],
    *,
    cni: CniParams,
    catalog: Catalog | None = None,
    jurisdiction: str | None = None,
    cluster_cidrs: Sequence[IPNetwork] = (),
    sources: Sequence[tuple[str, tuple[str | int, ...]]] | None = None,
) -> ConnectivityReport:
    """Compute what every workload can reach; see the package docstring.

    ``sources`` (optional, parallel to ``objects``): (file, key-path prefix) of each object, so bad input is
    reported against the file it came from (``sovereign.connectivity.manifests.load`` returns both).
    """
    with cycle_collection_paused():
        return _analyze(objects, cni, catalog, jurisdiction, cluster_cidrs, sources)


def _analyze(
    objects: Sequence[Mapping[str, Any]],
    cni: CniParams,
    catalog: Catalog | None,
    jurisdiction: str | None,
    cluster_cidrs: Sequence[IPNetwork],
    sources: Sequence[tuple[str, tuple[str | int, ...]]] | None,
) -> ConnectivityReport:
    manifests = to_manifests(objects, sources)
    namespaces: dict[str, Namespace] = {}
    templates: list[PodTemplate] = []
    services: dict[tuple[str, str], Service] = {}
    slices: list[tuple[str, str, list[Any], list[tuple[str, int, str]]]] = []
    for m in manifests:
        kind = m.kind
        if kind == "Namespace":
            ns = namespace_object(m)
            namespaces[ns.name] = ns
        elif found := pod_templates(m):
            templates.extend(found)
        elif kind == "Service":
            svc = service_object(m)
            services[(svc.namespace, svc.name)] = svc
        elif kind == "EndpointSlice":
            slices.append(endpoint_slice(m))
        elif kind == "Endpoints":
            slices.append(endpoints_object(m))
    for ns_name, svc_name, addrs, ports in slices:
        backing = services.get((ns_name, svc_name))
        if backing is not None:
            backing.endpoint_ips.append(tuple(addrs))
            backing.endpoint_ports.extend(ports)
    policies, ignored, notes = parse_policies(manifests, cni)

    networks: list[IPNetwork] = []
    if catalog is not None:
        for jur in catalog.jurisdictions.values():
            networks.extend(jur.networks)
    u = Universe(namespaces, templates, services, policies, cni, networks, cluster_cidrs)

    # Stable rule ids, then which policies select each class per direction.
    rule_ids: dict[int, list[int]] = {}
    next_id = 0
    selected: dict[str, list[list[int]]] = {
        "egress": [[] for _ in u.classes],
        "ingress": [[] for _ in u.classes],
    }
    for idx, p in enumerate(policies):
        ids: list[int] = []
        for s in (p.ingress, p.egress):
            if s is not None:
                ids.extend(range(next_id, next_id + len(s.rules) + len(s.deny)))
                next_id += len(s.rules) + len(s.deny)
        subject = u.pod_peer_mask(p.subject, p.host_network_rule)
        for direction in ("ingress", "egress"):
            if getattr(p, direction) is None:
                continue
            for c in iter_bits(subject):
                selected[direction][c].append(idx)
        # ids per direction, in the order evaluate() expects (that direction's allow rules, then deny rules)
        rule_ids[idx] = ids

    per_direction_ids: dict[str, dict[int, list[int]]] = {"ingress": {}, "egress": {}}
    for idx, p in enumerate(policies):
        ids = rule_ids[idx]
        cursor = 0
        for direction in ("ingress", "egress"):
            s = getattr(p, direction)
            if s is None:
                continue
            n = len(s.rules) + len(s.deny)
            per_direction_ids[direction][idx] = ids[cursor : cursor + n]
            cursor += n

    # One evaluation per distinct signature (the selecting policies; for ingress also the subject's named
    # ports, which ingress rules resolve against). Signatures become small ints for cheap lookups later.
    outcomes: dict[str, dict[int, Outcome]] = {"egress": {}, "ingress": {}}
    sig_of: dict[str, list[int]] = {"egress": [], "ingress": []}
    for direction in ("egress", "ingress"):
        egress = direction == "egress"
        ids_of: dict[tuple[Any, ...], int] = {}
        for pc in u.classes:
            sel = tuple(selected[direction][pc.index])
            key: tuple[Any, ...] = sel if egress else (sel, pc.portmap_id if sel else -1)
            sig = ids_of.get(key)
            if sig is None:
                sig = ids_of[key] = len(ids_of)
                outcomes[direction][sig] = evaluate(
                    u,
                    [(i, policies[i]) for i in sel],
                    egress,
                    None if egress else pc.named_ports,
                    per_direction_ids[direction],
                    pc.portmap_id,
                )
            sig_of[direction].append(sig)
    return ConnectivityReport(u, outcomes, sig_of, ignored, notes, catalog, jurisdiction, policies)
