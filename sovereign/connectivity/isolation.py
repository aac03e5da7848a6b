"""Which policy makes a namespace egress-isolated: the engine's answer to "is nothing allowed out by default?".

Kubernetes is default-allow: a pod that no egress policy selects may connect anywhere. A namespace is egress-isolated
when every pod it may ever hold is covered by a default deny, in an API the CNI enforces:

* a NetworkPolicy-tier policy (NetworkPolicy with ``Egress`` in its types, or a Cilium policy with egress rules)
  whose subject takes every pod of the namespace: the pods it selects are denied whatever no rule allows;
* an admin-tier or baseline policy (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy) whose
  subject takes every pod of the namespace and that denies every address (0.0.0.0/0 and ::/0, or every peer);
* a Cilium ``egressDeny`` of the world or every address, with such a subject.

"Every pod of the namespace" is read off the parsed subject, not tried on the pods in the input: a selector that
constrains pod labels may miss the next pod deployed. What the allow rules then let out is judged by the rules
that read them (``egress-not-open-world``, ``no-cross-border-path``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sovereign.connectivity.cilium import NAMESPACE_LABEL, NAMESPACE_LABELS_PREFIX
from sovereign.connectivity.engine import parse_policies
from sovereign.connectivity.intervals import V4_MAX, V6_MAX
from sovereign.connectivity.inventory import to_manifests
from sovereign.connectivity.model import CniParams
from sovereign.connectivity.rules import Action, AddressPeer, EntityPeer, Peer, PodPeer, Policy, Rule, Tier
from sovereign.connectivity.selectors import LabelSelector


def egress_isolation(objects: Sequence[Mapping[str, Any]], cni: CniParams,
                     namespaces: Mapping[str, Mapping[str, str]]) -> dict[str, str | None]:
    """For each namespace (name -> its labels, ``kubernetes.io/metadata.name`` included): the policy that isolates
    it (``Kind ns/name`` or ``Kind name``), or None."""
    policies, _ignored, _notes = parse_policies(to_manifests(objects), cni)
    return {ns: next((_name(p) for p in policies if _isolates(p, ns, labels)), None)
            for ns, labels in namespaces.items()}


def _name(p: Policy) -> str:
    return f"{p.kind} {p.namespace}/{p.name}" if p.namespace else f"{p.kind} {p.name}"


def _isolates(p: Policy, namespace: str, labels: Mapping[str, str]) -> bool:
    section = p.egress
    if section is None or not _takes_every_pod(p.subject, namespace, labels):
        return False
    if p.tier is Tier.NETWORK_POLICY and section.isolates:
        return True
    if p.tier is not Tier.NETWORK_POLICY and any(_denies_everything(r) for r in section.rules):
        return True
    return any(_denies_everything(r) for r in section.deny)


def _takes_every_pod(subject: PodPeer, namespace: str, labels: Mapping[str, str]) -> bool:
    if subject.namespace is not None and subject.namespace != namespace:
        return False
    if subject.namespace_selector is not None and not subject.namespace_selector.matches(labels):
        return False
    pods = subject.pods
    if pods is None or pods.is_empty:
        return True
    if not subject.cilium:
        return False
    # Cilium selects endpoints by their labels, namespace-derived ones included: a selector on those alone takes
    # every pod of the namespaces it matches.
    view = {NAMESPACE_LABEL: namespace, **{NAMESPACE_LABELS_PREFIX + k: v for k, v in labels.items()}}
    return _only_namespace_keys(pods) and pods.matches(view)


def _only_namespace_keys(sel: LabelSelector) -> bool:
    keys = [k for k, _v in sel.match_labels] + [k for k, _op, _vs in sel.expressions]
    return all(k.removeprefix("k8s:") == NAMESPACE_LABEL or k.removeprefix("k8s:").startswith(NAMESPACE_LABELS_PREFIX)
               for k in keys)


def _denies_everything(rule: Rule) -> bool:
    if rule.action is not Action.DENY or rule.ports is not None:
        return False
    if rule.peers is None:
        return True
    return _covers_all_addresses(rule.peers)


def _covers_all_addresses(peers: Sequence[Peer]) -> bool:
    if any(isinstance(p, EntityPeer) and p.world for p in peers):
        return True
    v4 = [r for p in peers if isinstance(p, AddressPeer) for r in p.v4]
    v6 = [r for p in peers if isinstance(p, AddressPeer) for r in p.v6]
    return _covers(v4, V4_MAX) and _covers(v6, V6_MAX)


def _covers(ranges: Sequence[tuple[int, int]], top: int) -> bool:
    reached = -1
    for lo, hi in sorted(ranges):
        if lo > reached + 1:
            return False
        reached = max(reached, hi)
    return reached >= top
