"""Every governed namespace is egress-isolated: nothing leaves unless a rule allows it.

Kubernetes is default-allow: a pod no egress policy selects may connect anywhere. Isolation comes from either
a NetworkPolicy default deny in the namespace (empty podSelector, ``Egress`` listed explicitly, no egress rules;
without the explicit ``Egress`` such a policy is ingress-only), or a deny of 0.0.0.0/0 and ::/0 whose subject
covers the namespace, in an API the cluster's CNI enforces (stack config ``cluster.cni``): AdminNetworkPolicy,
BaselineAdminNetworkPolicy, ClusterNetworkPolicy (either tier: a baseline deny decides for every pod that no
NetworkPolicy isolates, which is exactly the gap isolation closes), Cilium ``egressDeny``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policies.framework.addresses import parse_network
from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, Finding, StackRule
from policies.framework.values import as_list, as_map, plain, text
from sovereign.labels import METADATA_NAME

CILIUM_NAMESPACE_LABELS = ("io.kubernetes.pod.namespace", "k8s:io.kubernetes.pod.namespace")


def _matches(raw: Any, labels: Mapping[str, str]) -> bool:
    from sovereign.connectivity.selectors import parse_selector

    return parse_selector(plain(raw) if raw is not None else None, "policy", ()).matches(labels)


def _enforced(ctx: RuleContext, api: str) -> bool:
    """``api``: a ``PolicyApi`` value (the enum is compared by value, so its package loads only when needed)."""
    cni = ctx.stack.cluster.cni
    if cni is None:
        return api == "NetworkPolicy"  # partial config: only the core API is assumed
    return api in {a.value for a in cni.enforces}


def _np_default_deny(obj: K8sObject) -> bool:
    spec = obj.spec
    selector = spec.get("podSelector")
    empty_selector = selector is None or (not as_map(selector).get("matchLabels")
                                          and not as_list(as_map(selector).get("matchExpressions")))
    types = [text(t) for t in as_list(spec.get("policyTypes"))]
    return empty_selector and "Egress" in types and not as_list(spec.get("egress"))


def _denies_everything(networks: Sequence[str]) -> bool:
    nets = [n for n in (parse_network(x) for x in networks) if n is not None]
    return any(n.version == 4 and n.prefixlen == 0 for n in nets) and any(
        n.version == 6 and n.prefixlen == 0 for n in nets)


def _admin_deny(obj: K8sObject, ns_labels: Mapping[str, str]) -> bool:
    spec = obj.spec
    subject = as_map(spec.get("subject"))
    if subject.get("namespaces") is not None:
        covered = _matches(subject.get("namespaces"), ns_labels)
    elif subject.get("pods") is not None:
        pods = as_map(subject.get("pods"))
        covered = _matches(pods.get("namespaceSelector"), ns_labels) and _matches(pods.get("podSelector"), {})
    else:
        covered = False
    if not covered:
        return False
    denied: list[str] = []
    for rule in as_list(spec.get("egress")):
        r = as_map(rule)
        if text(r.get("action")) == "Deny":
            for peer in as_list(r.get("to")):
                denied.extend(text(n) for n in as_list(as_map(peer).get("networks")))
    return _denies_everything(denied)


def _cilium_deny(obj: K8sObject, namespace: str) -> bool:
    spec = obj.spec
    pod_labels = {k: namespace for k in CILIUM_NAMESPACE_LABELS}
    if obj.kind == "CiliumNetworkPolicy" and obj.namespace != namespace:
        return False
    if not _matches(spec.get("endpointSelector"), pod_labels):
        return False
    cidrs: list[str] = []
    for rule in as_list(spec.get("egressDeny")):
        r = as_map(rule)
        if {text(e) for e in as_list(r.get("toEntities"))} & {"world", "all"}:
            return True
        cidrs.extend(text(c) for c in as_list(r.get("toCIDR")))
        cidrs.extend(text(as_map(s).get("cidr")) for s in as_list(r.get("toCIDRSet")))
    return _denies_everything(cidrs)


def check(ctx: RuleContext, objects: Sequence[K8sObject]) -> Iterator[Finding]:
    namespaces: dict[str, K8sObject | None] = {}
    for obj in objects:
        if obj.kind == "Namespace" and obj.group == "":
            namespaces[obj.name] = obj
    for obj in objects:
        if obj.is_workload:
            namespaces.setdefault(obj.namespace or "default", None)
    for ns in sorted(namespaces):
        if not ctx.governed(ns):
            continue
        ns_obj = namespaces[ns]
        labels = {str(k): text(v) for k, v in (ns_obj.labels() if ns_obj else {}).items()}
        labels[METADATA_NAME] = ns  # set by the control plane, absent from rendered manifests
        isolated_by = ""
        for obj in objects:
            if obj.kind == "NetworkPolicy" and obj.group == "networking.k8s.io" and (obj.namespace or "default") == ns \
                    and _enforced(ctx, "NetworkPolicy") and _np_default_deny(obj):
                isolated_by = f"NetworkPolicy {ns}/{obj.name}"
            elif obj.kind in ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy") \
                    and _enforced(ctx, "AdminNetworkPolicy") \
                    and _admin_deny(obj, labels):
                isolated_by = f"{obj.kind} {obj.name}"
            elif obj.kind == "ClusterNetworkPolicy" and _enforced(ctx, "ClusterNetworkPolicy") \
                    and _admin_deny(obj, labels):
                isolated_by = f"ClusterNetworkPolicy {obj.name}"
            elif obj.group == "cilium.io" and _enforced(ctx, "Cilium") and _cilium_deny(obj, ns):
                isolated_by = f"{obj.kind} {obj.name}"
            if isolated_by:
                break
        if not isolated_by:
            cni = ctx.stack.cluster.cni
            enforced = ", ".join(sorted(a.value for a in cni.enforces)) if cni else "NetworkPolicy (CNI unknown)"
            yield Finding(
                f"namespace {ns} is not egress-isolated: no default-deny egress policy covers it, so any pod in "
                f"it may send data to any address outside {ctx.jurisdiction.id}. Fix: add a NetworkPolicy with "
                f"podSelector {{}}, policyTypes [Egress] (explicitly) and no egress rules, or an admin-tier deny "
                f"of 0.0.0.0/0 and ::/0 covering it in an API the CNI enforces ({enforced}).",
                ns_obj.urn if ns_obj else None,
            )


RULE = StackRule(
    id="namespace-egress-isolated",
    protects="Every governed namespace is egress-isolated (default deny), so only explicitly allowed "
    "destinations are reachable.",
    remediation="add a default-deny egress NetworkPolicy (podSelector {}, policyTypes [Egress], no egress "
    "rules) to the namespace, or an enforced admin-tier deny of 0.0.0.0/0 and ::/0",
    severity="critical",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
